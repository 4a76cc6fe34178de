//! A small lock for short critical sections shared by ranks, built on the crate's atomics
//! so that ThreadSanitizer (and loom) see its acquire and release. std's `Mutex` waits in
//! its prebuilt, uninstrumented library when contended, which TSan cannot see through
//! (see `.ci/tsan.supp`).

use std::ops::{Deref, DerefMut};
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};

use super::sync::{spin_loop, thread, AtomicBool, UnsafeCell};

pub(crate) struct SpinLock<T> {
    held: AtomicBool,
    value: UnsafeCell<T>,
}

// SAFETY: the value is reached only through a guard, and one guard exists at a time.
unsafe impl<T: Send> Sync for SpinLock<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Send for SpinLock<T> {}

impl<T> SpinLock<T> {
    pub fn new(value: T) -> Self {
        SpinLock { held: AtomicBool::new(false), value: UnsafeCell::new(value) }
    }

    /// Waits for the lock: spins a little, then yields (a holder may be descheduled when
    /// ranks outnumber cores).
    pub fn lock(&self) -> SpinGuard<'_, T> {
        let mut tries = 0u32;
        while self.held.compare_exchange_weak(false, true, Acquire, Relaxed).is_err() {
            tries += 1;
            if tries < 64 {
                spin_loop();
            } else {
                thread::yield_now();
            }
        }
        SpinGuard { lock: self }
    }
}

pub(crate) struct SpinGuard<'a, T> {
    lock: &'a SpinLock<T>,
}

impl<T> Deref for SpinGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: this guard holds the lock: nobody else reaches the value.
        self.lock.value.with(|p| unsafe { &*p })
    }
}

impl<T> DerefMut for SpinGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as `deref`, and the guard is borrowed mutably.
        self.lock.value.with_mut(|p| unsafe { &mut *p })
    }
}

impl<T> Drop for SpinGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.held.store(false, Release);
    }
}
