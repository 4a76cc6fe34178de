//! The task farm's public face: options, results, errors and the two entry points.

use std::fmt::Display;

use parsci_comm::Comm;
use serde::{de::DeserializeOwned, Deserialize, Serialize};

use super::carrier::{Carrier, Objects};
use super::master::Master;
use super::worker;

/// How a farm runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FarmOptions {
    /// The rank that hands out the jobs and collects the results.
    pub master: usize,
    /// Whether the master also computes jobs, serving the workers between its own
    /// jobs. On one rank the master always computes (there is nobody else).
    pub master_computes: bool,
    /// How many jobs a worker holds at once: 1 is the lesson's protocol (ask, compute,
    /// ask again); 2 queues the next job while the current one runs, so that a worker
    /// never waits for the master's answer.
    pub in_flight: usize,
}

impl Default for FarmOptions {
    /// Rank 0 is the master and does not compute; one job per worker at a time.
    fn default() -> Self {
        FarmOptions { master: 0, master_computes: false, in_flight: 1 }
    }
}

/// One hand-out: the master gave job `job` to rank `worker` (the master itself when it computes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    /// The job's index.
    pub job: usize,
    /// The rank that computed it.
    pub worker: usize,
}

/// What the master knows after a farm: who did what, in the order it was handed out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FarmLog {
    /// Every hand-out, in the order the master made them.
    pub assignments: Vec<Assignment>,
    /// The rank that computed each job, in job order.
    pub done_by: Vec<usize>,
}

/// The master's outcome of [`farm`]: the results in job order and the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Farmed<R> {
    /// The result of job `i` at index `i`.
    pub results: Vec<R>,
    /// Who computed what.
    pub log: FarmLog,
}

/// Why a farm failed. Every rank of the farm returns the same error.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum FarmError {
    /// A job returned an error or panicked; the farm stopped every worker.
    #[error("job # {job} failed on rank {rank}: {message}")]
    JobFailed {
        /// The job's index.
        job: usize,
        /// The rank it ran on.
        rank: usize,
        /// Its error or panic message.
        message: String,
    },
    /// The farm was called with arguments it cannot use.
    #[error("task farm: {message}")]
    InvalidArgument {
        /// What was wrong.
        message: String,
    },
    /// A rank received a message the farm's protocol does not allow.
    #[error("task farm on rank {rank}: {message}")]
    Protocol {
        /// The rank that noticed.
        rank: usize,
        /// What it got.
        message: String,
    },
    /// A communication call failed (including another rank's failure).
    #[error(transparent)]
    Comm(#[from] parsci_comm::Error),
}

/// Runs `jobs` on every rank of `comm` as a master-worker task farm (collective: every
/// rank calls it with the same `options`). The master passes `Some(jobs)`, the other
/// ranks `None`; each job goes to whichever worker asks next, and the master gets the
/// results in job order (`Some`), the workers `None`.
///
/// A job whose `work` returns an error (or panics) ends the farm: the master stops
/// every worker and every rank returns [`FarmError::JobFailed`] naming the job.
///
/// ```
/// use parsci_apps::taskfarm::{farm, FarmOptions};
/// use parsci_comm::{launch, Backend};
///
/// let out = launch(Backend::Threads(3), |comm| {
///     let jobs = (comm.rank() == 0).then(|| (1..=10u64).collect::<Vec<_>>());
///     farm(comm, jobs, |&n: &u64| Ok::<_, String>(n * n), &FarmOptions::default())
/// })
/// .unwrap();
/// let farmed = out.into_root().unwrap().unwrap();
/// assert_eq!(farmed.results, vec![1, 4, 9, 16, 25, 36, 49, 64, 81, 100]);
/// assert!(farmed.log.done_by.iter().all(|&r| r == 1 || r == 2)); // the master only serves
/// ```
pub fn farm<J, R, E, F>(
    comm: &Comm,
    jobs: Option<Vec<J>>,
    work: F,
    options: &FarmOptions,
) -> Result<Option<Farmed<R>>, FarmError>
where
    J: Serialize + DeserializeOwned,
    R: Serialize + DeserializeOwned,
    E: Display,
    F: Fn(&J) -> Result<R, E>,
{
    let n = jobs.as_ref().map_or(0, Vec::len);
    let mut slots: Vec<Option<R>> = std::iter::repeat_with(|| None).take(n).collect();
    let Some(log) = farm_with(comm, jobs, work, options, Objects, |i, r| slots[i] = Some(r))? else {
        return Ok(None);
    };
    match slots.into_iter().collect::<Option<Vec<R>>>() {
        Some(results) => Ok(Some(Farmed { results, log })),
        None => Err(FarmError::Protocol { rank: comm.rank(), message: "a job finished without a result".into() }),
    }
}

/// [`farm`] with a chosen [`Carrier`] for the results (e.g. [`Typed`](super::Typed)
/// for `Vec`s of numbers) and a `sink` that receives each result on the master as
/// `sink(job index, result)` as soon as it arrives (in arrival order), instead of a
/// `Vec` of results. The master gets `Some(log)`, the workers `None`.
pub fn farm_with<J, R, E, F, C, S>(
    comm: &Comm,
    jobs: Option<Vec<J>>,
    work: F,
    options: &FarmOptions,
    carrier: C,
    sink: S,
) -> Result<Option<FarmLog>, FarmError>
where
    J: Serialize + DeserializeOwned,
    E: Display,
    F: Fn(&J) -> Result<R, E>,
    C: Carrier<R>,
    S: FnMut(usize, R),
{
    check_options(comm, options)?;
    // A private message space: the farm's messages never meet the caller's.
    let comm = &comm.dup()?;
    if comm.rank() == options.master {
        let master = Master::new(comm, options, jobs.as_deref(), carrier, sink);
        master.run(&work).map(Some)
    } else {
        worker::run(comm, options.master, &work, &carrier).map(|()| None)
    }
}

/// The same check on every rank, before any communication.
fn check_options(comm: &Comm, options: &FarmOptions) -> Result<(), FarmError> {
    let message = if options.master >= comm.size() {
        format!("the master rank {} is out of range for {} ranks", options.master, comm.size())
    } else if options.in_flight == 0 {
        "in_flight (jobs a worker holds at once) must be at least 1".to_string()
    } else {
        return Ok(());
    };
    Err(FarmError::InvalidArgument { message })
}

/// Runs one job, turning an error or a panic into a message.
pub(super) fn run_job<J, R, E: Display>(work: &impl Fn(&J) -> Result<R, E>, job: &J) -> Result<R, String> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(job))) {
        Ok(Ok(r)) => Ok(r),
        Ok(Err(e)) => Err(e.to_string()),
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic".to_string());
            Err(format!("panicked: {what}"))
        }
    }
}
