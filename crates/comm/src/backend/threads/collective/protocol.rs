//! The protocol every collective follows: publish this rank's call, meet (a barrier
//! phase that a rank may leave only before everyone has arrived), agree, move the data,
//! meet again while others may still use this rank's buffers.

use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering::*;

use super::super::comm::ThreadComm;
use super::super::world::WaitDesc;
use super::area::{Call, CallCell, Calls, Sig, LIST_MISSING};
use super::flags::Reads;
use crate::error::{Error, Result};

impl ThreadComm {
    /// One barrier phase among this communicator's ranks.
    ///
    /// An opening phase (`may_leave`): if the job aborts before every rank has arrived,
    /// this rank withdraws its arrival and returns the abort error; nobody has touched its
    /// buffers and nobody will. Once all have arrived, the phase completes even if the job
    /// aborts meanwhile, because the others are now using this rank's buffers.
    /// A closing phase (`!may_leave`): the others may still read or write this rank's
    /// buffers, so it waits for all of them whatever happens (they are past the opening
    /// phase, and moving the data never blocks).
    pub(in crate::backend::threads) fn phase(&self, op: &'static str, may_leave: bool) -> Result<()> {
        let area = &self.shared.coll;
        let k = self.bar_seq.get() + 1;
        self.bar_seq.set(k);
        area.arrived[self.rank].store(k, Release);
        // Phase `k` is complete once every rank has arrived `k` times: arrivals are counted
        // in one place so that "all arrived" and "withdrawn" cannot both happen.
        let target = k * area.n as u64;
        let world = self.world();
        // Only the arrival that completes the phase has anything to tell the others: waking
        // them on every arrival would cost n wakes per rank (and n parks per rank, each a
        // `membarrier`), quadratic in the communicator's size.
        if area.total.fetch_add(1, AcqRel) + 1 == target {
            for (r, &w) in self.shared.group.iter().enumerate() {
                if r != self.rank {
                    world.wake(w);
                }
            }
        }
        let complete = || area.total.load(Acquire) >= target;
        let missing = || {
            // Every rank that parks here describes its wait: listing the missing ranks costs
            // O(n) per rank, O(n^2) per phase, so large communicators count them instead.
            let peer = if area.n <= LIST_MISSING {
                let m: Vec<usize> =
                    (0..area.n).filter(|&r| area.arrived[r].load(Acquire) < k).map(|r| self.shared.group[r]).collect();
                format!("ranks {m:?} to join")
            } else {
                let m = target.saturating_sub(area.total.load(Acquire));
                format!("{m} of {} ranks to join", area.n)
            };
            WaitDesc { op, peer, tag: None }
        };
        // In strict mode a rank waiting here still lets messages reach its posted
        // receives, as an MPI rank inside a collective progresses them.
        let poll = || {
            self.progress_posted();
            Ok(complete().then_some(()))
        };
        let Err(abort) = world.wait_until(self.me(), missing, poll) else {
            return Ok(());
        };
        if may_leave {
            let mut c = area.total.load(Acquire);
            while c < target {
                match area.total.compare_exchange_weak(c, c - 1, AcqRel, Acquire) {
                    Ok(_) => {
                        area.arrived[self.rank].store(k - 1, Release);
                        self.bar_seq.set(k - 1);
                        return Err(abort);
                    }
                    Err(now) => c = now,
                }
            }
            return Ok(());
        }
        while !complete() {
            super::super::sync::thread::yield_now();
        }
        Ok(())
    }

    /// Runs one collective: publish `mine`, meet, check agreement, move data, meet again.
    /// `agree` returns a description of a disagreement between the published calls.
    pub(super) fn collective<R>(
        &self,
        mine: Call,
        local_err: Option<Error>,
        agree: impl FnOnce(&Calls) -> Option<String>,
        body: impl FnOnce(&Calls) -> R,
    ) -> Result<R> {
        self.run_collective(mine, local_err, agree, None, Reads::All, body)
    }

    /// A collective on small data: `staged` (the bytes this rank contributes, possibly
    /// none) is copied into its slot and published as its `send`; `body` may read the
    /// others' slots but must write only this rank's own buffers. No closing barrier.
    #[inline(always)]
    pub(super) fn small_collective<R>(
        &self,
        mine: Call,
        local_err: Option<Error>,
        agree: impl FnOnce(&Calls) -> Option<String>,
        staged: &[u8],
        body: impl FnOnce(&Calls) -> R,
    ) -> Result<R> {
        self.run_collective(mine, local_err, agree, Some(staged), Reads::All, body)
    }

    /// A small collective in which this rank reads only the slots `reads` says (a rooted
    /// collective: the root's, or nobody's): unless the agreement check is on, it checks
    /// only the calls it reads, and a rank that reads nobody's does not wait.
    #[inline(always)]
    pub(super) fn small_rooted<R>(
        &self,
        mine: Call,
        local_err: Option<Error>,
        agree: impl FnOnce(&Calls) -> Option<String>,
        staged: &[u8],
        reads: Reads,
        body: impl FnOnce(&Calls) -> R,
    ) -> Result<R> {
        // A rank that rejected its own arguments (a root out of range, say) waits for all.
        let reads = if local_err.is_some() { Reads::All } else { self.reads(reads) };
        self.run_collective(mine, local_err, agree, Some(staged), reads, body)
    }

    /// Publishes `mine` in this rank's slot for collective number `k` (its argument
    /// error and its staged data too) and returns the slots and the call's signature.
    #[inline(always)]
    fn publish(&self, k: u64, mut mine: Call, local_err: Option<&Error>, staged: Option<&[u8]>) -> (Calls<'_>, Sig) {
        let area = &self.shared.coll;
        let parity = area.parity(k);
        let cell = &area.calls[parity * area.n + self.rank];
        if let Some(e) = local_err {
            // SAFETY: only this rank writes its slot, and nobody reads this parity until the
            // opening meeting (the others finished reading it before this rank's previous
            // opening meeting of this parity completed).
            mine.err = unsafe { write_error(cell, e) };
        }
        mine.small = staged.is_some();
        if let Some(bytes) = staged {
            // SAFETY: as for the error text.
            let stage = unsafe { &mut (*cell.stage.get()).0 };
            crate::copy::copy(&mut stage[..bytes.len()], bytes);
            mine.send = stage.as_ptr();
        }
        let sig = mine.sig();
        // SAFETY: as for the error text.
        unsafe {
            *cell.call.get() = Some(mine);
            *cell.sig.get() = sig;
        }
        (Calls { area, parity }, sig)
    }

    #[inline(always)]
    pub(super) fn run_collective<R>(
        &self,
        mine: Call,
        local_err: Option<Error>,
        agree: impl FnOnce(&Calls) -> Option<String>,
        staged: Option<&[u8]>,
        reads: Reads,
        body: impl FnOnce(&Calls) -> R,
    ) -> Result<R> {
        if !self.by_flags() {
            return self.run_by_counter(mine, local_err, agree, staged, body);
        }
        if self.world().is_aborted() {
            // This rank may have left an earlier collective early, whose slot others may
            // still read: it writes no slot any more.
            return Err(self.aborted(mine.op));
        }
        let k = self.coll_seq.get() + 1;
        self.reuse(k, mine.op)?;
        self.coll_seq.set(k);
        let (slots, sig) = self.publish(k, mine, local_err.as_ref(), staged);
        self.meet(k, mine.op, reads)?;
        if local_err.is_none() && staged.is_some() {
            // The usual case, from one cache line of each slot read: every call read is
            // this one (so the counts agree, all that a small collective's own check
            // compares). A rooted collective without the full check reads the root's
            // slot, or nobody's.
            let agreed = match reads {
                Reads::All => (0..slots.area.n).all(|r| slots.sig(r) == sig),
                Reads::Root(r) => slots.sig(r) == sig,
                Reads::Nobody => true,
            };
            if agreed {
                return Ok(body(&slots));
            }
        }
        self.settle(mine.op, staged.is_some(), sig, local_err, agree, reads, &slots, body)
    }

    #[cold]
    #[inline(never)]
    fn aborted(&self, op: &'static str) -> Error {
        self.world().abort_error(self.me(), op)
    }

    /// A collective in a communicator too large for the per-rank numbers: publish, meet at
    /// the shared counter, check, move the data, meet again.
    #[inline(never)]
    fn run_by_counter<R>(
        &self,
        mine: Call,
        local_err: Option<Error>,
        agree: impl FnOnce(&Calls) -> Option<String>,
        staged: Option<&[u8]>,
        body: impl FnOnce(&Calls) -> R,
    ) -> Result<R> {
        let seq = self.coll_seq.get();
        self.coll_seq.set(seq + 1);
        let (slots, _) = self.publish(seq + 1, mine, local_err.as_ref(), staged);
        let op = mine.op;
        if let Err(e) = self.phase(op, true) {
            self.coll_seq.set(seq); // withdrawn: as if never called
            return Err(e);
        }
        let check = || match local_err {
            Some(e) => Err(e),
            None => self.mismatch(self.disagreement(&slots).or_else(|| agree(&slots))),
        };
        self.finish(op, check, staged.is_some(), &slots, body)
    }

    /// The rest of a collective opened by per-rank numbers, in every case but the usual
    /// small one: a rooted collective, an argument error, a mismatch, or large buffers.
    #[allow(clippy::too_many_arguments)]
    #[inline(never)]
    fn settle<R>(
        &self,
        op: &'static str,
        small: bool,
        sig: Sig,
        local_err: Option<Error>,
        agree: impl FnOnce(&Calls) -> Option<String>,
        reads: Reads,
        slots: &Calls,
        body: impl FnOnce(&Calls) -> R,
    ) -> Result<R> {
        let area = slots.area;
        if reads != Reads::All {
            // A rooted small collective without the full check: this rank checks the calls
            // it reads (the root's, or none).
            if let Some(e) = local_err {
                return Err(e);
            }
            if let Reads::Root(r) = reads {
                if slots.sig(r) != sig {
                    return Err(self.pair_mismatch(slots, r));
                }
            }
            return Ok(body(slots));
        }
        // Everything read here is in the slots. A small collective checks all it needs
        // now; so does any collective whose ranks disagree on whether it is small (its
        // checks of the counts also read only the slots).
        let sizes_differ = (0..area.n).any(|r| slots.get(r).small != small);
        let mut agree = Some(agree);
        let first = match local_err {
            Some(e) => Err(e),
            None => self.mismatch(self.disagreement(slots).or_else(|| {
                if small || sizes_differ {
                    let a = agree.take().expect("checked once");
                    a(slots)
                        .or_else(|| sizes_differ.then(|| format!("{op}: the ranks pass buffers of different sizes")))
                } else {
                    None
                }
            })),
        };
        // Every rank reaches the same verdict from the same slots: on a mismatch, nobody
        // touches anybody's buffers, and nobody needs to meet again.
        first?;
        if small {
            return Ok(body(slots));
        }
        // The others are about to use this rank's buffers: meet at a phase that a rank
        // leaves (on an abort) only if not everyone has arrived.
        self.phase(op, true)?;
        let check = || match agree.take() {
            Some(a) => self.mismatch(a(slots)),
            None => Ok(()),
        };
        self.finish(op, check, false, slots, body)
    }

    fn mismatch(&self, details: Option<String>) -> Result<()> {
        match details {
            Some(details) => Err(Error::CollectiveMismatch { caller: self.rank, details }),
            None => Ok(()),
        }
    }

    /// Once every rank may use this rank's buffers: the checks that read them (`check`),
    /// the data movement (`body`), and, unless the collective is small, the closing phase.
    fn finish<R>(
        &self,
        op: &'static str,
        check: impl FnOnce() -> Result<()>,
        small: bool,
        slots: &Calls,
        body: impl FnOnce(&Calls) -> R,
    ) -> Result<R> {
        let verdict = match catch_unwind(AssertUnwindSafe(check)) {
            Ok(v) => v,
            Err(panic) => {
                // Others may already be using our buffers: meet them at the closing phase
                // first (a small collective has none: nobody touches our buffers).
                if !small {
                    let _ = self.phase(op, false);
                }
                resume_unwind(panic)
            }
        };
        if small && verdict.is_ok() {
            // Everyone agrees this is a small collective: it touches only its own buffers.
            return Ok(body(slots));
        }
        // A panic (in a user op) must not unwind past the closing phase while the others
        // still use this rank's buffers: it resumes after. On a mismatch every rank meets
        // at the closing phase, whatever it called.
        let out = verdict.map(|()| catch_unwind(AssertUnwindSafe(|| body(slots))));
        self.phase(op, false)?;
        match out {
            Ok(Ok(r)) => Ok(r),
            Ok(Err(panic)) => resume_unwind(panic),
            Err(e) => Err(e),
        }
    }
}

/// Writes `e`'s text into `cell` and returns where it lives (for the others to read).
///
/// # Safety
/// Only this rank writes `cell`, and nobody reads it until the slot is published.
#[cold]
unsafe fn write_error(cell: &CallCell, e: &Error) -> *const String {
    // SAFETY: the caller's contract.
    let text = unsafe { &mut *cell.err.get() };
    *text = e.to_string();
    text
}
