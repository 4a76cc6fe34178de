//! The scalar reference: the lesson's definition, one pixel at a time.

use super::{Lanes, Totals};

/// The escape of `c = cr + i ci`: `(count, escaped)` where `count` is the first
/// iteration `it = 1..=imax` of `z = z^2 + c` (from `z = 0`) with `|z| > 2`, or `imax`
/// if none (then `escaped` is false).
///
/// ```
/// use parsci_apps::mandelbrot::kernel::escape;
/// assert_eq!(escape(0.0, 0.0, 100), (100, false)); // 0 is in the set
/// assert_eq!(escape(1.0, 0.0, 100), (3, true)); // 1, 2, 5: |z| > 2 at iteration 3
/// assert_eq!(escape(-2.0, 0.0, 100), (100, false)); // -2, 2, 2, ...: |z| = 2 stays
/// ```
#[inline]
pub fn escape(cr: f64, ci: f64, imax: u32) -> (u32, bool) {
    let (mut zr, mut zi) = (0.0f64, 0.0f64);
    for it in 1..=imax {
        let re = zr * zr - zi * zi + cr;
        let im = 2.0 * zr * zi + ci;
        zr = re;
        zi = im;
        if zr * zr + zi * zi > 4.0 {
            return (it, true);
        }
    }
    (imax, false)
}

/// [`escape`] for every pixel of a run (smooth data: the count itself, and a NaN
/// magnitude that tells the smooth colouring to recompute the pixel).
pub(super) fn compute(cr: &[f64], ci: f64, imax: u32, out: Lanes<'_>) -> Totals {
    out.members.fill(0);
    let mut totals = Totals::default();
    for (j, &c) in cr.iter().enumerate() {
        let (count, escaped) = escape(c, ci, imax);
        out.counts[j] = count;
        totals.checksum += u64::from(count);
        if !escaped {
            out.members[j / 8] |= 0x80 >> (j % 8);
            totals.in_set += 1;
        }
    }
    if let Some((mag, executed)) = out.smooth {
        mag.fill(f64::NAN);
        executed.copy_from_slice(out.counts);
    }
    totals
}
