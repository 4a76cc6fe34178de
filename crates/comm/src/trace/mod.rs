//! Communication traces: every communication call of every rank, the program's own
//! phases, and the messages between ranks, written as Chrome trace-event JSON (open it
//! in Perfetto, <https://ui.perfetto.dev>, or `chrome://tracing`).
//!
//! Turn it on for a job with [`JobOptions::with_trace`](crate::JobOptions::with_trace)
//! (the command line's `--trace FILE.json`); mark phases with [`Comm::span`].
//!
//! - Calls are recorded where both backends pass, the front-end methods of [`Comm`],
//!   [`Scope`](crate::Scope) and the requests: operation, peer or root (world rank),
//!   tag, bytes, communicator, start and end. A call made inside another (an object
//!   collective's typed ones) is part of the outer call.
//! - Each message is a flow from its send to the receive (or the `wait`/`test` of the
//!   nonblocking receive) that got it, paired by (communicator, source, destination, tag,
//!   number): MPI's non-overtaking rule makes the k-th receive from s with tag t match the
//!   k-th send. A nonblocking receive is numbered when it completes, so two receives from
//!   the same rank with the same tag completed out of their posting order swap arrows.
//! - Collectives carry their instance number on their communicator (`seq`), the same on
//!   every rank that took part.
//! - Clocks: the thread backend has one clock. Under MPI each rank's clock is aligned with
//!   rank 0's by ping-pongs at the start and at the end (for drift); the estimated error
//!   is in the file's `otherData.clock`.
//! - Memory is bounded: each rank buffers 64 Ki events (3 MiB) and spills to a temporary
//!   file; at the end rank 0 writes the file, streaming every rank's events in turn.
//!
//! Off (the default), a call pays one thread-local test.

mod clock;
mod comm_info;
mod json;
mod profile;
mod read;
pub(crate) mod record;
mod span;
mod waits;
mod write;

use std::path::PathBuf;
use std::rc::Rc;

pub(crate) use comm_info::CommTrace;
pub use profile::{OpStats, Profile, RankTime};
pub use read::{Call, Message, Phase, RankTrace, Trace};
pub use span::Span;
pub use waits::{SiteWait, WaitInstance, WaitKind, WaitStates};

use crate::comm::Comm;
use crate::p2p::{Status, Tag, ANY_SOURCE, PROC_NULL};
use crate::timing::{self, Kind};
use record::{what, Rec, ANY_RANK, NO_RANK};

/// Where a job writes its trace, and how (see [`JobOptions::trace`](crate::JobOptions::trace)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TraceOptions {
    /// The Chrome trace-event JSON file rank 0 writes at the end of the job.
    pub path: PathBuf,
}

impl TraceOptions {
    /// A trace written to `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        TraceOptions { path: path.into() }
    }
}

/// What one traced call is, evaluated only when tracing.
pub(crate) struct CallInfo {
    pub op: &'static str,
    pub kind: Kind,
    pub comm: u64,
    pub peer: u32,
    pub tag: Tag,
    pub bytes: u64,
    pub seq: u64,
    pub name: u16,
}

impl CallInfo {
    /// A call known by its kind only.
    pub fn unnamed(kind: Kind) -> Self {
        let op = match kind {
            Kind::P2p => "p2p",
            Kind::Collective => "collective",
            Kind::Wait => "wait",
        };
        CallInfo { op, kind, comm: 0, peer: NO_RANK, tag: -1, bytes: 0, seq: 0, name: 0 }
    }
}

/// Records the start of a call.
pub(crate) fn begin_call(mut info: CallInfo) -> CallInfo {
    record::with(|r| {
        info.name = r.name(info.op);
        let ts = record::now_ns();
        r.push(Rec { ts, what: what::CALL_BEGIN, name: info.name, kind: info.kind as u8, ..Rec::zeroed() });
    });
    info
}

/// Records the end of a call.
pub(crate) fn end_call(info: CallInfo) {
    record::with(|r| {
        r.push(Rec {
            ts: record::now_ns(),
            bytes: info.bytes,
            comm: info.comm,
            seq: info.seq,
            src: info.peer,
            dst: r.rank,
            tag: info.tag,
            name: info.name,
            what: what::CALL_END,
            kind: info.kind as u8,
        })
    });
}

use bytemuck::Zeroable;

/// The world rank of `rank` of a traced communicator, or a sentinel.
fn world_of(t: &CommTrace, rank: usize) -> u32 {
    match rank {
        ANY_SOURCE => ANY_RANK,
        PROC_NULL => NO_RANK,
        r => t.group.get(r).copied().unwrap_or(NO_RANK),
    }
}

impl Comm {
    /// This communicator's trace identity, when tracing.
    #[inline]
    pub(crate) fn trace_info(&self) -> Option<&Rc<CommTrace>> {
        self.trace.get()
    }

    /// Starts timing and tracing a call on this communicator: `peer` is a rank of it (a
    /// destination, source or root; `PROC_NULL` for none), `bytes` what this rank sends.
    #[inline]
    pub(crate) fn traced(
        &self,
        kind: Kind,
        op: &'static str,
        peer: usize,
        tag: Tag,
        bytes: usize,
    ) -> Option<timing::Timed> {
        let state = timing::active()?;
        self.traced_slow(state, kind, op, peer, tag, bytes)
    }

    #[cold]
    #[inline(never)]
    fn traced_slow(
        &self,
        state: u8,
        kind: Kind,
        op: &'static str,
        peer: usize,
        tag: Tag,
        bytes: usize,
    ) -> Option<timing::Timed> {
        timing::enter(kind, state, || self.call_info(kind, op, peer, tag, bytes))
    }

    fn call_info(&self, kind: Kind, op: &'static str, peer: usize, tag: Tag, bytes: usize) -> CallInfo {
        let Some(t) = self.trace_info() else {
            return CallInfo { op, ..CallInfo::unnamed(kind) };
        };
        let seq = match kind {
            Kind::Collective if op.starts_with('i') => t.next_icoll(),
            Kind::Collective => t.next_coll(),
            _ => 0,
        };
        CallInfo { op, kind, comm: t.id, peer: world_of(t, peer), tag, bytes: bytes as u64, seq, name: 0 }
    }

    /// Records a message sent to `dest` (a rank of this communicator).
    #[inline]
    pub(crate) fn trace_send(&self, dest: usize, tag: Tag, bytes: usize) {
        if timing::tracing() {
            if let Some(t) = self.trace_info() {
                message(t, false, dest, tag, bytes);
            }
        }
    }

    /// Records a message received as `st` says.
    #[inline]
    pub(crate) fn trace_recv(&self, st: &Status) {
        if timing::tracing() {
            if let Some(t) = self.trace_info() {
                trace_recv_on(t, st);
            }
        }
    }

    /// This communicator's trace identity for a receive request to carry, when tracing.
    #[inline]
    pub(crate) fn trace_request(&self) -> Option<Rc<CommTrace>> {
        if timing::tracing() {
            self.trace_info().cloned()
        } else {
            None
        }
    }

    /// Marks a phase of the program (`"halo"`, `"compute"`) in the trace until the guard
    /// is dropped; phases nest. Without tracing it costs one thread-local test.
    ///
    /// ```
    /// use parsci_comm::{launch, Backend};
    /// launch(Backend::Threads(2), |comm| {
    ///     let _phase = comm.span("compute");
    ///     let x: f64 = (0..1000).map(|i| i as f64).sum();
    ///     Ok::<_, parsci_comm::Error>(x)
    /// })
    /// .unwrap();
    /// ```
    #[inline]
    pub fn span(&self, name: &'static str) -> Span {
        Span::begin(name)
    }

    /// True if this rank records a trace now.
    pub fn is_tracing(&self) -> bool {
        timing::tracing()
    }
}

/// Records a message received on `t` as `st` says (a request's completion).
pub(crate) fn trace_recv_on(t: &CommTrace, st: &Status) {
    if st.source != PROC_NULL && timing::tracing() {
        message(t, true, st.source, st.tag, st.bytes);
    }
}

#[cold]
fn message(t: &CommTrace, recv: bool, peer: usize, tag: Tag, bytes: usize) {
    let peer = world_of(t, peer);
    if peer >= ANY_RANK {
        return;
    }
    record::with(|r| {
        let (src, dst) = if recv { (peer, r.rank) } else { (r.rank, peer) };
        let seq = r.next_seq(t.id, src, dst, tag, recv);
        let w = if recv { what::RECV } else { what::SEND };
        r.push(Rec {
            ts: record::now_ns(),
            bytes: bytes as u64,
            comm: t.id,
            seq,
            src,
            dst,
            tag,
            name: 0,
            what: w,
            kind: 0,
        });
    });
}

pub(crate) use write::{finish, start};
