//! What every program shares: the [`Program`] trait, rank 0's [`Output`], and the
//! helpers that bring every rank's lines to rank 0.

use parsci_comm::Comm;
use serde::Serialize;

use crate::error::Result;

/// What a program's parallel function returns on rank 0: the lines rank 0 prints
/// (every rank's lines, gathered in rank order) and the program's result.
#[derive(Debug, Clone, PartialEq)]
pub struct Output<R> {
    /// The lines to print, in order.
    pub lines: Vec<String>,
    /// The result, for `--json` and for the checks against the serial reference.
    pub result: R,
}

/// A workshop program: its parameters (the implementing type), its parallel function
/// (run on every rank), and a check of a result against its serial reference.
///
/// Run one with [`execute`](crate::execute):
///
/// ```
/// use parsci_apps::{execute, scatter_gather::ScatterGather, Program};
/// use parsci_comm::Backend;
///
/// let run = execute(&ScatterGather, Backend::Threads(4)).unwrap();
/// assert_eq!(run.result.sums, vec![1, 5, 9, 13]);
/// assert_eq!(run.result.total, 28);
/// assert!(ScatterGather.check(&run.result, 4).is_ok());
/// ```
pub trait Program: Sync {
    /// What rank 0 returns: serializable, for `--json` and the tour.
    type Result: Serialize + Send;

    /// The program's name, as on the command line (`"scatter-gather"`).
    const NAME: &'static str;

    /// The smallest number of ranks the program runs on.
    const MIN_RANKS: usize = 1;

    /// Checks the parameters before any work starts.
    fn validate(&self) -> Result<()> {
        Ok(())
    }

    /// Checks that the program can run on `ranks` ranks (a decomposition that needs at
    /// least one cell per rank, say), before any work; [`MIN_RANKS`](Program::MIN_RANKS)
    /// is checked already.
    fn validate_ranks(&self, ranks: usize) -> Result<()> {
        let _ = ranks;
        Ok(())
    }

    /// The parallel version: runs on every rank; rank 0 returns `Some(output)`, the
    /// other ranks `None`.
    fn run(&self, comm: &Comm) -> Result<Option<Output<Self::Result>>>;

    /// Compares the result of a run on `ranks` ranks with the serial reference;
    /// `Err` says what differs.
    fn check(&self, result: &Self::Result, ranks: usize) -> Result<(), String>;

    /// A one-line summary of a result (the "result" column of the tour).
    fn summary(&self, result: &Self::Result) -> String;
}

/// `"[Rank r/N]"`, the prefix of every per-rank line.
pub fn rank_tag(comm: &Comm) -> String {
    format!("[Rank {}/{}]", comm.rank(), comm.size())
}

/// Gathers every rank's lines to rank 0 in rank order (collective). Rank 0 gets
/// `Some(all lines)`, the others `None`: rank 0 owns terminal output, so the text
/// is the same whatever the threads' timing.
pub fn gather_lines(comm: &Comm, lines: Vec<String>) -> Result<Option<Vec<String>>> {
    Ok(comm.gather_obj(&lines, 0)?.map(|all| all.into_iter().flatten().collect()))
}

/// Rank 0's output: `Some(Output)` on rank 0, `None` elsewhere (the lines are
/// `None` exactly off rank 0, as [`gather_lines`] returns them).
pub(crate) fn root_output<R>(lines: Option<Vec<String>>, result: impl FnOnce() -> R) -> Option<Output<R>> {
    lines.map(|lines| Output { lines, result: result() })
}
