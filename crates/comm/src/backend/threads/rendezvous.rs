//! The rendezvous protocol for large messages: the receiver copies straight out of the
//! sender's buffer, with the waiting sender copying chunks alongside.

use std::sync::atomic::Ordering::*;

use super::sync::{AtomicPtr, AtomicU8, AtomicUsize, UnsafeCell};

const POSTED: u8 = 0;
const CLAIMED: u8 = 1;
const DONE: u8 = 2;
const BUFFERING: u8 = 3;
const BUFFERED: u8 = 4;

/// Large copies are cut into chunks that the receiver and the waiting sender share.
#[cfg(not(loom))]
const CHUNK: usize = 128 << 10;
/// Chunks of a few bytes under loom: the models copy a message of several chunks.
#[cfg(loom)]
const CHUNK: usize = 4;

/// A large message the receiver copies straight out of the sender's buffer, with the
/// sender (which waits anyway) copying chunks alongside. If the receiver is late, the
/// sender copies the message aside and leaves, so a send never blocks indefinitely.
pub(crate) struct Rendezvous {
    state: AtomicU8,
    src: *const u8,
    bytes: usize,
    /// The receiver's buffer, published before CLAIMED.
    dst: AtomicPtr<u8>,
    /// Next chunk to copy, and chunks copied.
    next: AtomicUsize,
    finished: AtomicUsize,
    /// The sender's world rank, to wake it when the copy is done.
    pub sender: usize,
    aside: UnsafeCell<Vec<u8>>,
}

// SAFETY: `src` is only read while the state machine guarantees the sender's buffer is
// alive (between POSTED and DONE); `dst` only while the receiver waits for the chunks;
// `aside` is written by the sender only in BUFFERING and read by the receiver only
// after BUFFERED (release/acquire on `state`).
unsafe impl Send for Rendezvous {}
// SAFETY: as above.
unsafe impl Sync for Rendezvous {}

impl Rendezvous {
    pub fn new(src: &[u8], sender: usize) -> Self {
        Rendezvous {
            state: AtomicU8::new(POSTED),
            src: src.as_ptr(),
            bytes: src.len(),
            dst: AtomicPtr::new(std::ptr::null_mut()),
            next: AtomicUsize::new(0),
            finished: AtomicUsize::new(0),
            sender,
            aside: UnsafeCell::new(Vec::new()),
        }
    }

    /// The message's length in bytes.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    fn chunks(&self) -> usize {
        self.bytes.div_ceil(CHUNK)
    }

    /// Copies chunks until none is left. Called by the receiver, and by the sender while it waits.
    fn copy_chunks(&self) {
        let dst = self.dst.load(Acquire);
        let total = self.chunks();
        loop {
            let c = self.next.fetch_add(1, Relaxed);
            if c >= total {
                return;
            }
            let lo = c * CHUNK;
            let len = CHUNK.min(self.bytes - lo);
            // SAFETY: chunk `c` is copied by whoever took it from `next`, once; both
            // buffers are alive until `finished` reaches `total` (see `take_into`/`finish`).
            unsafe {
                let s = std::slice::from_raw_parts(self.src.add(lo), len);
                let d = std::slice::from_raw_parts_mut(dst.add(lo), len);
                crate::copy::copy(d, s);
            }
            self.finished.fetch_add(1, Release);
        }
    }

    /// Receiver side: copies the message into `dst` (`dst.len() >= bytes`).
    /// Returns true if the sender must be woken.
    /// With `oversubscribed`, short waits for the sender yield the core it may need.
    pub fn take_into(&self, dst: &mut [u8], oversubscribed: bool) -> bool {
        let pause = || {
            if oversubscribed {
                super::sync::thread::yield_now()
            } else {
                super::sync::spin_loop()
            }
        };
        assert!(dst.len() >= self.bytes, "rendezvous: receive buffer checked long enough");
        self.dst.store(dst.as_mut_ptr(), Relaxed);
        loop {
            match self.state.load(Acquire) {
                POSTED => {
                    if self.state.compare_exchange(POSTED, CLAIMED, AcqRel, Relaxed).is_ok() {
                        self.copy_chunks();
                        while self.finished.load(Acquire) < self.chunks() {
                            pause(); // the sender is finishing a chunk
                        }
                        self.state.store(DONE, Release);
                        return true;
                    }
                }
                BUFFERED => {
                    // SAFETY: BUFFERED was stored with Release after the sender's last write.
                    self.aside.with(|a| crate::copy::copy(&mut dst[..self.bytes], unsafe { &*a }));
                    return false;
                }
                _ => pause(), // BUFFERING: the sender is copying, briefly.
            }
        }
    }

    /// Sender side: true once the sender's buffer is no longer needed.
    /// While the receiver copies, the sender copies chunks too.
    pub fn is_done(&self) -> bool {
        match self.state.load(Acquire) {
            DONE | BUFFERED => true,
            CLAIMED => {
                self.copy_chunks();
                false
            }
            _ => false,
        }
    }

    /// Sender side: if the receiver has not claimed the message, copy it aside so the
    /// sender can return. Returns false if the receiver is copying it (poll `is_done`).
    pub fn try_set_aside(&self) -> bool {
        if self.state.compare_exchange(POSTED, BUFFERING, Acquire, Relaxed).is_err() {
            return self.is_done();
        }
        // SAFETY: in BUFFERING only the sender touches `aside`, and its buffer is alive.
        self.aside.with_mut(|a| unsafe {
            let src = std::slice::from_raw_parts(self.src, self.bytes);
            *a = crate::copy::to_vec(src);
        });
        self.state.store(BUFFERED, Release);
        true
    }
}
