//! `parsci bench --check-cost`: the cost of the collectives' agreement check
//! (`JobOptions::check_collectives`), measured in one run: every round runs one job
//! without the check and one with it (in alternating order, so that a drift of the
//! machine's speed hits both alike), and the cost is the median over rounds of the
//! ratio of the two. Under MPI, raw rsmpi's time is measured in the job without the
//! check, as a reference.

use parsci_comm::{launch_with, Backend, Comm, Error, JobOptions};
use serde::Serialize;

use crate::measure::{cases, iterations, median, timed_run, warm_up, Buffers, Kind, Sample};
use crate::report::{human, title};

/// One benchmark at one size, with and without the check.
#[derive(Debug, Clone, Serialize)]
pub struct CheckRow {
    /// Which benchmark.
    pub kind: Kind,
    /// Message size in bytes.
    pub bytes: usize,
    /// Without the check.
    pub unchecked: Sample,
    /// With the check.
    pub checked: Sample,
    /// Raw rsmpi (MPI jobs only).
    pub raw: Option<Sample>,
    /// Median over rounds of checked time over unchecked time.
    pub ratio: f64,
    /// Median over rounds of checked minus unchecked time, microseconds.
    pub diff_us: f64,
}

/// The report of `--check-cost`.
#[derive(Debug, Clone, Serialize)]
pub struct CheckCost {
    /// The backend measured.
    pub backend: String,
    /// Ranks in the job.
    pub ranks: usize,
    /// Rounds (pairs of jobs).
    pub rounds: u32,
    /// One row per benchmark and size.
    pub rows: Vec<CheckRow>,
}

/// One job: every case once (after a warm-up), rank 0's times in microseconds, and raw
/// rsmpi's if asked.
fn job(
    backend: Backend,
    check: bool,
    cases: &[(Kind, usize)],
    scale: f64,
    raw: bool,
) -> Result<Vec<(f64, f64)>, String> {
    let mut opts = JobOptions::default();
    opts.check_collectives = check;
    let out = launch_with(backend, &opts, |comm: &Comm| {
        cases
            .iter()
            .map(|&(kind, bytes)| {
                let iters = iterations(bytes, scale);
                let mut bufs = Buffers::new(kind, bytes, comm.rank(), comm.size());
                warm_up(comm, kind, &mut bufs, iters)?;
                let t = timed_run(comm, kind, &mut bufs, iters)?;
                Ok((t, if raw { raw_time(kind, &mut bufs, iters)? } else { f64::NAN }))
            })
            .collect::<Result<Vec<_>, Error>>()
    })
    .map_err(|e| e.to_string())?;
    Ok(out.into_root().unwrap_or_default())
}

#[cfg(feature = "mpi")]
fn raw_time(kind: Kind, bufs: &mut Buffers, iters: usize) -> Result<f64, Error> {
    let raw = crate::raw::Raw::world();
    warm_up(&raw, kind, bufs, iters)?;
    timed_run(&raw, kind, bufs, iters)
}

#[cfg(not(feature = "mpi"))]
fn raw_time(_: Kind, _: &mut Buffers, _: usize) -> Result<f64, Error> {
    Ok(f64::NAN)
}

/// Runs `rounds` pairs of jobs; `None` in the processes of an MPI job other than rank 0's.
pub(crate) fn run(
    backend: Backend,
    kinds: &[Kind],
    sizes: &[usize],
    rounds: u32,
    scale: f64,
    progress: crate::Progress,
) -> Result<Option<CheckCost>, String> {
    let cases = cases(kinds, sizes);
    let raw = backend.name() == "mpi";
    let mut off = vec![Vec::new(); cases.len()];
    let mut on = vec![Vec::new(); cases.len()];
    let mut raws = vec![Vec::new(); cases.len()];
    let mut ratio = vec![Vec::new(); cases.len()];
    let mut diff = vec![Vec::new(); cases.len()];
    for round in 0..rounds {
        let (a, b) = if round % 2 == 0 {
            let a = job(backend, false, &cases, scale, raw)?;
            (a, job(backend, true, &cases, scale, false)?)
        } else {
            let b = job(backend, true, &cases, scale, false)?;
            (job(backend, false, &cases, scale, raw)?, b)
        };
        if a.is_empty() {
            continue; // not rank 0
        }
        progress(u64::from(round) + 1, u64::from(rounds));
        for i in 0..cases.len() {
            off[i].push(a[i].0);
            on[i].push(b[i].0);
            raws[i].push(a[i].1);
            ratio[i].push(b[i].0 / a[i].0);
            diff[i].push(b[i].0 - a[i].0);
        }
    }
    if off.first().is_none_or(Vec::is_empty) {
        return Ok(None);
    }
    let rows = cases
        .iter()
        .enumerate()
        .map(|(i, &(kind, bytes))| CheckRow {
            kind,
            bytes,
            unchecked: Sample::of(kind, bytes, off[i].clone()),
            checked: Sample::of(kind, bytes, on[i].clone()),
            raw: raw.then(|| Sample::of(kind, bytes, raws[i].clone())),
            ratio: median(ratio[i].clone()).0,
            diff_us: median(diff[i].clone()).0,
        })
        .collect();
    Ok(Some(CheckCost { backend: backend.name().into(), ranks: backend.ranks(), rounds, rows }))
}

impl CheckCost {
    /// The table.
    pub fn table(&self) -> String {
        let mut out = format!(
            "# parsci bench --check-cost: {} backend, {} ranks, {} rounds (medians, microseconds per operation)\n",
            self.backend, self.ranks, self.rounds
        );
        let mut last = None;
        for r in &self.rows {
            if last != Some(r.kind) {
                out += &format!(
                    "\n## {}\n{:>9} {:>12} {:>12} {:>10} {:>10} {:>12}\n",
                    title(r.kind),
                    "size",
                    "unchecked",
                    "checked",
                    "ratio",
                    "diff",
                    "raw rsmpi"
                );
                last = Some(r.kind);
            }
            let raw = r.raw.as_ref().map_or("-".to_string(), |s| format!("{:.2}", s.time_us));
            out += &format!(
                "{:>9} {:>12.2} {:>12.2} {:>10.3} {:>10.2} {:>12}\n",
                human(r.bytes),
                r.unchecked.time_us,
                r.checked.time_us,
                r.ratio,
                r.diff_us,
                raw
            );
        }
        out
    }

    /// The report as one JSON object on one line.
    pub fn json(&self) -> String {
        serde_json::to_string(self).expect("plain data serializes") + "\n"
    }
}
