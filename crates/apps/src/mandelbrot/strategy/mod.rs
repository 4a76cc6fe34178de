//! The four ways of sharing the rows. Each computes this rank's rows with a
//! [`RowMaker`] and brings the image to rank 0 (`Some(image)` there, `None` elsewhere).

mod block;
mod cyclic;
mod dynamic;
mod reduce;

use parsci_comm::{Comm, Tag};

use super::params::{Mandelbrot, Strategy};
use super::pixel::Pixel;
use super::rows::RowMaker;
use crate::error::Result;

/// The tag of the row messages of the cyclic strategy.
const ROWS_TAG: Tag = 40;

/// Runs `params.strategy` on every rank.
pub(super) fn run<P: Pixel>(comm: &Comm, params: &Mandelbrot, maker: &mut RowMaker<'_>) -> Result<Option<Vec<P>>> {
    match params.strategy {
        Strategy::Cyclic => cyclic::run(comm, maker),
        Strategy::Block => block::run(comm, maker),
        Strategy::Dynamic => dynamic::run(comm, maker, params.chunk, params.master_computes),
        Strategy::Reduce => reduce::run(comm, maker),
    }
}
