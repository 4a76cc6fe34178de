//! The parallel version: broadcast M, cyclic split, vectorized partial sums, reduce.

use std::time::Instant;

use parsci_comm::{Comm, Op};

use super::compensated::Compensated;
use super::kernel::strided_sqrt_sum;
use super::serial::cyclic_share;
use super::{RootSum, RootSumResult};
use crate::error::Result;
use crate::program::{gather_lines, rank_tag, root_output, Output};

/// Runs on every rank: rank 0 broadcasts `M`, rank `r` sums `sqrt(i)` for
/// `i = r+1, r+1+P, ...`, and the partial sums (with their compensation terms) are
/// reduced to rank 0 in rank order.
pub fn run(comm: &Comm, params: &RootSum) -> Result<Option<Output<RootSumResult>>> {
    let start = Instant::now();
    let root = comm.rank() == 0;
    let m = comm.bcast_obj(root.then_some(params.m), 0)?;
    let (first, count) = cyclic_share(m, comm.rank() as u64, comm.size() as u64);
    let partial = strided_sqrt_sum(first, comm.size() as u64, count);

    let mut total = [Compensated::default()];
    let combine = Op::user(|a: &Compensated, b: &Compensated| a.merge(*b));
    comm.reduce(&[partial], root.then_some(&mut total[..]), &combine, 0)?;
    let compute_time_s = start.elapsed().as_secs_f64();

    // Only rank 0 receives them (a vector per rank would be O(ranks^2) in all).
    let mut partials = if root { vec![0.0; comm.size()] } else { Vec::new() };
    comm.gather(&[partial.value()], root.then_some(&mut partials[..]), 0)?;

    let mine = format!("{} partial sum = {:.6} ({count} terms)", rank_tag(comm), partial.value());
    let lines = gather_lines(comm, vec![mine])?;
    let total = total[0].value();
    Ok(root_output(
        lines.map(|mut l| {
            l.push(format!("Sum of sqrt(i) for i = 1..{m} = {total:.3}"));
            l.push(format!("Time: {compute_time_s:.6} s"));
            l
        }),
        || RootSumResult { m, partials, total, compute_time_s },
    ))
}
