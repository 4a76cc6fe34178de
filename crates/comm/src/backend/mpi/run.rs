//! Running one rank's closure under MPI: a failure ends the whole job.

use std::fmt::Display;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

use super::comm::MpiComm;
use super::runtime::{abort, world};
use super::watchdog;
use crate::comm::Comm;
use crate::error::Result;

/// Runs `f` on this process's rank and returns `(size, rank, result)`.
///
/// MPI cannot release a rank blocked on a peer that failed, so when `f` returns an
/// error or panics, this prints `rank R failed: ...` and aborts the job (`MPI_Abort`):
/// `mpirun` then stops every process and exits non-zero.
pub(crate) fn run<R, E, F>(f: &F, watchdog_limit: Option<Duration>, sync_sends: bool) -> Result<(usize, usize, R)>
where
    E: Display,
    F: Fn(&Comm) -> Result<R, E>,
{
    let info = world()?;
    // One job calls MPI at a time (MPI_THREAD_SERIALIZED): a second launch on another
    // thread waits here.
    let _serial = super::runtime::SERIALIZED.lock().unwrap_or_else(|p| p.into_inner());
    super::runtime::set_sync_sends(sync_sends);
    if let Some(limit) = watchdog_limit {
        watchdog::start(info.rank, limit);
    }
    let comm = Comm::from_mpi(MpiComm::world_dup()?);
    let out = catch_unwind(AssertUnwindSafe(|| f(&comm)));
    let message = match out {
        Ok(Ok(r)) => {
            drop(comm);
            return Ok((info.size, info.rank, r));
        }
        Ok(Err(e)) => e.to_string(),
        Err(panic) => format!("panicked: {}", crate::job::panic_message(&*panic)),
    };
    eprintln!("rank {} failed: {message}", info.rank);
    eprintln!("parsci: aborting the MPI job (MPI_Abort) so that no rank waits forever");
    abort(1)
}
