//! The thread backend: every rank is a thread of this process.
//!
//! Messages travel through lock-free per-pair rings (small ones inside the ring slot,
//! `Vec`s moved without a copy, large ones copied once straight from the sender's
//! buffer); collectives read and write the ranks' buffers directly through shared
//! memory; a blocked rank spins briefly, then parks; a monitor thread detects deadlocks.
//!
//! # Checked by tools
//!
//! | part | loom (`loom_models`, real code via `sync`) | ThreadSanitizer | stress tests |
//! |---|---|---|---|
//! | SPSC ring + overflow queue (`channel`) | yes: order, once-only delivery, slot and slab publication (`UnsafeCell` tracking), ring of 2 | yes | conformance, `wakes` |
//! | rendezvous (`rendezvous`) | state machine, claim vs set-aside, set-aside copy publication, sender's buffer reuse; not the raw-pointer chunk copies' ordering (plain memory loom does not track) | yes (the chunk copies too) | conformance |
//! | park/wake handshake (`world`, `fence`) | yes, symmetric fences only (no missed wake = no model deadlock) | yes | `tests/wakes.rs` (missed wake = deadlock report) |
//! | membarrier (asymmetric) fences | no: loom has no model of it | yes (the default on Linux) | `tests/wakes.rs` |
//! | barrier: meeting by per-rank numbers, counter phase with withdrawal on abort (`collective`) | yes: slot publication through the numbers (two ranks, three rounds, double buffering), no hang on abort; the counter phase's all-or-nothing withdrawal | yes | conformance, `failures` |
//! | nonblocking collectives (`nonblocking`: parts under a `spin_lock`, performed by the last arrival) | no | yes (the data movement too) | conformance `icollectives*`, `failures` |
//! | collective data movement, `split` hand-off, deadlock monitor | no (timing: the monitor is a clock) | yes (`split`'s mutex suppressed, see `.ci/tsan.supp`) | conformance, `failures` |
//!
//! Loom runs with `LOOM_MAX_PREEMPTIONS=2` (`.ci/run`); at 3 the barrier model trips a
//! limitation of loom's SeqCst-fence model (`loom_litmus_sc_fences_after_history`). Miri
//! is not run: it needs the nightly `miri` component, not installable here.

mod channel;
mod collective;
mod comm;
mod endpoint;
mod fence;
#[cfg(all(test, loom))]
mod loom_models;
mod nonblocking;
mod p2p;
mod rendezvous;
mod run;
mod scoped;
mod spin_lock;
mod sync;
mod sync_send;
mod world;

pub(crate) use comm::ThreadComm;
pub(crate) use endpoint::Posted;
pub(crate) use nonblocking::{end as end_nonblocking, CollRequest, Pending};
pub(crate) use p2p::{ThreadRequest, ThreadVecRequest};
pub(crate) use rendezvous::Rendezvous;
pub(crate) use run::run;
pub(crate) use scoped::RecvTarget;
