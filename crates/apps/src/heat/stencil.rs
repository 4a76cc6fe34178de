//! The explicit 5-point update, and a block of the field with its ghost cells.

use std::ops::Range;

/// One cell's update: `c + a (w + e + n + s - 4c)` with `a = alpha dt / h^2`. The serial
/// and the parallel code both call it, so they agree bit for bit.
#[inline(always)]
pub fn cell(w: f64, c: f64, e: f64, n: f64, s: f64, a: f64) -> f64 {
    c + a * (w + e + n + s - 4.0 * c)
}

/// A block of `ny x nx` cells surrounded by one layer of ghost cells, row by row.
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    /// Rows of cells (without ghosts).
    pub ny: usize,
    /// Cells per row (without ghosts).
    pub nx: usize,
    /// `(ny + 2) * (nx + 2)` values; cell `(j, i)`, 1-based, is at `j * (nx + 2) + i`.
    pub data: Vec<f64>,
}

impl Block {
    /// A block filled with `value`, ghosts included.
    pub fn filled(ny: usize, nx: usize, value: f64) -> Block {
        Block { ny, nx, data: vec![value; (ny + 2) * (nx + 2)] }
    }

    /// The row length, ghosts included.
    pub fn stride(&self) -> usize {
        self.nx + 2
    }

    /// Row `j` (0 and `ny + 1` are the ghost rows), ghosts included.
    pub fn row(&self, j: usize) -> &[f64] {
        let w = self.stride();
        &self.data[j * w..(j + 1) * w]
    }

    /// Row `j`, mutable.
    pub fn row_mut(&mut self, j: usize) -> &mut [f64] {
        let w = self.stride();
        &mut self.data[j * w..(j + 1) * w]
    }

    /// The cells of row `j` (without its two ghosts).
    pub fn cells(&self, j: usize) -> &[f64] {
        &self.row(j)[1..=self.nx]
    }

    /// The cells of column `i`, top to bottom (without the ghost rows).
    pub fn column(&self, i: usize, out: &mut [f64]) {
        let w = self.stride();
        for (j, v) in out.iter_mut().enumerate() {
            *v = self.data[(j + 1) * w + i];
        }
    }

    /// Writes `values` into column `i`, rows 1 to `ny`.
    pub fn set_column(&mut self, i: usize, values: &[f64]) {
        let w = self.stride();
        for (j, v) in values.iter().enumerate() {
            self.data[(j + 1) * w + i] = *v;
        }
    }

    /// The cells without the ghosts, row by row.
    pub fn interior(&self) -> Vec<f64> {
        (1..=self.ny).flat_map(|j| self.cells(j).iter().copied()).collect()
    }

    /// Sets the cells from `values` (row by row, without ghosts).
    pub fn set_interior(&mut self, values: &[f64]) {
        for (j, row) in values.chunks_exact(self.nx).enumerate() {
            let nx = self.nx;
            self.row_mut(j + 1)[1..=nx].copy_from_slice(row);
        }
    }
}

/// Updates the cells `rows x cols` (1-based, ghosts at 0 and `n + 1`) of `next` from `now`.
pub fn update(now: &Block, next: &mut Block, rows: Range<usize>, cols: Range<usize>, a: f64) {
    if cols.is_empty() {
        return;
    }
    for j in rows {
        let (n, c, s) = (now.row(j - 1), now.row(j), now.row(j + 1));
        update_row(n, c, s, &mut next.row_mut(j)[cols.clone()], cols.start, a);
    }
}

/// One row: `out[k]` is the cell at column `first + k` (`n`, `c`, `s`: the rows above, at
/// and below, ghosts included). Compiled for AVX2 too, chosen at run time: the same
/// operations in the same order (no fused multiply-add), so the same bits.
#[inline]
pub fn update_row(n: &[f64], c: &[f64], s: &[f64], out: &mut [f64], first: usize, a: f64) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2, all `update_row_avx2` needs.
        unsafe { update_row_avx2(n, c, s, out, first, a) };
        return;
    }
    update_row_plain(n, c, s, out, first, a);
}

/// [`update_row_plain`] compiled with AVX2.
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn update_row_avx2(n: &[f64], c: &[f64], s: &[f64], out: &mut [f64], first: usize, a: f64) {
    update_row_plain(n, c, s, out, first, a);
}

/// Slices of equal length let the compiler drop the bounds checks and vectorise.
#[inline(always)]
fn update_row_plain(n: &[f64], c: &[f64], s: &[f64], out: &mut [f64], first: usize, a: f64) {
    let len = out.len();
    let (n, s) = (&n[first..first + len], &s[first..first + len]);
    let (w, c, e) = (&c[first - 1..first - 1 + len], &c[first..first + len], &c[first + 1..first + 1 + len]);
    for k in 0..len {
        out[k] = cell(w[k], c[k], e[k], n[k], s[k], a);
    }
}
