//! `reduce`: the lesson's exercise. Every rank fills its (cyclic) rows of a zeroed
//! image and the images are summed to rank 0 with a `reduce`: each pixel is computed
//! by one rank and is zero on the others, so the sum is the image. The image is
//! reduced in bands of rows, so that no rank holds more than one band besides rank
//! 0's image however large the picture.

use parsci_comm::{Comm, Op};

use crate::error::Result;
use crate::mandelbrot::pixel::Pixel;
use crate::mandelbrot::rows::RowMaker;

/// The most bytes of one band.
const BAND_BYTES: usize = 16 << 20;

pub(super) fn run<P: Pixel>(comm: &Comm, maker: &mut RowMaker<'_>) -> Result<Option<Vec<P>>> {
    let (rank, size) = (comm.rank(), comm.size());
    let (ni, len) = (maker.grid().ni, maker.row_len::<P>());
    let band_rows = (BAND_BYTES / (len * std::mem::size_of::<P>())).clamp(1, ni);
    let mut band = vec![P::default(); band_rows * len];
    let mut image = (rank == 0).then(|| vec![P::default(); ni * len]);
    let sum = Op::sum();
    for start in (0..ni).step_by(band_rows) {
        let end = (start + band_rows).min(ni);
        let part = &mut band[..(end - start) * len];
        part.fill(P::default());
        let phase = comm.span("rows");
        maker.rows_in_place((start..end).filter(|ii| ii % size == rank), part, start);
        drop(phase);
        let dest = image.as_mut().map(|img| &mut img[start * len..end * len]);
        comm.reduce(part, dest, &sum, 0)?;
    }
    Ok(image)
}
