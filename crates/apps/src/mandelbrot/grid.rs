//! The pixel grid as the kernels see it: the row's `c` values computed once (padded
//! to whole blocks), which blocks the vector paths may take, and one row's scratch.

use super::kernel::{self, KernelPath, Lanes, Totals, BLOCK, PAD_C};
use super::params::Mandelbrot;

/// The columns of the image, shared by every row.
pub struct Grid {
    /// Pixels per row.
    pub nr: usize,
    /// Rows.
    pub ni: usize,
    /// The most iterations.
    pub imax: u32,
    /// `nr` rounded up to whole blocks.
    pub width: usize,
    /// The kernel path.
    pub path: KernelPath,
    /// The real part of every column (padding: [`PAD_C`]).
    cr: Vec<f64>,
    /// Per block: the smallest and largest `cr^2` of its real pixels.
    cr2: Vec<(f64, f64)>,
    /// The imaginary part of every row.
    ci: Vec<f64>,
}

impl Grid {
    /// The grid of `params` (which must be valid), computed on `path`.
    pub fn new(params: &Mandelbrot, path: KernelPath) -> Grid {
        let (nr, ni) = (params.nr, params.ni);
        let width = nr.div_ceil(BLOCK) * BLOCK;
        let cr: Vec<f64> = (0..width).map(|ir| if ir < nr { params.c_re(ir) } else { PAD_C }).collect();
        let cr2 = cr
            .chunks(BLOCK)
            .enumerate()
            .map(|(b, block)| {
                let real = &block[..BLOCK.min(nr - b * BLOCK)];
                real.iter().fold((f64::INFINITY, 0.0f64), |(lo, hi), c| (lo.min(c * c), hi.max(c * c)))
            })
            .collect();
        let ci = (0..ni).map(|ii| params.c_im(ii)).collect();
        Grid { nr, ni, imax: params.imax, width, path, cr, cr2, ci }
    }

    /// The real part of column `ir`.
    pub fn c_re(&self, ir: usize) -> f64 {
        self.cr[ir]
    }

    /// The imaginary part of row `ii`.
    pub fn c_im(&self, ii: usize) -> f64 {
        self.ci[ii]
    }
}

/// One row's kernel outputs (padded to the grid's width), reused from row to row.
pub struct RowScratch {
    /// Escape counts.
    pub counts: Vec<u32>,
    /// Set membership, PBM bits.
    pub members: Vec<u8>,
    /// `|z|^2` at the end of each lane's group (smooth colouring only).
    pub mag: Vec<f64>,
    /// Iterations each lane's group ran (smooth colouring only).
    pub executed: Vec<u32>,
}

/// Sums over one row: the sum of its escape counts and its pixels in the set.
pub type RowTotals = Totals;

impl RowScratch {
    /// Buffers for rows of `grid` (with the smooth colouring's data if `smooth`).
    pub fn new(grid: &Grid, smooth: bool) -> RowScratch {
        let w = grid.width;
        let s = if smooth { w } else { 0 };
        RowScratch { counts: vec![0; w], members: vec![0; w / 8], mag: vec![0.0; s], executed: vec![0; s] }
    }

    /// Computes row `ii`: runs of blocks away from `|c| = 2` on the grid's vector path,
    /// the others with the scalar reference.
    pub fn compute(&mut self, grid: &Grid, ii: usize) -> RowTotals {
        let ci = grid.c_im(ii);
        let ci2 = ci * ci;
        let safe = |b: usize| kernel::is_safe(grid.cr2[b].0 + ci2, grid.cr2[b].1 + ci2);
        let blocks = grid.cr2.len();
        let mut b = 0;
        let mut totals = Totals::default();
        while b < blocks {
            let kind = safe(b);
            let end = (b..blocks).find(|&e| safe(e) != kind).unwrap_or(blocks);
            let (lo, hi) = (b * BLOCK, end * BLOCK);
            let smooth = (!self.mag.is_empty()).then(|| (&mut self.mag[lo..hi], &mut self.executed[lo..hi]));
            let out = Lanes { counts: &mut self.counts[lo..hi], members: &mut self.members[lo / 8..hi / 8], smooth };
            totals += if kind {
                kernel::compute(grid.path, &grid.cr[lo..hi], ci, grid.imax, out)
            } else {
                kernel::compute_scalar(&grid.cr[lo..hi], ci, grid.imax, out)
            };
            b = end;
        }
        // The padding pixels (far outside: never in the set) are not the image's.
        totals.checksum -= self.counts[grid.nr..].iter().map(|&c| u64::from(c)).sum::<u64>();
        totals
    }
}
