//! Communication benchmarks in the style of the OSU micro-benchmarks: ping-pong latency
//! and bandwidth, allreduce, bcast; every figure is the median of several timed runs,
//! next to a reference measured in the same run (the hardware floor on this machine).

mod floor;
mod measure;
mod report;

use parsci_comm::{launch, Backend};

pub use measure::{Kind, Sample};
pub use report::Report;

/// Options of `parsci bench`.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// Benchmarks to run: pingpong, allreduce, bcast, gather (default: all of them).
    #[arg(value_name = "WHAT", value_parser = ["pingpong", "allreduce", "bcast", "gather"])]
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
}

impl BenchArgs {
    fn kinds(&self) -> Vec<Kind> {
        let all = [Kind::PingPong, Kind::Allreduce, Kind::Bcast, Kind::Gather];
        all.into_iter().filter(|k| self.what.is_empty() || self.what.iter().any(|w| w == k.name())).collect()
    }

    fn sizes(&self) -> Vec<usize> {
        let mut v = Vec::new();
        let mut s = self.min_size.max(1) as usize;
        while s as u64 <= self.max_size {
            v.push(s);
            s *= 2;
        }
        v
    }
}

/// Runs the benchmarks on `backend`; returns the report as a table or as JSON (`None` in
/// the processes of an MPI job other than rank 0's).
pub fn run(args: &BenchArgs, backend: Backend, json: bool) -> Result<Option<String>, String> {
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
    let out =
        launch(backend, |comm| measure::all(comm, &kinds, &sizes, args.runs, args.scale)).map_err(|e| e.to_string())?;
    let Some(samples) = out.into_root() else { return Ok(None) };
    let floor = floor::measure(&sizes, args.runs);
    let report =
        Report { backend: backend.name().into(), ranks, cores: parsci_comm::available_cores(), samples, floor };
    Ok(Some(if json { report.json() } else { report.table() }))
}
