//! `squares`: every rank `r > 0` sends `r²` to rank 0, which prints
//! `Received from process r : sq = r²` for each.
//!
//! ```
//! use parsci_apps::{execute, squares::Squares};
//! use parsci_comm::Backend;
//! let run = execute(&Squares, Backend::Threads(3)).unwrap();
//! assert_eq!(run.lines[..2], ["Received from process 1 : sq = 1", "Received from process 2 : sq = 4"]);
//! ```

pub mod parallel;
pub mod serial;

use parsci_comm::{Comm, Tag};
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::program::{Output, Program};

/// The tag of the squares' messages.
pub const SQUARE_TAG: Tag = 0;

/// The `squares` program (no parameters).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Squares;

/// One received square.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Square {
    /// The sending rank.
    pub from: usize,
    /// What it sent.
    pub sq: i64,
}

/// What `squares` returns: what rank 0 received, in rank order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SquaresResult {
    /// One entry per rank `r > 0`.
    pub squares: Vec<Square>,
}

impl Program for Squares {
    type Result = SquaresResult;
    const NAME: &'static str = "squares";

    fn run(&self, comm: &Comm) -> Result<Option<Output<SquaresResult>>> {
        parallel::run(comm)
    }

    fn check(&self, result: &SquaresResult, ranks: usize) -> Result<(), String> {
        let want = serial::expected(ranks);
        if result.squares == want {
            Ok(())
        } else {
            Err(format!("received {:?}, expected {want:?}", result.squares))
        }
    }

    fn summary(&self, result: &SquaresResult) -> String {
        let sq: Vec<i64> = result.squares.iter().map(|s| s.sq).collect();
        format!("received {sq:?}")
    }
}
