//! One-way message channel between two ranks: a lock-free single-producer,
//! single-consumer ring of cache-line slots, with a locked overflow queue so that a
//! send never blocks on a full ring.

use std::any::{Any, TypeId};
use std::cell::Cell;
use std::collections::VecDeque;
use std::mem::MaybeUninit;
use std::sync::atomic::Ordering::*;
use std::sync::Arc;

use super::rendezvous::Rendezvous;
use super::sync::{AtomicUsize, Mutex, OnceLock, UnsafeCell};
use super::world::Padded;

/// Bytes of payload carried inside the envelope itself.
pub(crate) const INLINE: usize = 16;
/// Bytes of payload carried in the slab beside each ring slot (allocated on first use).
pub(crate) const SLAB: usize = 1024;
#[cfg(not(loom))]
const RING: usize = 64;
/// A ring of two slots under loom: the models overflow it with a few messages.
#[cfg(loom)]
const RING: usize = 2;

/// The most elements one message may carry on the thread backend.
pub(crate) const MAX_COUNT: usize = u32::MAX as usize;

/// Identifies an element type at run time: its id, its name for messages, its size.
pub(crate) type TypeTag = fn() -> (TypeId, &'static str, usize);

pub(crate) fn type_tag<T: 'static>() -> (TypeId, &'static str, usize) {
    (TypeId::of::<T>(), std::any::type_name::<T>(), std::mem::size_of::<T>())
}

/// True if the tag names `T`: by address first (the usual case), else by id.
#[inline]
pub(crate) fn is_type<T: 'static>(tag: TypeTag) -> bool {
    std::ptr::fn_addr_eq(tag, type_tag::<T> as TypeTag) || tag().0 == TypeId::of::<T>()
}

/// Copies up to `INLINE` bytes without a call to `memcpy`.
#[inline(always)]
pub(crate) fn small_copy(dst: &mut [u8], src: &[u8]) {
    let n = src.len();
    debug_assert!(n <= INLINE && dst.len() == n);
    if n >= 8 {
        let a = u64::from_ne_bytes(src[..8].try_into().expect("8 bytes"));
        let b = u64::from_ne_bytes(src[n - 8..].try_into().expect("8 bytes"));
        dst[n - 8..].copy_from_slice(&b.to_ne_bytes());
        dst[..8].copy_from_slice(&a.to_ne_bytes());
    } else {
        for (d, s) in dst.iter_mut().zip(src) {
            *d = *s;
        }
    }
}

pub(crate) struct Envelope {
    pub ctx: u32,
    pub tag: i32,
    /// The sender's rank in the communicator `ctx`.
    pub src: u32,
    pub ty: TypeTag,
    /// Elements of the sender's type (at most `MAX_COUNT`: an envelope fits its ring slot's
    /// cache line, and MPI's counts are `int`s anyway).
    pub count: u32,
    pub payload: Payload,
    /// Strict mode: tells the sender when a receive has matched the message (or it is
    /// gone), as `MPI_Ssend` waits for.
    pub sync: Option<super::sync_send::SyncToken>,
}

pub(crate) enum Payload {
    /// `count * size_of::<T>()` bytes, stored in the slot itself.
    Inline([u8; INLINE]),
    /// `len` bytes in the slab of the envelope's ring slot (only while in the ring).
    Slab(u32),
    /// Bytes copied out of the slab when the envelope left the ring before its receive.
    Bytes(Vec<u8>),
    /// A `Vec<T>` moved from the sender (by `send_vec`, or an eager copy).
    Moved(Box<dyn Any + Send>),
    /// A large message still in the sender's buffer.
    Rdv(Arc<Rendezvous>),
}

#[repr(align(64))]
struct RingSlot {
    /// `pos + 1` once the producer has written the message at `pos` (only it writes this).
    seq: AtomicUsize,
    env: UnsafeCell<MaybeUninit<Envelope>>,
}

/// The producer's private state for one channel.
#[derive(Default)]
pub(crate) struct ProducerPos {
    pos: Cell<usize>,
    /// The consumer's position when last read: slots below `head + RING` are free.
    head: Cell<usize>,
}

#[repr(align(64))]
struct SlabCell(UnsafeCell<[u8; SLAB]>);

pub(crate) struct Channel {
    /// Allocated by the first message: with n ranks there are n^2 channels, most unused.
    slots: OnceLock<Box<[RingSlot]>>,
    /// `slab[i]` holds the payload of a `Payload::Slab` message in slot `i`.
    slab: OnceLock<Box<[SlabCell]>>,
    /// Messages the consumer has taken (only it writes this). The producer reads it only
    /// when its cached copy says the ring is full, so a message costs one cache-line
    /// transfer: the slot, written by the producer and read by the consumer.
    head: Padded<AtomicUsize>,
    overflow: Mutex<VecDeque<Envelope>>,
    /// Written only under the lock; read without it as a hint.
    overflow_len: AtomicUsize,
}

// SAFETY: a slot's envelope is written only by the single producer while the slot is
// free (`pos < head + RING`) and read only by the single consumer after it sees
// `seq == pos + 1` (release/acquire); the consumer frees it by advancing `head` (release).
unsafe impl Sync for Channel {}
// SAFETY: envelopes are Send (their raw pointers are guarded by `Rendezvous`).
unsafe impl Send for Channel {}
// SAFETY: see Rendezvous; the boxed payloads are Send.
unsafe impl Send for Envelope {}

impl Channel {
    pub fn new() -> Self {
        Channel {
            slots: OnceLock::new(),
            slab: OnceLock::new(),
            head: Padded(AtomicUsize::new(0)),
            overflow: Mutex::new(VecDeque::new()),
            overflow_len: AtomicUsize::new(0),
        }
    }

    /// Producer side. With `bytes` (at most `SLAB`), the payload is those bytes, carried
    /// in the slot's slab (or copied, if the message overflows the ring).
    #[inline]
    pub fn push(&self, me: &ProducerPos, mut env: Envelope, bytes: Option<&[u8]>) {
        let p = me.pos.get();
        if self.overflow_len.load(Acquire) == 0 {
            if p - me.head.get() >= RING {
                me.head.set(self.head.load(Acquire));
            }
            if p - me.head.get() < RING {
                let slot = &self.ring()[p % RING];
                if let Some(b) = bytes {
                    let slab =
                        self.slab.get_or_init(|| (0..RING).map(|_| SlabCell(UnsafeCell::new([0; SLAB]))).collect());
                    // SAFETY: the slab of a free slot is ours, like the slot (b.len() <= SLAB).
                    slab[p % RING].0.with_mut(|s| unsafe { (&mut *s)[..b.len()].copy_from_slice(b) });
                    env.payload = Payload::Slab(b.len() as u32);
                }
                // SAFETY: p < head + RING: the consumer is done with this slot and only we write it.
                slot.env.with_mut(|e| unsafe { (*e).write(env) });
                slot.seq.store(p + 1, Release);
                me.pos.set(p + 1);
                return;
            }
        }
        if let Some(b) = bytes {
            env.payload = Payload::Bytes(b.to_vec());
        }
        // Ring full, or older messages already overflowed: keep the order by queueing behind them.
        let mut q = self.overflow.lock().unwrap_or_else(|e| e.into_inner());
        q.push_back(env);
        self.overflow_len.store(q.len(), Release);
    }

    /// Consumer side: hands every waiting message, oldest first, to `sink`.
    /// `pos` is the consumer's own position.
    pub fn drain(&self, pos: &Cell<usize>, sink: &mut impl FnMut(Envelope)) {
        self.drain_ring(pos, sink);
        if self.overflow_len.load(Acquire) > 0 {
            let mut q = self.overflow.lock().unwrap_or_else(|e| e.into_inner());
            // Ring messages are older than overflowed ones: the producer uses the ring
            // only while the overflow is empty.
            self.drain_ring(pos, sink);
            for env in q.drain(..) {
                sink(env);
            }
            self.overflow_len.store(0, Release);
        }
    }

    /// The ring, allocated on first use (producer side).
    #[inline]
    fn ring(&self) -> &[RingSlot] {
        self.slots.get_or_init(|| {
            (0..RING)
                .map(|_| RingSlot { seq: AtomicUsize::new(0), env: UnsafeCell::new(MaybeUninit::uninit()) })
                .collect()
        })
    }

    /// The slot for position `p` if it holds the message written there (consumer side:
    /// `seq == p + 1`, published by the producer with release).
    #[inline]
    fn full_slot(&self, p: usize) -> Option<&RingSlot> {
        self.slots.get().map(|s| &s[p % RING]).filter(|s| s.seq.load(Acquire) == p + 1)
    }

    /// Marks the slot at `p` consumed.
    #[inline]
    fn release(&self, pos: &Cell<usize>, p: usize) {
        pos.set(p + 1);
        self.head.store(p + 1, Release);
    }

    /// Whether the ring holds a message at the consumer's position (one load).
    #[inline]
    pub fn ring_ready(&self, pos: &Cell<usize>) -> bool {
        self.full_slot(pos.get()).is_some()
    }

    /// True if messages went to the overflow queue.
    #[inline]
    pub fn has_overflow(&self) -> bool {
        self.overflow_len.load(Acquire) > 0
    }

    /// True if a message may be waiting (cheap check for polling).
    #[inline]
    pub fn has_message(&self, pos: &Cell<usize>) -> bool {
        self.ring_ready(pos) || self.has_overflow()
    }

    /// Consumer side: lets `f` look at the oldest message in the ring; if `f` returns
    /// `Some`, the message is consumed (dropped in its slot) and the slot released.
    #[inline]
    pub fn consume_head<R>(&self, pos: &Cell<usize>, f: impl FnOnce(&Envelope, &[u8]) -> Option<R>) -> Option<R> {
        let p = pos.get();
        let slot = self.full_slot(p)?;
        let r = slot.env.with(|e| {
            // SAFETY: seq == p + 1: the envelope (and its slab bytes) are written and only
            // we touch them until we release the slot.
            let env = unsafe { (*e).assume_init_ref() };
            f(env, self.slab_bytes(p, env))
        })?;
        // SAFETY: as above; dropped exactly once, then the slot goes back to the producer.
        slot.env.with_mut(|e| unsafe { (*e).assume_init_drop() });
        self.release(pos, p);
        Some(r)
    }

    /// Consumer side: takes the oldest message if the ring holds one and `want` accepts it
    /// (only valid when nothing older is queued elsewhere: the overflow is empty).
    #[inline]
    pub fn take_head_if(&self, pos: &Cell<usize>, want: impl FnOnce(&Envelope) -> bool) -> Option<Envelope> {
        let p = pos.get();
        let slot = self.full_slot(p)?;
        // SAFETY: seq == p + 1: the envelope is written and only we read it until we
        // release the slot below.
        if !slot.env.with(|e| want(unsafe { (*e).assume_init_ref() })) {
            return None;
        }
        // SAFETY: as above; read exactly once, then the slot goes back to the producer.
        let env = self.own(p, slot.env.with(|e| unsafe { (*e).assume_init_read() }));
        self.release(pos, p);
        Some(env)
    }

    /// The slab bytes of the message in the slot at `p` (empty unless it is `Slab`).
    #[inline]
    fn slab_bytes(&self, p: usize, env: &Envelope) -> &[u8] {
        match (&env.payload, self.slab.get()) {
            // SAFETY: the slot at p is full and ours until released; the producer wrote
            // `len` bytes of its slab before publishing it.
            (Payload::Slab(len), Some(slab)) => slab[p % RING].0.with(|s| unsafe { &(&*s)[..*len as usize] }),
            _ => &[],
        }
    }

    /// An envelope leaving its slot takes its slab bytes with it.
    fn own(&self, p: usize, mut env: Envelope) -> Envelope {
        if let Payload::Slab(_) = env.payload {
            env.payload = Payload::Bytes(self.slab_bytes(p, &env).to_vec());
        }
        env
    }

    fn drain_ring(&self, pos: &Cell<usize>, sink: &mut impl FnMut(Envelope)) {
        while let Some(slot) = self.full_slot(pos.get()) {
            let p = pos.get();
            // SAFETY: seq == p + 1: the producer wrote this envelope and will not touch the
            // slot again until we release it; we read it exactly once.
            let env = self.own(p, slot.env.with(|e| unsafe { (*e).assume_init_read() }));
            self.release(pos, p);
            sink(env);
        }
    }
}

impl Drop for Channel {
    fn drop(&mut self) {
        let head = self.head.load(Relaxed);
        let Some(slots) = self.slots.get_mut() else { return };
        for slot in slots.iter_mut() {
            let seq = slot.seq.load(Relaxed);
            if seq > head {
                // SAFETY: written at position seq - 1 >= head, so never consumed.
                slot.env.with_mut(|e| unsafe { (*e).assume_init_drop() });
            }
        }
    }
}
#[cfg(test)]
mod tests {
    /// An envelope and its sequence number share one cache line: a short message costs
    /// one line transfer between the two ranks.
    #[test]
    fn a_ring_slot_is_one_cache_line() {
        assert_eq!(std::mem::size_of::<super::RingSlot>(), 64);
    }
}
