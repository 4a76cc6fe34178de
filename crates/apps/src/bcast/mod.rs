//! `bcast`: rank 0 broadcasts a configuration object; every rank prints what it got.
//!
//! ```
//! use parsci_apps::{bcast::{config, Bcast}, execute};
//! use parsci_comm::Backend;
//! let run = execute(&Bcast, Backend::Threads(3)).unwrap();
//! assert_eq!(run.result.received, vec![config(); 3]);
//! ```

use std::fmt;

use parsci_comm::Comm;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::program::{gather_lines, rank_tag, root_output, Output, Program};

/// The `bcast` program (no parameters).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Bcast;

/// A simulation configuration, the kind of object one broadcasts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Config {
    /// The time step.
    pub timestep: f64,
    /// The number of iterations.
    pub iterations: u32,
    /// What the run is.
    pub description: String,
}

impl fmt::Display for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{{timestep: {}, iterations: {}, description: {:?}}}",
            self.timestep, self.iterations, self.description
        )
    }
}

/// What `bcast` returns: the configuration as every rank received it, in rank order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BcastResult {
    /// One configuration per rank.
    pub received: Vec<Config>,
}

/// The serial reference: the configuration rank 0 broadcasts.
pub fn config() -> Config {
    Config { timestep: 0.05, iterations: 3, description: "demo broadcast".into() }
}

/// Runs on every rank: rank 0 broadcasts [`config`]; each rank reports what it got.
pub fn run(comm: &Comm) -> Result<Option<Output<BcastResult>>> {
    let root = comm.rank() == 0;
    let mut lines = Vec::new();
    if root {
        lines.push(format!("{} Broadcasting {}", rank_tag(comm), config()));
    }
    let got: Config = comm.bcast_obj(root.then(config), 0)?;
    lines.push(format!("{} Received {got}", rank_tag(comm)));
    let received = comm.gather_obj(&got, 0)?;
    let lines = gather_lines(comm, lines)?;
    Ok(root_output(lines, || BcastResult { received: received.unwrap_or_default() }))
}

impl Program for Bcast {
    type Result = BcastResult;
    const NAME: &'static str = "bcast";

    fn run(&self, comm: &Comm) -> Result<Option<Output<BcastResult>>> {
        run(comm)
    }

    fn check(&self, result: &BcastResult, ranks: usize) -> Result<(), String> {
        let want = config();
        if result.received.len() != ranks {
            return Err(format!("{} ranks reported, expected {ranks}", result.received.len()));
        }
        match result.received.iter().position(|c| *c != want) {
            Some(r) => Err(format!("rank {r} received {}, expected {want}", result.received[r])),
            None => Ok(()),
        }
    }

    fn summary(&self, result: &BcastResult) -> String {
        let good = result.received.iter().filter(|c| **c == config()).count();
        format!("{good}/{} ranks got the config", result.received.len())
    }
}
