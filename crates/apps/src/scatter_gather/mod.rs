//! `scatter-gather`: rank 0 builds `0..2N`, scatters chunks of 2, every rank sums its
//! chunk, and rank 0 gathers the sums and their total (4 ranks: `[1, 5, 9, 13]`, 28).

pub mod parallel;
pub mod serial;

use parsci_comm::Comm;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::program::{Output, Program};

/// The `scatter-gather` program (no parameters).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScatterGather;

/// What `scatter-gather` returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScatterGatherResult {
    /// The data rank 0 scattered.
    pub data: Vec<i64>,
    /// Each rank's chunk sum, in rank order.
    pub sums: Vec<i64>,
    /// The sum of the sums.
    pub total: i64,
}

impl Program for ScatterGather {
    type Result = ScatterGatherResult;
    const NAME: &'static str = "scatter-gather";

    fn run(&self, comm: &Comm) -> Result<Option<Output<ScatterGatherResult>>> {
        parallel::run(comm)
    }

    fn check(&self, result: &ScatterGatherResult, ranks: usize) -> Result<(), String> {
        let (sums, total) = serial::expected(ranks);
        if (&result.sums, result.total) == (&sums, total) {
            Ok(())
        } else {
            Err(format!("sums {:?} total {}, expected {sums:?} total {total}", result.sums, result.total))
        }
    }

    fn summary(&self, result: &ScatterGatherResult) -> String {
        format!("sums {:?}, total {}", result.sums, result.total)
    }
}
