//! The serial reference: every pixel with the scalar definition, one after the other.

use super::kernel::escape;
use super::params::Mandelbrot;

/// The serial image: counts, PBM membership rows, and their sums.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SerialImage {
    /// Escape counts, `nr` per row.
    pub counts: Vec<u32>,
    /// PBM rows (`ceil(nr / 8)` bytes each): pixels that never escaped.
    pub members: Vec<u8>,
    /// The sum of the counts.
    pub checksum: u64,
    /// Pixels in the set.
    pub in_set: u64,
}

/// Computes the image of `params` one pixel at a time with [`escape`].
///
/// ```
/// use parsci_apps::mandelbrot::{serial, Mandelbrot};
/// let img = serial::image(&Mandelbrot { nr: 8, ni: 2, ..Mandelbrot::default() });
/// assert_eq!(img.counts.len(), 16);
/// assert_eq!(img.members.len(), 2); // one byte per row of 8 pixels
/// ```
pub fn image(params: &Mandelbrot) -> SerialImage {
    let (nr, ni) = (params.nr, params.ni);
    let row_bytes = nr.div_ceil(8);
    let mut counts = Vec::with_capacity(nr * ni);
    let mut members = vec![0u8; row_bytes * ni];
    for ii in 0..ni {
        let ci = params.c_im(ii);
        for ir in 0..nr {
            let (count, escaped) = escape(params.c_re(ir), ci, params.imax);
            counts.push(count);
            if !escaped {
                members[ii * row_bytes + ir / 8] |= 0x80 >> (ir % 8);
            }
        }
    }
    let checksum = counts.iter().map(|&c| u64::from(c)).sum();
    let in_set = members.iter().map(|b| u64::from(b.count_ones())).sum();
    SerialImage { counts, members, checksum, in_set }
}
