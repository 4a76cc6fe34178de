//! `parsci bench --compare` under `mpirun`: the thread backend, the MPI backend and raw
//! rsmpi measured in one run. The three are interleaved round by round, so that the
//! machine's drift (other load, where the VM's vCPUs sit) hits all three alike, and
//! the MPI backend's overhead over raw rsmpi is the median of ratios of adjacent runs.

use std::time::Duration;

use parsci_comm::{launch, Backend, Comm, Error, Tag};

use crate::affinity::with_all_cpus;
use crate::comparison::Row;
use crate::floor::{self, Floor};
use crate::measure::{cases, iterations, median, timed_run, warm_up, Buffers, Kind, Sample};
use crate::raw::Raw;

/// Tag of "rank 0 is done on its own" (the benchmarks use tag 1).
const DONE: Tag = 0x7eed;

/// Runs on every rank of the MPI job; returns the rows and the floor on rank 0.
pub(crate) fn run(
    comm: &Comm,
    kinds: &[Kind],
    sizes: &[usize],
    runs: u32,
    scale: f64,
    progress: crate::Progress,
) -> Result<Option<(Vec<Row>, Floor)>, Error> {
    let raw = Raw::world();
    let cases = cases(kinds, sizes);
    let mut times = vec![Times::default(); cases.len()];
    let total = u64::from(runs) * cases.len() as u64;
    let mut done = 0;
    for _ in 0..runs {
        for (&(kind, bytes), t) in cases.iter().zip(&mut times) {
            let iters = iterations(bytes, scale);
            let mut bufs = Buffers::new(kind, bytes, comm.rank(), comm.size());
            warm_up(comm, kind, &mut bufs, iters)?;
            warm_up(&raw, kind, &mut bufs, iters)?;
            // raw, MPI backend, MPI backend, raw: a drift of the machine's speed during the
            // four runs cancels in the pair's ratio.
            let r1 = timed_run(&raw, kind, &mut bufs, iters)?;
            let m1 = timed_run(comm, kind, &mut bufs, iters)?;
            let m2 = timed_run(comm, kind, &mut bufs, iters)?;
            let r2 = timed_run(&raw, kind, &mut bufs, iters)?;
            t.raw.extend([r1, r2]);
            t.mpi.extend([m1, m2]);
            t.ratio.push((m1 + m2) / (r1 + r2));
            t.diff.push((m1 + m2 - r1 - r2) / 2.0);
            done += 1;
            if comm.rank() == 0 {
                progress(done, total);
            }
        }
        let threads = alone_on_rank0(comm, || threads_round(comm.size(), &cases, scale))?;
        if let Some(threads) = threads {
            for (t, us) in times.iter_mut().zip(threads?) {
                t.threads.push(us);
            }
        }
    }
    let Some(floor) = alone_on_rank0(comm, || floor::measure(sizes, runs))? else { return Ok(None) };
    let rows = cases
        .into_iter()
        .zip(times)
        .map(|((kind, bytes), t)| Row {
            kind,
            bytes,
            threads: Sample::of(kind, bytes, t.threads),
            mpi: Sample::of(kind, bytes, t.mpi),
            raw: Sample::of(kind, bytes, t.raw),
            mpi_over_raw: median(t.ratio).0,
            mpi_minus_raw_us: median(t.diff).0,
        })
        .collect();
    Ok(Some((rows, floor)))
}

/// One case's timed runs (microseconds per operation) over the rounds.
#[derive(Debug, Clone, Default)]
struct Times {
    threads: Vec<f64>,
    mpi: Vec<f64>,
    raw: Vec<f64>,
    /// Per round: the MPI backend's time over raw rsmpi's, from the same four runs.
    ratio: Vec<f64>,
    /// Per round: the MPI backend's time minus raw rsmpi's, microseconds.
    diff: Vec<f64>,
}

/// Rank 0's process runs `f` on every CPU it may use while the other processes wait
/// without spinning (a test of a posted receive every millisecond), so that `f` has the
/// machine to itself.
fn alone_on_rank0<R>(comm: &Comm, f: impl FnOnce() -> R) -> Result<Option<R>, Error> {
    if comm.rank() == 0 {
        let out = with_all_cpus(f);
        for r in 1..comm.size() {
            comm.send(&[1u8], r, DONE)?;
        }
        return Ok(Some(out));
    }
    let mut flag = [0u8];
    let mut req = comm.irecv(&mut flag, 0, DONE)?;
    while req.test()?.is_none() {
        std::thread::sleep(Duration::from_millis(1));
    }
    Ok(None)
}

/// One round of every case on the thread backend, with as many ranks as the MPI job.
fn threads_round(ranks: usize, cases: &[(Kind, usize)], scale: f64) -> Result<Vec<f64>, Error> {
    let out = launch(Backend::Threads(ranks), |c| {
        cases
            .iter()
            .map(|&(kind, bytes)| {
                let iters = iterations(bytes, scale);
                let mut bufs = Buffers::new(kind, bytes, c.rank(), c.size());
                warm_up(c, kind, &mut bufs, iters)?;
                timed_run(c, kind, &mut bufs, iters)
            })
            .collect::<Result<Vec<f64>, Error>>()
    })?;
    Ok(out.into_root().expect("the thread backend returns every rank's result"))
}
