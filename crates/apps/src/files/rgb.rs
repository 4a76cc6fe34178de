//! 8-bit RGB PNG images written one row at a time.

use std::io::{self, Write};

/// Writes a `width x height` RGB PNG; `fill_row(j, row)` sets row `j` (top first), 3 bytes
/// per pixel.
pub fn write_rgb_png(
    w: &mut dyn Write,
    width: usize,
    height: usize,
    mut fill_row: impl FnMut(usize, &mut [u8]),
) -> io::Result<()> {
    let (Ok(png_width), Ok(png_height)) = (u32::try_from(width), u32::try_from(height)) else {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "the image is too large for PNG"));
    };
    let mut encoder = ::png::Encoder::new(w, png_width, png_height);
    encoder.set_color(::png::ColorType::Rgb);
    encoder.set_depth(::png::BitDepth::Eight);
    encoder.set_compression(::png::Compression::Fast);
    let mut writer = encoder.write_header().map_err(io::Error::other)?;
    let mut stream = writer.stream_writer().map_err(io::Error::other)?;
    let mut row = vec![0u8; 3 * width];
    for j in 0..height {
        fill_row(j, &mut row);
        stream.write_all(&row)?;
    }
    stream.finish().map_err(io::Error::other)
}
