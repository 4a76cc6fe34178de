//! The reductions in place: each rank's buffer is both its contribution and its result.
//!
//! A rank publishes its buffer as both its `send` and its `recv`. Nothing here ever holds
//! a `&[T]` and a `&mut [T]` over the same elements at once: results are combined in
//! scratch space (a chunk, or the stage of a small call) and then written back.
//!
//! - Small (staged): every rank's contribution is copied into its slot before the
//!   opening barrier, so each rank combines its own result from the copies and
//!   overwrites only its own buffer.
//! - Large: as the out-of-place reductions, each rank owns a share of the element
//!   indices: it reads every rank's buffer in its share, combines in rank order in a
//!   scratch chunk, and writes the results back into that share of the buffers. Nobody
//!   else reads or writes those indices, so no one reads an element already overwritten.
//! - Large `allreduce_in_place`: each rank reduces its share into its own buffer (in its
//!   own share, read by nobody else before the middle barrier), then copies the other
//!   shares from their owners' buffers. After the middle barrier every rank reads only
//!   its peers' own shares, which nobody writes any more, and writes only the other
//!   shares of its own buffer, which nobody reads any more.

use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};

use super::super::comm::ThreadComm;
use super::area::{chunk, copy_others_shares, dst, share, src, stageable, Call, Calls, STAGE_BYTES};
use super::verdict::counts_equal;
use crate::copy::FastCopy;
use crate::data::{Data, Op};
use crate::error::{Error, Result};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    ToRoot,
    ToAll,
    Inclusive,
    Exclusive,
}

/// A copy of a small buffer, staged from here: the buffer itself, an argument of the
/// collective's protocol while the body writes it, must not be (see `in_place`).
#[repr(align(64))]
struct Snapshot([u8; STAGE_BYTES]);

impl ThreadComm {
    pub fn allreduce_in_place<T: Data>(&self, buf: &mut [T], op: &Op<T>) -> Result<()> {
        if stageable::<T>(buf.len()) || self.size() == 1 {
            return self.in_place("allreduce_in_place", buf, op, 0, None, Kind::ToAll);
        }
        self.allreduce_in_place_large(buf, op)
    }

    pub fn reduce_in_place<T: Data>(&self, buf: &mut [T], op: &Op<T>, root: usize) -> Result<()> {
        let err = self.caller().root("reduce_in_place", root);
        self.in_place("reduce_in_place", buf, op, root, err, Kind::ToRoot)
    }

    pub fn scan_in_place<T: Data>(&self, buf: &mut [T], op: &Op<T>) -> Result<()> {
        self.in_place("scan_in_place", buf, op, 0, None, Kind::Inclusive)
    }

    pub fn exscan_in_place<T: Data>(&self, buf: &mut [T], op: &Op<T>) -> Result<()> {
        self.in_place("exscan_in_place", buf, op, 0, None, Kind::Exclusive)
    }

    fn in_place<T: Data>(
        &self,
        name: &'static str,
        buf: &mut [T],
        op: &Op<T>,
        root: usize,
        err: Option<Error>,
        kind: Kind,
    ) -> Result<()> {
        let (me, p, n) = (self.rank, self.size(), buf.len());
        let ptr: *mut u8 = buf.as_mut_ptr().cast();
        let mine = Call { root, count: n, send: ptr, recv: ptr, op_kind: Some(op.kind()), ..Call::new::<T>(name) };
        if stageable::<T>(n) {
            // The protocol copies `staged` into this rank's slot; the body then writes
            // `buf`. `staged` is a snapshot, not `buf`: a reference passed to a function
            // must stay valid for the whole call, and the body writes `buf` within it.
            let bytes = std::mem::size_of_val(buf);
            let mut snap = Snapshot([0; STAGE_BYTES]);
            // SAFETY: `ptr` points to `buf`'s `bytes` bytes, which nobody writes meanwhile
            // (the others read it only after the opening barrier, and only from the stage).
            snap.0[..bytes].copy_from_slice(unsafe { std::slice::from_raw_parts(ptr.cast_const(), bytes) });
            return self.small_collective(mine, err, counts_equal(name), &snap.0[..bytes], |s| {
                combine_own(s, me, p, n, op, root, kind)
            });
        }
        self.collective(mine, err, counts_equal(name), |s| {
            let all: Vec<Call> = (0..p).map(|r| s.get(r)).collect();
            let part = share::<T>(n, me, p);
            let step = chunk::<T>().min(part.len());
            let (mut a, mut b) = (vec![T::zeroed(); step], vec![T::zeroed(); step]);
            let mut at = part.start;
            while at < part.end {
                let len = step.min(part.end - at);
                let (mut acc, mut next) = (&mut a[..len], &mut b[..len]);
                // SAFETY: range `at..at + len` of every rank's buffer is read and written by
                // this rank alone (its share) during the call; each `src` slice is dropped
                // before a `dst` slice over the same elements is made.
                unsafe {
                    match kind {
                        Kind::ToRoot | Kind::ToAll => {
                            if p == 1 {
                                break; // a buffer is its own reduction
                            }
                            op.apply_into(acc, src(all[0].send, at, len), src(all[1].send, at, len));
                            for x in &all[2..] {
                                op.apply(acc, src(x.send, at, len));
                            }
                            let targets = if kind == Kind::ToRoot { root..root + 1 } else { 0..p };
                            for r in targets {
                                dst::<T>(all[r].recv, at, len).fast_copy_from(acc);
                            }
                        }
                        Kind::Inclusive => {
                            // Rank 0's prefix is its own contribution: left as it is.
                            acc.fast_copy_from(src(all[0].send, at, len));
                            for x in &all[1..] {
                                op.apply(acc, src(x.send, at, len));
                                dst::<T>(x.recv, at, len).fast_copy_from(acc);
                            }
                        }
                        Kind::Exclusive => {
                            // Rank 0's buffer is left as it is.
                            acc.fast_copy_from(src(all[0].send, at, len));
                            for (r, x) in all.iter().enumerate().skip(1) {
                                // The prefix through rank r, from r's contribution before
                                // r's buffer receives the prefix before it.
                                if r + 1 < p {
                                    op.apply_into(next, acc, src(x.send, at, len));
                                }
                                dst::<T>(x.recv, at, len).fast_copy_from(acc);
                                std::mem::swap(&mut acc, &mut next);
                            }
                        }
                    }
                }
                at += len;
            }
        })
    }

    /// Large `allreduce_in_place`: see the module doc.
    fn allreduce_in_place_large<T: Data>(&self, buf: &mut [T], op: &Op<T>) -> Result<()> {
        let (me, p, n) = (self.rank, self.size(), buf.len());
        let ptr: *mut u8 = buf.as_mut_ptr().cast();
        let name = "allreduce_in_place";
        let mine = Call { count: n, send: ptr, recv: ptr, op_kind: Some(op.kind()), ..Call::new::<T>(name) };
        let (computed, middle) = self.collective(mine, None, counts_equal(name), |s| {
            let part = share::<T>(n, me, p);
            let step = chunk::<T>().min(part.len());
            // A panic in a user op is held until every rank has passed the middle barrier.
            let computed = catch_unwind(AssertUnwindSafe(|| {
                let mut acc = vec![T::zeroed(); step];
                let mut at = part.start;
                while at < part.end {
                    let len = step.min(part.end - at);
                    let acc = &mut acc[..len];
                    // SAFETY: before the middle barrier, range `part` of every buffer is
                    // read by this rank alone, and written (in its own buffer) by this rank
                    // alone, after the reads of each chunk.
                    unsafe {
                        op.apply_into(acc, src(s.get(0).send, at, len), src(s.get(1).send, at, len));
                        for r in 2..p {
                            op.apply(acc, src(s.get(r).send, at, len));
                        }
                        dst::<T>(s.get(me).recv, at, len).fast_copy_from(acc);
                    }
                    at += len;
                }
            }));
            let middle = self.phase(name, false);
            if middle.is_ok() {
                // SAFETY: every rank passed the middle barrier: its share is final.
                unsafe { copy_others_shares::<T>(s, me, p, n) };
            }
            (computed, middle)
        })?;
        if let Err(panic) = computed {
            resume_unwind(panic);
        }
        middle
    }
}

/// A small reduction in place: each rank combines its own result, in rank order, from
/// the staged copies of the contributions, into its own buffer.
fn combine_own<T: Data>(s: &Calls, me: usize, p: usize, n: usize, op: &Op<T>, root: usize, kind: Kind) {
    let upto = match kind {
        Kind::ToRoot if me != root => return,
        Kind::ToRoot | Kind::ToAll => p,
        Kind::Inclusive => me + 1,
        Kind::Exclusive if me == 0 => return,
        Kind::Exclusive => me,
    };
    // SAFETY: this rank's buffer holds n elements and only this rank writes it; the
    // published `send`s are the stages, distinct from every buffer, only read.
    unsafe {
        let acc = dst::<T>(s.get(me).recv, 0, n);
        if upto == 1 {
            acc.fast_copy_from(src(s.get(0).send, 0, n));
        } else {
            op.apply_into(acc, src(s.get(0).send, 0, n), src(s.get(1).send, 0, n));
        }
        for r in 2..upto {
            op.apply(acc, src(s.get(r).send, 0, n));
        }
    }
}
