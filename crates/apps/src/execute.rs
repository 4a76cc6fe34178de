//! Running a program on a backend: validation, launch, timing, rank 0's output.

use std::time::Instant;

use parsci_comm::{launch_with, Backend, JobOptions};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::program::Program;

/// A finished run as rank 0 saw it. Serializes to the `--json` object
/// `{"program", "ranks", "backend", "wall_time_s", "result"}` (the text is left out).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Run<R> {
    /// The program's name.
    pub program: &'static str,
    /// The number of ranks it ran on.
    pub ranks: usize,
    /// The backend's name (`"threads"`).
    pub backend: &'static str,
    /// Wall time of the whole job (launch to the last rank's return), in seconds.
    pub wall_time_s: f64,
    /// The program's result.
    pub result: R,
    /// Each rank's time inside communication calls, in seconds, when counted
    /// ([`JobOptions::comm_timing`]); the rest of the wall time is computation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comm_time_s: Option<Vec<f64>>,
    /// The lines rank 0 prints, ending with `Done in X s`.
    #[serde(skip)]
    pub lines: Vec<String>,
}

impl<R> Run<R> {
    /// The text to print: the lines, each followed by a newline.
    pub fn text(&self) -> String {
        self.lines.iter().map(|l| format!("{l}\n")).collect()
    }
}

/// Runs `program` on every rank of `backend` and returns rank 0's output.
///
/// The parameters and the rank count are checked first (a clear [`Error`] before any
/// work); a failure of any rank is reported as [`Error::Comm`], naming the rank.
pub fn execute<P: Program>(program: &P, backend: Backend) -> Result<Run<P::Result>> {
    execute_with(program, backend, &JobOptions::default())?.ok_or(Error::MissingOutput { program: P::NAME })
}

/// [`execute`] with job options (a watchdog, communication time counting), for a process
/// that may not host rank 0: under MPI every process runs its rank, and only rank 0's
/// process gets `Some(run)`.
///
/// ```
/// use parsci_apps::{execute_with, rootsum::RootSum};
/// use parsci_comm::{Backend, JobOptions};
/// let opts = JobOptions::default().with_comm_timing();
/// let run = execute_with(&RootSum { m: 1000 }, Backend::Threads(2), &opts).unwrap().unwrap();
/// let comm = run.comm_time_s.unwrap(); // one entry per rank
/// assert!(comm.len() == 2 && comm.iter().all(|&t| t >= 0.0 && t <= run.wall_time_s));
/// ```
pub fn execute_with<P: Program>(program: &P, backend: Backend, options: &JobOptions) -> Result<Option<Run<P::Result>>> {
    let ranks = backend.ranks();
    check_ranks(P::NAME, P::MIN_RANKS, ranks)?;
    program.validate()?;
    program.validate_ranks(ranks)?;
    let start = Instant::now();
    let launched = launch_with(backend, options, |comm| {
        let out = program.run(comm)?;
        if !options.comm_timing {
            return Ok::<_, Error>((out, None));
        }
        let mine = comm.comm_time().total().as_secs_f64();
        Ok((out, comm.gather_obj(&mine, 0)?))
    })?;
    let wall_time_s = start.elapsed().as_secs_f64();
    if launched.root().is_none() {
        return Ok(None); // another process prints
    }
    let (out, comm_time_s) = launched.into_root().ok_or(Error::MissingOutput { program: P::NAME })?;
    let out = out.ok_or(Error::MissingOutput { program: P::NAME })?;
    let mut lines = out.lines;
    lines.push(done_line(wall_time_s));
    let backend = backend.name();
    Ok(Some(Run { program: P::NAME, ranks, backend, wall_time_s, result: out.result, comm_time_s, lines }))
}

/// `Done in X s`, the last line of every program's text.
pub(crate) fn done_line(seconds: f64) -> String {
    format!("Done in {seconds:.6} s")
}

/// An error unless `ranks` is at least 1 and at least `needed`.
pub(crate) fn check_ranks(program: &'static str, needed: usize, ranks: usize) -> Result<()> {
    if ranks == 0 {
        let msg = "the number of ranks must be at least 1".to_string();
        return Err(Error::InvalidInput { program, msg });
    }
    if ranks < needed {
        return Err(Error::TooFewRanks { program, needed, got: ranks });
    }
    Ok(())
}
