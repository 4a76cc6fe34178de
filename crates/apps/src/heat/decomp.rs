//! The 2-D Cartesian decomposition: which cells each rank owns.

use std::ops::Range;

use parsci_comm::{CartComm, Layout};

/// How the grid is shared: a `px x py` process grid, the rows split into `py` balanced
/// blocks and the columns into `px` (grids not divisible by the process grid are fine).
#[derive(Debug, Clone, PartialEq)]
pub struct Decomposition {
    /// Ranks along x (columns of the field).
    pub px: usize,
    /// Ranks along y (rows of the field).
    pub py: usize,
    rows: Layout,
    cols: Layout,
}

impl Decomposition {
    /// The decomposition of an `ny x nx` grid over `px x py` ranks.
    pub fn new(ny: usize, nx: usize, [px, py]: [usize; 2]) -> Self {
        Decomposition { px, py, rows: Layout::balanced(ny, py), cols: Layout::balanced(nx, px) }
    }

    /// The rows and columns of the rank at process coordinates `(cy, cx)`.
    pub fn block(&self, cy: usize, cx: usize) -> (Range<usize>, Range<usize>) {
        (self.rows.range(cy), self.cols.range(cx))
    }

    /// The rows and columns of `rank` of `cart` (a `[py, px]` grid).
    pub fn block_of(&self, cart: &CartComm, rank: usize) -> (Range<usize>, Range<usize>) {
        let c = cart.coords_of(rank);
        self.block(c[0], c[1])
    }

    /// Every rank's number of cells, in rank order.
    pub fn counts(&self, cart: &CartComm) -> Vec<usize> {
        (0..cart.size())
            .map(|r| {
                let (rows, cols) = self.block_of(cart, r);
                rows.len() * cols.len()
            })
            .collect()
    }
}
