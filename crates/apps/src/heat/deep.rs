//! Temporal blocking with a deep halo: `k` ghost rows are exchanged once every `k` steps,
//! and the `k` steps are done in one pass over the block (a wavefront: row `j` of step
//! `t` right after row `j + 1` of step `t - 1`). The intermediate steps live in a few
//! rows that stay in cache, so memory is read and written once per `k` steps instead of
//! once per step. Near a neighbour the ghost rows are updated too, redundantly (the
//! neighbour computes the same values); the result is bit-identical to one step at a time.
//!
//! For process grids with one rank along x (the default for small rank counts): the
//! columns' ghosts are then the wall or the block's own other edge.

use std::time::{Duration, Instant};

use parsci_comm::{CartComm, Result, PROC_NULL};

use super::stencil::update_row;

/// Tags of the deep exchange: the direction the rows travel.
const SOUTHWARD: i32 = 21;
const NORTHWARD: i32 = 22;

/// Rows kept per intermediate step (a step reads three rows of the one before).
const RING: usize = 3;

/// One rank's block with `k` ghost rows on each side, and the wavefront's buffers.
#[derive(Debug)]
pub struct Deep {
    k: usize,
    ny: usize,
    nx: usize,
    u: Vec<f64>,
    v: Vec<f64>,
    ring: Vec<Vec<f64>>,
    wall_row: Vec<f64>,
    from_north: Vec<f64>,
    from_south: Vec<f64>,
    me: usize,
    north: usize,
    south: usize,
    periodic_x: bool,
}

impl Deep {
    /// A block of `ny x nx` cells (`ny >= k`) with halos `k` deep, on a grid with one rank
    /// along x; ghosts start at `wall`.
    pub fn new(cart: &CartComm, k: usize, ny: usize, nx: usize, cells: &[f64], wall: f64) -> Deep {
        let (north, south) = cart.shift(0, 1);
        let w = nx + 2;
        let mut d = Deep {
            k,
            ny,
            nx,
            u: vec![wall; (ny + 2 * k) * w],
            v: vec![wall; (ny + 2 * k) * w],
            ring: vec![vec![wall; RING * w]; k - 1],
            wall_row: vec![wall; w],
            from_north: vec![0.0; k * w],
            from_south: vec![0.0; k * w],
            me: cart.rank(),
            north,
            south,
            periodic_x: cart.periods()[1],
        };
        for (j, row) in cells.chunks_exact(nx).enumerate() {
            let at = d.at(j as isize + 1);
            d.u[at + 1..at + 1 + nx].copy_from_slice(row);
        }
        d
    }

    /// The halo depth: the most steps one [`pass`](Deep::pass) may take.
    pub fn depth(&self) -> usize {
        self.k
    }

    /// The block's rows and columns.
    pub fn shape(&self) -> (usize, usize) {
        (self.ny, self.nx)
    }

    /// Where local row `j` (from `1 - k` to `ny + k`) starts in `u` and `v`.
    fn at(&self, j: isize) -> usize {
        (j + self.k as isize - 1) as usize * (self.nx + 2)
    }

    /// The cells, row by row, without ghosts.
    pub fn interior(&self) -> Vec<f64> {
        (1..=self.ny as isize).flat_map(|j| self.u[self.at(j) + 1..self.at(j) + 1 + self.nx].to_vec()).collect()
    }

    /// Advances `steps` steps (at most the depth) in one pass; returns the time spent in
    /// the exchange (posting, waiting, copying ghosts) and in updating cells.
    ///
    /// The `k` edge rows go to the neighbours first (messages to other ranks, copies for a
    /// periodic axis this rank spans alone). The pass then waits for the northern ghost
    /// rows, which its first rows need, sweeps down to the last row that needs no southern
    /// ghost, and only then waits for those: a neighbour that runs a little late costs no
    /// waiting while the block's interior is swept.
    pub fn pass(&mut self, cart: &CartComm, steps: usize, a: f64) -> Result<(Duration, Duration)> {
        assert!((1..=self.k).contains(&steps), "pass: {steps} steps with a halo {} deep", self.k);
        let began = Instant::now();
        // Trace phases (free when not tracing): the exchange, the interior sweep, the boundary.
        let phase = cart.span("exchange");
        let (k, ny, w) = (self.k, self.ny, self.nx + 2);
        let span = k * w;
        let (first, last) = (self.at(1), self.at(ny as isize + 1 - k as isize));
        let (top, bottom) = (self.at(1 - k as isize), self.at(ny as isize + 1));
        let (north, south) = (self.remote(self.north), self.remote(self.south));
        let mut u = std::mem::take(&mut self.u);
        let mut from_north = std::mem::take(&mut self.from_north);
        let mut from_south = std::mem::take(&mut self.from_south);
        let mut sends = Vec::with_capacity(2);
        if north {
            sends.push(cart.isend(&u[first..first + span], self.north, NORTHWARD)?);
        }
        if south {
            sends.push(cart.isend(&u[last..last + span], self.south, SOUTHWARD)?);
        }
        if self.north == self.me {
            u.copy_within(last..last + span, top);
            u.copy_within(first..first + span, bottom);
        }
        let from_north_req = if north { Some(cart.irecv(&mut from_north, self.north, SOUTHWARD)?) } else { None };
        let from_south_req = if south { Some(cart.irecv(&mut from_south, self.south, NORTHWARD)?) } else { None };
        if from_north_req.map(|r| r.wait()).transpose()?.is_some() {
            u[top..top + span].copy_from_slice(&from_north);
        }
        let ready = if south { bottom } else { u.len() }; // southern ghosts by message come later
        self.wrap_columns(&mut u[..ready]);
        let mut exchange = began.elapsed();
        drop(phase);
        let phase = cart.span("interior");
        let swept = Instant::now();
        let kk = steps as isize;
        let end = self.sweep_end(kk);
        // Position s reads step 0's rows up to s + 1: the southern ghosts from s = ny on.
        let split = if south { ny as isize - 1 } else { end };
        self.sweep(&u, a, kk, self.sweep_start(kk)..=split);
        let mut compute = swept.elapsed();
        drop(phase);
        let waited = Instant::now();
        let phase = cart.span("exchange");
        if from_south_req.map(|r| r.wait()).transpose()?.is_some() {
            u[bottom..bottom + span].copy_from_slice(&from_south);
            self.wrap_columns(&mut u[bottom..]);
            exchange += waited.elapsed();
            drop(phase);
            let _boundary = cart.span("boundary");
            let swept = Instant::now();
            self.sweep(&u, a, kk, split + 1..=end);
            compute += swept.elapsed();
        }
        let waited = Instant::now();
        let _phase = cart.span("exchange");
        parsci_comm::wait_all(sends)?;
        exchange += waited.elapsed();
        (self.u, self.from_north, self.from_south) = (u, from_north, from_south);
        std::mem::swap(&mut self.u, &mut self.v);
        Ok((exchange, compute))
    }

    fn remote(&self, r: usize) -> bool {
        r != PROC_NULL && r != self.me
    }

    /// Copies each row's edge cells into its other end's ghost, along a periodic x.
    fn wrap_columns(&self, rows: &mut [f64]) {
        if self.periodic_x {
            let nx = self.nx;
            for row in rows.chunks_exact_mut(nx + 2) {
                row[0] = row[nx];
                row[nx + 1] = row[1];
            }
        }
    }

    /// The first wavefront position of a pass of `kk` steps (step 1 starts in the ghost
    /// rows toward a northern neighbour).
    fn sweep_start(&self, kk: isize) -> isize {
        1 - isize::from(self.north != PROC_NULL) * (kk - 1)
    }

    /// The last wavefront position of a pass of `kk` steps.
    fn sweep_end(&self, kk: isize) -> isize {
        self.ny as isize + isize::from(self.south != PROC_NULL) * (kk - 1) + kk - 1
    }

    /// The wavefront at `positions`: at position `s`, step `t` updates row `s - (t - 1)`
    /// from rows of step `t - 1` in `u` (step 0), in the ring, or a wall's ghost row.
    fn sweep(&mut self, u: &[f64], a: f64, kk: isize, positions: std::ops::RangeInclusive<isize>) {
        let (ny, nx, w) = (self.ny as isize, self.nx, self.nx + 2);
        let ext_n = isize::from(self.north != PROC_NULL);
        let ext_s = isize::from(self.south != PROC_NULL);
        // The rows step t updates: the block, and toward a neighbour the ghost rows that
        // the later steps of this pass still read.
        let lo = |t: isize| 1 - ext_n * (kk - t);
        let hi = |t: isize| ny + ext_s * (kk - t);
        let slot = |r: isize| r.rem_euclid(RING as isize) as usize * w;
        let mut v = std::mem::take(&mut self.v);
        let mut ring = std::mem::take(&mut self.ring);
        let me = &*self;
        for s in positions {
            for t in 1..=kk {
                let j = s - (t - 1);
                if j < lo(t) || j > hi(t) {
                    continue;
                }
                let (done, todo) = ring.split_at_mut(t as usize - 1);
                let src = |r: isize| -> &[f64] {
                    if t == 1 {
                        &u[me.at(r)..me.at(r) + w]
                    } else if r < lo(t - 1) || r > hi(t - 1) {
                        &me.wall_row
                    } else {
                        &done[t as usize - 2][slot(r)..slot(r) + w]
                    }
                };
                let (n, c, south) = (src(j - 1), src(j), src(j + 1));
                if t == kk {
                    let at = me.at(j);
                    update_row(n, c, south, &mut v[at + 1..at + 1 + nx], 1, a);
                } else {
                    let row = &mut todo[0][slot(j)..slot(j) + w];
                    update_row(n, c, south, &mut row[1..=nx], 1, a);
                    if me.periodic_x {
                        row[0] = row[nx];
                        row[nx + 1] = row[1];
                    }
                }
            }
        }
        self.v = v;
        self.ring = ring;
    }
}
