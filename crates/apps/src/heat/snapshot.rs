//! Heat maps: the field as a PNG through the magma colormap, on a colour scale fixed for
//! the whole run so that frames compare; row 0 at the top.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::files::{magma, write_atomically};

/// The colour scale of a run: from the coldest to the hottest value of the initial field
/// and of the walls (heat flow creates no new extremes, so every frame stays inside).
pub fn scale(lo_hi: [f64; 2]) -> [f64; 2] {
    let [lo, hi] = lo_hi;
    if hi > lo {
        [lo, hi]
    } else {
        [lo, lo + 1.0]
    }
}

/// The file of the frame at `step` (time `t`) in `dir`: `heat-step0000100-t1.000000e-3.png`.
pub fn path(dir: &Path, step: usize, t: f64) -> PathBuf {
    dir.join(format!("heat-step{step:07}-t{t:.6e}.png"))
}

/// Writes the `ny x nx` field as a PNG at `path`, atomically.
pub fn write(path: &Path, ny: usize, nx: usize, field: &[f64], [lo, hi]: [f64; 2]) -> io::Result<()> {
    let (Ok(width), Ok(height)) = (u32::try_from(nx), u32::try_from(ny)) else {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "the field is too large for PNG"));
    };
    write_atomically(path, |w| {
        let mut encoder = ::png::Encoder::new(w, width, height);
        encoder.set_color(::png::ColorType::Rgb);
        encoder.set_depth(::png::BitDepth::Eight);
        encoder.set_compression(::png::Compression::Fast);
        let mut writer = encoder.write_header().map_err(io::Error::other)?;
        let mut stream = writer.stream_writer().map_err(io::Error::other)?;
        let mut row = vec![0u8; 3 * nx];
        for values in field.chunks_exact(nx) {
            for (px, v) in row.chunks_exact_mut(3).zip(values) {
                px.copy_from_slice(&magma((v - lo) / (hi - lo)));
            }
            stream.write_all(&row)?;
        }
        stream.finish().map_err(io::Error::other)
    })
}
