//! `hello`: every rank greets from its host; rank 0 also says it is the root
//! (mpi4py's first workshop program).
//!
//! ```text
//! [Rank 0/2] Hello from node1.
//! [Rank 0/2] I am the root process.
//! [Rank 1/2] Hello from node1.
//! ```

use parsci_comm::Comm;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::program::{gather_lines, rank_tag, root_output, Output, Program};

/// The `hello` program (no parameters).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Hello;

/// One rank's greeting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Greeting {
    /// The greeting rank.
    pub rank: usize,
    /// The job's size as that rank saw it.
    pub size: usize,
    /// The host it runs on.
    pub host: String,
}

/// What `hello` returns: every rank's greeting in rank order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HelloResult {
    /// One greeting per rank.
    pub greetings: Vec<Greeting>,
}

/// The serial reference: the `(rank, size)` pairs a job of `ranks` ranks must report.
pub fn expected(ranks: usize) -> Vec<(usize, usize)> {
    (0..ranks).map(|r| (r, ranks)).collect()
}

/// Runs on every rank: each rank greets; the greetings are gathered to rank 0.
pub fn run(comm: &Comm) -> Result<Option<Output<HelloResult>>> {
    let me = Greeting { rank: comm.rank(), size: comm.size(), host: comm.processor_name() };
    let mut lines = vec![format!("{} Hello from {}.", rank_tag(comm), me.host)];
    if comm.rank() == 0 {
        lines.push(format!("{} I am the root process.", rank_tag(comm)));
    }
    let greetings = comm.gather_obj(&me, 0)?;
    let lines = gather_lines(comm, lines)?;
    Ok(root_output(lines, || HelloResult { greetings: greetings.unwrap_or_default() }))
}

impl Program for Hello {
    type Result = HelloResult;
    const NAME: &'static str = "hello";

    fn run(&self, comm: &Comm) -> Result<Option<Output<HelloResult>>> {
        run(comm)
    }

    fn check(&self, result: &HelloResult, ranks: usize) -> Result<(), String> {
        let got: Vec<_> = result.greetings.iter().map(|g| (g.rank, g.size)).collect();
        if got != expected(ranks) {
            return Err(format!("greetings (rank, size) {got:?}, expected {:?}", expected(ranks)));
        }
        if let Some(g) = result.greetings.iter().find(|g| g.host.is_empty()) {
            return Err(format!("rank {} reported an empty host name", g.rank));
        }
        Ok(())
    }

    fn summary(&self, result: &HelloResult) -> String {
        let n = result.greetings.len();
        format!("{n} greeting{}", if n == 1 { "" } else { "s" })
    }
}
