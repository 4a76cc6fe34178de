//! Helpers shared by the test binaries: a hang is a failure, so every job runs under a deadline.

#![allow(dead_code)] // each test binary uses its own subset

use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// The rank counts every conformance check runs at (odd and non-power-of-two sizes matter).
pub const SIZES: [usize; 5] = [1, 2, 3, 4, 7];

/// Runs `f` on a helper thread and returns its result, or panics if it takes longer than
/// `limit` (the job is then left hanging in the background; the test process still exits).
/// A panic inside `f` is re-raised here.
#[track_caller]
pub fn with_timeout<R: Send + 'static>(limit: Duration, what: &str, f: impl FnOnce() -> R + Send + 'static) -> R {
    let (tx, rx) = mpsc::channel();
    let handle = thread::Builder::new()
        .name(format!("timeout-guard: {what}"))
        .spawn(move || {
            let _ = tx.send(f());
        })
        .expect("spawn the guarded thread");
    match rx.recv_timeout(limit) {
        Ok(r) => {
            let _ = handle.join();
            r
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => match handle.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => unreachable!("the guarded thread exited without a result or a panic"),
        },
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("{what}: still running after {limit:?} (a hang is a failure)"),
    }
}

/// Like [`with_timeout`], also returning how long `f` took.
#[track_caller]
pub fn timed<R: Send + 'static>(limit: Duration, what: &str, f: impl FnOnce() -> R + Send + 'static) -> (R, Duration) {
    with_timeout(limit, what, move || {
        let start = Instant::now();
        let r = f();
        (r, start.elapsed())
    })
}
