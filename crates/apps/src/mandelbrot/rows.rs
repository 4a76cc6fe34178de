//! One rank's row computer: the scratch, and the statistics the lesson is about
//! (rows computed, time spent computing them, their checksum).

use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::grid::{Grid, RowScratch};
use super::pixel::Pixel;

/// Rows are computed into a small buffer of about this size and copied out in one
/// piece: measured several percent faster on the development VM than writing each row
/// into a large image as it is made.
const STAGE_BYTES: usize = 32 << 10;

/// What one rank did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct RankStats {
    /// The rank.
    pub rank: usize,
    /// Rows it computed.
    pub rows: usize,
    /// Seconds spent computing them (kernels and packing, no communication).
    pub compute_s: f64,
    /// The sum of their escape counts.
    pub checksum: u64,
    /// Their pixels in the set.
    pub in_set: u64,
}

/// Computes rows of one grid on one rank, keeping its statistics.
pub struct RowMaker<'g> {
    grid: &'g Grid,
    scratch: RowScratch,
    /// This rank's statistics so far.
    pub stats: RankStats,
}

impl<'g> RowMaker<'g> {
    /// A row computer for `rank`, producing `P`.
    pub fn new<P: Pixel>(grid: &'g Grid, rank: usize) -> Self {
        let smooth = P::PRODUCT == super::pixel::Product::Smooth;
        RowMaker { grid, scratch: RowScratch::new(grid, smooth), stats: RankStats { rank, ..RankStats::default() } }
    }

    /// The grid.
    pub fn grid(&self) -> &'g Grid {
        self.grid
    }

    /// Elements per row of `P`.
    pub fn row_len<P: Pixel>(&self) -> usize {
        P::row_len(self.grid.nr)
    }

    /// Computes row `ii` into `dst` (one row of `P`).
    pub fn row<P: Pixel>(&mut self, ii: usize, dst: &mut [P]) {
        let start = Instant::now();
        let totals = self.scratch.compute(self.grid, ii);
        P::extract(self.grid, &self.scratch, ii, dst);
        self.stats.compute_s += start.elapsed().as_secs_f64();
        self.stats.rows += 1;
        self.stats.checksum += totals.checksum;
        self.stats.in_set += totals.in_set;
    }

    /// Computes the rows `rows` into consecutive rows of `dst`.
    pub fn rows<P: Pixel>(&mut self, rows: impl IntoIterator<Item = usize>, dst: &mut [P]) {
        let len = self.row_len::<P>();
        if std::mem::size_of_val(dst) <= STAGE_BYTES {
            // Already small (a chunk of the dynamic strategy): no staging buffer to fill.
            for (ii, row) in rows.into_iter().zip(dst.chunks_exact_mut(len)) {
                self.row(ii, row);
            }
            return;
        }
        let mut k = 0;
        self.staged(rows, |_, row: &[P]| {
            dst[k * len..(k + 1) * len].copy_from_slice(row);
            k += 1;
        });
    }

    /// Computes the rows `rows` into their places in `image`, whose first row is row
    /// `first` of the grid.
    pub fn rows_in_place<P: Pixel>(&mut self, rows: impl IntoIterator<Item = usize>, image: &mut [P], first: usize) {
        let len = self.row_len::<P>();
        self.staged(rows, |ii, row: &[P]| image[(ii - first) * len..(ii - first + 1) * len].copy_from_slice(row));
    }

    /// Computes `rows` a few at a time into a small buffer and hands each to `put(ii, row)`.
    fn staged<P: Pixel>(&mut self, rows: impl IntoIterator<Item = usize>, mut put: impl FnMut(usize, &[P])) {
        let len = self.row_len::<P>();
        let batch = (STAGE_BYTES / (len * std::mem::size_of::<P>())).max(1);
        let mut stage = vec![P::default(); batch * len];
        let mut index = Vec::with_capacity(batch);
        let mut rows = rows.into_iter().peekable();
        while rows.peek().is_some() {
            index.clear();
            for (ii, s) in rows.by_ref().take(batch).zip(stage.chunks_exact_mut(len)) {
                self.row(ii, s);
                index.push(ii);
            }
            for (&ii, row) in index.iter().zip(stage.chunks_exact(len)) {
                put(ii, row);
            }
        }
    }
}
