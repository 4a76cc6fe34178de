//! The binary PBM format (P4) of the Computer Language Benchmarks Game's Mandelbrot:
//! the header `P4\n<width> <height>\n`, then each row as `ceil(width / 8)` bytes, the
//! first pixel in the high bit, 1 for a pixel in the set.

use std::io::{self, Write};

/// Writes a PBM image of `nr x ni` pixels from its packed rows.
///
/// ```
/// let mut out = Vec::new();
/// parsci_apps::mandelbrot::output::write_pbm(&mut out, 10, 1, &[0b1000_0001, 0b0100_0000]).unwrap();
/// assert_eq!(out, b"P4\n10 1\n\x81\x40");
/// ```
pub fn write_pbm(w: &mut dyn Write, nr: usize, ni: usize, rows: &[u8]) -> io::Result<()> {
    if rows.len() != nr.div_ceil(8) * ni {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "PBM rows do not match the image size"));
    }
    write!(w, "P4\n{nr} {ni}\n")?;
    // Pieces of 64 KiB: the kernel copies them faster than one huge write.
    rows.chunks(1 << 16).try_for_each(|piece| w.write_all(piece))
}
