//! The protocol every collective follows: publish this rank's call, meet (a barrier
//! phase that a rank may leave only before everyone has arrived), agree, move the data,
//! meet again while others may still use this rank's buffers.

use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering::*;

use super::super::comm::ThreadComm;
use super::super::world::WaitDesc;
use super::area::{Call, Calls, LIST_MISSING};
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
    pub(super) fn phase(&self, op: &'static str, may_leave: bool) -> Result<()> {
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
        self.run_collective(mine, local_err, agree, None, body)
    }

    /// A collective on small data: `staged` (the bytes this rank contributes, possibly
    /// none) is copied into its slot and published as its `send`; `body` may read the
    /// others' slots but must write only this rank's own buffers. No closing barrier.
    pub(super) fn small_collective<R>(
        &self,
        mine: Call,
        local_err: Option<Error>,
        agree: impl FnOnce(&Calls) -> Option<String>,
        staged: &[u8],
        body: impl FnOnce(&Calls) -> R,
    ) -> Result<R> {
        self.run_collective(mine, local_err, agree, Some(staged), body)
    }

    pub(super) fn run_collective<R>(
        &self,
        mut mine: Call,
        local_err: Option<Error>,
        agree: impl FnOnce(&Calls) -> Option<String>,
        staged: Option<&[u8]>,
        body: impl FnOnce(&Calls) -> R,
    ) -> Result<R> {
        let seq = self.coll_seq.get();
        self.coll_seq.set(seq + 1);
        let parity = (seq % 2) as usize;
        let area = &self.shared.coll;
        let cell = &area.calls[parity * area.n + self.rank].0;
        let err_text = local_err.as_ref().map(|e| e.to_string());
        if let Some(t) = &err_text {
            mine.err = t;
        }
        if let Some(bytes) = staged {
            // SAFETY: only this rank writes its stage, and nobody reads this parity until
            // the barrier below (the others finished reading it before this one's
            // previous opening barrier completed).
            let stage = unsafe { &mut (*cell.1.get()).0 };
            stage[..bytes.len()].copy_from_slice(bytes);
            mine.send = stage.as_ptr();
        }
        // SAFETY: only this rank writes its slot, and nobody reads this parity until the barrier below.
        unsafe { *cell.0.get() = Some(mine) };
        if let Err(e) = self.phase(mine.op, true) {
            self.coll_seq.set(seq); // withdrawn: as if never called
            return Err(e);
        }
        let slots = Calls { area, parity };
        let verdict = catch_unwind(AssertUnwindSafe(|| match local_err {
            Some(e) => Err(e),
            None => match self.disagreement(&slots).or_else(|| agree(&slots)) {
                Some(details) => Err(Error::CollectiveMismatch { caller: self.rank, details }),
                None => Ok(()),
            },
        }));
        let verdict = match verdict {
            Ok(v) => v,
            Err(panic) => {
                // Others may already be using our buffers: meet them at the closing phase
                // first (a small collective has none: nobody touches our buffers).
                if staged.is_none() {
                    let _ = self.phase(mine.op, false);
                }
                resume_unwind(panic)
            }
        };
        if staged.is_some() && verdict.is_ok() {
            // Everyone agrees this is a small collective: it touches only its own buffers.
            return Ok(body(&slots));
        }
        // A panic (in a user op) must not unwind past the closing phase while the others
        // still use this rank's buffers: it resumes after. On a mismatch every rank meets
        // at the closing phase, whatever it called.
        let out = verdict.map(|()| catch_unwind(AssertUnwindSafe(|| body(&slots))));
        self.phase(mine.op, false)?;
        match out {
            Ok(Ok(r)) => Ok(r),
            Ok(Err(panic)) => resume_unwind(panic),
            Err(e) => Err(e),
        }
    }
}
