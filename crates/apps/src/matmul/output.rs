//! A rank's stopwatch, the end of a run (every rank's share, times and memory gathered
//! on rank 0), the lines rank 0 prints, and `C` written as `.npy` (whole from rank 0, or
//! each rank its block into one file).

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::time::{Duration, Instant};

use npyz::WriterBuilder;
use parsci_comm::{Comm, Op};

use super::memory::{self, Ledger};
use super::probe::Partial;
use super::{Matmul, MatmulRank, MatmulResult, Strategy};
use crate::error::{Error, Result};
use crate::files::write_file;
use crate::program::{rank_tag, root_output, Output};

/// One rank's times: making the inputs, then (from the moment every rank has its inputs)
/// computation and communication.
#[derive(Debug)]
pub(super) struct Watch {
    began: Instant,
    setup: Duration,
    t0: Instant,
    elapsed: Duration,
    compute: Duration,
    comm: Duration,
}

impl Watch {
    /// Starts the process's peak memory afresh and the clock (collective).
    pub fn start(comm: &Comm) -> Result<Self> {
        memory::reset_process_peak();
        comm.barrier()?;
        let now = Instant::now();
        Ok(Watch {
            began: now,
            setup: Duration::ZERO,
            t0: now,
            elapsed: Duration::ZERO,
            compute: Duration::ZERO,
            comm: Duration::ZERO,
        })
    }

    /// The inputs are made: the multiplication's clock starts once every rank is here.
    pub fn inputs_ready(&mut self, comm: &Comm) -> Result<()> {
        self.setup = self.began.elapsed();
        comm.barrier()?;
        self.t0 = Instant::now();
        Ok(())
    }

    /// Runs communication `f`, counting its time.
    pub fn comm<T>(&mut self, f: impl FnOnce() -> parsci_comm::Result<T>) -> Result<T> {
        let t = Instant::now();
        let out = f();
        self.comm += t.elapsed();
        Ok(out?)
    }

    /// Adds `d` to the communication time.
    pub fn add_comm(&mut self, d: Duration) {
        self.comm += d;
    }

    /// Adds `d` to the computation time.
    pub fn add_compute(&mut self, d: Duration) {
        self.compute += d;
    }

    /// Runs computation `f`, counting its time.
    pub fn compute<T>(&mut self, f: impl FnOnce() -> T) -> T {
        let t = Instant::now();
        let out = f();
        self.compute += t.elapsed();
        out
    }

    /// `C` is in place: the multiplication's clock stops.
    pub fn finished(&mut self) {
        self.elapsed = self.t0.elapsed();
    }

    /// What this rank did, for [`finish`].
    #[allow(clippy::too_many_arguments)]
    pub fn done(
        self,
        procs: [usize; 2],
        [r0, r1, c0, c1]: [usize; 4],
        ledger: &Ledger,
        partial: Partial,
        files: Vec<String>,
    ) -> Done {
        let me = MatmulRank {
            rows: [r0, r1],
            cols: [c0, c1],
            compute_s: self.compute.as_secs_f64(),
            comm_s: self.comm.as_secs_f64(),
            matrix_bytes: ledger.peak(),
            process_peak_bytes: memory::process_peak().unwrap_or(0),
            pid: std::process::id(),
        };
        Done { procs, me, elapsed: self.elapsed, setup: self.setup, partial, files }
    }
}

/// What a rank did, from its strategy.
#[derive(Debug)]
pub(super) struct Done {
    procs: [usize; 2],
    me: MatmulRank,
    elapsed: Duration,
    setup: Duration,
    partial: Partial,
    files: Vec<String>,
}

/// Gathers every rank's share, times and memory on rank 0 and makes the result and its
/// lines (collective).
pub(super) fn finish(comm: &Comm, p: &Matmul, done: Done) -> Result<Option<Output<MatmulResult>>> {
    let totals = done.partial.reduce(comm)?;
    let mut slowest = [0.0; 2];
    let times = [done.elapsed.as_secs_f64(), done.setup.as_secs_f64()];
    comm.reduce(&times, (comm.rank() == 0).then_some(&mut slowest[..]), &Op::max(), 0)?;
    let ranks = comm.gather_obj(&done.me, 0)?;
    let (Some(ranks), Some(t)) = (ranks, totals) else { return Ok(None) };
    let time_s = slowest[0];
    let flops = 2.0 * p.m as f64 * p.n as f64 * p.k as f64;
    let slowest_of = |f: fn(&MatmulRank) -> f64| ranks.iter().map(f).fold(0.0, f64::max);
    let result = MatmulResult {
        shape: [p.m, p.k, p.n],
        strategy: p.strategy,
        procs: done.procs,
        panel: if p.strategy == Strategy::Summa { super::summa::width(p, done.procs) } else { 0 },
        input: p.input_name(),
        time_s,
        gflops: if time_s > 0.0 { flops / time_s / 1e9 } else { 0.0 },
        setup_s: slowest[1],
        compute_time_s: slowest_of(|r| r.compute_s),
        comm_time_s: slowest_of(|r| r.comm_s),
        totals: t,
        total_bytes: 8 * (p.m * p.k + p.k * p.n + p.m * p.n) as u64,
        one_process: ranks.iter().all(|r| r.pid == ranks[0].pid),
        ranks,
        files: done.files,
    };
    let lines = lines(comm, p, &result);
    Ok(root_output(Some(lines), || result))
}

/// Bytes as MB (10^6), with two decimals.
fn mb(bytes: u64) -> String {
    format!("{:.2} MB", bytes as f64 / 1e6)
}

/// What rank 0 prints.
fn lines(comm: &Comm, p: &Matmul, r: &MatmulResult) -> Vec<String> {
    let [m, k, n] = r.shape;
    let size = comm.size();
    let mut out = vec![format!("C = A B with A {m} x {k} and B {k} x {n}; matrices: {}", r.input)];
    out.push(match r.strategy {
        Strategy::Summa => format!(
            "Strategy summa on a {}x{} process grid (PXxPY), panels of up to {} columns of A (rows of B)",
            r.procs[0], r.procs[1], r.panel
        ),
        Strategy::BcastReduce => {
            "Strategy bcast-reduce: rank 0 broadcasts A and B, the partial C's are summed on rank 0".into()
        }
        Strategy::ScatterGather => {
            "Strategy scatter-gather: A's rows scattered, B broadcast, C's rows gathered on rank 0".into()
        }
    });
    let share = |b: u64| 100.0 * b as f64 / r.total_bytes.max(1) as f64;
    for (i, x) in r.ranks.iter().enumerate() {
        out.push(format!(
            "[Rank {i}/{size}] C[{}..{}, {}..{}]: compute {:.4} s, communication {:.4} s, matrix data at peak {} ({:.0}% of A+B+C)",
            x.rows[0],
            x.rows[1],
            x.cols[0],
            x.cols[1],
            x.compute_s,
            x.comm_s,
            mb(x.matrix_bytes),
            share(x.matrix_bytes)
        ));
    }
    out.push(format!(
        "Time {:.4} s, {:.2} GFLOP/s (the slowest rank: compute {:.4} s, communication {:.4} s; inputs made in {:.4} s, not counted)",
        r.time_s, r.gflops, r.compute_time_s, r.comm_time_s, r.setup_s
    ));
    let (lo, hi) = r.ranks.iter().fold((u64::MAX, 0), |(lo, hi), x| (lo.min(x.matrix_bytes), hi.max(x.matrix_bytes)));
    out.push(format!(
        "Matrix data: A+B+C = {}; at its peak each rank held {} to {} ({:.0}% to {:.0}%)",
        mb(r.total_bytes),
        mb(lo),
        mb(hi),
        share(lo),
        share(hi)
    ));
    let peaks: Vec<u64> = r.ranks.iter().map(|x| x.process_peak_bytes).collect();
    out.push(if size == 1 {
        format!("Peak resident memory of the process: {}", mb(peaks[0]))
    } else if r.one_process {
        format!(
            "Peak resident memory: {} for the one process in which all {size} ranks run as threads (not per rank)",
            mb(peaks[0])
        )
    } else {
        let (lo, hi) = (peaks.iter().min().copied().unwrap_or(0), peaks.iter().max().copied().unwrap_or(0));
        format!("Peak resident memory per process (one per rank): {} to {} (rank 0: {})", mb(lo), mb(hi), mb(peaks[0]))
    });
    let t = &r.totals;
    out.push(format!(
        "||A|| = {:.6}, ||B|| = {:.6}, ||C|| = {:.6}, sum(C) = {:.6}, C from {:.15} to {:.15}",
        t.norm_a, t.norm_b, t.norm_c, t.sum_c, t.min_c, t.max_c
    ));
    if p.lesson {
        let worst = (t.min_c - 1.0).abs().max((t.max_c - 1.0).abs());
        out.push(format!("Every element of C should be 1: the largest difference is {worst:.1e}"));
    }
    out.extend(r.files.iter().map(|f| format!("Wrote {f}")));
    let _ = rank_tag; // per-rank lines are made on rank 0 from the gathered shares
    out
}

fn failed(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Output { program: "matmul", path: path.display().to_string(), msg: e.to_string() }
}

/// Writes the whole `C` (rank 0) to `p.output`, if asked; returns the file's name.
pub(super) fn write_whole(p: &Matmul, c: &[f64]) -> Result<Option<String>> {
    let Some(path) = &p.output else { return Ok(None) };
    write_file(path, |w| {
        let mut npy =
            npyz::WriteOptions::new().default_dtype().shape(&[p.m as u64, p.n as u64]).writer(w).begin_nd()?;
        npy.extend(c.iter().copied())?;
        npy.finish()
    })
    .map_err(|e| failed(path, e))?;
    Ok(Some(path.display().to_string()))
}

/// Writes `C` to `p.output`, if asked, each rank its block `rows x cols` (collective):
/// rank 0 makes a temporary file of the right size with the header, every rank writes
/// its rows at their offsets, and rank 0 renames the file once all have. No rank holds
/// more than its block.
pub(super) fn write_blocks(comm: &Comm, p: &Matmul, c: &[f64], [r0, r1, c0, c1]: [usize; 4]) -> Result<Option<String>> {
    let Some(path) = &p.output else { return Ok(None) };
    let tmp = path.with_file_name(format!(
        ".{}.{}.tmp",
        path.file_name().map(|f| f.to_string_lossy()).unwrap_or_default(),
        std::process::id()
    ));
    // Rank 0 creates the file; everyone learns its name and where the data starts.
    let made = if comm.rank() == 0 {
        Some(create(&tmp, p.m, p.n).map(|start| (tmp.display().to_string(), start)).map_err(|e| e.to_string()))
    } else {
        None
    };
    let (tmp, start) = comm.bcast_obj(made, 0)?.map_err(|e| failed(path, e))?;
    let tmp = std::path::PathBuf::from(tmp);
    let mine = (|| -> std::io::Result<()> {
        let width = c1 - c0;
        if width == 0 || r1 == r0 {
            return Ok(());
        }
        let file = OpenOptions::new().write(true).open(&tmp)?;
        let mut bytes = Vec::with_capacity(width * 8);
        for (row, i) in c.chunks_exact(width).zip(r0..r1) {
            bytes.clear();
            bytes.extend(row.iter().flat_map(|v| v.to_le_bytes()));
            file.write_all_at(&bytes, start + 8 * (i * p.n + c0) as u64)?;
        }
        Ok(())
    })()
    .map_err(|e| format!("rank {}: {e}", comm.rank()));
    let all = comm.gather_obj(&mine.err(), 0)?;
    let outcome = match all {
        Some(errors) => match errors.into_iter().flatten().next() {
            Some(e) => Err(e),
            None => std::fs::rename(&tmp, path).map_err(|e| e.to_string()),
        },
        None => Ok(()),
    };
    if outcome.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    let outcome = comm.bcast_obj((comm.rank() == 0).then_some(outcome), 0)?;
    outcome.map_err(|e| failed(path, e))?;
    Ok(Some(path.display().to_string()))
}

/// Creates `tmp` with the header of an `m x n` float64 matrix and room for its data;
/// returns where the data starts.
fn create(tmp: &Path, m: usize, n: usize) -> std::io::Result<u64> {
    let mut file = File::create(tmp)?;
    let w = npyz::WriteOptions::new_header_only().dtype(npyz::DType::Plain("<f8".parse().expect("a type")));
    let file_ref = w.shape(&[m as u64, n as u64]).writer(&mut file).write_header_only()?;
    file_ref.flush()?;
    let start = file.metadata()?.len();
    file.set_len(start + 8 * (m * n) as u64)?;
    Ok(start)
}
