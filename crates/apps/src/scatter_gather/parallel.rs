//! The parallel version: scatter chunks, sum locally, gather the sums.

use parsci_comm::Comm;

use super::serial::{data, CHUNK};
use super::ScatterGatherResult;
use crate::error::Result;
use crate::program::{gather_lines, rank_tag, root_output, Output};

/// Runs on every rank: rank 0 builds `0..2N` and scatters chunks of 2; each rank sums
/// its chunk; rank 0 gathers the sums and adds them up.
pub fn run(comm: &Comm) -> Result<Option<Output<ScatterGatherResult>>> {
    let root = comm.rank() == 0;
    let tag = rank_tag(comm);
    let all = root.then(|| data(comm.size()));
    let mut lines = Vec::new();
    if let Some(all) = &all {
        lines.push(format!("{tag} Scattering {all:?} in chunks of {CHUNK}"));
    }
    let mut chunk = [0i64; CHUNK];
    comm.scatter(all.as_deref(), &mut chunk, 0)?;
    let local: i64 = chunk.iter().sum();
    lines.push(format!("{tag} Received chunk {chunk:?}, local sum = {local}"));

    let mut sums = vec![0i64; if root { comm.size() } else { 0 }];
    comm.gather(&[local], root.then_some(&mut sums[..]), 0)?;
    let total: i64 = sums.iter().sum();
    let lines = gather_lines(comm, lines)?.map(|mut lines| {
        lines.push(format!("{tag} Gathered sums: {sums:?}"));
        lines.push(format!("{tag} Total: {total}"));
        lines
    });
    Ok(root_output(lines, || ScatterGatherResult { data: all.unwrap_or_default(), sums, total }))
}
