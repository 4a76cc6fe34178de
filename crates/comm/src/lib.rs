//! # parsci-comm: MPI's message-passing model for Rust
//!
//! A [`Comm`] per rank, typed messages of plain data (the fast path) and object
//! messages of any serde value, point-to-point and collective operations, communicator
//! splitting and Cartesian topologies — the model of MPI and the ergonomics of mpi4py.
//!
//! One program runs on either backend, chosen in one place ([`Backend`]):
//! ranks as threads of one process (the default, nothing to install), or ranks as
//! processes of an MPI job started by `mpirun` or `srun` (cargo feature `mpi`, rsmpi
//! over Open MPI).
//!
//! ```
//! use parsci_comm::{launch, Backend, Error, Op};
//!
//! // Sum of square roots, the workshop way: broadcast, split cyclically, reduce.
//! let out = launch(Backend::Threads(3), |comm| {
//!     let m = comm.bcast_obj((comm.rank() == 0).then_some(1000u64), 0)?;
//!     let p = comm.size() as u64;
//!     let part: f64 = (1..=m).filter(|i| i % p == comm.rank() as u64).map(|i| (i as f64).sqrt()).sum();
//!     let mut total = [0.0];
//!     comm.allreduce(&[part], &mut total, &Op::sum())?;
//!     Ok::<_, Error>(total[0])
//! })
//! .unwrap();
//! assert!((out.root().unwrap() - 21097.455887480734).abs() < 1e-9);
//! ```
//!
//! Failures never hang: when a rank returns an error or panics, every other rank's
//! blocked call returns [`Error::Aborted`] and [`launch`] reports the failing rank; a
//! deadlock is detected and reported as who waits for whom ([`Error::Deadlock`]).

mod backend;
mod collective;
mod comm;
mod copy;
mod data;
mod environment;
mod error;
mod job;
mod launcher_env;
mod p2p;
mod request_set;
mod scope;
mod timing;
mod topology;
pub mod trace;

pub use collective::Layout;
pub use comm::{BackendKind, Comm};
pub use data::{Arith, Data, DataKind, ObjByte, Op, OpKind};
pub use environment::{wtick, wtime};
pub use error::{DeadlockReport, Error, Result, Wait};
pub use job::{
    available_cores, launch, launch_with, Backend, JobOptions, Launched, CHECK_ENV, MAX_THREAD_RANKS, SYNC_SENDS_ENV,
};
pub use launcher_env::{detect_launcher, LauncherEnv};
pub use p2p::{ObjRequest, Request, Status, Tag, VecRequest, ANY_SOURCE, ANY_TAG, MAX_TAG, PROC_NULL};
pub use request_set::{test_all, test_any, test_some, wait_all, wait_any, wait_some};
pub use scope::Scope;
pub use timing::CommTime;
pub use topology::{dims_create, CartComm};

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeDoctests;
