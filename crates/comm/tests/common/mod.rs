//! Helpers shared by the test binaries: a hang is a failure, so every job runs under a deadline.

#![allow(dead_code)] // each test binary uses its own subset

use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// The rank counts every conformance check runs at (odd and non-power-of-two sizes matter).
pub const SIZES: [usize; 5] = [1, 2, 3, 4, 7];

/// How much longer than usual a test may take: `PARSCI_TEST_TIME_SCALE` (CI sets it for
/// the ThreadSanitizer run, whose spinning ranks are many times slower), else 1.
pub fn time_scale() -> u32 {
    std::env::var("PARSCI_TEST_TIME_SCALE").ok().and_then(|v| v.parse().ok()).filter(|&k| k >= 1).unwrap_or(1)
}

/// Runs `f` on a helper thread and returns its result, or panics if it takes longer than
/// `limit` times [`time_scale`] (the job is then left hanging in the background; the test
/// process still exits). A panic inside `f` is re-raised here.
#[track_caller]
pub fn with_timeout<R: Send + 'static>(limit: Duration, what: &str, f: impl FnOnce() -> R + Send + 'static) -> R {
    let limit = limit * time_scale();
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
