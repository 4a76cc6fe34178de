//! `rootsum`: the sum of `sqrt(i)` for `i = 1..=M`, split cyclically across the ranks.
//!
//! The workshop's version broadcasts `M`, lets rank `r` of `P` add `sqrt(r+1)`,
//! `sqrt(r+1+P)`, ..., and reduces the partial sums to rank 0. Here the partial sums
//! come from a vectorized kernel with compensated summation, so the total agrees with
//! the serial reference to about 1e-15 relative whatever the rank count.
//!
//! ```
//! use parsci_apps::{execute, rootsum::RootSum};
//! use parsci_comm::Backend;
//! let run = execute(&RootSum { m: 1234567 }, Backend::Threads(3)).unwrap();
//! assert_eq!(format!("{:.3}", run.result.total), "914494295.631");
//! ```

mod compensated;
mod kernel;
pub mod parallel;
pub mod serial;

pub use compensated::Compensated;
pub use kernel::strided_sqrt_sum;

use parsci_comm::Comm;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::program::{Output, Program};

/// The largest `M` accepted: every value stays an exact `f64` integer with room to spare.
pub const MAX_M: u64 = 1 << 52;

/// The workshop's `M`: the sum to 3 decimals is 914494295.631.
pub const WORKSHOP_M: u64 = 1_234_567;

/// Relative tolerance of the check against the serial reference.
pub const TOLERANCE: f64 = 1e-12;

/// The parameters of `rootsum`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RootSum {
    /// Sum `sqrt(i)` for `i = 1..=m`.
    pub m: u64,
}

/// What `rootsum` computes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RootSumResult {
    /// The upper bound.
    pub m: u64,
    /// Each rank's partial sum, in rank order.
    pub partials: Vec<f64>,
    /// The sum of `sqrt(i)` for `i = 1..=m`.
    pub total: f64,
    /// Rank 0's time from the broadcast to the end of the reduction, in seconds.
    pub compute_time_s: f64,
}

impl Program for RootSum {
    type Result = RootSumResult;
    const NAME: &'static str = "rootsum";

    fn validate(&self) -> Result<()> {
        if self.m == 0 || self.m > MAX_M {
            let msg = format!("M must be a positive integer from 1 to {MAX_M}, got {}", self.m);
            return Err(Error::InvalidInput { program: Self::NAME, msg });
        }
        Ok(())
    }

    fn run(&self, comm: &Comm) -> Result<Option<Output<RootSumResult>>> {
        self.validate()?;
        parallel::run(comm, self)
    }

    fn check(&self, result: &RootSumResult, _ranks: usize) -> Result<(), String> {
        let want = serial::root_sum(self.m);
        let rel = ((result.total - want) / want).abs();
        if result.m == self.m && rel <= TOLERANCE {
            Ok(())
        } else {
            Err(format!(
                "M = {}: got {} for M = {}, the serial sum is {want} (relative difference {rel:.1e} > {TOLERANCE:.0e})",
                self.m, result.total, result.m
            ))
        }
    }

    fn summary(&self, result: &RootSumResult) -> String {
        format!("M = {}: sum = {:.3}", result.m, result.total)
    }
}
