//! Collectives on the thread backend, over shared memory.
//!
//! Every collective runs the same three steps: each rank publishes a description of
//! its call (buffers, counts, root) in its slot; a barrier; every rank checks that all
//! calls agree, then moves its share of the data directly between the ranks' buffers;
//! a second barrier keeps every buffer alive until nobody reads it any more. Slots are
//! double-buffered, so a rank may start the next collective while a slow one still
//! reads the previous slots.
//!
//! When the job aborts, a rank may leave only before everyone has arrived at the first
//! barrier (it then withdraws its arrival): after that, the others use its buffers, so it
//! stays to the second barrier, and a panic in a user op resumes only there.

use std::cell::UnsafeCell;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering::*;

use super::channel::{type_tag, TypeTag};
use super::comm::ThreadComm;
use super::sync::AtomicU64;
use super::world::{Padded, WaitDesc};
use crate::collective::{Caller, Layout};
use crate::copy::FastCopy;
use crate::data::{short_name, Data, Op, OpKind};
use crate::error::{Error, Result};

#[derive(Clone, Copy)]
struct Slot {
    op: &'static str,
    root: usize,
    ty: TypeTag,
    count: usize,
    send: *const u8,
    recv: *mut u8,
    /// Capacity of `recv` in elements (0 where not significant).
    recv_len: usize,
    layout: *const Layout,
    layout2: *const Layout,
    op_kind: Option<OpKind>,
    /// This rank's own argument error, if any.
    err: *const String,
}

impl Slot {
    fn new<T: Data>(op: &'static str) -> Self {
        Slot {
            op,
            root: 0,
            ty: type_tag::<T>,
            count: 0,
            send: std::ptr::null(),
            recv: std::ptr::null_mut(),
            recv_len: 0,
            layout: std::ptr::null(),
            layout2: std::ptr::null(),
            op_kind: None,
            err: std::ptr::null(),
        }
    }
    fn layout<'a>(&self) -> Option<&'a Layout> {
        // SAFETY: set from a `&Layout` the owner keeps borrowed until the closing barrier.
        unsafe { self.layout.as_ref() }
    }
    fn layout2<'a>(&self) -> Option<&'a Layout> {
        // SAFETY: as `layout`.
        unsafe { self.layout2.as_ref() }
    }
}

/// Up to this many ranks, a rank waiting in a barrier names the ranks still missing
/// (in the deadlock report); above, it counts them.
const LIST_MISSING: usize = 64;

/// Bytes a rank can stage in its slot for a small collective.
const STAGE_BYTES: usize = 1024;

#[repr(align(64))]
struct Stage([u8; STAGE_BYTES]);

/// A rank's slot: the description of its call, and room to stage small data so that a
/// small collective needs no closing barrier (nobody touches another rank's buffers).
struct SlotCell(UnsafeCell<Option<Slot>>, UnsafeCell<Stage>);

/// True if `n` elements of `T` fit in a slot's stage (the same answer on every rank that
/// passes the same count).
fn stageable<T>(n: usize) -> bool {
    n * std::mem::size_of::<T>() <= STAGE_BYTES && std::mem::align_of::<T>() <= 64
}

pub(crate) struct CollArea {
    n: usize,
    /// `slots[parity * n + rank]`.
    slots: Box<[Padded<SlotCell>]>,
    /// Barrier phases each rank has reached (for the report of who is missing).
    arrived: Box<[Padded<AtomicU64>]>,
    /// Arrivals of all ranks at all phases: phase `k` is complete at `k * n`.
    total: Padded<AtomicU64>,
}

// SAFETY: a rank writes only its own slot, before the opening barrier of a collective;
// the others read it only between that barrier and the next-but-one collective's
// opening barrier (double buffering). Barriers order these accesses (release/acquire).
unsafe impl Sync for CollArea {}
// SAFETY: as above; the raw pointers are only dereferenced under that discipline.
unsafe impl Send for CollArea {}

impl CollArea {
    pub fn new(n: usize) -> Self {
        CollArea {
            n,
            slots: (0..2 * n)
                .map(|_| Padded(SlotCell(UnsafeCell::new(None), UnsafeCell::new(Stage([0; STAGE_BYTES])))))
                .collect(),
            arrived: (0..n).map(|_| Padded(AtomicU64::new(0))).collect(),
            total: Padded(AtomicU64::new(0)),
        }
    }
}

/// The published slots of one collective.
struct Slots<'a> {
    area: &'a CollArea,
    parity: usize,
}

impl Slots<'_> {
    fn get(&self, rank: usize) -> Slot {
        // SAFETY: read after the opening barrier, which every writer passed after writing.
        unsafe { (*self.area.slots[self.parity * self.area.n + rank].0 .0.get()).expect("written before the barrier") }
    }
}

/// Cache-line aligned, balanced share of `0..n` for `part` of `parts`.
fn share<T>(n: usize, part: usize, parts: usize) -> std::ops::Range<usize> {
    let unit = (64 / std::mem::size_of::<T>().max(1)).max(1);
    let units = n.div_ceil(unit);
    let l = Layout::balanced(units, parts);
    let r = l.range(part);
    (r.start * unit).min(n)..(r.end * unit).min(n)
}

/// Elements per reduction chunk: small enough to stay in L1 while ranks are combined.
fn chunk<T>() -> usize {
    (16 << 10) / std::mem::size_of::<T>().max(1)
}

/// # Safety
/// `p` must point to at least `off + len` live `T`s that nobody writes meanwhile.
unsafe fn src<'a, T>(p: *const u8, off: usize, len: usize) -> &'a [T] {
    // SAFETY: guaranteed by the caller.
    unsafe { std::slice::from_raw_parts((p as *const T).add(off), len) }
}

/// # Safety
/// `p` must point to at least `off + len` live `T`s that nobody else reads or writes meanwhile.
unsafe fn dst<'a, T>(p: *mut u8, off: usize, len: usize) -> &'a mut [T] {
    // SAFETY: guaranteed by the caller.
    unsafe { std::slice::from_raw_parts_mut((p as *mut T).add(off), len) }
}

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
    fn phase(&self, op: &'static str, may_leave: bool) -> Result<()> {
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
            super::sync::thread::yield_now();
        }
        Ok(())
    }

    /// Runs one collective: publish `mine`, meet, check agreement, move data, meet again.
    /// `agree` returns a description of a disagreement between the published calls.
    fn collective<R>(
        &self,
        mine: Slot,
        local_err: Option<Error>,
        agree: impl FnOnce(&Slots) -> Option<String>,
        body: impl FnOnce(&Slots) -> R,
    ) -> Result<R> {
        self.run_collective(mine, local_err, agree, None, body)
    }

    /// A collective on small data: `staged` (the bytes this rank contributes, possibly
    /// none) is copied into its slot and published as its `send`; `body` may read the
    /// others' slots but must write only this rank's own buffers. No closing barrier.
    fn small_collective<R>(
        &self,
        mine: Slot,
        local_err: Option<Error>,
        agree: impl FnOnce(&Slots) -> Option<String>,
        staged: &[u8],
        body: impl FnOnce(&Slots) -> R,
    ) -> Result<R> {
        self.run_collective(mine, local_err, agree, Some(staged), body)
    }

    fn run_collective<R>(
        &self,
        mut mine: Slot,
        local_err: Option<Error>,
        agree: impl FnOnce(&Slots) -> Option<String>,
        staged: Option<&[u8]>,
        body: impl FnOnce(&Slots) -> R,
    ) -> Result<R> {
        let seq = self.coll_seq.get();
        self.coll_seq.set(seq + 1);
        let parity = (seq % 2) as usize;
        let area = &self.shared.coll;
        let cell = &area.slots[parity * area.n + self.rank].0;
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
        let slots = Slots { area, parity };
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

    /// Differences every collective checks: the operation, an argument error, the root, the type.
    fn disagreement(&self, s: &Slots) -> Option<String> {
        let n = self.size();
        let first = s.get(0);
        let agree = |x: &Slot| {
            x.err.is_null()
                && (std::ptr::eq(x.op, first.op) || x.op == first.op)
                && x.root == first.root
                && x.op_kind == first.op_kind
                && (std::ptr::fn_addr_eq(x.ty, first.ty) || (x.ty)().0 == (first.ty)().0)
        };
        if (0..n).all(|r| agree(&s.get(r))) {
            return None; // the usual case, checked without allocating
        }
        let all: Vec<Slot> = (0..n).map(|r| s.get(r)).collect();
        if let Some(r) = (0..n).find(|&r| !all[r].err.is_null()) {
            // SAFETY: the error text lives until that rank's closing barrier.
            let text = unsafe { &*all[r].err };
            return Some(format!("rank {r} rejected its arguments to {}: {text}", all[r].op));
        }
        if all.iter().any(|x| x.op != all[0].op) {
            let calls: Vec<String> = all.iter().enumerate().map(|(r, x)| format!("rank {r} called {}", x.op)).collect();
            return Some(calls.join(", "));
        }
        let op = all[0].op;
        if all.iter().any(|x| x.root != all[0].root) {
            let roots: Vec<String> = all.iter().enumerate().map(|(r, x)| format!("rank {r}: {}", x.root)).collect();
            return Some(format!("{op} with different roots ({})", roots.join(", ")));
        }
        if all.iter().any(|x| (x.ty)().0 != (all[0].ty)().0) {
            let tys: Vec<String> =
                all.iter().enumerate().map(|(r, x)| format!("rank {r}: {}", short_name((x.ty)().1))).collect();
            return Some(format!("{op} with different element types ({})", tys.join(", ")));
        }
        if all.iter().any(|x| x.op_kind != all[0].op_kind) {
            let ks: Vec<String> = all.iter().enumerate().map(|(r, x)| format!("rank {r}: {:?}", x.op_kind)).collect();
            return Some(format!("{op} with different operations ({})", ks.join(", ")));
        }
        None
    }

    /// This rank, for the argument checks shared with the other backends.
    fn caller(&self) -> Caller {
        Caller { rank: self.rank, size: self.size() }
    }

    pub fn barrier(&self) -> Result<()> {
        // No buffers to protect: the opening meeting is the barrier (slots are double-buffered).
        let seq = self.coll_seq.get();
        self.coll_seq.set(seq + 1);
        let area = &self.shared.coll;
        let parity = (seq % 2) as usize;
        // SAFETY: as in `collective`.
        unsafe { *area.slots[parity * area.n + self.rank].0 .0.get() = Some(Slot::new::<u8>("barrier")) };
        if let Err(e) = self.phase("barrier", true) {
            self.coll_seq.set(seq);
            return Err(e);
        }
        match self.disagreement(&Slots { area, parity }) {
            Some(details) => {
                // Another rank is in a collective with a closing phase: meet it there, so
                // that it gets its error too and the phases stay in step.
                self.phase("barrier", false)?;
                Err(Error::CollectiveMismatch { caller: self.rank, details })
            }
            None => Ok(()),
        }
    }

    pub fn bcast<T: Data>(&self, buf: &mut [T], root: usize) -> Result<()> {
        let (me, p) = (self.rank, self.size());
        let err = self.caller().bcast(root);
        if stageable::<T>(buf.len()) {
            let mine = Slot { root, count: buf.len(), ..Slot::new::<T>("bcast") };
            if me == root {
                return self.small_collective(mine, err, counts_equal("bcast"), bytemuck::cast_slice(buf), |_| ());
            }
            return self.small_collective(mine, err, counts_equal("bcast"), &[], |s| {
                // SAFETY: the root's stage holds `count` elements (counts checked equal).
                buf.fast_copy_from(unsafe { src(s.get(root).send, 0, buf.len()) });
            });
        }
        let mine = Slot { root, count: buf.len(), recv: buf.as_mut_ptr().cast(), ..Slot::new::<T>("bcast") };
        self.collective(mine, err, counts_equal("bcast"), |s| {
            // Every rank (the root too) copies its share of the data to every receiver.
            let from = s.get(root);
            let part = share::<T>(from.count, me, p);
            for r in (0..p).filter(|&r| r != root) {
                // SAFETY: the root only reads its buffer during bcast; each receiver's
                // range `part` is written by this rank alone; lengths checked equal.
                unsafe {
                    dst::<T>(s.get(r).recv, part.start, part.len()).fast_copy_from(src(
                        from.recv,
                        part.start,
                        part.len(),
                    ))
                };
            }
        })
    }

    pub fn scatter<T: Data>(&self, send: Option<&[T]>, recv: &mut [T], root: usize) -> Result<()> {
        let (me, n) = (self.rank, recv.len());
        let err = self.caller().scatter(root, send.map(<[T]>::len), n);
        let mut mine = Slot { root, count: n, recv: recv.as_mut_ptr().cast(), ..Slot::new::<T>("scatter") };
        if let Some(b) = send.filter(|_| me == root) {
            mine.send = b.as_ptr().cast();
        }
        self.collective(mine, err, counts_equal("scatter"), |s| {
            // SAFETY: the root's send buffer holds p * n elements (checked); our recv is ours.
            unsafe { dst::<T>(s.get(me).recv, 0, n).fast_copy_from(src(s.get(root).send, me * n, n)) };
        })
    }

    pub fn scatterv<T: Data>(&self, send: Option<(&[T], &Layout)>, recv: &mut [T], root: usize) -> Result<()> {
        let (me, p) = (self.rank, self.size());
        let err = self.caller().scatterv(root, send.map(|(b, l)| (b.len(), l)));
        let mut mine =
            Slot { root, recv_len: recv.len(), recv: recv.as_mut_ptr().cast(), ..Slot::new::<T>("scatterv") };
        if let Some((b, l)) = send.filter(|_| me == root) {
            mine.send = b.as_ptr().cast();
            mine.layout = l;
        }
        let agree = |s: &Slots| {
            let l = s.get(root).layout()?;
            (0..p).find(|&r| s.get(r).recv_len < l.counts()[r]).map(|r| {
                format!(
                    "scatterv: the root sends {} elements to rank {r}, whose buffer holds {}",
                    l.counts()[r],
                    s.get(r).recv_len
                )
            })
        };
        self.collective(mine, err, agree, |s| {
            let from = s.get(root);
            let l = from.layout().expect("the root published its layout");
            // SAFETY: layout checked against the root's buffer and our capacity.
            unsafe {
                dst::<T>(s.get(me).recv, 0, l.counts()[me]).fast_copy_from(src(
                    from.send,
                    l.displs()[me],
                    l.counts()[me],
                ))
            };
        })
    }

    pub fn gather<T: Data>(&self, send: &[T], recv: Option<&mut [T]>, root: usize) -> Result<()> {
        let (me, p, n) = (self.rank, self.size(), send.len());
        let err = self.caller().gather(root, n, recv.as_ref().map(|b| b.len()));
        let mut mine = Slot { root, count: n, send: send.as_ptr().cast(), ..Slot::new::<T>("gather") };
        if let Some(b) = recv.filter(|_| me == root) {
            mine.recv = b.as_mut_ptr().cast();
        }
        if stageable::<T>(n) {
            let recv = mine.recv;
            return self.small_collective(mine, err, counts_equal("gather"), bytemuck::cast_slice(send), |s| {
                if me == root {
                    for r in 0..p {
                        // SAFETY: our own buffer holds p * n elements (checked); rank r's
                        // stage holds n (counts checked equal).
                        unsafe { dst::<T>(recv, r * n, n).fast_copy_from(src(s.get(r).send, 0, n)) };
                    }
                }
            });
        }
        self.collective(mine, err, counts_equal("gather"), |s| {
            // SAFETY: block `me` of the root's buffer (checked long enough) is written by us alone.
            unsafe { dst::<T>(s.get(root).recv, me * n, n).fast_copy_from(send) };
        })
    }

    pub fn gatherv<T: Data>(&self, send: &[T], recv: Option<(&mut [T], &Layout)>, root: usize) -> Result<()> {
        let (me, p) = (self.rank, self.size());
        let err = self.caller().gatherv(root, recv.as_ref().map(|(b, l)| (b.len(), *l)));
        let mut mine = Slot { root, count: send.len(), send: send.as_ptr().cast(), ..Slot::new::<T>("gatherv") };
        if let Some((b, l)) = recv.filter(|_| me == root) {
            mine.recv = b.as_mut_ptr().cast();
            mine.layout = l;
        }
        let agree = |s: &Slots| {
            let l = s.get(root).layout()?;
            (0..p).find(|&r| s.get(r).count != l.counts()[r]).map(|r| {
                format!(
                    "gatherv: rank {r} sends {} elements but the root's layout expects {}",
                    s.get(r).count,
                    l.counts()[r]
                )
            })
        };
        self.collective(mine, err, agree, |s| {
            let to = s.get(root);
            let l = to.layout().expect("the root published its layout");
            // SAFETY: our block of the root's buffer (layout checked) is written by us alone.
            unsafe { dst::<T>(to.recv, l.displs()[me], send.len()).fast_copy_from(send) };
        })
    }

    pub fn allgather<T: Data>(&self, send: &[T], recv: &mut [T]) -> Result<()> {
        let (me, p, n) = (self.rank, self.size(), send.len());
        let err = self.caller().allgather(n, recv.len());
        let mine = Slot {
            count: n,
            send: send.as_ptr().cast(),
            recv: recv.as_mut_ptr().cast(),
            ..Slot::new::<T>("allgather")
        };
        if stageable::<T>(n) {
            let recv = mine.recv;
            return self.small_collective(mine, err, counts_equal("allgather"), bytemuck::cast_slice(send), |s| {
                for r in 0..p {
                    // SAFETY: our own buffer holds p * n elements (checked); stages hold n.
                    unsafe { dst::<T>(recv, r * n, n).fast_copy_from(src(s.get(r).send, 0, n)) };
                }
            });
        }
        self.collective(mine, err, counts_equal("allgather"), |s| {
            for r in 0..p {
                // SAFETY: block `me` of every buffer is written by us alone.
                unsafe { dst::<T>(s.get(r).recv, me * n, n).fast_copy_from(send) };
            }
        })
    }

    pub fn allgatherv<T: Data>(&self, send: &[T], recv: &mut [T], layout: &Layout) -> Result<()> {
        let (me, p) = (self.rank, self.size());
        let err = self.caller().allgatherv(send.len(), recv.len(), layout);
        let mine = Slot {
            count: send.len(),
            send: send.as_ptr().cast(),
            recv: recv.as_mut_ptr().cast(),
            layout,
            ..Slot::new::<T>("allgatherv")
        };
        let agree = |s: &Slots| {
            (1..p)
                .find(|&r| s.get(r).layout().map(Layout::counts) != s.get(0).layout().map(Layout::counts))
                .map(|r| format!("allgatherv: ranks 0 and {r} pass different layouts"))
        };
        self.collective(mine, err, agree, |s| {
            for r in 0..p {
                let to = s.get(r);
                let at = to.layout().expect("published").displs()[me];
                // SAFETY: our block of every buffer (layouts checked) is written by us alone.
                unsafe { dst::<T>(to.recv, at, send.len()).fast_copy_from(send) };
            }
        })
    }

    /// Reductions: each rank combines its share of the elements across all ranks, in rank
    /// order, chunk by chunk, and writes the result where `to.kind` says.
    fn reduction<T: Data>(&self, name: &'static str, send: &[T], op: &Op<T>, to: Target) -> Result<()> {
        let Target { recv, recv_len, root, err, kind } = to;
        let (me, p, n) = (self.rank, self.size(), send.len());
        // `reduce` checked its arguments already (its `recv` matters only at the root).
        let err = if kind == Reduction::ToRoot { err } else { self.caller().reduced(name, n, recv_len) };
        let mine = Slot {
            root,
            count: n,
            send: send.as_ptr().cast(),
            recv: recv.unwrap_or(std::ptr::null_mut()),
            op_kind: Some(op.kind()),
            ..Slot::new::<T>(name)
        };
        if stageable::<T>(n) {
            let staged = bytemuck::cast_slice(send);
            return self.small_collective(mine, err, counts_equal(name), staged, |s| {
                reduce_small(s, me, p, n, op, root, kind)
            });
        }
        self.collective(mine, err, counts_equal(name), |s| {
            let all: Vec<Slot> = (0..p).map(|r| s.get(r)).collect();
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
    fn allreduce_large<T: Data>(&self, send: &[T], recv: &mut [T], op: &Op<T>) -> Result<()> {
        let (me, p, n) = (self.rank, self.size(), send.len());
        let err = self.caller().reduced("allreduce", n, recv.len());
        let mine = Slot {
            count: n,
            send: send.as_ptr().cast(),
            recv: recv.as_mut_ptr().cast(),
            op_kind: Some(op.kind()),
            ..Slot::new::<T>("allreduce")
        };
        let (computed, middle) = self.collective(mine, err, counts_equal("allreduce"), |s| {
            let part = share::<T>(n, me, p);
            let step = chunk::<T>();
            // A panic in a user op is held until every rank has passed the middle barrier.
            let computed = catch_unwind(AssertUnwindSafe(|| {
                let mut at = part.start;
                while at < part.end {
                    let len = step.min(part.end - at);
                    // SAFETY: send buffers are only read during the call; range `part` of
                    // this rank's receive buffer is written by this rank alone.
                    unsafe {
                        let acc = dst::<T>(s.get(me).recv, at, len);
                        op.apply_into(acc, src(s.get(0).send, at, len), src(s.get(1).send, at, len));
                        for r in 2..p {
                            op.apply(acc, src(s.get(r).send, at, len));
                        }
                    }
                    at += len;
                }
            }));
            let middle = self.phase("allreduce", false);
            if middle.is_ok() {
                for r in (0..p).filter(|&r| r != me) {
                    let theirs = share::<T>(n, r, p);
                    // SAFETY: after the middle barrier rank r's share of its buffer is final
                    // and only read; our copy of that range is written by us alone.
                    unsafe {
                        dst::<T>(s.get(me).recv, theirs.start, theirs.len()).fast_copy_from(src(
                            s.get(r).recv,
                            theirs.start,
                            theirs.len(),
                        ))
                    };
                }
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

    pub fn alltoall<T: Data>(&self, send: &[T], recv: &mut [T]) -> Result<()> {
        let (me, p) = (self.rank, self.size());
        let n = send.len() / p;
        let err = self.caller().alltoall(send.len(), recv.len());
        let mine =
            Slot { count: n, send: send.as_ptr().cast(), recv: recv.as_mut_ptr().cast(), ..Slot::new::<T>("alltoall") };
        self.collective(mine, err, counts_equal("alltoall"), |s| {
            let to = s.get(me).recv;
            for r in 0..p {
                // SAFETY: block `me` of rank r's send buffer is read only; our buffer is ours.
                unsafe { dst::<T>(to, r * n, n).fast_copy_from(src(s.get(r).send, me * n, n)) };
            }
        })
    }

    pub fn alltoallv<T: Data>(
        &self,
        send: &[T],
        send_layout: &Layout,
        recv: &mut [T],
        recv_layout: &Layout,
    ) -> Result<()> {
        let (me, p) = (self.rank, self.size());
        let err = self.caller().alltoallv(send.len(), send_layout, recv.len(), recv_layout);
        let mine = Slot {
            send: send.as_ptr().cast(),
            recv: recv.as_mut_ptr().cast(),
            layout: send_layout,
            layout2: recv_layout,
            ..Slot::new::<T>("alltoallv")
        };
        let agree = |s: &Slots| {
            for i in 0..p {
                for j in 0..p {
                    let sent = s.get(i).layout().expect("published").counts()[j];
                    let expected = s.get(j).layout2().expect("published").counts()[i];
                    if sent != expected {
                        return Some(format!(
                            "alltoallv: rank {i} sends {sent} elements to rank {j}, which expects {expected}"
                        ));
                    }
                }
            }
            None
        };
        self.collective(mine, err, agree, |s| {
            let to = s.get(me);
            let rl = to.layout2().expect("published");
            for r in 0..p {
                let from = s.get(r);
                let sl = from.layout().expect("published");
                // SAFETY: layouts checked against both buffers; our blocks are ours.
                unsafe {
                    dst::<T>(to.recv, rl.displs()[r], rl.counts()[r]).fast_copy_from(src(
                        from.send,
                        sl.displs()[me],
                        sl.counts()[me],
                    ))
                };
            }
        })
    }
}

/// A small reduction: each rank computes its own result (rank order kept) in its receive
/// buffer from the staged contributions: no scratch space, no writes to others' memory.
fn reduce_small<T: Data>(s: &Slots, me: usize, p: usize, n: usize, op: &Op<T>, root: usize, kind: Reduction) {
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

/// Agreement check for collectives where every rank passes the same element count.
fn counts_equal(op: &'static str) -> impl FnOnce(&Slots) -> Option<String> {
    move |s: &Slots| {
        let n = s.area.n;
        (1..n)
            .find(|&r| s.get(r).count != s.get(0).count)
            .map(|r| format!("{op}: rank 0 passes {} elements but rank {r} passes {}", s.get(0).count, s.get(r).count))
    }
}
