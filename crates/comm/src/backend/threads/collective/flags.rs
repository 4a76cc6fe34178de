//! The opening meeting of a collective in a small communicator: each rank stores the
//! number of its collective in its own slot, and waits only for the numbers of the ranks
//! whose slots it reads. No shared counter bounces between the ranks' caches, and a
//! rank's number, the signature of its call and its staged data travel together.
//!
//! A rank that reads nobody's slot (a bcast's root, a gather's other ranks) need not wait
//! at all, unless the agreement check is on: it publishes and goes on, at most
//! `depth - 1` collectives ahead (before it rewrites a slot, every rank must have started
//! the collective after the one that slot held).

use std::ops::Range;
use std::sync::atomic::Ordering::*;

use super::super::comm::ThreadComm;
use super::super::world::WaitDesc;
use super::area::FLAG_RANKS;
use crate::error::Result;

/// Whose slots a rank reads in a collective.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Reads {
    /// Every rank's (and so it checks every rank's call).
    All,
    /// The root's only.
    Root(usize),
    /// Nobody's: the others read this rank's.
    Nobody,
}

impl ThreadComm {
    /// True if this communicator opens its collectives by per-rank numbers (`meet`);
    /// larger ones meet at a shared counter (`phase`).
    pub(super) fn by_flags(&self) -> bool {
        self.shared.coll.n <= FLAG_RANKS
    }

    /// `reads`, or `All` when the agreement check is on.
    pub(super) fn reads(&self, reads: Reads) -> Reads {
        if self.world().checks() {
            Reads::All
        } else {
            reads
        }
    }

    /// Waits until this rank may write its slot for collective number `k`, which last held
    /// collective `k - depth`: every rank has started collective `k - depth + 1`, so nobody
    /// reads that slot any more.
    #[inline]
    pub(super) fn reuse(&self, k: u64, op: &'static str) -> Result<()> {
        let d = self.shared.coll.depth as u64;
        if k <= d || self.met.get() + d > k {
            return Ok(());
        }
        self.reuse_slow(k, op)
    }

    #[cold]
    #[inline(never)]
    fn reuse_slow(&self, k: u64, op: &'static str) -> Result<()> {
        let area = &self.shared.coll;
        let d = area.depth as u64;
        // Usually every rank has started `k - 1` already: then no check for the next
        // `depth - 2` collectives.
        if (0..area.n).all(|r| area.slot(k - 1, r).seq.load(Acquire) >= k - 1) {
            self.met.set(k - 1);
            return Ok(());
        }
        self.wait_posted(k - d + 1, 0..area.n, op)?;
        self.met.set(k - d + 1);
        Ok(())
    }

    /// Publishes this rank's collective number `k` (its slot is written) and waits until
    /// the ranks whose slots it reads have published `k`.
    ///
    /// On an abort this rank leaves at once, its slot still published: what the others read
    /// before they may use its buffers is all in the slot, and the caller writes no slot
    /// again once the job has aborted. Whoever would use its buffers first meets it at a
    /// counter phase (which it never reaches), so nobody does.
    #[inline(always)]
    pub(super) fn meet(&self, k: u64, op: &'static str, reads: Reads) -> Result<()> {
        let area = &self.shared.coll;
        area.slot(k, self.rank).seq.store(k, Release);
        let world = self.world();
        // Any rank may be waiting for this one: n checks of a flag that is read-shared
        // while nobody parks (hence only for small communicators).
        for (r, &w) in self.shared.group.iter().enumerate() {
            if r != self.rank {
                world.wake(w);
            }
        }
        match reads {
            Reads::All => {
                self.wait_posted(k, 0..area.n, op)?;
                self.met.set(k);
                Ok(())
            }
            Reads::Root(root) => self.wait_posted(k, root..root + 1, op),
            Reads::Nobody => Ok(()),
        }
    }

    /// Waits until every rank of `ranks` has published collective number `k`.
    #[inline(always)]
    fn wait_posted(&self, k: u64, ranks: Range<usize>, op: &'static str) -> Result<()> {
        // A first look, inline: when the others are there already, no call, no closure.
        let area = &self.shared.coll;
        let row = &area.calls[area.parity(k) * area.n..][..area.n];
        let mut next = ranks.start;
        while next < ranks.end && row[next].seq.load(Acquire) >= k {
            next += 1;
        }
        if next == ranks.end {
            return Ok(());
        }
        self.wait_posted_from(k, next..ranks.end, op)
    }

    /// `wait_posted` once a rank of `ranks` is seen missing: polls, spins, parks.
    #[inline(never)]
    fn wait_posted_from(&self, k: u64, ranks: Range<usize>, op: &'static str) -> Result<()> {
        let area = &self.shared.coll;
        let posted = |r: usize| area.slot(k, r).seq.load(Acquire) >= k;
        // Ranks of `ranks` below `next` have published `k` (a slot's number never goes back).
        let mut next = ranks.start;
        let poll = || {
            self.progress_posted();
            while next < ranks.end && posted(next) {
                next += 1;
            }
            Ok((next == ranks.end).then_some(()))
        };
        let missing = || {
            let m: Vec<usize> = ranks.clone().filter(|&r| !posted(r)).map(|r| self.shared.group[r]).collect();
            WaitDesc { op, peer: format!("ranks {m:?} to join"), tag: None }
        };
        self.world().wait_until(self.me(), missing, poll)
    }
}
