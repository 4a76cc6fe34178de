//! The synchronisation primitives of the thread backend's lock-free parts: std's, or
//! loom's when built with `RUSTFLAGS="--cfg loom"`, so that the loom models (module
//! `loom_models`) explore every interleaving and weak-memory outcome of the real code.
//!
//! Only the types loom must see are routed through here; under loom the crate is good
//! for the loom models only (loom's types panic outside `loom::model`).

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{fence, AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicU8, AtomicUsize};
#[cfg(loom)]
pub(crate) use loom::sync::Mutex;
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{fence, AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicU8, AtomicUsize};
#[cfg(not(loom))]
pub(crate) use std::sync::Mutex;

#[cfg(not(loom))]
pub(crate) use std::sync::OnceLock;

/// std's `OnceLock` with its publication made visible to loom (loom has none): `get`
/// acquires a flag that the first `get_or_init` or `set` releases.
#[cfg(loom)]
#[derive(Debug)]
pub(crate) struct OnceLock<T> {
    ready: AtomicBool,
    value: std::sync::OnceLock<T>,
}

#[cfg(loom)]
impl<T> Default for OnceLock<T> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(loom)]
impl<T> OnceLock<T> {
    pub(crate) fn new() -> Self {
        OnceLock { ready: AtomicBool::new(false), value: std::sync::OnceLock::new() }
    }

    pub(crate) fn get(&self) -> Option<&T> {
        if self.ready.load(std::sync::atomic::Ordering::Acquire) {
            self.value.get()
        } else {
            None
        }
    }

    pub(crate) fn get_mut(&mut self) -> Option<&mut T> {
        self.value.get_mut()
    }

    pub(crate) fn get_or_init(&self, f: impl FnOnce() -> T) -> &T {
        let mut first = false;
        let v = self.value.get_or_init(|| {
            first = true;
            f()
        });
        if first {
            self.ready.store(true, std::sync::atomic::Ordering::Release);
        }
        v
    }

    pub(crate) fn set(&self, value: T) -> Result<(), T> {
        self.value.set(value)?;
        self.ready.store(true, std::sync::atomic::Ordering::Release);
        Ok(())
    }
}

/// A busy-wait hint: under loom, a yield that lets the model run the awaited thread.
#[cfg(loom)]
pub(crate) use loom::hint::spin_loop;
#[cfg(not(loom))]
pub(crate) use std::hint::spin_loop;

/// std's threads, or loom's (whose `park` has no timeout: a model that relies on the
/// timeout to make progress is reported as a deadlock, which is what the models check).
pub(crate) mod thread {
    #[cfg(loom)]
    pub(crate) use loom::thread::{current, yield_now, Thread};
    #[cfg(not(loom))]
    pub(crate) use std::thread::{current, park_timeout, yield_now, Thread};

    #[cfg(loom)]
    pub(crate) fn park_timeout(_: std::time::Duration) {
        loom::thread::park();
    }
}

/// A cell for data that atomics guard, with loom's access API (`with`, `with_mut`): under
/// loom each access is checked to be ordered after the conflicting ones (a slot read
/// before it is published is reported).
#[cfg(loom)]
pub(crate) use loom::cell::UnsafeCell;

/// A cell for data that atomics guard, with loom's access API (`with`, `with_mut`).
#[cfg(not(loom))]
#[derive(Debug)]
pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

#[cfg(not(loom))]
impl<T> UnsafeCell<T> {
    #[inline(always)]
    pub(crate) const fn new(value: T) -> Self {
        UnsafeCell(std::cell::UnsafeCell::new(value))
    }

    /// Runs `f` with a pointer to the value for reading.
    #[inline(always)]
    pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        f(self.0.get())
    }

    /// Runs `f` with a pointer to the value for writing.
    #[inline(always)]
    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}
