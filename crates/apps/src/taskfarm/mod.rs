//! `taskfarm`: the workshop's master-worker (master-slave) episode, built on a
//! reusable task farm.
//!
//! [`farm`] runs jobs of any serde type on every rank of a communicator: the master
//! hands a job to whichever worker asks, collects the results in job order, and stops
//! the workers when no job is left; a job that fails ends the farm with an error
//! naming it on every rank (never a hang), and the master can compute too. The
//! `taskfarm` program uses it for the lesson's 20 jobs of random length (1 to 5 s;
//! `time_scale` shrinks them), prints every hand-out, and compares the total time with
//! the sum of the job times and the ideal (sum / workers).
//!
//! ```
//! use parsci_apps::{execute, taskfarm::TaskFarm};
//! use parsci_comm::Backend;
//! let params = TaskFarm { time_scale: 0.001, ..TaskFarm::default() };
//! let run = execute(&params, Backend::Threads(3)).unwrap();
//! assert!(run.lines[0].starts_with("Master assigned job # 0 to worker # "));
//! assert_eq!(run.result.reports.len(), 20);
//! ```

mod carrier;
mod farm;
mod master;
pub mod parallel;
mod protocol;
mod rng;
pub mod serial;
mod worker;

pub use carrier::{Carrier, Objects, Typed};
pub use farm::{farm, farm_with, Assignment, FarmError, FarmLog, FarmOptions, Farmed};
pub use rng::SplitMix64;

use parsci_comm::Comm;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::program::{Output, Program};

/// The most jobs `taskfarm` accepts.
pub const MAX_JOBS: usize = 100_000;

/// The parameters of `taskfarm`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TaskFarm {
    /// How many jobs (the lesson: 20).
    pub jobs: usize,
    /// The seed of the job durations.
    pub seed: u64,
    /// The shortest job, in the lesson's seconds (1).
    pub min_seconds: f64,
    /// The longest job, in the lesson's seconds (5).
    pub max_seconds: f64,
    /// Multiplies every duration: 1 is the lesson, 0.001 turns seconds into milliseconds.
    pub time_scale: f64,
    /// Whether the master computes jobs too (on one rank it always does).
    pub master_computes: bool,
}

impl Default for TaskFarm {
    /// The lesson: 20 jobs of 1 to 5 s, the master only hands out work.
    fn default() -> Self {
        TaskFarm { jobs: 20, seed: 2024, min_seconds: 1.0, max_seconds: 5.0, time_scale: 1.0, master_computes: false }
    }
}

/// One job of the farm: a serde struct that travels to the workers.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Job {
    /// The job's number.
    pub index: usize,
    /// Its duration in the lesson's seconds (before `time_scale`).
    pub seconds: f64,
}

/// What a worker reports for a job.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct JobReport {
    /// The job's number.
    pub job: usize,
    /// The rank that ran it.
    pub rank: usize,
    /// How long it took, in seconds.
    pub took_s: f64,
}

/// One rank's share of the work.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RankWork {
    /// The rank.
    pub rank: usize,
    /// Jobs it ran.
    pub jobs: usize,
    /// Seconds it spent in jobs.
    pub busy_s: f64,
}

/// What `taskfarm` returns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskFarmResult {
    /// The number of jobs.
    pub jobs: usize,
    /// The seed of their durations.
    pub seed: u64,
    /// The time scale.
    pub time_scale: f64,
    /// Ranks that computed jobs.
    pub workers: usize,
    /// Every hand-out, in order.
    pub assignments: Vec<Assignment>,
    /// Each job's report, in job order.
    pub reports: Vec<JobReport>,
    /// Each rank's share, in rank order.
    pub per_rank: Vec<RankWork>,
    /// The master's time from the first hand-out to the last result, in seconds.
    pub total_s: f64,
    /// The sum of the jobs' durations, in seconds.
    pub sum_s: f64,
    /// The sum divided by the workers: the best possible total, in seconds.
    pub ideal_s: f64,
}

impl TaskFarm {
    /// The ranks that compute jobs on `ranks` ranks.
    pub fn workers(&self, ranks: usize) -> usize {
        if self.master_computes || ranks == 1 {
            ranks
        } else {
            ranks - 1
        }
    }
}

impl Program for TaskFarm {
    type Result = TaskFarmResult;
    const NAME: &'static str = "taskfarm";

    fn validate(&self) -> Result<()> {
        let bad = |msg: String| Err(Error::InvalidInput { program: Self::NAME, msg });
        if self.jobs == 0 || self.jobs > MAX_JOBS {
            return bad(format!("the number of jobs must be from 1 to {MAX_JOBS}, got {}", self.jobs));
        }
        let (lo, hi) = (self.min_seconds, self.max_seconds);
        if !(lo.is_finite() && hi.is_finite() && lo >= 0.0 && lo <= hi && hi <= 3600.0) {
            return bad(format!("job durations must satisfy 0 <= min <= max <= 3600 s, got min {lo} and max {hi}"));
        }
        if !(self.time_scale.is_finite() && self.time_scale >= 0.0) {
            return bad(format!("the time scale must be a number >= 0, got {}", self.time_scale));
        }
        Ok(())
    }

    fn run(&self, comm: &Comm) -> Result<Option<Output<TaskFarmResult>>> {
        self.validate()?;
        parallel::run(comm, self)
    }

    fn check(&self, result: &TaskFarmResult, ranks: usize) -> Result<(), String> {
        let durations = serial::scaled_durations(self);
        if result.reports.len() != self.jobs {
            return Err(format!("{} jobs reported, {} expected", result.reports.len(), self.jobs));
        }
        if let Some((i, r)) = result.reports.iter().enumerate().find(|(i, r)| r.job != *i) {
            return Err(format!("the result at position {i} is that of job {}: results are not in job order", r.job));
        }
        if let Some(r) = result.reports.iter().find(|r| r.took_s < durations[r.job]) {
            return Err(format!("job {} took {} s, less than its {} s", r.job, r.took_s, durations[r.job]));
        }
        let mut handed: Vec<usize> = result.assignments.iter().map(|a| a.job).collect();
        handed.sort_unstable();
        if handed != (0..self.jobs).collect::<Vec<_>>() {
            return Err(format!("every job must be handed out exactly once, got {handed:?}"));
        }
        let workers = self.workers(ranks);
        if result.workers != workers || result.per_rank.iter().map(|w| w.jobs).sum::<usize>() != self.jobs {
            return Err(format!("{} workers and {:?} jobs per rank", result.workers, result.per_rank));
        }
        let ideal = serial::ideal_time(self, workers);
        if (result.ideal_s - ideal).abs() > 1e-9 * ideal.max(1.0) || result.total_s < ideal * (1.0 - 1e-9) {
            return Err(format!("total {} s, ideal {} s (expected {ideal} s)", result.total_s, result.ideal_s));
        }
        Ok(())
    }

    fn summary(&self, result: &TaskFarmResult) -> String {
        format!(
            "{} jobs: {:.3} s, sum {:.3} s, ideal {:.3} s",
            result.jobs, result.total_s, result.sum_s, result.ideal_s
        )
    }
}

/// A farm error as the program's error (a failed job is reported as its rank's failure).
pub(crate) fn program_error(program: &'static str, e: FarmError) -> Error {
    match e {
        FarmError::Comm(e) => Error::Comm(e),
        FarmError::JobFailed { job, rank, message } => Error::JobFailed { program, job, rank, message },
        FarmError::InvalidArgument { message } => Error::InvalidInput { program, msg: message },
        FarmError::Protocol { rank, message } => Error::Protocol { program, rank, msg: message },
    }
}
