//! Launching a thread job: one thread per rank plus a deadlock monitor.

use crate::job::panic_message;
use std::fmt::Display;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::Arc;
use std::thread;

use super::comm::{CommShared, ThreadComm};
use super::endpoint::Endpoint;
use super::sync::AtomicBool;
use super::world::{Failure, World};
use crate::comm::Comm;
use crate::error::{Error, Result};

/// What `Comm::abort` unwinds a thread rank with (no panic message is printed).
pub(crate) struct AbortUnwind;

/// Science code recurses and keeps arrays on the stack more than most: give ranks room.
const RANK_STACK: usize = 16 << 20;

/// Runs `f` on `n` thread ranks; `strict`: synchronous sends (see `sync_send`); `checks`:
/// every rank of every collective checks every other's call (`JobOptions::check_collectives`).
pub(crate) fn run<R, E, F>(n: usize, strict: bool, checks: bool, f: &F) -> Result<Vec<R>>
where
    R: Send,
    E: Display,
    F: Fn(&Comm) -> Result<R, E> + Sync,
{
    let world = Arc::new(World::new(n, strict).with_checks(checks));
    let shared = Arc::new(CommShared::new(0, (0..n).collect()));
    let stop = AtomicBool::new(false);
    thread::scope(|s| {
        let monitor = s.spawn(|| world.monitor(&stop));
        let mut handles = Vec::with_capacity(n);
        for rank in 0..n {
            let (w, shared) = (world.clone(), shared.clone());
            let h = thread::Builder::new()
                .name(format!("rank-{rank}"))
                .stack_size(RANK_STACK)
                .spawn_scoped(s, move || run_rank(w, shared, rank, f))
                .map_err(|e| Error::Launch(format!("could not start the thread of rank {rank}: {e}")));
            match h {
                Ok(h) => handles.push(h),
                Err(e) => {
                    world.fail(Failure::Rank { rank, message: e.to_string() });
                    break;
                }
            }
        }
        let results: Vec<Option<R>> = handles.into_iter().map(|h| h.join().ok().flatten()).collect();
        stop.store(true, SeqCst);
        monitor.thread().unpark();
        let _ = monitor.join();
        if let Some(failure) = world.failure() {
            return Err(failure.to_error());
        }
        Ok(results.into_iter().map(|r| r.expect("no failure recorded, so every rank returned")).collect())
    })
}

fn run_rank<R, E: Display, F: Fn(&Comm) -> Result<R, E>>(
    world: Arc<World>,
    shared: Arc<CommShared>,
    rank: usize,
    f: &F,
) -> Option<R> {
    world.register(rank);
    let comm = Comm::from_threads(ThreadComm::new(Rc::new(Endpoint::new(world.clone(), rank)), shared, rank));
    let out = catch_unwind(AssertUnwindSafe(|| f(&comm)));
    let result = match out {
        Ok(Ok(v)) => Some(v),
        Ok(Err(e)) => {
            world.fail(Failure::Rank { rank, message: e.to_string() });
            None
        }
        // `Comm::abort` unwinds with this payload after recording the abort.
        Err(panic) if panic.is::<AbortUnwind>() => None,
        Err(panic) => {
            world.fail(Failure::Rank { rank, message: format!("panicked: {}", panic_message(&*panic)) });
            None
        }
    };
    world.finish(rank);
    result
}
