//! Opt-in counters of the time a rank spends inside communication calls.
//!
//! A rank is one thread (thread backend) or the main thread of one process (MPI), and a
//! `Comm` is used by one thread only, so the counters are thread-local: one set per rank,
//! shared by every communicator of that rank (`dup`, `split`, Cartesian). When counting
//! is off, a call costs one thread-local flag test; when on, two `Instant::now()`.
//! Calls made inside another call (an object collective's typed collectives, `wait_all`'s
//! waits) are counted once, as the outer call.
//!
//! The same guard records the call in the rank's trace when tracing is on
//! ([`crate::trace`]): every front-end call of both backends passes here, and with
//! timing and tracing off it costs one thread-local test.

use std::cell::Cell;
use std::marker::PhantomData;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::comm::Comm;

/// What kind of communication call a counter is for.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    /// Sends, receives, probes, and starting non-blocking operations.
    P2p = 0,
    /// Collectives, including `dup`, `split` and `cart_create`.
    Collective = 1,
    /// Waiting for or testing non-blocking operations.
    Wait = 2,
}

/// The time one rank spent inside communication calls since its counting started
/// (see [`Comm::start_comm_timer`] and [`JobOptions::comm_timing`](crate::JobOptions)).
///
/// A program's compute time is its wall time minus [`total`](CommTime::total).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommTime {
    /// In point-to-point calls (send, receive, probe, starting `isend`/`irecv`).
    pub p2p: Duration,
    /// In collectives (barrier, bcast, reductions, ..., `dup`, `split`).
    pub collective: Duration,
    /// In `wait`, `test` and `wait_all` of non-blocking operations.
    pub wait: Duration,
    /// The number of calls counted.
    pub calls: u64,
}

impl CommTime {
    /// All the time spent communicating.
    pub fn total(&self) -> Duration {
        self.p2p + self.collective + self.wait
    }
}

/// Bits of [`Clock::state`]: one load tells whether a call has anything to do.
const TIMING: u8 = 1;
const TRACING: u8 = 2;
const INSIDE: u8 = 4;

struct Clock {
    /// `TIMING | TRACING | INSIDE` (an outer call is in progress).
    state: Cell<u8>,
    /// The outer call in progress (one per thread: calls inside it are not entered).
    kind: Cell<Kind>,
    start: Cell<Option<Instant>>,
    call: Cell<Option<crate::trace::CallInfo>>,
    nanos: [Cell<u64>; 3],
    calls: Cell<u64>,
}

thread_local! {
    static CLOCK: Clock = const {
        Clock {
            state: Cell::new(0),
            kind: Cell::new(Kind::P2p),
            start: Cell::new(None),
            call: Cell::new(None),
            nanos: [const { Cell::new(0) }; 3],
            calls: Cell::new(0),
        }
    };
}

impl Clock {
    fn set_bit(&self, bit: u8, on: bool) {
        let s = self.state.get();
        self.state.set(if on { s | bit } else { s & !bit });
    }
}

/// A call being timed or traced; adds its time to the counters (and its end to the
/// trace) when dropped. It holds nothing: the call's start is in the thread's clock, so
/// that `Option<Timed>` is one byte and dropping `None` is one test. Not `Send`: it
/// belongs to the rank's thread.
pub(crate) struct Timed(PhantomData<*const ()>);

/// True if this rank records a trace now.
#[inline]
pub(crate) fn tracing() -> bool {
    CLOCK.with(|c| c.state.get() & TRACING != 0)
}

/// Turns this rank's tracing flag on or off (the recorder is installed separately).
pub(crate) fn set_tracing(on: bool) {
    CLOCK.with(|c| c.set_bit(TRACING, on));
}

/// The thread's state when a call has something to do (counting or tracing is on),
/// else `None`: one thread-local load and test.
#[inline]
pub(crate) fn active() -> Option<u8> {
    let state = CLOCK.with(|c| c.state.get());
    (state & (TIMING | TRACING) != 0).then_some(state)
}

/// Starts timing and tracing a call of `kind`, if counting or tracing is on and no
/// outer call is in progress; `info` (the call's name, peer, bytes) is only evaluated
/// when tracing.
#[inline]
pub(crate) fn enter_call(kind: Kind, info: impl FnOnce() -> crate::trace::CallInfo) -> Option<Timed> {
    enter(kind, active()?, info)
}

/// [`enter_call`] once [`active`] gave `state`. Callers with many arguments call it from
/// a cold function of their own, so that the fast path does not build `info`'s captures.
#[cold]
pub(crate) fn enter(kind: Kind, state: u8, info: impl FnOnce() -> crate::trace::CallInfo) -> Option<Timed> {
    if state & INSIDE != 0 {
        return None;
    }
    let call = (state & TRACING != 0).then(|| crate::trace::begin_call(info()));
    CLOCK.with(|c| {
        c.state.set(state | INSIDE);
        c.kind.set(kind);
        c.call.set(call);
        c.start.set((state & TIMING != 0).then(Instant::now));
    });
    Some(Timed(PhantomData))
}

impl Drop for Timed {
    #[inline]
    fn drop(&mut self) {
        exit_call();
    }
}

#[cold]
fn exit_call() {
    if let Some(call) = CLOCK.with(|c| c.call.take()) {
        crate::trace::end_call(call);
    }
    CLOCK.with(|c| {
        if let Some(start) = c.start.take() {
            let ns = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
            let slot = &c.nanos[c.kind.get() as usize];
            slot.set(slot.get().saturating_add(ns));
            c.calls.set(c.calls.get() + 1);
        }
        c.set_bit(INSIDE, false);
    });
}

fn read(c: &Clock) -> CommTime {
    let d = |k: Kind| Duration::from_nanos(c.nanos[k as usize].get());
    CommTime { p2p: d(Kind::P2p), collective: d(Kind::Collective), wait: d(Kind::Wait), calls: c.calls.get() }
}

/// Time counters.
impl Comm {
    /// Starts counting, from zero, the time this rank spends inside communication calls
    /// on any of its communicators. Counting costs two clock reads per call; it is off
    /// unless started here or by [`JobOptions::comm_timing`](crate::JobOptions).
    ///
    /// ```
    /// use parsci_comm::{launch, Backend, Op};
    /// let times = launch(Backend::Threads(2), |comm| {
    ///     comm.start_comm_timer();
    ///     let mut x = [0.0];
    ///     comm.allreduce(&[1.0], &mut x, &Op::sum())?;
    ///     comm.barrier()?;
    ///     Ok::<_, parsci_comm::Error>(comm.stop_comm_timer())
    /// })
    /// .unwrap();
    /// for t in times.into_vec() {
    ///     assert_eq!(t.calls, 2);
    ///     assert_eq!(t.total(), t.collective);
    /// }
    /// ```
    pub fn start_comm_timer(&self) {
        CLOCK.with(|c| {
            c.nanos.iter().for_each(|n| n.set(0));
            c.calls.set(0);
            c.set_bit(TIMING, true);
        });
    }

    /// The time counted since [`start_comm_timer`](Comm::start_comm_timer) (zero if
    /// counting was never started); counting goes on.
    pub fn comm_time(&self) -> CommTime {
        CLOCK.with(read)
    }

    /// Stops counting and returns the time counted.
    pub fn stop_comm_timer(&self) -> CommTime {
        CLOCK.with(|c| {
            c.set_bit(TIMING, false);
            read(c)
        })
    }
}
