//! MPI's "environmental management": the clock, and stopping the whole job.

use std::sync::OnceLock;
use std::time::Instant;

use crate::comm::{Comm, CommImpl};

/// Seconds since an arbitrary moment in this process's past, as MPI's `Wtime`: MPI's own
/// clock when MPI runs in this process, else a monotonic clock (the same for every thread
/// rank, so their times compare). Differences of two readings time a piece of work.
///
/// ```
/// let t0 = parsci_comm::wtime();
/// let t1 = parsci_comm::wtime();
/// assert!(t1 >= t0 && parsci_comm::wtick() > 0.0);
/// ```
pub fn wtime() -> f64 {
    #[cfg(feature = "mpi")]
    if mpi_running() {
        return mpi::time();
    }
    epoch().elapsed().as_secs_f64()
}

/// The resolution of [`wtime`] in seconds (MPI's `Wtick`).
pub fn wtick() -> f64 {
    #[cfg(feature = "mpi")]
    if mpi_running() {
        return mpi::time_resolution();
    }
    1e-9
}

fn epoch() -> &'static Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    EPOCH.get_or_init(Instant::now)
}

#[cfg(feature = "mpi")]
fn mpi_running() -> bool {
    mpi::environment::is_initialized() && !mpi::environment::is_finalized()
}

impl Comm {
    /// Stops the whole job at once, as `MPI_Abort`: on MPI the launcher ends every
    /// process and exits with `code`; on threads every other rank's blocked call returns
    /// [`Error::Aborted`](crate::Error::Aborted), this rank's closure unwinds (running its
    /// destructors), and [`launch`](crate::launch) returns
    /// [`Error::JobAborted`](crate::Error::JobAborted) with `code`.
    ///
    /// ```
    /// use parsci_comm::{launch, Backend, Error};
    /// let out = launch(Backend::Threads(3), |comm| {
    ///     if comm.rank() == 2 {
    ///         comm.abort(7);
    ///     }
    ///     comm.barrier() // released by the abort
    /// });
    /// assert_eq!(out.unwrap_err(), Error::JobAborted { rank: 2, code: 7 });
    /// ```
    pub fn abort(&self, code: i32) -> ! {
        match &self.inner {
            CommImpl::Threads(c) => c.abort(code),
            #[cfg(feature = "mpi")]
            CommImpl::Mpi(c) => c.abort(code),
        }
    }
}
