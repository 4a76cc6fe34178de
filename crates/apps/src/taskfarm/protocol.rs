//! The farm's messages: orders from the master, reports from the workers.
//!
//! Every message travels on the farm's own duplicate of the communicator, so that
//! it can never match a message of the program around the farm.

use parsci_comm::Tag;
use serde::{Deserialize, Serialize};

use super::farm::FarmError;

/// Master → worker: a job or the order to stop.
pub(super) const ORDER_TAG: Tag = 1;
/// Worker → master: "job i done" or "job i failed".
pub(super) const REPORT_TAG: Tag = 2;
/// Worker → master: the result of a job reported done (right after its report).
pub(super) const RESULT_TAG: Tag = 3;

/// What the master sends a worker (the sending side borrows the job).
#[derive(Serialize)]
pub(super) enum OrderRef<'a, J> {
    /// Compute job `job`.
    Job { job: u64, data: &'a J },
    /// No more jobs: finish. `failure` says why the farm ended early, if it did.
    Stop { failure: Option<Failure> },
}

/// What a worker receives (the same encoding as [`OrderRef`], owning the job).
#[derive(Deserialize)]
pub(super) enum Order<J> {
    /// Compute job `job`.
    Job { job: u64, data: J },
    /// No more jobs: finish.
    Stop { failure: Option<Failure> },
}

/// What a worker tells the master after a job.
#[derive(Debug, Serialize, Deserialize)]
pub(super) enum Report {
    /// The job's result follows with [`RESULT_TAG`].
    Done { job: u64 },
    /// The job returned an error or panicked.
    Failed { job: u64, message: String },
}

/// Why a farm ended early, as sent to the workers with their stop order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) enum Failure {
    /// A job failed on a rank.
    Job { job: u64, rank: u64, message: String },
    /// The master could not start (its arguments were wrong).
    Master { message: String },
}

impl From<Failure> for FarmError {
    fn from(f: Failure) -> Self {
        match f {
            Failure::Job { job, rank, message } => {
                FarmError::JobFailed { job: job as usize, rank: rank as usize, message }
            }
            Failure::Master { message } => FarmError::InvalidArgument { message },
        }
    }
}
