//! One-way message channel between two ranks: a lock-free single-producer,
//! single-consumer ring of cache-line slots, with a locked overflow queue so that a
//! send never blocks on a full ring.

use std::any::{Any, TypeId};
use std::cell::{Cell, UnsafeCell};
use std::collections::VecDeque;
use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering::*};
use std::sync::{Arc, Mutex};

/// Bytes of payload carried inside the envelope itself.
pub(crate) const INLINE: usize = 16;
const RING: usize = 64;

/// Identifies an element type at run time: its id and its name for messages.
pub(crate) type TypeTag = fn() -> (TypeId, &'static str);

pub(crate) fn type_tag<T: 'static>() -> (TypeId, &'static str) {
    (TypeId::of::<T>(), std::any::type_name::<T>())
}

pub(crate) struct Envelope {
    pub ctx: u32,
    pub tag: i32,
    /// The sender's rank in the communicator `ctx`.
    pub src: u32,
    pub ty: TypeTag,
    /// Elements of the sender's type.
    pub count: usize,
    pub payload: Payload,
}

pub(crate) enum Payload {
    /// `count * size_of::<T>()` bytes, stored in the slot itself.
    Inline([u8; INLINE]),
    /// A `Vec<T>` moved from the sender (by `send_vec`, or an eager copy).
    Moved(Box<dyn Any + Send>),
    /// A large message still in the sender's buffer.
    Rdv(Arc<Rendezvous>),
}

const POSTED: u8 = 0;
const CLAIMED: u8 = 1;
const DONE: u8 = 2;
const BUFFERING: u8 = 3;
const BUFFERED: u8 = 4;

/// A large message the receiver copies straight out of the sender's buffer.
/// If the receiver is late the sender copies it aside and leaves (see `Rendezvous::finish`).
pub(crate) struct Rendezvous {
    state: AtomicU8,
    src: *const u8,
    bytes: usize,
    /// The sender's world rank, to wake it when the copy is done.
    pub sender: usize,
    aside: UnsafeCell<Vec<u8>>,
}

// SAFETY: `src` is only read while the state machine guarantees the sender's buffer is
// alive (between POSTED and DONE); `aside` is written by the sender only in BUFFERING and
// read by the receiver only after BUFFERED (release/acquire on `state`).
unsafe impl Send for Rendezvous {}
// SAFETY: as above.
unsafe impl Sync for Rendezvous {}

impl Rendezvous {
    pub fn new(src: &[u8], sender: usize) -> Self {
        Rendezvous {
            state: AtomicU8::new(POSTED),
            src: src.as_ptr(),
            bytes: src.len(),
            sender,
            aside: UnsafeCell::new(Vec::new()),
        }
    }

    /// The message's length in bytes.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Receiver side: copies the message into `dst` (`dst.len() >= bytes`).
    /// Returns true if the sender must be woken.
    pub fn take_into(&self, dst: &mut [u8]) -> bool {
        loop {
            match self.state.load(Acquire) {
                POSTED => {
                    if self.state.compare_exchange(POSTED, CLAIMED, Acquire, Relaxed).is_ok() {
                        // SAFETY: CLAIMED keeps the sender in `finish` until DONE, so its
                        // buffer of `bytes` bytes is alive and unchanged.
                        let src = unsafe { std::slice::from_raw_parts(self.src, self.bytes) };
                        dst[..self.bytes].copy_from_slice(src);
                        self.state.store(DONE, Release);
                        return true;
                    }
                }
                BUFFERED => {
                    // SAFETY: BUFFERED was stored with Release after the sender's last write.
                    let aside = unsafe { &*self.aside.get() };
                    dst[..self.bytes].copy_from_slice(aside);
                    return false;
                }
                _ => std::hint::spin_loop(), // BUFFERING: the sender is copying, briefly.
            }
        }
    }

    /// Sender side, after `patience` polls of `is_done`: if the receiver has not
    /// claimed the message, copy it aside so the sender can return; else wait for the copy.
    pub fn is_done(&self) -> bool {
        matches!(self.state.load(Acquire), DONE | BUFFERED)
    }

    /// Sender side: ensures the sender's buffer is no longer needed. Returns false if
    /// the receiver is copying right now (poll `is_done` again).
    pub fn try_set_aside(&self) -> bool {
        if self.state.compare_exchange(POSTED, BUFFERING, Acquire, Relaxed).is_err() {
            return self.is_done();
        }
        // SAFETY: in BUFFERING only the sender touches `aside`, and its buffer is alive.
        unsafe {
            let src = std::slice::from_raw_parts(self.src, self.bytes);
            *self.aside.get() = src.to_vec();
        }
        self.state.store(BUFFERED, Release);
        true
    }
}

#[repr(align(64))]
struct Slot {
    /// `pos` when free for the producer at `pos`; `pos + 1` when full.
    seq: AtomicUsize,
    env: UnsafeCell<MaybeUninit<Envelope>>,
}

pub(crate) struct Channel {
    slots: Box<[Slot]>,
    overflow: Mutex<VecDeque<Envelope>>,
    /// Written only under the lock; read without it as a hint.
    overflow_len: AtomicUsize,
}

// SAFETY: a slot's envelope is written only by the single producer while `seq == pos`
// and read only by the single consumer after it sees `seq == pos + 1` (release/acquire).
unsafe impl Sync for Channel {}
// SAFETY: envelopes are Send (their raw pointers are guarded by `Rendezvous`).
unsafe impl Send for Channel {}
// SAFETY: see Rendezvous; the boxed payloads are Send.
unsafe impl Send for Envelope {}

impl Channel {
    pub fn new() -> Self {
        Channel {
            slots: (0..RING).map(|i| Slot { seq: AtomicUsize::new(i), env: UnsafeCell::new(MaybeUninit::uninit()) }).collect(),
            overflow: Mutex::new(VecDeque::new()),
            overflow_len: AtomicUsize::new(0),
        }
    }

    /// Producer side. `pos` is the producer's own position in this channel.
    pub fn push(&self, pos: &Cell<usize>, env: Envelope) {
        let p = pos.get();
        let slot = &self.slots[p % RING];
        if self.overflow_len.load(Acquire) == 0 && slot.seq.load(Acquire) == p {
            // SAFETY: seq == p means the consumer is done with this slot and only we write it.
            unsafe { (*slot.env.get()).write(env) };
            slot.seq.store(p + 1, Release);
            pos.set(p + 1);
            return;
        }
        // Ring full, or older messages already overflowed: keep the order by queueing behind them.
        let mut q = self.overflow.lock().unwrap_or_else(|e| e.into_inner());
        q.push_back(env);
        self.overflow_len.store(q.len(), Release);
    }

    /// Consumer side: hands every waiting message, oldest first, to `sink`.
    /// `pos` is the consumer's own position. Returns how many were taken.
    pub fn drain(&self, pos: &Cell<usize>, sink: &mut impl FnMut(Envelope)) -> usize {
        let mut n = self.drain_ring(pos, sink);
        if self.overflow_len.load(Acquire) > 0 {
            let mut q = self.overflow.lock().unwrap_or_else(|e| e.into_inner());
            // Ring messages are older than overflowed ones: the producer uses the ring
            // only while the overflow is empty.
            n += self.drain_ring(pos, sink);
            n += q.len();
            for env in q.drain(..) {
                sink(env);
            }
            self.overflow_len.store(0, Release);
        }
        n
    }

    /// True if a message may be waiting (cheap check for polling).
    #[inline]
    pub fn has_message(&self, pos: &Cell<usize>) -> bool {
        let p = pos.get();
        self.slots[p % RING].seq.load(Acquire) == p + 1 || self.overflow_len.load(Acquire) > 0
    }

    fn drain_ring(&self, pos: &Cell<usize>, sink: &mut impl FnMut(Envelope)) -> usize {
        let mut n = 0;
        loop {
            let p = pos.get();
            let slot = &self.slots[p % RING];
            if slot.seq.load(Acquire) != p + 1 {
                return n;
            }
            // SAFETY: seq == p + 1: the producer wrote this envelope and will not touch the
            // slot again until we release it; we read it exactly once.
            let env = unsafe { (*slot.env.get()).assume_init_read() };
            slot.seq.store(p + RING, Release);
            pos.set(p + 1);
            sink(env);
            n += 1;
        }
    }
}

impl Drop for Channel {
    fn drop(&mut self) {
        for (i, slot) in self.slots.iter_mut().enumerate() {
            if *slot.seq.get_mut() % RING == (i + 1) % RING {
                // SAFETY: a full slot holds an initialised envelope nobody consumed.
                unsafe { slot.env.get_mut().assume_init_drop() };
            }
        }
    }
}
