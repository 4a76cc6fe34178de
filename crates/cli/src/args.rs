//! The command line: global options and one subcommand per program.

use clap::{Args, Parser, Subcommand, ValueEnum};
use parsci_comm::Backend;

use crate::heat_args::{Heat1dArgs, HeatArgs};
use crate::programs::{MandelbrotArgs, TaskfarmArgs};
use crate::ranks::{parse_ranks, Ranks};
use crate::train_args::TrainModel;

/// The version, with the backends this binary was built with.
const VERSION: &str = if cfg!(feature = "petsc") {
    concat!(env!("CARGO_PKG_VERSION"), " (backends: threads, mpi; with PETSc)")
} else if cfg!(feature = "mpi") {
    concat!(env!("CARGO_PKG_VERSION"), " (backends: threads, mpi)")
} else {
    concat!(env!("CARGO_PKG_VERSION"), " (backends: threads; build with --features mpi for MPI)")
};

/// parsci: the parallel-computing workshop programs, with message passing in Rust.
#[derive(Debug, Parser)]
#[command(name = "parsci", version = VERSION, about, propagate_version = true)]
pub struct Cli {
    /// Options every subcommand takes.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The program to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every subcommand takes (before or after the subcommand's name).
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Number of ranks [default: the number of cores]; for `scale` and `amdahl` a list
    /// (1,2,4) or a range (1..1024)
    #[arg(long, short = 'n', global = true, value_name = "N", value_parser = parse_ranks)]
    pub ranks: Option<Ranks>,
    /// Where the ranks run [default: mpi when started by mpirun/mpiexec/srun, else threads]
    #[arg(long, global = true, value_enum)]
    pub backend: Option<BackendArg>,
    /// MPI backend: abort the job if a rank waits in one communication call longer than SECS
    /// seconds, printing the call it waits in (the thread backend detects deadlocks itself)
    #[arg(long, global = true, value_name = "SECS", value_parser = parse_watchdog)]
    pub watchdog: Option<f64>,
    /// Print one JSON object (program, ranks, backend, wall_time_s, result) instead of text
    #[arg(long, global = true)]
    pub json: bool,
    /// Count each rank's time inside communication calls (reported as comm_time_s with --json)
    #[arg(long, global = true)]
    pub comm_time: bool,
    /// Strict mode: a send completes only once its receive is posted (as MPI_Ssend), so a
    /// program that relies on MPI buffering its sends stops with a deadlock report (threads)
    /// or the watchdog (MPI) instead of hanging one day on a cluster; also PARSCI_SYNC_SENDS=1
    #[arg(long, global = true)]
    pub sync_sends: bool,
    /// MPI backend: before each collective, check that the ranks agree on its arguments
    /// (one small allreduce more per collective; a mismatch is an error on every rank
    /// instead of a truncation, wrong data or a hang). Also PARSCI_CHECK=1. The thread
    /// backend always checks
    #[arg(long, global = true)]
    pub check: bool,
    /// Record a communication trace of the run (every call, message and phase of every
    /// rank) to FILE.json: open it in Perfetto (ui.perfetto.dev) or read it with `parsci trace`
    #[arg(long = "trace", global = true, value_name = "FILE.json")]
    pub trace_file: Option<std::path::PathBuf>,
    /// Run the program N times in this one job and print a JSON array of the runs (what
    /// `parsci scale --launcher` asks of each MPI job)
    #[arg(long, global = true, hide = true, value_name = "N", default_value_t = 1, value_parser = crate::programs::parse_count)]
    pub job_runs: usize,
}

impl GlobalArgs {
    /// The backend with the chosen number of ranks: `--backend`, or what the environment
    /// says (MPI under an MPI launcher). Wrong launches are refused here.
    pub fn backend(&self) -> Result<Backend, String> {
        let chosen = self.ranks.as_ref().map(Ranks::single).transpose()?;
        let ranks = chosen.unwrap_or_else(parsci_comm::available_cores);
        let backend = match self.backend {
            None => Backend::from_env(ranks).map_err(|e| e.to_string())?,
            Some(BackendArg::Threads) => Backend::Threads(ranks),
            Some(BackendArg::Mpi) => mpi_backend()?,
        };
        if let Backend::Threads(n) = backend {
            warn_if_bound(n);
        }
        if backend.name() == "mpi" {
            if let Some(n) = chosen.filter(|&n| n != backend.ranks()) {
                return Err(format!(
                    "--ranks {n}, but the MPI job has {} processes: under MPI the launcher sets the number \
                     of ranks (mpirun -n {n}); leave --ranks out",
                    backend.ranks()
                ));
            }
        }
        Ok(backend)
    }

    /// The job options (`--watchdog`, `--comm-time`, `--sync-sends`, `--check`).
    pub fn job_options(&self) -> parsci_comm::JobOptions {
        let mut options = match self.watchdog {
            Some(secs) => parsci_comm::JobOptions::with_watchdog(std::time::Duration::from_secs_f64(secs)),
            None => parsci_comm::JobOptions::default(),
        };
        if self.comm_time {
            options = options.with_comm_timing();
        }
        if self.sync_sends {
            options = options.with_sync_sends();
        }
        if self.check {
            options = options.with_check_collectives();
        }
        if let Some(path) = &self.trace_file {
            options = options.with_trace(path);
        }
        options
    }
}

/// Thread ranks started by an MPI launcher share the cores it bound the process to
/// (Open MPI binds each process to one core): say so, as it makes them many times slower.
fn warn_if_bound(ranks: usize) {
    let cores = parsci_comm::available_cores();
    if ranks > cores && parsci_comm::detect_launcher().is_some() {
        eprintln!(
            "parsci: warning: {ranks} thread ranks share {cores} core(s), the CPUs the MPI launcher bound this \
             process to; for the thread backend use `mpirun --bind-to none`, or run it without mpirun"
        );
    }
}

#[cfg(feature = "mpi")]
fn mpi_backend() -> Result<Backend, String> {
    Backend::mpi().map_err(|e| e.to_string())
}

#[cfg(not(feature = "mpi"))]
fn mpi_backend() -> Result<Backend, String> {
    Err("--backend mpi: this parsci was built without MPI support; rebuild it with \
         `cargo build --release --features mpi` (Open MPI must be installed: see the README)"
        .into())
}

/// The backends one can choose on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BackendArg {
    /// Ranks as threads of this process (nothing to install)
    Threads,
    /// Ranks as MPI processes started by mpirun/srun (needs a build with --features mpi)
    Mpi,
}

/// Parses `--watchdog`: a positive number of seconds.
fn parse_watchdog(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(x) if x > 0.0 && x.is_finite() && x <= 1e9 => Ok(x),
        _ => Err(format!("the watchdog takes a positive number of seconds, got '{s}'")),
    }
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Every rank says hello from its host
    Hello,
    /// Rank 0 sends an object to rank 1, which replies (needs 2 ranks)
    Sendrecv,
    /// Rank 0 broadcasts a configuration to every rank
    Bcast,
    /// Rank 0 scatters 0..2N in chunks of 2; the chunk sums are gathered back
    ScatterGather,
    /// Every rank r > 0 sends r squared to rank 0
    Squares,
    /// Sum of sqrt(i) for i = 1..M, split cyclically across the ranks
    Rootsum {
        /// The upper bound M (a positive integer)
        #[arg(value_name = "M", value_parser = parse_m, allow_negative_numbers = true)]
        m: u64,
    },
    /// The Mandelbrot set in parallel (the lesson: mandelbrot 200 200 -1.5 0.5 -1 1 1000)
    #[command(allow_negative_numbers = true)]
    Mandelbrot(MandelbrotArgs),
    /// The master-worker task farm: jobs of random length go to whichever worker asks
    #[command(allow_negative_numbers = true)]
    Taskfarm(TaskfarmArgs),
    /// The 1-D heat equation with a source, split across the ranks (the workshop's serial case)
    #[command(allow_negative_numbers = true)]
    Heat1d(Heat1dArgs),
    /// The 2-D heat equation by domain decomposition with halo exchange
    #[command(allow_negative_numbers = true)]
    Heat(HeatArgs),
    /// Distributed matrix multiplication C = A B: the lesson's two versions and SUMMA, with
    /// each rank's time and memory (the lesson: matmul --lesson)
    Matmul(crate::matmul_args::MatmulArgs),
    /// Data-parallel training (logistic regression, an MLP): the same result at any rank count
    #[command(subcommand)]
    Train(TrainModel),
    /// Programs on PETSc (build with --features petsc): poisson, bratu, heat
    Petsc(crate::petsc_args::PetscArgs),
    /// Run every program, check each against its serial reference, print a table
    Tour {
        /// The M of the tour's large rootsum run (the small one uses M = 1234567)
        #[arg(long, value_name = "M", value_parser = parse_m, allow_negative_numbers = true, default_value_t = 100_000_000)]
        large_m: u64,
    },
    /// Communication benchmarks (latency, bandwidth, collectives)
    Bench(parsci_bench::BenchArgs),
    /// Print a Slurm batch script that runs a parsci program on a cluster with srun
    Slurm(crate::slurm::SlurmArgs),
    /// Scaling study: run a program at several rank counts (--ranks 1,2,4 --repeat 5), report
    /// speedup, efficiency, Karp-Flatt and an Amdahl fit, as a table, CSV, JSON and a plot
    Scale(crate::scale::ScaleArgs),
    /// Read a trace (--trace FILE.json): per-rank compute and communication time, per-call
    /// statistics, the communication matrix and wait states; --png draws the timeline
    Trace(crate::trace_args::TraceArgs),
    /// Amdahl's and Gustafson's laws for a serial fraction (or one fitted to measured times)
    Amdahl(crate::amdahl::AmdahlArgs),
    /// Predict strong or weak scaling to thousands of ranks (Hockney model: latency, bandwidth,
    /// one rank's rate) for heat, matmul (SUMMA) and train, with its error on measured points
    Model(crate::model::ModelArgs),
    /// Print a shell completion script (e.g. parsci completions bash > /etc/bash_completion.d/parsci)
    Completions {
        /// The shell
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print parsci's man page (e.g. parsci man > parsci.1; man ./parsci.1)
    Man,
}

/// Parses `M`: a whole number of at least 1.
pub(crate) fn parse_m(s: &str) -> Result<u64, String> {
    match s.trim().parse::<i128>() {
        Ok(m) if m >= 1 && m <= u64::MAX as i128 => Ok(m as u64),
        Ok(m) if m < 1 => Err(format!("M must be a positive integer (1 or more), got {m}")),
        Ok(m) => Err(format!("M is too large: {m}")),
        Err(_) => Err(format!("M must be a positive integer, got '{s}'")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn numbers_are_checked() {
        assert_eq!(parse_m("1234567"), Ok(1234567));
        assert!(parse_m("0").unwrap_err().contains("positive"));
        assert!(parse_m("-5").unwrap_err().contains("positive"));
        assert!(parse_m("abc").unwrap_err().contains("'abc'"));
    }

    #[test]
    fn global_options_go_after_the_subcommand() {
        let cli = Cli::try_parse_from(["parsci", "rootsum", "400", "--ranks", "2", "--json"]).unwrap();
        assert_eq!(cli.global.backend().unwrap(), Backend::Threads(2));
        assert!(cli.global.json);
        assert!(matches!(cli.command, Command::Rootsum { m: 400 }));
    }

    #[test]
    fn check_is_a_global_option() {
        let cli = Cli::try_parse_from(["parsci", "rootsum", "400", "--check"]).unwrap();
        assert!(cli.global.job_options().check_collectives);
        let cli = Cli::try_parse_from(["parsci", "--check", "hello"]).unwrap();
        assert!(cli.global.check);
        let cli = Cli::try_parse_from(["parsci", "hello"]).unwrap();
        assert!(!cli.global.job_options().check_collectives);
    }

    #[test]
    fn mandelbrot_takes_negative_numbers_and_options() {
        let argv = [
            "parsci",
            "mandelbrot",
            "200",
            "200",
            "-1.5",
            "0.5",
            "-1",
            "1",
            "1000",
            "--strategy",
            "dynamic",
            "-n",
            "2",
        ];
        let cli = Cli::try_parse_from(argv).unwrap();
        let Command::Mandelbrot(m) = cli.command else { panic!("not mandelbrot") };
        let p = m.params();
        assert_eq!(
            (p.nr, p.ni, p.re_min, p.re_max, p.im_min, p.im_max, p.imax),
            (200, 200, -1.5, 0.5, -1.0, 1.0, 1000)
        );
        assert_eq!(p.strategy, parsci_apps::mandelbrot::Strategy::Dynamic);
        assert_eq!(cli.global.backend().unwrap(), Backend::Threads(2));
    }
}
