//! The shared area of a communicator's collectives: each rank's published call (its
//! buffers, counts, root), the staging space of small collectives, the barrier counters,
//! and the helpers that read and write other ranks' buffers.

use std::cell::UnsafeCell;

use super::super::channel::{type_tag, TypeTag};
use super::super::sync::AtomicU64;
use super::super::world::Padded;
use crate::collective::Layout;
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

#[repr(align(64))]
pub(super) struct Stage(pub(super) [u8; STAGE_BYTES]);

/// A rank's slot: the description of its call, and room to stage small data so that a
/// small collective needs no closing barrier (nobody touches another rank's buffers).
pub(super) struct CallCell(pub(super) UnsafeCell<Option<Call>>, pub(super) UnsafeCell<Stage>);

/// True if `n` elements of `T` fit in a slot's stage (the same answer on every rank that
/// passes the same count).
pub(super) fn stageable<T>(n: usize) -> bool {
    n * std::mem::size_of::<T>() <= STAGE_BYTES && std::mem::align_of::<T>() <= 64
}

pub(crate) struct CollArea {
    pub(super) n: usize,
    /// `calls[parity * n + rank]`.
    pub(super) calls: Box<[Padded<CallCell>]>,
    /// Barrier phases each rank has reached (for the report of who is missing).
    pub(super) arrived: Box<[Padded<AtomicU64>]>,
    /// Arrivals of all ranks at all phases: phase `k` is complete at `k * n`.
    pub(super) total: Padded<AtomicU64>,
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
            calls: (0..2 * n)
                .map(|_| Padded(CallCell(UnsafeCell::new(None), UnsafeCell::new(Stage([0; STAGE_BYTES])))))
                .collect(),
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

impl Calls<'_> {
    pub(super) fn get(&self, rank: usize) -> Call {
        // SAFETY: read after the opening barrier, which every writer passed after writing.
        unsafe { (*self.area.calls[self.parity * self.area.n + rank].0 .0.get()).expect("written before the barrier") }
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
