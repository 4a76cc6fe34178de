//! The reductions: reduce, allreduce, scan, exscan, combined in rank order.

use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};

use super::super::comm::ThreadComm;
use super::area::{chunk, copy_others_shares, dst, share, src, stageable, Call, Calls};
use super::flags::Reads;
use super::verdict::counts_equal;
use crate::copy::FastCopy;
use crate::data::{Data, Op};
use crate::error::{Error, Result};

/// Up to this many ranks, a large allreduce computes the whole result on every rank.
const WHOLE_RANKS: usize = 2;

impl ThreadComm {
    /// Reductions: each rank combines its share of the elements across all ranks, in rank
    /// order, chunk by chunk, and writes the result where `to.kind` says.
    #[inline(always)]
    fn reduction<T: Data>(&self, name: &'static str, send: &[T], op: &Op<T>, to: Target) -> Result<()> {
        let Target { recv, recv_len, root, err, kind } = to;
        let (me, p, n) = (self.rank, self.size(), send.len());
        // `reduce` checked its arguments already (its `recv` matters only at the root).
        let err = if kind == Reduction::ToRoot { err } else { self.caller().reduced(name, n, recv_len) };
        let mine = Call {
            root,
            count: n,
            send: send.as_ptr().cast(),
            recv: recv.unwrap_or(std::ptr::null_mut()),
            op_kind: Some(op.kind()),
            ..Call::new::<T>(name)
        };
        if stageable::<T>(n) {
            let staged = bytemuck::cast_slice(send);
            let recv = mine.recv;
            let reads = if kind == Reduction::ToRoot && me != root { Reads::Nobody } else { Reads::All };
            return self.small_rooted(mine, err, counts_equal(name), staged, reads, |s| {
                reduce_small(s, recv, me, p, n, op, root, kind)
            });
        }
        self.reduction_large(mine, err, op, root, kind)
    }

    /// A reduction too large for the slots' stages: see `reduction`.
    #[inline(never)]
    fn reduction_large<T: Data>(
        &self,
        mine: Call,
        err: Option<Error>,
        op: &Op<T>,
        root: usize,
        kind: Reduction,
    ) -> Result<()> {
        let (me, p, n, name) = (self.rank, self.size(), mine.count, mine.op);
        self.collective(mine, err, counts_equal(name), |s| {
            let all: Vec<Call> = (0..p).map(|r| s.get(r)).collect();
            let part = share::<T>(n, me, p);
            let step = chunk::<T>();
            let mut acc = vec![T::zeroed(); step.min(part.len())];
            let mut at = part.start;
            while at < part.end {
                let len = step.min(part.end - at);
                let acc = &mut acc[..len];
                // SAFETY: send buffers are only read during the call; range `at..at+len`
                // of every receive buffer is written by this rank alone.
                unsafe {
                    let fused = p > 1 && matches!(kind, Reduction::ToRoot | Reduction::ToAll);
                    if !fused {
                        acc.fast_copy_from(src(all[0].send, at, len));
                    }
                    match kind {
                        Reduction::ToRoot | Reduction::ToAll => {
                            if fused {
                                op.apply_into(acc, src(all[0].send, at, len), src(all[1].send, at, len));
                            }
                            for x in all.iter().skip(2) {
                                op.apply(acc, src(x.send, at, len));
                            }
                            let targets = if kind == Reduction::ToRoot { root..root + 1 } else { 0..p };
                            for r in targets {
                                dst::<T>(all[r].recv, at, len).fast_copy_from(acc);
                            }
                        }
                        Reduction::Inclusive => {
                            dst::<T>(all[0].recv, at, len).fast_copy_from(acc);
                            for x in &all[1..] {
                                op.apply(acc, src(x.send, at, len));
                                dst::<T>(x.recv, at, len).fast_copy_from(acc);
                            }
                        }
                        Reduction::Exclusive => {
                            for x in &all[1..] {
                                dst::<T>(x.recv, at, len).fast_copy_from(acc);
                                op.apply(acc, src(x.send, at, len));
                            }
                        }
                    }
                }
                at += len;
            }
        })
    }

    pub fn reduce<T: Data>(&self, send: &[T], recv: Option<&mut [T]>, op: &Op<T>, root: usize) -> Result<()> {
        let err = self.caller().reduce(root, send.len(), recv.as_ref().map(|b| b.len()));
        let is_root = self.rank == root;
        let recv_len = recv.as_ref().map_or(0, |b| b.len());
        let ptr = recv.filter(|_| is_root).map(|b| b.as_mut_ptr().cast());
        self.reduction("reduce", send, op, Target { recv: ptr, recv_len, root, err, kind: Reduction::ToRoot })
    }

    pub fn allreduce<T: Data>(&self, send: &[T], recv: &mut [T], op: &Op<T>) -> Result<()> {
        if stageable::<T>(send.len()) || self.size() == 1 {
            let to = Target::all(recv, Reduction::ToAll);
            return self.reduction("allreduce", send, op, to);
        }
        self.allreduce_large(send, recv, op)
    }

    /// Large allreduce: each rank reduces its share of the elements into its own buffer,
    /// then, after a middle barrier, copies the other shares from their owners' buffers.
    /// Every remote access is a read, so results land in the cache of the rank that uses them.
    /// Up to `WHOLE_RANKS` ranks, each rank reduces all the elements into its own buffer
    /// instead: it reads as much of the others' data, but no line another rank has just
    /// written, and there is no middle barrier (1 MiB of f64 on 2 ranks: 37 us against 64).
    fn allreduce_large<T: Data>(&self, send: &[T], recv: &mut [T], op: &Op<T>) -> Result<()> {
        let (me, p, n) = (self.rank, self.size(), send.len());
        let err = self.caller().reduced("allreduce", n, recv.len());
        let mine = Call {
            count: n,
            send: send.as_ptr().cast(),
            recv: recv.as_mut_ptr().cast(),
            op_kind: Some(op.kind()),
            ..Call::new::<T>("allreduce")
        };
        if p <= WHOLE_RANKS {
            return self.collective(mine, err, counts_equal("allreduce"), |s| {
                // SAFETY: send buffers are only read during the call; this rank's receive
                // buffer (n elements, checked) is written by this rank alone.
                unsafe { reduce_range(s, me, p, 0..n, op) }
            });
        }
        let (computed, middle) = self.collective(mine, err, counts_equal("allreduce"), |s| {
            let part = share::<T>(n, me, p);
            // A panic in a user op is held until every rank has passed the middle barrier.
            // SAFETY: send buffers are only read during the call; range `part` of this
            // rank's receive buffer is written by this rank alone.
            let computed = catch_unwind(AssertUnwindSafe(|| unsafe { reduce_range(s, me, p, part, op) }));
            let middle = self.phase("allreduce", false);
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

    pub fn scan<T: Data>(&self, send: &[T], recv: &mut [T], op: &Op<T>) -> Result<()> {
        let to = Target::all(recv, Reduction::Inclusive);
        self.reduction("scan", send, op, to)
    }

    pub fn exscan<T: Data>(&self, send: &[T], recv: &mut [T], op: &Op<T>) -> Result<()> {
        let to = Target::all(recv, Reduction::Exclusive);
        self.reduction("exscan", send, op, to)
    }
}

/// A small reduction: each rank computes its own result (rank order kept) in its receive
/// buffer from the staged contributions: no scratch space, no writes to others' memory.
#[allow(clippy::too_many_arguments)]
fn reduce_small<T: Data>(
    s: &Calls,
    recv: *mut u8,
    me: usize,
    p: usize,
    n: usize,
    op: &Op<T>,
    root: usize,
    kind: Reduction,
) {
    let upto = match kind {
        Reduction::ToRoot if me != root => return,
        Reduction::ToRoot | Reduction::ToAll => p,
        Reduction::Inclusive => me + 1,
        Reduction::Exclusive if me == 0 => return,
        Reduction::Exclusive => me,
    };
    // SAFETY: this rank's receive buffer holds n elements (checked) and only this rank
    // writes it; send buffers are only read during the collective.
    unsafe {
        let acc = dst::<T>(recv, 0, n);
        if upto == 1 {
            acc.fast_copy_from(src(s.stage(0), 0, n));
        } else {
            op.apply_into(acc, src(s.stage(0), 0, n), src(s.stage(1), 0, n));
        }
        for r in 2..upto {
            op.apply(acc, src(s.stage(r), 0, n));
        }
    }
}

/// Where a reduction's results go.
struct Target {
    recv: Option<*mut u8>,
    recv_len: usize,
    root: usize,
    err: Option<Error>,
    kind: Reduction,
}

impl Target {
    /// Every rank receives into `recv`.
    fn all<T>(recv: &mut [T], kind: Reduction) -> Self {
        Target { recv: Some(recv.as_mut_ptr().cast()), recv_len: recv.len(), root: 0, err: None, kind }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Reduction {
    ToRoot,
    ToAll,
    Inclusive,
    Exclusive,
}

/// Reduces range `range` of every rank's send buffer, in rank order, into the same range
/// of this rank's receive buffer, a chunk at a time (so the chunk stays in L1 while the
/// ranks are combined). `p` is at least 2.
///
/// # Safety
/// The send buffers hold `range` and are only read during the call; that range of this
/// rank's receive buffer is written by this rank alone.
unsafe fn reduce_range<T: Data>(s: &Calls, me: usize, p: usize, range: std::ops::Range<usize>, op: &Op<T>) {
    let step = chunk::<T>();
    let mut at = range.start;
    while at < range.end {
        let len = step.min(range.end - at);
        // SAFETY: the caller's contract.
        unsafe {
            let acc = dst::<T>(s.get(me).recv, at, len);
            op.apply_into(acc, src(s.get(0).send, at, len), src(s.get(1).send, at, len));
            for r in 2..p {
                op.apply(acc, src(s.get(r).send, at, len));
            }
        }
        at += len;
    }
}
