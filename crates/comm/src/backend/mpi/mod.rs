//! The MPI backend: every rank is a process started by `mpirun`/`srun`, and every
//! operation is one call into MPI through rsmpi (Open MPI underneath).
//!
//! Typed buffers go as MPI datatypes (the primitives as themselves, other plain data as
//! contiguous bytes), collectives are MPI's own, user reductions are MPI user ops, and
//! communicators come from `MPI_Comm_dup`/`split`/`Cart_create`. Every communicator
//! returns errors instead of aborting (`MPI_ERRORS_RETURN`). A receive learns its
//! message's size before any byte lands (`matched`), or, into a small buffer, receives
//! into a region no message can overflow (`bounce`): a message too long for its buffer
//! is consumed and reported as an [`Error`](crate::Error) like on threads, never written
//! past the buffer. Non-blocking receives are posted in parsci's registry (`posted`) and
//! matched when this rank next calls into point-to-point. What MPI cannot tell (a deadlock, a peer's
//! failure) is handled by aborting the job: see [`run`] and the watchdog.

mod agree;
mod bounce;
mod collective;
mod comm;
mod matched;
mod nonblocking;
mod p2p;
mod posted;
mod request;
mod run;
mod runtime;
mod scoped;
mod types;
mod watchdog;

pub(crate) use agree::set_check_collectives;
pub(crate) use comm::MpiComm;
pub(crate) use nonblocking::{MpiColl, MpiCollRequest};
pub(crate) use request::{MpiRequest, MpiVecRequest};
pub(crate) use run::run;
pub(crate) use runtime::world;
pub(crate) use scoped::{MpiScopedRequest, ScopedOp};

/// Marks a blocking wait of `op` for the watchdog.
pub(crate) fn watchdog_guard(op: &'static str) -> watchdog::Guard {
    watchdog::enter(op, || "any of its requests".into(), None)
}
