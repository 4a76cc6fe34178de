//! `block`: each rank computes one contiguous block of rows (as even as possible),
//! gathered to rank 0 with a `gatherv`. The blocks through the middle of the set cost
//! far more than the others: this is the imbalance the lesson shows.

use parsci_comm::{Comm, Layout};

use crate::error::Result;
use crate::mandelbrot::pixel::Pixel;
use crate::mandelbrot::rows::RowMaker;

pub(super) fn run<P: Pixel>(comm: &Comm, maker: &mut RowMaker<'_>) -> Result<Option<Vec<P>>> {
    let (rank, size) = (comm.rank(), comm.size());
    let (ni, len) = (maker.grid().ni, maker.row_len::<P>());
    let rows = Layout::balanced(ni, size);
    let mine = rows.range(rank);
    let mut block = vec![P::default(); mine.len() * len];
    {
        let _phase = comm.span("rows");
        maker.rows(mine, &mut block);
    }
    let elements: Vec<usize> = rows.counts().iter().map(|c| c * len).collect();
    let layout = Layout::from_counts(&elements);
    if rank == 0 {
        let mut image = vec![P::default(); ni * len];
        comm.gatherv(&block, Some((&mut image, &layout)), 0)?;
        Ok(Some(image))
    } else {
        comm.gatherv(&block, None, 0)?;
        Ok(None)
    }
}
