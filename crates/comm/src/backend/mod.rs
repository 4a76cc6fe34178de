//! The backends: ranks as threads of one process, or ranks as MPI processes.

#[cfg(feature = "mpi")]
pub(crate) mod mpi;
pub(crate) mod threads;
