//! Starting a job: one closure run on every rank of the chosen backend.

use std::any::Any;
use std::fmt::Display;
use std::time::Duration;

use crate::comm::Comm;
use crate::error::{Error, Result};
use crate::launcher_env::detect_launcher;

/// Where the ranks run. The one place the backend is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Backend {
    /// `n` ranks as threads of this process.
    Threads(usize),
    /// One rank per process of an MPI job started by `mpirun`/`mpiexec`/`srun`
    /// (cargo feature `mpi`). Started without a launcher, it is a job of one rank.
    #[cfg(feature = "mpi")]
    Mpi,
}

impl Backend {
    /// The backend's name (`"threads"` or `"mpi"`).
    pub fn name(&self) -> &'static str {
        match self {
            Backend::Threads(_) => "threads",
            #[cfg(feature = "mpi")]
            Backend::Mpi => "mpi",
        }
    }

    /// The number of ranks the job will have (for MPI, the world's size: this
    /// initialises MPI; 1 if MPI cannot start, which `launch` then reports).
    pub fn ranks(&self) -> usize {
        match self {
            Backend::Threads(n) => *n,
            #[cfg(feature = "mpi")]
            Backend::Mpi => crate::backend::mpi::world().map_or(1, |w| w.size),
        }
    }

    /// Threads with one rank per available core.
    pub fn threads_per_core() -> Self {
        Backend::Threads(available_cores())
    }

    /// The MPI backend, after initialising MPI and checking the launch (see [`Backend::from_env`]).
    #[cfg(feature = "mpi")]
    pub fn mpi() -> Result<Backend> {
        crate::backend::mpi::world()?;
        Ok(Backend::Mpi)
    }

    /// The backend the environment asks for: MPI when an MPI launcher started this
    /// process, else `threads` ranks as threads. Under a launcher, a build without the
    /// `mpi` feature is refused (it would run the whole program once per process), and so
    /// is a launcher of another MPI (it starts processes that each see a job of one).
    ///
    /// ```
    /// # if parsci_comm::detect_launcher().is_none() {
    /// assert_eq!(parsci_comm::Backend::from_env(3).unwrap(), parsci_comm::Backend::Threads(3));
    /// # }
    /// ```
    pub fn from_env(threads: usize) -> Result<Backend> {
        match detect_launcher() {
            None => Ok(Backend::Threads(threads)),
            Some(_env) => {
                #[cfg(feature = "mpi")]
                {
                    crate::backend::mpi::world()?;
                    Ok(Backend::Mpi)
                }
                #[cfg(not(feature = "mpi"))]
                Err(without_mpi(&_env))
            }
        }
    }
}

/// Options of a job beyond its backend.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct JobOptions {
    /// MPI backend: a rank that waits in one communication call longer than this prints
    /// what it waits for and aborts the job. (The thread backend needs none: it detects
    /// deadlocks by itself.)
    pub watchdog: Option<Duration>,
    /// Every rank counts the time it spends inside communication calls from its start
    /// (read it with [`Comm::comm_time`]); off by default, as counting costs two clock
    /// reads per call.
    pub comm_timing: bool,
    /// Strict mode: a standard send (`send`, `send_vec`, `isend`, the object sends)
    /// completes only once a receive has matched its message, as `MPI_Ssend`. MPI may
    /// buffer a send or not; a program that works only if it does (two ranks that both
    /// send before they receive, a master whose sends wait on busy workers) then stops
    /// with a deadlock report on threads instead of passing there and hanging on a
    /// cluster. On MPI the sends become `MPI_Ssend`/`MPI_Issend` (pair it with a
    /// watchdog). Also set by the environment variable `PARSCI_SYNC_SENDS=1`.
    ///
    /// ```
    /// use parsci_comm::{launch_with, Backend, Error, JobOptions};
    /// // Both ranks send before they receive: fine if sends are buffered, a deadlock if not.
    /// let out = launch_with(Backend::Threads(2), &JobOptions::default().with_sync_sends(), |comm| {
    ///     let other = 1 - comm.rank();
    ///     comm.send(&[1.0f64], other, 0)?;
    ///     comm.recv_vec::<f64>(other, 0)
    /// });
    /// assert!(matches!(out, Err(Error::Deadlock(_))));
    /// ```
    pub sync_sends: bool,
    /// MPI backend: before each collective, the ranks check that they called the same
    /// one with arguments that match (operation, root, element type, reduction, counts),
    /// with one small `MPI_Allreduce` more per collective, and a disagreement is the
    /// thread backend's [`Error::CollectiveMismatch`] on every rank instead of erroneous
    /// MPI (a truncated message, wrong data or a hang). Also turned on by the environment
    /// variable `PARSCI_CHECK=1`. The thread backend always checks (for free): there
    /// this changes nothing.
    pub check_collectives: bool,
    /// Record a communication trace of the job and write it where these options say
    /// (see [`crate::trace`]); `None` (the default) records nothing.
    ///
    /// ```
    /// use parsci_comm::{launch_with, Backend, JobOptions};
    /// let path = std::env::temp_dir().join(format!("parsci-doc-{}.json", std::process::id()));
    /// let opts = JobOptions::default().with_trace(&path);
    /// launch_with(Backend::Threads(2), &opts, |comm| {
    ///     let _phase = comm.span("exchange");
    ///     let other = 1 - comm.rank();
    ///     let mut got = [0u32];
    ///     comm.sendrecv(&[comm.rank() as u32], other, 0, &mut got, other, 0)
    /// })
    /// .unwrap();
    /// let text = std::fs::read_to_string(&path).unwrap();
    /// assert!(text.contains("\"sendrecv\"") && text.contains("\"exchange\""));
    /// # std::fs::remove_file(path).unwrap();
    /// ```
    pub trace: Option<crate::trace::TraceOptions>,
}

impl JobOptions {
    /// Options with a watchdog of `limit`.
    pub fn with_watchdog(limit: Duration) -> Self {
        JobOptions { watchdog: Some(limit), ..JobOptions::default() }
    }

    /// These options with communication time counting on (see [`JobOptions::comm_timing`]).
    ///
    /// ```
    /// use parsci_comm::{launch_with, Backend, JobOptions};
    /// let opts = JobOptions::default().with_comm_timing();
    /// let t = launch_with(Backend::Threads(2), &opts, |comm| {
    ///     comm.barrier()?;
    ///     Ok::<_, parsci_comm::Error>(comm.comm_time())
    /// })
    /// .unwrap();
    /// assert_eq!(t.root().unwrap().calls, 1);
    /// ```
    pub fn with_comm_timing(mut self) -> Self {
        self.comm_timing = true;
        self
    }

    /// These options in strict mode (see [`JobOptions::sync_sends`]).
    pub fn with_sync_sends(mut self) -> Self {
        self.sync_sends = true;
        self
    }

    /// True if strict mode is on: asked for in these options, or by the environment
    /// variable `PARSCI_SYNC_SENDS` (set to anything but empty or `0`).
    pub fn syncs_sends(&self) -> bool {
        self.sync_sends || env_flag(SYNC_SENDS_ENV)
    }

    /// These options with the collectives' agreement check on (see [`JobOptions::check_collectives`]).
    ///
    /// ```
    /// use parsci_comm::{launch_with, Backend, Error, JobOptions};
    /// let opts = JobOptions::default().with_check_collectives();
    /// let errs = launch_with(Backend::Threads(2), &opts, |comm| {
    ///     let mut buf = vec![0u8; 2 + comm.rank()]; // rank 1 passes a longer buffer
    ///     Ok::<_, Error>(comm.bcast(&mut buf, 0).unwrap_err())
    /// })
    /// .unwrap();
    /// assert!(errs.into_vec().iter().all(|e| matches!(e, Error::CollectiveMismatch { .. })));
    /// ```
    pub fn with_check_collectives(mut self) -> Self {
        self.check_collectives = true;
        self
    }

    /// These options with a trace written to `path` (see [`JobOptions::trace`]).
    pub fn with_trace(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.trace = Some(crate::trace::TraceOptions::new(path));
        self
    }

    /// True if the agreement check is on: asked for in these options, or by the
    /// environment variable `PARSCI_CHECK` (set to anything but empty or `0`).
    pub fn checks_collectives(&self) -> bool {
        self.check_collectives || env_flag(CHECK_ENV)
    }
}

/// True if the environment variable `name` is set to anything but empty or `0`.
fn env_flag(name: &str) -> bool {
    std::env::var_os(name).is_some_and(|v| !v.is_empty() && v != "0")
}

/// The environment variable that turns the collectives' agreement check on (`PARSCI_CHECK=1`).
pub const CHECK_ENV: &str = "PARSCI_CHECK";

/// The environment variable that turns strict mode on for every job of the process
/// (`PARSCI_SYNC_SENDS=1`; see [`JobOptions::sync_sends`]).
pub const SYNC_SENDS_ENV: &str = "PARSCI_SYNC_SENDS";

/// The refusal of a build without MPI started by an MPI launcher.
pub(crate) fn without_mpi(env: &crate::launcher_env::LauncherEnv) -> Error {
    Error::Launch(format!(
        "this program was built without MPI support (cargo feature `mpi`), but {} started it as rank {} of {} \
         processes ({}={}): each process would run the whole job alone. Rebuild with `cargo build --release \
         --features mpi` to run under MPI, or run it without the launcher (`--ranks N` runs N ranks as threads)",
        env.launcher, env.rank, env.size, env.variable, env.size
    ))
}

/// The most ranks the thread backend runs in one job: [`launch`] refuses more with an
/// [`Error::Launch`] that says so.
///
/// Each rank is a thread of this process, and threads are not free: each reserves a
/// 16 MiB stack (virtual memory, 128 GiB at this limit) and takes about four memory
/// mappings (its stack, its signal stack and their guard pages). Linux's default
/// `vm.max_map_count` of 65530 caps a process near 16000 threads, and past it the Rust
/// runtime aborts the process instead of returning an error; `kernel.pid_max` (32768 by
/// default) caps the threads of the whole system. This limit is half that cap, leaving
/// room for the program's own mappings. Up to it a job's memory grows linearly with the
/// rank count (about 20 KiB per rank resident; see BENCHMARKS.md). More ranks need more
/// than one process: the MPI backend (cargo feature `mpi`, `mpirun -n N`).
pub const MAX_THREAD_RANKS: usize = 8192;

/// The refusal of a thread job of more than [`MAX_THREAD_RANKS`] ranks.
fn too_many_threads(n: usize) -> Error {
    Error::Launch(format!(
        "{n} ranks is more than the thread backend runs ({MAX_THREAD_RANKS}): each rank is a thread of this \
         process, and the operating system caps a process near 16000 threads (memory mappings, \
         vm.max_map_count); run at most {MAX_THREAD_RANKS} ranks as threads, or more as processes with the \
         MPI backend (build with `--features mpi`, run under `mpirun -n {n}`)"
    ))
}

/// The number of cores this process may use (at least 1).
pub fn available_cores() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

/// What every rank of this process returned, by rank.
///
/// On the thread backend this process hosts every rank; a backend with one rank
/// per process holds only its own.
#[derive(Debug, Clone, PartialEq)]
pub struct Launched<R> {
    size: usize,
    results: Vec<(usize, R)>,
}

impl<R> Launched<R> {
    /// The job's number of ranks.
    pub fn size(&self) -> usize {
        self.size
    }
    /// The result of `rank`, if this process hosted it.
    pub fn get(&self, rank: usize) -> Option<&R> {
        self.results.iter().find(|(r, _)| *r == rank).map(|(_, v)| v)
    }
    /// Rank 0's result, if this process hosted it (the one that prints).
    pub fn root(&self) -> Option<&R> {
        self.get(0)
    }
    /// Rank 0's result, by value.
    pub fn into_root(self) -> Option<R> {
        self.results.into_iter().find(|(r, _)| *r == 0).map(|(_, v)| v)
    }
    /// The hosted results in rank order.
    pub fn into_vec(self) -> Vec<R> {
        self.results.into_iter().map(|(_, v)| v).collect()
    }
    /// `(rank, result)` pairs in rank order.
    pub fn iter(&self) -> impl Iterator<Item = (usize, &R)> {
        self.results.iter().map(|(r, v)| (*r, v))
    }
}

/// Runs `f` on every rank of `backend` and returns every rank's result, or the first
/// failure: a rank's error or panic (`Error::RankFailed`, naming the rank) or a
/// deadlock (`Error::Deadlock`, saying who waits for whom). When one rank fails,
/// the others' blocked calls return promptly with `Error::Aborted`.
///
/// ```
/// use parsci_comm::{launch, Backend, Error, Op};
/// let sums = launch(Backend::Threads(4), |comm| {
///     let mut total = [0u64];
///     comm.allreduce(&[comm.rank() as u64 + 1], &mut total, &Op::sum())?;
///     Ok::<_, Error>(total[0])
/// })
/// .unwrap();
/// assert_eq!(sums.into_vec(), vec![10; 4]);
///
/// let failed = launch(Backend::Threads(2), |comm| {
///     if comm.rank() == 1 {
///         return Err("no input file".to_string());
///     }
///     let mut x = [0u8];
///     comm.recv(&mut x, 1, 0).map_err(|e| e.to_string())?; // unblocked by rank 1's failure
///     Ok(())
/// });
/// assert_eq!(failed.unwrap_err().to_string(), "rank 1 failed: no input file");
/// ```
///
/// On the MPI backend, a rank whose closure fails prints `rank R failed: ...` and aborts
/// the whole job (`MPI_Abort`; MPI cannot release a rank blocked on a failed peer), so
/// `launch` returns only successes there. Started by an MPI launcher for several
/// processes, the thread backend is refused unless MPI runs in this process already
/// (every process would run the whole job).
pub fn launch<R, E, F>(backend: Backend, f: F) -> Result<Launched<R>>
where
    R: Send,
    E: Display,
    F: Fn(&Comm) -> Result<R, E> + Sync,
{
    launch_with(backend, &JobOptions::default(), f)
}

/// [`launch`] with [`JobOptions`] (a watchdog, communication timing, the collectives'
/// agreement check).
pub fn launch_with<R, E, F>(backend: Backend, options: &JobOptions, f: F) -> Result<Launched<R>>
where
    R: Send,
    E: Display,
    F: Fn(&Comm) -> Result<R, E> + Sync,
{
    let timing = options.comm_timing;
    let f = |comm: &Comm| -> std::result::Result<R, JobError<E>> {
        let tracing = match &options.trace {
            Some(_) => Some(crate::trace::start(comm).map_err(JobError::Trace)?),
            None => None,
        };
        if timing {
            comm.start_comm_timer();
        }
        let out = f(comm);
        if timing {
            comm.stop_comm_timer();
        }
        let out = out.map_err(JobError::Program)?;
        if let (Some(t), Some(o)) = (tracing, &options.trace) {
            crate::trace::finish(comm, t, o).map_err(JobError::Trace)?;
        }
        Ok(out)
    };
    match backend {
        Backend::Threads(n) => {
            if n == 0 {
                return Err(Error::Launch("the number of ranks must be at least 1".into()));
            }
            if n > MAX_THREAD_RANKS {
                return Err(too_many_threads(n));
            }
            if let Some(env) = detect_launcher().filter(|e| e.size > 1) {
                if !mpi_running() {
                    return Err(without_mpi(&env));
                }
            }
            let results = crate::backend::threads::run(n, options.syncs_sends(), options.checks_collectives(), &f)?;
            Ok(Launched { size: n, results: results.into_iter().enumerate().collect() })
        }
        #[cfg(feature = "mpi")]
        Backend::Mpi => {
            crate::backend::mpi::set_check_collectives(options.checks_collectives());
            let (size, rank, r) = crate::backend::mpi::run(&f, options.watchdog, options.syncs_sends())?;
            Ok(Launched { size, results: vec![(rank, r)] })
        }
    }
}

/// A rank's failure: its program's, or the trace's.
enum JobError<E> {
    Program(E),
    Trace(Error),
}

impl<E: Display> Display for JobError<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JobError::Program(e) => e.fmt(f),
            JobError::Trace(e) => e.fmt(f),
        }
    }
}

/// The message of a rank's panic payload.
pub(crate) fn panic_message(p: &(dyn Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "(a non-string panic payload)".into()
    }
}

/// True if MPI is initialised in this process (a job that runs threads inside one MPI rank).
fn mpi_running() -> bool {
    #[cfg(feature = "mpi")]
    return mpi::environment::is_initialized() && !mpi::environment::is_finalized();
    #[cfg(not(feature = "mpi"))]
    false
}
