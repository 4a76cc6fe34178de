//! The fences of the park/wake handshake, made asymmetric where the OS allows.
//!
//! A waiter announces it will park, then looks for its message one last time; a waker
//! publishes a message, then looks whether its receiver parked. Each side needs a full
//! fence between its store and its load, or both can miss each other. The waker runs on
//! every message; the waiter only when it is about to sleep. On Linux, `membarrier`
//! lets the waiter pay for both: it makes every running thread of the process execute
//! a full barrier, so the waker needs only a compiler fence.

use std::sync::atomic::{compiler_fence, Ordering::SeqCst};
use std::sync::OnceLock;

use super::sync::fence;

static ASYMMETRIC: OnceLock<bool> = OnceLock::new();

/// Chooses the scheme once per process, before any rank runs.
pub(crate) fn init() {
    ASYMMETRIC.get_or_init(register);
}

/// The waker's side (every message): a compiler fence, or a full one.
#[inline]
pub(crate) fn light() {
    if ASYMMETRIC.get() == Some(&true) {
        compiler_fence(SeqCst);
    } else {
        fence(SeqCst);
    }
}

/// The waiter's side (before it parks).
pub(crate) fn heavy() {
    if ASYMMETRIC.get() == Some(&true) && membarrier(PRIVATE_EXPEDITED) {
        return;
    }
    fence(SeqCst);
}

const QUERY: i32 = 0;
const PRIVATE_EXPEDITED: i32 = 1 << 3;
const REGISTER_PRIVATE_EXPEDITED: i32 = 1 << 4;

fn register() -> bool {
    if cfg!(loom) {
        // loom has no model of membarrier: its models check the symmetric fences only.
        return false;
    }
    #[cfg(target_os = "linux")]
    {
        // SAFETY: membarrier takes integer arguments only and touches no memory of ours.
        let supported = unsafe { libc::syscall(libc::SYS_membarrier, QUERY, 0, 0) };
        let both = i64::from(PRIVATE_EXPEDITED | REGISTER_PRIVATE_EXPEDITED);
        supported >= 0 && (supported as i64 & both) == both && membarrier(REGISTER_PRIVATE_EXPEDITED)
    }
    #[cfg(not(target_os = "linux"))]
    {
        false
    }
}

fn membarrier(cmd: i32) -> bool {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: as in `register`.
        unsafe { libc::syscall(libc::SYS_membarrier, cmd, 0, 0) == 0 }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = cmd;
        false
    }
}
