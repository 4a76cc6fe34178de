//! The parallel version: point-to-point messages to rank 0.

use parsci_comm::Comm;

use super::{Square, SquaresResult, SQUARE_TAG};
use crate::error::Result;
use crate::program::{rank_tag, Output};

/// Runs on every rank: rank `r > 0` sends `r * r` to rank 0, which receives from
/// ranks `1, 2, ...` in order and prints each value.
pub fn run(comm: &Comm) -> Result<Option<Output<SquaresResult>>> {
    let rank = comm.rank();
    if rank != 0 {
        comm.send(&[(rank * rank) as i64], 0, SQUARE_TAG)?;
        return Ok(None);
    }
    let mut squares = Vec::with_capacity(comm.size().saturating_sub(1));
    let mut lines = Vec::new();
    for from in 1..comm.size() {
        let mut sq = [0i64];
        comm.recv(&mut sq, from, SQUARE_TAG)?;
        lines.push(format!("Received from process {from} : sq = {}", sq[0]));
        squares.push(Square { from, sq: sq[0] });
    }
    if comm.size() == 1 {
        lines.push(format!("{} No other process to receive from", rank_tag(comm)));
    }
    Ok(Some(Output { lines, result: SquaresResult { squares } }))
}
