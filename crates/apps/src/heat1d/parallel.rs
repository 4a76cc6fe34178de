//! The parallel version: contiguous blocks of points, one ghost cell per side.

use parsci_comm::{Comm, Layout, Op, PROC_NULL};

use super::serial::{source, update};
use super::{value_at_half, Heat1d, Heat1dResult};
use crate::error::Result;
use crate::program::{root_output, Output};

/// Tags of the ghost exchange: a rank's first point goes left, its last point right.
const TO_LEFT: i32 = 1;
const TO_RIGHT: i32 = 2;

/// Runs `heat1d` on this rank; rank 0 returns the result (with the whole field).
pub fn run(comm: &Comm, p: &Heat1d) -> Result<Option<Output<Heat1dResult>>> {
    let (rank, size) = (comm.rank(), comm.size());
    let layout = Layout::balanced(p.nx, size);
    let mine = layout.range(rank);
    let left = if rank > 0 { rank - 1 } else { PROC_NULL };
    let right = if rank + 1 < size { rank + 1 } else { PROC_NULL };
    let k = p.alpha / (p.dx() * p.dx());
    let n = mine.len();
    // Local index j holds global point mine.start + j - 1; 0 and n + 1 are the ghosts.
    let f: Vec<f64> =
        (0..n + 2).map(|j| if (1..=n).contains(&j) { source(p, mine.start + j - 1) } else { 0.0 }).collect();
    // The ends of the rod are not updated: they stay 0.
    let first = if mine.start == 0 { 2 } else { 1 };
    let last = if mine.end == p.nx { n - 1 } else { n };
    let mut u = vec![0.0; n + 2];
    let mut next = u.clone();
    for _ in 0..p.nt {
        let (to_left, to_right) = ([u[1]], [u[n]]);
        comm.sendrecv(&to_left, left, TO_LEFT, &mut u[n + 1..], right, TO_LEFT)?;
        comm.sendrecv(&to_right, right, TO_RIGHT, &mut u[..1], left, TO_RIGHT)?;
        for j in first..=last {
            next[j] = update(u[j - 1], u[j], u[j + 1], f[j], k, p.dt);
        }
        std::mem::swap(&mut u, &mut next);
    }
    let t = p.nt as f64 * p.dt;
    let local_err =
        (1..=n).map(|j| (u[j] - p.exact((mine.start + j - 1) as f64 * p.dx(), t)).abs()).fold(0.0, f64::max);
    let mut max_error = [0.0];
    comm.allreduce(&[local_err], &mut max_error, &Op::max())?;
    let mut field = vec![0.0; if rank == 0 { p.nx } else { 0 }];
    comm.gatherv(&u[1..=n], (rank == 0).then_some((&mut field[..], &layout)), 0)?;
    let lines = (rank == 0).then(|| {
        vec![
            format!(
                "heat1d: nx = {}, alpha = {}, dt = {}, nt = {} (alpha dt / dx^2 = {:.4})",
                p.nx,
                p.alpha,
                p.dt,
                p.nt,
                p.courant()
            ),
            format!("u(x = 0.5, t = {t}) = {:.6}", value_at_half(&field)),
            format!("max |u - exact| = {:.3e}", max_error[0]),
        ]
    });
    Ok(root_output(lines, || Heat1dResult {
        params: *p,
        time: t,
        u_mid: value_at_half(&field),
        max_error: max_error[0],
        courant: p.courant(),
        points_per_rank: layout.counts().to_vec(),
        u: field,
    }))
}
