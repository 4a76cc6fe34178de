//! The data movement of the nonblocking collectives, run by the rank that completes the
//! set of parts: it reads and writes every rank's lent buffers directly.
//!
//! # Safety
//! Every function here needs parts whose pointers are live for the lengths their
//! collective's checks established (local checks on each rank, agreement across ranks),
//! with no other reader or writer meanwhile: each owner's scope keeps its buffers
//! borrowed until the collective is done. A rank's send and receive buffers are
//! distinct, except in place (`send == recv`), which only `reduce` allows.

use super::pending::Part;
use crate::copy::FastCopy;
use crate::data::{Data, Op};

unsafe fn src<'a, T>(p: *const u8, off: usize, len: usize) -> &'a [T] {
    // SAFETY: guaranteed by the caller (see the module's safety section).
    unsafe { std::slice::from_raw_parts((p as *const T).add(off), len) }
}

unsafe fn dst<'a, T>(p: *mut u8, off: usize, len: usize) -> &'a mut [T] {
    // SAFETY: as `src`.
    unsafe { std::slice::from_raw_parts_mut((p as *mut T).add(off), len) }
}

/// Copies `len` elements from `from` at `at` to `to` at `to_at`.
unsafe fn copy<T: Data>(to: *mut u8, to_at: usize, from: *const u8, at: usize, len: usize) {
    if len > 0 {
        // SAFETY: the caller's ranges are live and do not overlap (distinct buffers).
        unsafe { dst::<T>(to, to_at, len).fast_copy_from(src(from, at, len)) };
    }
}

/// The root's buffer to every other rank's.
pub(super) unsafe fn bcast<T: Data>(parts: &[Part]) {
    let root = &parts[parts[0].root];
    for (_, p) in parts.iter().enumerate().filter(|(r, _)| *r != parts[0].root) {
        // SAFETY: every buffer holds `count` elements (checked equal).
        unsafe { copy::<T>(p.recv, 0, root.recv, 0, root.count) };
    }
}

/// Combines the sends in rank order, chunk by chunk, into the receive buffer of the
/// root (`to_all == false`) or of every rank. A chunk of every send is read before any
/// receive buffer is written, so a send may be its own receive buffer (in place).
pub(super) unsafe fn reduce<T: Data>(parts: &[Part], op: &Op<T>, to_all: bool) {
    let n = parts[0].count;
    let step = ((16 << 10) / std::mem::size_of::<T>().max(1)).max(1);
    let mut acc = vec![T::zeroed(); step.min(n)];
    let targets = if to_all { 0..parts.len() } else { parts[0].root..parts[0].root + 1 };
    let mut at = 0;
    while at < n {
        let len = step.min(n - at);
        let acc = &mut acc[..len];
        // SAFETY: sends hold n elements (checked equal); the slices of one chunk are
        // dropped before the receive buffers are written.
        unsafe {
            acc.fast_copy_from(src(parts[0].send, at, len));
            for p in &parts[1..] {
                op.apply(acc, src(p.send, at, len));
            }
            for p in &parts[targets.clone()] {
                dst::<T>(p.recv, at, len).fast_copy_from(acc);
            }
        }
        at += len;
    }
}

/// Block `r` of the root's receive buffer from rank `r` (at the root's layout's
/// displacements for `gatherv`, else at `r * count`).
pub(super) unsafe fn gather<T: Data>(parts: &[Part]) {
    let root = &parts[parts[0].root];
    for (r, p) in parts.iter().enumerate() {
        let at = root.layout.as_ref().map_or(r * p.count, |l| l.displs()[r]);
        // SAFETY: the root's buffer holds every block (checked locally and against the counts).
        unsafe { copy::<T>(root.recv, at, p.send, 0, p.count) };
    }
}

/// Block `r` of the root's send buffer to rank `r`.
pub(super) unsafe fn scatter<T: Data>(parts: &[Part]) {
    let root = &parts[parts[0].root];
    for (r, p) in parts.iter().enumerate() {
        let (at, len) = root.layout.as_ref().map_or((r * p.count, p.count), |l| (l.displs()[r], l.counts()[r]));
        // SAFETY: the root's buffer holds every block; rank r's holds its own (checked).
        unsafe { copy::<T>(p.recv, 0, root.send, at, len) };
    }
}

/// Every rank's send to block `s` of every receive buffer (at each receiver's layout for
/// `allgatherv`).
pub(super) unsafe fn allgather<T: Data>(parts: &[Part]) {
    for to in parts {
        for (s, from) in parts.iter().enumerate() {
            let at = to.layout.as_ref().map_or(s * from.count, |l| l.displs()[s]);
            // SAFETY: every receive buffer holds every block (checked).
            unsafe { copy::<T>(to.recv, at, from.send, 0, from.count) };
        }
    }
}

/// Block `r` of rank `s`'s send to block `s` of rank `r`'s receive buffer (at the
/// layouts' displacements for `alltoallv`: `layout` sends, `layout2` receives).
pub(super) unsafe fn alltoall<T: Data>(parts: &[Part]) {
    for (r, to) in parts.iter().enumerate() {
        for (s, from) in parts.iter().enumerate() {
            let (from_at, len, to_at) = match (&from.layout, &to.layout2) {
                (Some(sl), Some(rl)) => (sl.displs()[r], sl.counts()[r], rl.displs()[s]),
                _ => (r * from.count, from.count, s * from.count),
            };
            // SAFETY: the layouts were checked against the buffers and pairwise.
            unsafe { copy::<T>(to.recv, to_at, from.send, from_at, len) };
        }
    }
}
