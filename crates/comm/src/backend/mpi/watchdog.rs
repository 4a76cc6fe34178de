//! `--watchdog SECS` on the MPI backend: MPI cannot tell a deadlock from a slow peer,
//! so a rank that waits in one communication call longer than the limit prints what it
//! waits for and aborts the job (the thread backend detects deadlocks instead).
//!
//! A rank's calls publish what they wait for only while a watchdog runs; otherwise
//! `enter` is one relaxed load.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

static ENABLED: AtomicBool = AtomicBool::new(false);
static CURRENT: Mutex<Option<Waiting>> = Mutex::new(None);

/// The call a rank is in.
#[derive(Debug, Clone)]
struct Waiting {
    op: &'static str,
    peer: String,
    tag: Option<i32>,
    since: Instant,
}

/// Marks the call in progress until dropped.
#[must_use]
pub(crate) struct Guard(bool);

impl Drop for Guard {
    #[inline]
    fn drop(&mut self) {
        if self.0 {
            leave();
        }
    }
}

#[cold]
fn leave() {
    *CURRENT.lock().unwrap_or_else(|p| p.into_inner()) = None;
}

/// True once a watchdog runs in this process.
#[inline]
pub(crate) fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// Records that this rank enters `op`, waiting for `peer` (and `tag`).
#[inline]
pub(crate) fn enter(op: &'static str, peer: impl FnOnce() -> String, tag: Option<i32>) -> Guard {
    if !enabled() {
        return Guard(false);
    }
    publish(Waiting { op, peer: peer(), tag, since: Instant::now() })
}

#[cold]
fn publish(p: Waiting) -> Guard {
    *CURRENT.lock().unwrap_or_else(|p| p.into_inner()) = Some(p);
    Guard(true)
}

/// The peer text of a point-to-point call.
pub(crate) fn peer_text(rank: usize) -> String {
    match rank {
        crate::p2p::ANY_SOURCE => "any rank".into(),
        r => format!("rank {r}"),
    }
}

/// Starts the watchdog of this process's rank `rank` (once; later calls change nothing).
pub(crate) fn start(rank: usize, limit: Duration) {
    if ENABLED.swap(true, Ordering::SeqCst) {
        return;
    }
    let tick = (limit / 10).clamp(Duration::from_millis(10), Duration::from_millis(200));
    std::thread::Builder::new()
        .name("parsci-watchdog".into())
        .spawn(move || loop {
            std::thread::sleep(tick);
            let stuck = CURRENT.lock().unwrap_or_else(|p| p.into_inner()).clone();
            if let Some(p) = stuck.filter(|p| p.since.elapsed() > limit) {
                let tag = match p.tag {
                    Some(-1) => ", any tag".to_string(),
                    Some(t) => format!(", tag {t}"),
                    None => String::new(),
                };
                eprintln!(
                    "parsci watchdog: rank {rank} has waited {:.1} s in {} (waiting for {}{tag}), longer than \
                     --watchdog {} s; aborting the job",
                    p.since.elapsed().as_secs_f64(),
                    p.op,
                    p.peer,
                    limit.as_secs_f64()
                );
                // This thread may not call MPI (MPI_THREAD_SERIALIZED: the rank's thread is
                // inside MPI): leave at once, without finalising; mpirun then ends the job.
                super::runtime::exit_now(3);
            }
        })
        .expect("spawning the watchdog thread");
}
