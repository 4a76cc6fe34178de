//! The timed loops, run on every rank of a job.

use std::time::Instant;

use parsci_comm::{Comm, Error, Op};
use serde::Serialize;

/// A benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Ranks 0 and 1 bounce one message back and forth.
    PingPong,
    /// Every rank waits for all (no data: measured once, as size 0).
    Barrier,
    /// Bytes from rank 0 to all.
    Bcast,
    /// Sum of f64s to rank 0.
    Reduce,
    /// Sum of f64s on all ranks.
    Allreduce,
    /// Bytes from all to rank 0.
    Gather,
    /// Bytes from rank 0, a different block to each rank.
    Scatter,
    /// Bytes from every rank to every rank.
    Allgather,
    /// A different block of bytes from every rank to every rank.
    Alltoall,
    /// `ibarrier` started and waited for at once: the nonblocking path's own cost.
    Ibarrier,
    /// `ibcast` started and waited for at once.
    Ibcast,
    /// `iallreduce` (sum of f64s) started and waited for at once.
    Iallreduce,
    /// `reduce_scatter_block`: sum of f64s, each rank keeps its block of the result.
    ReduceScatter,
}

impl Kind {
    /// Every benchmark, in the order of the reports.
    pub const ALL: [Kind; 13] = [
        Kind::PingPong,
        Kind::Barrier,
        Kind::Bcast,
        Kind::Reduce,
        Kind::Allreduce,
        Kind::Gather,
        Kind::Scatter,
        Kind::Allgather,
        Kind::Alltoall,
        Kind::Ibarrier,
        Kind::Ibcast,
        Kind::Iallreduce,
        Kind::ReduceScatter,
    ];

    /// Every name used on the command line, in the order of [`Kind::ALL`].
    pub const NAMES: [&'static str; 13] = [
        "pingpong",
        "barrier",
        "bcast",
        "reduce",
        "allreduce",
        "gather",
        "scatter",
        "allgather",
        "alltoall",
        "ibarrier",
        "ibcast",
        "iallreduce",
        "reduce-scatter",
    ];

    /// Whether the benchmark moves no data (measured once, as size 0).
    pub fn is_dataless(self) -> bool {
        matches!(self, Kind::Barrier | Kind::Ibarrier)
    }

    /// The name used on the command line and in JSON.
    pub fn name(self) -> &'static str {
        Kind::NAMES[Kind::ALL.iter().position(|&k| k == self).expect("every kind is in ALL")]
    }
}

/// The (benchmark, size) pairs to measure: every kind at every size, but the barrier
/// (which moves no data) once, at size 0.
pub(crate) fn cases(kinds: &[Kind], sizes: &[usize]) -> Vec<(Kind, usize)> {
    kinds
        .iter()
        .flat_map(|&k| {
            let sizes: &[usize] = if k.is_dataless() { &[0] } else { sizes };
            sizes.iter().map(move |&b| (k, b))
        })
        .collect()
}

/// One benchmark at one size: the median over runs of the time per operation.
#[derive(Debug, Clone, Serialize)]
pub struct Sample {
    /// Which benchmark.
    pub kind: Kind,
    /// Message size in bytes (per rank).
    pub bytes: usize,
    /// Median time per operation in microseconds (one-way time for ping-pong).
    pub time_us: f64,
    /// Fastest run, microseconds.
    pub min_us: f64,
    /// Slowest run, microseconds.
    pub max_us: f64,
}

impl Sample {
    /// The sample of `times` (microseconds per operation, one per run).
    pub(crate) fn of(kind: Kind, bytes: usize, times: Vec<f64>) -> Self {
        let (time_us, min_us, max_us) = median(times);
        Sample { kind, bytes, time_us, min_us, max_us }
    }

    /// Bytes per second over the median time, in GB/s (ping-pong: one-way bandwidth).
    pub fn bandwidth_gbs(&self) -> f64 {
        self.bytes as f64 / (self.time_us * 1e3)
    }
}

/// Iterations per run: about 2 ms of work at an assumed 10 GB/s plus 0.2 us per message.
pub(crate) fn iterations(bytes: usize, scale: f64) -> usize {
    let per_op_us = 0.2 + bytes as f64 / 10_000.0;
    ((2000.0 / per_op_us * scale) as usize).clamp(3, 200_000)
}

pub(crate) fn median(mut v: Vec<f64>) -> (f64, f64, f64) {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let med = if n % 2 == 1 { v[n / 2] } else { 0.5 * (v[n / 2 - 1] + v[n / 2]) };
    (med, v[0], v[n - 1])
}

/// The timed loops of one implementation: parsci's `Comm` on any backend, or raw rsmpi.
pub(crate) trait Loops {
    /// Waits for every rank.
    fn barrier(&self) -> Result<(), Error>;
    /// The largest `t` over the ranks.
    fn max(&self, t: f64) -> Result<f64, Error>;
    /// Runs `iters` operations of `kind` and returns this rank's elapsed seconds.
    fn timed(&self, kind: Kind, b: &mut Buffers, iters: usize) -> Result<f64, Error>;
}

/// One timed run after a barrier: microseconds per operation (one-way for ping-pong),
/// as the slowest rank saw it (the slowest rank decides when a collective is done).
pub(crate) fn timed_run(l: &impl Loops, kind: Kind, b: &mut Buffers, iters: usize) -> Result<f64, Error> {
    l.barrier()?;
    let t = l.timed(kind, b, iters)?;
    let worst = l.max(t)?;
    Ok(worst * 1e6 / iters as f64 / if kind == Kind::PingPong { 2.0 } else { 1.0 })
}

/// Warms the caches with a tenth of the iterations (not timed).
pub(crate) fn warm_up(l: &impl Loops, kind: Kind, b: &mut Buffers, iters: usize) -> Result<(), Error> {
    l.timed(kind, b, iters.div_ceil(10).max(1)).map(|_| ())
}

pub(crate) fn all(
    comm: &Comm,
    kinds: &[Kind],
    sizes: &[usize],
    runs: u32,
    scale: f64,
    progress: crate::Progress,
) -> Result<Vec<Sample>, Error> {
    let mut out = Vec::new();
    let cases = cases(kinds, sizes);
    let total = cases.len() as u64;
    for (kind, bytes) in cases {
        let iters = iterations(bytes, scale);
        // Buffers are made and touched once per size, as an application reuses its
        // buffers: the timed loops then measure messages, not page faults.
        let mut bufs = Buffers::new(kind, bytes, comm.rank(), comm.size());
        warm_up(comm, kind, &mut bufs, iters)?;
        let times = (0..runs).map(|_| timed_run(comm, kind, &mut bufs, iters)).collect::<Result<_, _>>()?;
        out.push(Sample::of(kind, bytes, times));
        if comm.rank() == 0 {
            progress(out.len() as u64, total);
        }
    }
    Ok(out)
}

/// The buffers of one benchmark at one size, every page already written.
pub(crate) struct Buffers {
    /// Ping-pong, bcast, gather's and allgather's message; scatter's block.
    pub bytes: Vec<u8>,
    /// Gather's result on rank 0, scatter's blocks on rank 0, allgather's and alltoall's results.
    pub bytes_out: Vec<u8>,
    /// Alltoall's blocks.
    pub bytes_all: Vec<u8>,
    /// The reductions' input.
    pub send: Vec<f64>,
    /// The reductions' output.
    pub recv: Vec<f64>,
}

impl Buffers {
    pub(crate) fn new(kind: Kind, bytes: usize, me: usize, p: usize) -> Self {
        let n = (bytes / 8).max(1);
        let root = |b: usize| if me == 0 { b } else { 0 };
        let (b, out, all, s, r) = match kind {
            Kind::Barrier | Kind::Ibarrier => (0, 0, 0, 0, 0),
            Kind::PingPong | Kind::Bcast | Kind::Ibcast => (bytes, 0, 0, 0, 0),
            Kind::Gather | Kind::Scatter => (bytes, root(bytes * p), 0, 0, 0),
            Kind::Allgather => (bytes, bytes * p, 0, 0, 0),
            Kind::Alltoall => (0, bytes * p, bytes * p, 0, 0),
            Kind::Reduce => (0, 0, 0, n, root(n)),
            Kind::Allreduce | Kind::Iallreduce => (0, 0, 0, n, n),
            // Every rank contributes `bytes` per rank and keeps a block of `bytes`.
            Kind::ReduceScatter => (0, 0, 0, n * p, n),
        };
        Buffers {
            bytes: vec![me as u8 + 1; b],
            bytes_out: vec![1; out],
            bytes_all: vec![me as u8 + 1; all],
            send: vec![me as f64; s],
            recv: vec![1.0; r],
        }
    }
}

impl Loops for Comm {
    fn barrier(&self) -> Result<(), Error> {
        Comm::barrier(self)
    }

    fn max(&self, t: f64) -> Result<f64, Error> {
        let mut worst = [0.0];
        self.allreduce(&[t], &mut worst, &Op::max())?;
        Ok(worst[0])
    }

    fn timed(&self, kind: Kind, b: &mut Buffers, iters: usize) -> Result<f64, Error> {
        let comm = self;
        let me = comm.rank();
        let start = Instant::now();
        match kind {
            Kind::PingPong => {
                let buf = &mut b.bytes;
                for _ in 0..iters {
                    match me {
                        0 => {
                            comm.send(buf, 1, 1)?;
                            comm.recv(buf, 1, 1)?;
                        }
                        1 => {
                            comm.recv(buf, 0, 1)?;
                            comm.send(buf, 0, 1)?;
                        }
                        _ => {}
                    }
                }
            }
            Kind::Barrier => {
                for _ in 0..iters {
                    comm.barrier()?;
                }
            }
            Kind::Reduce => {
                for _ in 0..iters {
                    comm.reduce(&b.send, (me == 0).then_some(&mut b.recv[..]), &Op::sum(), 0)?;
                }
            }
            Kind::Allreduce => {
                for _ in 0..iters {
                    comm.allreduce(&b.send, &mut b.recv, &Op::sum())?;
                }
            }
            Kind::Bcast => {
                for _ in 0..iters {
                    comm.bcast(&mut b.bytes, 0)?;
                }
            }
            Kind::Gather => {
                for _ in 0..iters {
                    comm.gather(&b.bytes, (me == 0).then_some(&mut b.bytes_out[..]), 0)?;
                }
            }
            Kind::Scatter => {
                for _ in 0..iters {
                    comm.scatter((me == 0).then_some(&b.bytes_out[..]), &mut b.bytes, 0)?;
                }
            }
            Kind::Allgather => {
                for _ in 0..iters {
                    comm.allgather(&b.bytes, &mut b.bytes_out)?;
                }
            }
            Kind::Alltoall => {
                for _ in 0..iters {
                    comm.alltoall(&b.bytes_all, &mut b.bytes_out)?;
                }
            }
            Kind::Ibarrier => {
                for _ in 0..iters {
                    comm.scope(|s| s.ibarrier()?.wait().map(drop))?;
                }
            }
            Kind::Ibcast => {
                for _ in 0..iters {
                    comm.scope(|s| s.ibcast(&mut b.bytes, 0)?.wait().map(drop))?;
                }
            }
            Kind::Iallreduce => {
                let sum = Op::sum();
                for _ in 0..iters {
                    comm.scope(|s| s.iallreduce(&b.send, &mut b.recv, &sum)?.wait().map(drop))?;
                }
            }
            Kind::ReduceScatter => {
                for _ in 0..iters {
                    comm.reduce_scatter_block(&b.send, &mut b.recv, &Op::sum())?;
                }
            }
        }
        Ok(start.elapsed().as_secs_f64())
    }
}
