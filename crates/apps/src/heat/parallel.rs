//! The parallel time loop: halo exchange overlapped with the interior's update.

use std::time::{Duration, Instant};

use parsci_comm::{wait_all, CartComm, Comm, Op};

use super::decomp::Decomposition;
use super::deep::Deep;
use super::halo::Halo;
use super::params::{invalid, Boundary};
use super::stencil::{update, Block};
use super::{fingerprint, output, start, Heat, HeatRank, HeatResult};
use crate::error::Result;
use crate::program::{root_output, Output};

/// Time spent per phase on one rank.
#[derive(Debug, Default, Clone, Copy)]
pub struct Timers {
    /// Updating cells.
    pub compute: Duration,
    /// Posting, waiting for and unpacking the halo.
    pub exchange: Duration,
    /// Gathering and writing snapshots and checkpoints.
    pub io: Duration,
}

/// How a rank advances its block: one step at a time with the halo exchange overlapped,
/// or several steps per exchange with a deep halo ([`Deep`]).
#[derive(Debug)]
pub enum Stepper {
    /// One step per exchange: the block, the next field, the exchange's buffers.
    /// The field, the next step, the halo, and whether the exchange copies its messages.
    Plain(Block, Block, Halo, bool),
    /// `k` steps per exchange.
    Deep(Deep),
}

impl Stepper {
    /// The cells, row by row, without ghosts.
    pub fn interior(&self) -> Vec<f64> {
        match self {
            Stepper::Plain(u, ..) => u.interior(),
            Stepper::Deep(d) => d.interior(),
        }
    }

    /// The block's rows and columns.
    pub fn shape(&self) -> (usize, usize) {
        match self {
            Stepper::Plain(u, ..) => (u.ny, u.nx),
            Stepper::Deep(d) => d.shape(),
        }
    }

    /// The most steps one call of [`advance`](Stepper::advance) takes.
    pub fn depth(&self) -> usize {
        match self {
            Stepper::Plain(..) => 1,
            Stepper::Deep(d) => d.depth(),
        }
    }

    /// Advances `steps` steps, at most [`depth`](Stepper::depth).
    pub fn advance(&mut self, cart: &CartComm, steps: usize, a: f64, t: &mut Timers) -> Result<()> {
        match self {
            Stepper::Plain(u, next, halo, copied) => advance(cart, halo, u, next, a, *copied, t),
            Stepper::Deep(d) => {
                let (exchange, compute) = d.pass(cart, steps, a)?;
                t.exchange += exchange;
                t.compute += compute;
                Ok(())
            }
        }
    }
}

/// Runs `heat` on this rank; rank 0 returns the result.
pub fn run(comm: &Comm, p: &Heat) -> Result<Option<Output<HeatResult>>> {
    let procs @ [px, py] = p.process_grid(comm.size())?;
    let depth = p.halo_depth_for(procs)?;
    let periodic = [p.bc_y == Boundary::Periodic, p.bc_x == Boundary::Periodic];
    let cart =
        comm.cart_create(&[py, px], &periodic)?.ok_or_else(|| invalid("a rank outside the process grid".into()))?;
    let d = Decomposition::new(p.ny, p.nx, procs);
    let (rows, cols) = d.block_of(&cart, cart.rank());
    let start = start::start(&cart, &d, p, rows.clone(), cols.clone())?;
    let mut stepper = if depth > 1 {
        Stepper::Deep(Deep::new(&cart, depth, rows.len(), cols.len(), &start.cells, p.wall))
    } else {
        let mut u = Block::filled(rows.len(), cols.len(), p.wall);
        u.set_interior(&start.cells);
        let next = u.clone();
        Stepper::Plain(u, next, Halo::new(&cart, rows.len(), cols.len()), p.copied_halo)
    };
    drop(start.cells);
    let mut writer = output::Writer::new(&cart, &d, p, start.scale, start.step)?;
    let mut t = Timers::default();
    if start.step == 0 {
        writer.snapshot(0, &stepper, &mut t)?;
    }
    cart.barrier()?;
    let began = Instant::now();
    let a = p.courant();
    let mut step = start.step;
    let bar = crate::progress::Bar::new(cart.rank(), (p.steps - step) as u64, "heat steps");
    while step < p.steps {
        let n = stepper.depth().min(p.steps - step).min(writer.next_due(step) - step);
        stepper.advance(&cart, n, a, &mut t)?;
        step += n;
        writer.after_step(step, &stepper, &mut t)?;
        bar.inc(n as u64);
    }
    drop(bar);
    let step_time = (began.elapsed().saturating_sub(t.io)).as_secs_f64();
    let start_step = writer.start_step();
    let mut files = writer.finish(&stepper, &mut t)?;
    // Digest, heat and extremes of the final field.
    let cells = stepper.interior();
    let mut digest = 0u64;
    let (mut heat, mut lo, mut hi) = (0.0, f64::INFINITY, f64::NEG_INFINITY);
    for (row, j) in cells.chunks_exact(cols.len()).zip(rows.clone()) {
        for (&v, i) in row.iter().zip(cols.clone()) {
            digest = digest.wrapping_add(fingerprint::cell(j * p.nx + i, v));
            heat += v;
            (lo, hi) = (lo.min(v), hi.max(v));
        }
    }
    let h = p.spacing();
    let mut sums = ([0u64], [0.0], [0.0], [0.0], [0.0]);
    cart.allreduce(&[digest], &mut sums.0, &Op::sum())?;
    cart.allreduce(&[heat * h * h], &mut sums.1, &Op::sum())?;
    cart.allreduce(&[lo], &mut sums.2, &Op::min())?;
    cart.allreduce(&[hi], &mut sums.3, &Op::max())?;
    cart.allreduce(&[step_time], &mut sums.4, &Op::max())?;
    let me = HeatRank {
        rows: [rows.start, rows.end],
        cols: [cols.start, cols.end],
        compute_s: t.compute.as_secs_f64(),
        exchange_s: t.exchange.as_secs_f64(),
    };
    let ranks = cart.gather_obj(&me, 0)?;
    let Some(ranks) = ranks else { return Ok(None) };
    let steps_done = p.steps - start_step;
    let step_time_s = sums.4[0];
    let slowest = |f: fn(&HeatRank) -> f64| ranks.iter().map(f).fold(0.0, f64::max);
    let dt = p.time_step();
    let result = HeatResult {
        nx: p.nx,
        ny: p.ny,
        procs,
        start_step,
        steps: p.steps,
        dt,
        time: p.steps as f64 * dt,
        courant: a,
        step_time_s,
        glups: if step_time_s > 0.0 { (p.nx * p.ny * steps_done) as f64 / step_time_s / 1e9 } else { 0.0 },
        compute_time_s: slowest(|r| r.compute_s),
        exchange_time_s: slowest(|r| r.exchange_s),
        io_time_s: t.io.as_secs_f64(),
        total_heat: sums.1[0],
        min: sums.2[0],
        max: sums.3[0],
        fingerprint: fingerprint::hex(sums.0[0]),
        ranks,
        files: std::mem::take(&mut files),
    };
    let lines = output::lines(p, &result);
    Ok(root_output(Some(lines), || result))
}

/// One step: ghosts that need no message, messages posted, the interior updated while
/// they travel, then the cells next to the ghosts. The messages go without copies (a
/// scope lends them the block's edges), or `copied` through plain `isend`/`irecv`.
#[allow(clippy::too_many_arguments)]
pub fn advance(
    cart: &CartComm,
    halo: &mut Halo,
    u: &mut Block,
    next: &mut Block,
    a: f64,
    copied: bool,
    t: &mut Timers,
) -> Result<()> {
    let t0 = Instant::now();
    // Trace phases (free when not tracing): the exchange, the interior it overlaps, the boundary.
    let exchange = cart.span("exchange");
    halo.fill_local(u);
    let (remote_y, remote_x) = (halo.remote_y(), halo.remote_x());
    let (ny, nx) = (u.ny, u.nx);
    let rows = if remote_y { 2..ny } else { 1..ny + 1 };
    let cols = if remote_x { 2..nx } else { 1..nx + 1 };
    let mut interior = |now: &Block| {
        let _phase = cart.span("interior");
        update(now, next, rows.clone(), cols.clone(), a)
    };
    let inside = if copied {
        let requests = halo.post(cart, u)?;
        let t1 = Instant::now();
        interior(u);
        let inside = t1.elapsed();
        wait_all(requests)?;
        halo.unpack(u);
        inside
    } else {
        halo.exchange(cart, u, interior)?.1
    };
    let t3 = Instant::now();
    drop(exchange);
    let boundary = cart.span("boundary");
    let edges = |n: usize| if n == 1 { vec![1] } else { vec![1, n] };
    if remote_y {
        for j in edges(ny) {
            update(u, next, j..j + 1, 1..nx + 1, a);
        }
    }
    if remote_x {
        for i in edges(nx) {
            update(u, next, rows.clone(), i..i + 1, a);
        }
    }
    let t4 = Instant::now();
    drop(boundary);
    t.exchange += (t3 - t0) - inside;
    t.compute += inside + (t4 - t3);
    std::mem::swap(u, next);
    Ok(())
}
