//! `cyclic`: rank `r` of `P` computes rows `r, r+P, r+2P, ...` (the lesson's choice, a
//! good balance for free: every rank gets rows from everywhere), and sends them to
//! rank 0 in one message, which puts them in place.

use parsci_comm::{Comm, ANY_SOURCE};

use super::ROWS_TAG;
use crate::error::{Error, Result};
use crate::mandelbrot::pixel::Pixel;
use crate::mandelbrot::rows::RowMaker;

/// The rows of `rank` out of `size`.
fn rows_of(rank: usize, size: usize, ni: usize) -> impl Iterator<Item = usize> {
    (rank..ni).step_by(size)
}

pub(super) fn run<P: Pixel>(comm: &Comm, maker: &mut RowMaker<'_>) -> Result<Option<Vec<P>>> {
    let (rank, size) = (comm.rank(), comm.size());
    let (ni, len) = (maker.grid().ni, maker.row_len::<P>());
    if rank != 0 {
        let mut mine = vec![P::default(); rows_of(rank, size, ni).count() * len];
        let phase = comm.span("rows");
        maker.rows(rows_of(rank, size, ni), &mut mine);
        drop(phase);
        comm.send_vec(mine, 0, ROWS_TAG)?;
        return Ok(None);
    }
    let mut image = vec![P::default(); ni * len];
    let phase = comm.span("rows");
    maker.rows_in_place(rows_of(0, size, ni), &mut image, 0);
    drop(phase);
    for _ in 1..size {
        let (rows, st) = comm.recv_vec::<P>(ANY_SOURCE, ROWS_TAG)?;
        let expected = rows_of(st.source, size, ni).count() * len;
        if rows.len() != expected {
            let msg = format!("rank {} sent {} elements of rows, expected {expected}", st.source, rows.len());
            return Err(Error::Protocol { program: "mandelbrot", rank, msg });
        }
        for (ii, row) in rows_of(st.source, size, ni).zip(rows.chunks_exact(len)) {
            image[ii * len..(ii + 1) * len].copy_from_slice(row);
        }
    }
    Ok(Some(image))
}
