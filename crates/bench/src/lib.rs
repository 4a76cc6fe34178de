//! Communication benchmarks in the style of the OSU micro-benchmarks: ping-pong latency
//! and bandwidth, allreduce, bcast; every figure is the median of several timed runs,
//! next to a reference measured in the same run (the hardware floor on this machine).

mod affinity;
mod check_cost;
#[cfg(feature = "mpi")]
mod compare;
mod comparison;
mod floor;
mod measure;
#[cfg(feature = "mpi")]
mod raw;
mod report;

use parsci_comm::{launch, Backend};

pub use check_cost::{CheckCost, CheckRow};
pub use comparison::{Comparison, Row};
pub use floor::Floor;
pub use measure::{Kind, Sample};
pub use report::Report;

/// Options of `parsci bench`.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// Benchmarks to run: pingpong, barrier, bcast, reduce, allreduce, gather, scatter,
    /// allgather, alltoall, ibarrier, ibcast, iallreduce, reduce-scatter (default: all).
    #[arg(value_name = "WHAT", value_parser = Kind::NAMES)]
    pub what: Vec<String>,
    /// Smallest message in bytes.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    pub min_size: u64,
    /// Largest message in bytes (16 MiB by default).
    #[arg(long, default_value_t = 16 << 20, value_parser = clap::value_parser!(u64).range(1..=(1 << 30)))]
    pub max_size: u64,
    /// Timed runs per size; the median is reported.
    #[arg(long, default_value_t = 9, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub runs: u32,
    /// Scales the iterations per run (1.0: about 2 ms of work per run).
    #[arg(long, default_value_t = 1.0)]
    pub scale: f64,
    /// Measure the thread backend, the MPI backend and raw rsmpi side by side in one run
    /// (a build with `--features mpi`, started by `mpirun -n 2`); `--runs` rounds interleave them.
    #[arg(long)]
    pub compare: bool,
    /// Measure the collectives' agreement check (`--check`): each round runs one job
    /// without it and one with it, and reports both and their ratio.
    #[arg(long, conflicts_with = "compare")]
    pub check_cost: bool,
    /// Message sizes in bytes, instead of the powers of two from --min-size to --max-size
    /// (e.g. --sizes 8,1048576).
    #[arg(long, value_delimiter = ',', value_parser = clap::value_parser!(u64).range(1..=(1 << 30)))]
    pub sizes: Vec<u64>,
}

impl BenchArgs {
    fn kinds(&self) -> Vec<Kind> {
        Kind::ALL.into_iter().filter(|k| self.what.is_empty() || self.what.iter().any(|w| w == k.name())).collect()
    }

    fn sizes(&self) -> Vec<usize> {
        if !self.sizes.is_empty() {
            return self.sizes.iter().map(|&s| s as usize).collect();
        }
        let mut v = Vec::new();
        let mut s = self.min_size.max(1) as usize;
        while s as u64 <= self.max_size {
            v.push(s);
            s *= 2;
        }
        v
    }
}

/// Told on rank 0 after each measured step: (steps done, steps in all); for a progress bar.
pub type Progress<'a> = &'a (dyn Fn(u64, u64) + Sync);

/// Runs the benchmarks on `backend`; returns the report as a table or as JSON (`None` in
/// the processes of an MPI job other than rank 0's). `progress` hears of each step.
pub fn run(args: &BenchArgs, backend: Backend, json: bool, progress: Progress) -> Result<Option<String>, String> {
    let ranks = backend.ranks();
    if ranks < 2 {
        return Err(format!("bench needs at least 2 ranks (got --ranks {ranks})"));
    }
    if !(args.scale > 0.0 && args.scale <= 1000.0) {
        return Err(format!("--scale must be in (0, 1000], got {}", args.scale));
    }
    if args.min_size > args.max_size {
        return Err(format!("--min-size {} is larger than --max-size {}", args.min_size, args.max_size));
    }
    let sizes = args.sizes();
    let kinds = args.kinds();
    if args.compare {
        return compare(args, backend, &kinds, &sizes, json, progress);
    }
    if args.check_cost {
        let report = check_cost::run(backend, &kinds, &sizes, args.runs, args.scale, progress)?;
        return Ok(report.map(|r| if json { r.json() } else { r.table() }));
    }
    let out = launch(backend, |comm| measure::all(comm, &kinds, &sizes, args.runs, args.scale, progress))
        .map_err(|e| e.to_string())?;
    let Some(samples) = out.into_root() else { return Ok(None) };
    let floor = floor::measure(&sizes, args.runs);
    let report =
        Report { backend: backend.name().into(), ranks, cores: parsci_comm::available_cores(), samples, floor };
    Ok(Some(if json { report.json() } else { report.table() }))
}

/// `--compare`: one MPI job measures all three; rank 0's process reports.
#[cfg(feature = "mpi")]
fn compare(
    args: &BenchArgs,
    backend: Backend,
    kinds: &[Kind],
    sizes: &[usize],
    json: bool,
    progress: Progress,
) -> CompareResult {
    if backend.name() != "mpi" {
        return Err(COMPARE_UNDER_MPIRUN.into());
    }
    let out = launch(backend, |comm| compare::run(comm, kinds, sizes, args.runs, args.scale, progress))
        .map_err(|e| e.to_string())?;
    let Some(Some((rows, floor))) = out.into_root() else { return Ok(None) };
    let cores = affinity::with_all_cpus(parsci_comm::available_cores);
    let report = Comparison { ranks: backend.ranks(), cores, rounds: args.runs, rows, floor };
    Ok(Some(if json { report.json() } else { report.table() }))
}

/// `--compare` in a build without the MPI backend: refused.
#[cfg(not(feature = "mpi"))]
fn compare(_: &BenchArgs, _: Backend, _: &[Kind], _: &[usize], _: bool, _: Progress) -> CompareResult {
    Err(format!("this parsci was built without the MPI backend; {COMPARE_UNDER_MPIRUN}"))
}

type CompareResult = Result<Option<String>, String>;

const COMPARE_UNDER_MPIRUN: &str = "--compare measures the thread backend, the MPI backend and raw rsmpi in \
    one MPI job: build with `cargo build --release --features mpi` and run \
    `mpirun -n 2 target/release/parsci bench --compare`";
