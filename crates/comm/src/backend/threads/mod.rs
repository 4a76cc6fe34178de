//! The thread backend: every rank is a thread of this process.
//!
//! Messages travel through lock-free per-pair rings (small ones inside the ring slot,
//! `Vec`s moved without a copy, large ones copied once straight from the sender's
//! buffer); collectives read and write the ranks' buffers directly through shared
//! memory; a blocked rank spins briefly, then parks; a monitor thread detects deadlocks.

mod channel;
mod collective;
mod comm;
mod endpoint;
mod fence;
mod p2p;
mod rendezvous;
mod run;
mod scoped;
mod sync_send;
mod world;

pub(crate) use comm::ThreadComm;
pub(crate) use endpoint::Posted;
pub(crate) use p2p::{ThreadRequest, ThreadVecRequest};
pub(crate) use rendezvous::Rendezvous;
pub(crate) use run::run;
pub(crate) use scoped::RecvTarget;
