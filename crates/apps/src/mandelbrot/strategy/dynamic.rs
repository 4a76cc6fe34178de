//! `dynamic`: the master-worker task farm hands out chunks of `chunk` rows to
//! whichever rank asks; rank 0 is the master and, if asked to, computes chunks too.
//! The rows travel as typed messages and go straight into rank 0's image.

use std::cell::RefCell;
use std::convert::Infallible;

use parsci_comm::Comm;

use crate::error::Result;
use crate::mandelbrot::pixel::Pixel;
use crate::mandelbrot::rows::RowMaker;
use crate::taskfarm::{farm_with, program_error, FarmOptions, Typed};

pub(super) fn run<P: Pixel>(
    comm: &Comm,
    maker: &mut RowMaker<'_>,
    chunk: usize,
    master_computes: bool,
) -> Result<Option<Vec<P>>> {
    let root = comm.rank() == 0;
    let (ni, len) = (maker.grid().ni, maker.row_len::<P>());
    let jobs = root.then(|| (0..ni.div_ceil(chunk) as u64).collect::<Vec<u64>>());
    let maker = RefCell::new(maker);
    let work = |&c: &u64| {
        let first = c as usize * chunk;
        let rows = first..(first + chunk).min(ni);
        let mut buf = vec![P::default(); rows.len() * len];
        let _phase = comm.span("rows");
        maker.borrow_mut().rows(rows, &mut buf);
        Ok::<_, Infallible>(buf)
    };
    let mut image = root.then(|| vec![P::default(); ni * len]);
    let sink = |c: usize, rows: Vec<P>| {
        if let Some(img) = image.as_mut() {
            let at = c * chunk * len;
            img[at..at + rows.len()].copy_from_slice(&rows);
        }
    };
    // Two chunks in flight per worker: the next one is already there when a worker
    // finishes, so that it never waits for the master (which may be computing).
    let options = FarmOptions { master: 0, master_computes, in_flight: 2 };
    farm_with(comm, jobs, work, &options, Typed, sink).map_err(|e| program_error("mandelbrot", e))?;
    Ok(image)
}
