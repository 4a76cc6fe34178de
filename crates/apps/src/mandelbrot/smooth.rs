//! Smooth colouring: the normalized iteration count `nu = n + 1 - log2(log2 |z_n|)`,
//! continuous across the bands of equal escape counts.
//!
//! `n` is an iteration a few past the escape, where `|z|` is large and the formula is
//! nearly exact; the kernels leave each lane at such an iteration. A lane whose `|z|`
//! overflowed there, or that stopped too close to its escape, is iterated again alone.

use super::grid::{Grid, RowScratch};
use super::kernel::CHECK;

/// Iterations past the escape that the formula wants.
const EXTRA: u32 = CHECK;

/// The value of pixels in the set.
pub const IN_SET: f32 = -1.0;

/// The smooth value of every pixel of the row just computed in `scratch` (row `ii`):
/// `nu >= 0` for escaped pixels, [`IN_SET`] for the others.
pub fn fill_row(grid: &Grid, scratch: &RowScratch, ii: usize, dst: &mut [f32]) {
    let ci = grid.c_im(ii);
    for (ir, d) in dst.iter_mut().enumerate().take(grid.nr) {
        let member = scratch.members[ir / 8] & (0x80 >> (ir % 8)) != 0;
        *d = if member {
            IN_SET
        } else {
            let (count, executed, mag) = (scratch.counts[ir], scratch.executed[ir], scratch.mag[ir]);
            nu(count, executed, mag).unwrap_or_else(|| recompute(grid.c_re(ir), ci, count))
        };
    }
}

/// `nu` from `|z|^2` after `executed` iterations, if that is far enough past the escape
/// at `count` and finite.
fn nu(count: u32, executed: u32, mag: f64) -> Option<f32> {
    let usable = executed >= count.saturating_add(EXTRA) && mag.is_finite() && mag > 4.0;
    usable.then(|| clamp(f64::from(executed) + 1.0 - (0.5 * mag.log2()).log2()))
}

/// Iterates `c` to `EXTRA` iterations past its escape at `count` (the same arithmetic
/// as the kernels) and returns `nu` there, or `count` if `|z|` overflows first.
fn recompute(cr: f64, ci: f64, count: u32) -> f32 {
    let (mut zr, mut zi) = (0.0f64, 0.0f64);
    let n = count.saturating_add(EXTRA);
    for _ in 0..n {
        let (tr, ti) = (zr * zr, zi * zi);
        zi = (zr + zr) * zi + ci;
        zr = (tr - ti) + cr;
    }
    nu(count, n, zr * zr + zi * zi).unwrap_or(count as f32)
}

fn clamp(nu: f64) -> f32 {
    if nu > 0.0 {
        nu as f32
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nu_is_continuous_across_extra_iterations() {
        // The same point read at successive iterations past its escape gives nearly the same nu.
        let (cr, ci) = (0.4, 0.6);
        let (count, escaped) = super::super::kernel::escape(cr, ci, 1000);
        assert!(escaped);
        let at = |n: u32| {
            let (mut zr, mut zi) = (0.0f64, 0.0f64);
            for _ in 0..n {
                let (tr, ti) = (zr * zr, zi * zi);
                zi = (zr + zr) * zi + ci;
                zr = (tr - ti) + cr;
            }
            nu(count, n, zr * zr + zi * zi).unwrap()
        };
        let a = at(count + EXTRA);
        let b = at(count + EXTRA + 2);
        assert!((a - b).abs() < 1e-3, "{a} vs {b}");
        assert!(a > count as f32 - 1.0 && a < count as f32 + 2.0, "{a} for count {count}");
        assert_eq!(recompute(cr, ci, count), a);
    }

    #[test]
    fn overflow_falls_back_to_the_count() {
        assert_eq!(recompute(1e200, 1e200, 1), 1.0);
        assert!(nu(5, 6, 100.0).is_none(), "too close to the escape");
        assert!(nu(5, 20, f64::INFINITY).is_none());
    }
}
