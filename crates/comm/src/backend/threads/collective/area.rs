//! The shared area of a communicator's collectives: each rank's published call (its
//! buffers, counts, root), the staging space of small collectives, the barrier counters,
//! and the helpers that read and write other ranks' buffers.

use std::cell::UnsafeCell;

use super::super::channel::{type_tag, TypeTag};
use super::super::sync::AtomicU64;
use super::super::world::Padded;
use crate::collective::Layout;
use crate::copy::FastCopy;
use crate::data::{Data, OpKind};

#[derive(Clone, Copy)]
pub(super) struct Call {
    pub(super) op: &'static str,
    pub(super) root: usize,
    pub(super) ty: TypeTag,
    pub(super) count: usize,
    pub(super) send: *const u8,
    pub(super) recv: *mut u8,
    /// Capacity of `recv` in elements (0 where not significant).
    pub(super) recv_len: usize,
    pub(super) layout: *const Layout,
    pub(super) layout2: *const Layout,
    pub(super) op_kind: Option<OpKind>,
    /// This rank's own argument error, if any.
    pub(super) err: *const String,
    /// Staged in the slot (a small collective).
    pub(super) small: bool,
}

impl Call {
    pub(super) fn new<T: Data>(op: &'static str) -> Self {
        Call {
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
            small: false,
        }
    }
    pub(super) fn layout<'a>(&self) -> Option<&'a Layout> {
        // SAFETY: set from a `&Layout` the owner keeps borrowed until the closing barrier.
        unsafe { self.layout.as_ref() }
    }
    pub(super) fn layout2<'a>(&self) -> Option<&'a Layout> {
        // SAFETY: as `layout`.
        unsafe { self.layout2.as_ref() }
    }
}

/// Up to this many ranks, a rank waiting in a barrier names the ranks still missing
/// (in the deadlock report); above, it counts them.
pub(super) const LIST_MISSING: usize = 64;

/// Bytes a rank can stage in its slot for a small collective.
pub(super) const STAGE_BYTES: usize = 1024;

#[repr(C, align(8))]
pub(super) struct Stage(pub(super) [u8; STAGE_BYTES]);

/// The fields of a call that every rank must agree on, packed: equal signatures mean
/// equal calls (the same operation, element type, count, root and reduction, no
/// argument error); different ones are examined in the full `Call`s (`verdict`).
#[derive(Clone, Copy, Default)]
pub(super) struct Sig([u64; 5]);

impl PartialEq for Sig {
    fn eq(&self, o: &Sig) -> bool {
        // Branch-free, without the call to `memcmp` that comparing the arrays compiles to.
        self.0.iter().zip(&o.0).fold(0, |d, (a, b)| d | (a ^ b)) == 0
    }
}

impl Call {
    pub(super) fn sig(&self) -> Sig {
        let kind = match self.op_kind {
            None => 0,
            Some(OpKind::Sum) => 1,
            Some(OpKind::Prod) => 2,
            Some(OpKind::Min) => 3,
            Some(OpKind::Max) => 4,
            Some(OpKind::User { commutative }) => 5 + u64::from(commutative),
        };
        let flags =
            (self.op.len() as u64) << 32 | kind << 16 | u64::from(self.small) << 8 | u64::from(!self.err.is_null());
        Sig([self.op.as_ptr() as u64, self.ty as usize as u64, self.count as u64, self.root as u64, flags])
    }
}

/// A rank's slot. Its first cache line holds the collective's number, the signature of
/// the call and the first bytes of the staged data: in the usual case (every rank agrees,
/// little data) the others read that line and nothing else of the slot.
/// Everything another rank reads before it may use this rank's buffers lives here, in
/// the area, so that it stays valid if this rank leaves an aborted job early.
#[repr(C)]
pub(super) struct CallCell {
    /// The number (from 1) of this rank's collective whose call the slot holds: stored
    /// (release) once the slot is written. In small communicators this is the opening
    /// meeting: a rank waits for the others' numbers, not for a shared counter.
    pub(super) seq: AtomicU64,
    pub(super) sig: UnsafeCell<Sig>,
    pub(super) stage: UnsafeCell<Stage>,
    pub(super) call: UnsafeCell<Option<Call>>,
    /// This rank's argument error, if any (`call.err` points here).
    pub(super) err: UnsafeCell<String>,
}

impl CallCell {
    fn new() -> Self {
        CallCell {
            seq: AtomicU64::new(0),
            sig: UnsafeCell::new(Sig::default()),
            stage: UnsafeCell::new(Stage([0; STAGE_BYTES])),
            call: UnsafeCell::new(None),
            err: UnsafeCell::new(String::new()),
        }
    }
}

/// Communicators up to this size open a collective by per-rank sequence numbers (each
/// rank writes only its own slot; a waiter reads the others'); larger ones by one shared
/// counter, so that a rank's arrival need not look at every other rank to wake it.
pub(super) const FLAG_RANKS: usize = 64;

/// True if `n` elements of `T` fit in a slot's stage (the same answer on every rank that
/// passes the same count).
pub(super) fn stageable<T>(n: usize) -> bool {
    n.checked_mul(std::mem::size_of::<T>()).is_some_and(|b| b <= STAGE_BYTES)
        && std::mem::align_of::<T>() <= std::mem::align_of::<Stage>()
}

pub(crate) struct CollArea {
    pub(super) n: usize,
    /// Slots per rank, used in turn by its collectives: 2 in large communicators (a rank
    /// may start the next collective while a slow one still reads the previous slots),
    /// 4 in small ones (a rank that reads nobody's slot may run up to 3 collectives ahead,
    /// and checks whether it may reuse a slot once every 3 collectives).
    pub(super) depth: usize,
    /// `calls[parity * n + rank]`, `parity` = (collective number - 1) mod `depth`.
    pub(super) calls: Box<[Padded<CallCell>]>,
    /// Barrier phases each rank has reached (for the report of who is missing).
    pub(super) arrived: Box<[Padded<AtomicU64>]>,
    /// Arrivals of all ranks at all phases: phase `k` is complete at `k * n`.
    pub(super) total: Padded<AtomicU64>,
}

// SAFETY: a rank writes only its own slot, before the opening barrier of a collective;
// the others read it only between that barrier and the opening barrier of the collective
// `depth` later (whose writer waits for them: `phase` or `reuse`). Barriers and the
// slots' numbers order these accesses (release/acquire).
unsafe impl Sync for CollArea {}
// SAFETY: as above; the raw pointers are only dereferenced under that discipline.
unsafe impl Send for CollArea {}

impl CollArea {
    pub fn new(n: usize) -> Self {
        let depth = if n <= FLAG_RANKS { 4 } else { 2 };
        debug_assert!(usize::is_power_of_two(depth), "slots are found by a mask");
        CollArea {
            n,
            depth,
            calls: (0..depth * n).map(|_| Padded(CallCell::new())).collect(),
            arrived: (0..n).map(|_| Padded(AtomicU64::new(0))).collect(),
            total: Padded(AtomicU64::new(0)),
        }
    }
}

/// The published slots of one collective.
pub(super) struct Calls<'a> {
    pub(super) area: &'a CollArea,
    pub(super) parity: usize,
}

impl CollArea {
    /// The slots of collective number `k` (from 1): `depth` is a power of two, so this is
    /// a mask, not a division (a `div` per slot looked at was a tenth of a small call).
    #[inline]
    pub(super) fn parity(&self, k: u64) -> usize {
        (k.wrapping_sub(1) as usize) & (self.depth - 1)
    }

    /// `rank`'s slot for its collective number `k` (from 1).
    #[inline]
    pub(super) fn slot(&self, k: u64, rank: usize) -> &CallCell {
        &self.calls[self.parity(k) * self.n + rank]
    }
}

impl Calls<'_> {
    pub(super) fn get(&self, rank: usize) -> Call {
        // SAFETY: read after the opening barrier, which every writer passed after writing.
        unsafe { (*self.area.calls[self.parity * self.area.n + rank].call.get()).expect("written before the barrier") }
    }

    /// The signature of `rank`'s call.
    pub(super) fn sig(&self, rank: usize) -> Sig {
        // SAFETY: as in `get`.
        unsafe { *self.area.calls[self.parity * self.area.n + rank].sig.get() }
    }

    /// Where `rank` staged its data (a small collective's only source of others' data).
    pub(super) fn stage(&self, rank: usize) -> *const u8 {
        self.area.calls[self.parity * self.area.n + rank].stage.get().cast_const().cast()
    }
}

/// Cache-line aligned, balanced share of `0..n` for `part` of `parts`.
pub(super) fn share<T>(n: usize, part: usize, parts: usize) -> std::ops::Range<usize> {
    let unit = (64 / std::mem::size_of::<T>().max(1)).max(1);
    let units = n.div_ceil(unit);
    let l = Layout::balanced(units, parts);
    let r = l.range(part);
    (r.start * unit).min(n)..(r.end * unit).min(n)
}

/// Copies, into this rank's receive buffer, every other rank's share of the result from
/// that rank's receive buffer: the second half of a large allreduce, in which each rank
/// reduced its own share ([`share`]) of `n` elements.
///
/// # Safety
/// Every rank must have finished writing its share (the caller passed the barrier after
/// the reduction), and nobody may write the others' shares until the next barrier.
pub(super) unsafe fn copy_others_shares<T: Data>(s: &Calls, me: usize, p: usize, n: usize) {
    for r in (0..p).filter(|&r| r != me) {
        let theirs = share::<T>(n, r, p);
        // SAFETY: rank r's share of its buffer is final and only read (the caller's
        // contract); that range of our buffer is written by us alone.
        unsafe {
            dst::<T>(s.get(me).recv, theirs.start, theirs.len()).fast_copy_from(src(
                s.get(r).recv,
                theirs.start,
                theirs.len(),
            ))
        };
    }
}

/// Elements per reduction chunk: small enough to stay in L1 while ranks are combined.
pub(super) fn chunk<T>() -> usize {
    (16 << 10) / std::mem::size_of::<T>().max(1)
}

/// # Safety
/// `p` must point to at least `off + len` live `T`s that nobody writes meanwhile.
pub(super) unsafe fn src<'a, T>(p: *const u8, off: usize, len: usize) -> &'a [T] {
    // SAFETY: guaranteed by the caller.
    unsafe { std::slice::from_raw_parts((p as *const T).add(off), len) }
}

/// # Safety
/// `p` must point to at least `off + len` live `T`s that nobody else reads or writes meanwhile.
pub(super) unsafe fn dst<'a, T>(p: *mut u8, off: usize, len: usize) -> &'a mut [T] {
    // SAFETY: guaranteed by the caller.
    unsafe { std::slice::from_raw_parts_mut((p as *mut T).add(off), len) }
}
