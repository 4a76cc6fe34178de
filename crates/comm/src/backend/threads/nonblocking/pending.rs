//! One nonblocking collective in flight on the thread backend, shared by its ranks.
//!
//! Each rank publishes its part (pointers into the buffers it lent to its scope) under
//! the collective's sequence number; the rank whose part completes the set performs the
//! whole collective at once, inside its own call, and wakes the others. So a collective
//! progresses without anyone polling: it is done as soon as the last rank has started it.
//! Until every part is in, a rank may withdraw its own (when the job aborts): nobody has
//! touched its buffers, and nobody will.

use std::sync::atomic::Ordering::{Acquire, Release};
use std::sync::Arc;

use super::super::channel::TypeTag;
use super::super::comm::ThreadComm;
use super::super::spin_lock::{SpinGuard, SpinLock};
use super::super::sync::AtomicBool;
use super::super::world::WaitDesc;
use crate::collective::Layout;
use crate::data::OpKind;
use crate::error::{Error, Result};

/// One rank's call, as the performing rank needs it.
#[derive(Clone)]
pub(super) struct Part {
    pub op: &'static str,
    pub root: usize,
    pub ty: TypeTag,
    pub op_kind: Option<OpKind>,
    /// The element count every rank must pass alike, or this rank's send count.
    pub count: usize,
    pub send: *const u8,
    pub recv: *mut u8,
    /// Capacity of `recv` in elements.
    pub recv_len: usize,
    pub layout: Option<Layout>,
    pub layout2: Option<Layout>,
    /// This rank's own argument error, as text.
    pub err: Option<String>,
}

// SAFETY: the pointers are dereferenced only by the performing rank, while the owner's
// scope keeps the buffers borrowed (it waits for the collective before it returns).
unsafe impl Send for Part {}

impl Part {
    pub fn new(op: &'static str, ty: TypeTag) -> Self {
        Part {
            op,
            root: 0,
            ty,
            op_kind: None,
            count: 0,
            send: std::ptr::null(),
            recv: std::ptr::null_mut(),
            recv_len: 0,
            layout: None,
            layout2: None,
            err: None,
        }
    }
}

/// The parts published so far, and the outcome once performed.
struct Arrivals {
    parts: Vec<Option<Part>>,
    arrived: usize,
    outcome: Option<Result<()>>,
}

/// A collective some ranks have started.
pub(crate) struct Pending {
    arrivals: SpinLock<Arrivals>,
    /// Set (release) once `outcome` is: a poll reads it without the lock.
    done: AtomicBool,
}

impl Pending {
    fn new(n: usize) -> Self {
        Pending {
            arrivals: SpinLock::new(Arrivals { parts: vec![None; n], arrived: 0, outcome: None }),
            done: AtomicBool::new(false),
        }
    }

    fn arrivals(&self) -> SpinGuard<'_, Arrivals> {
        self.arrivals.lock()
    }

    /// The outcome, once the performing rank has finished.
    pub fn outcome(&self) -> Option<Result<()>> {
        if !self.done.load(Acquire) {
            return None;
        }
        Some(self.arrivals().outcome.clone().expect("set before `done`"))
    }
}

impl ThreadComm {
    /// Publishes this rank's `part` of the next nonblocking collective. If it is the last
    /// part, checks that all agree (`agree` adds the collective's own checks) and runs
    /// `perform` on them before returning.
    pub(super) fn start_nonblocking(
        &self,
        part: Part,
        agree: impl FnOnce(&[Part]) -> Option<String>,
        perform: impl FnOnce(&[Part]),
    ) -> Arc<Pending> {
        let seq = self.icoll_seq.get();
        self.icoll_seq.set(seq + 1);
        let n = self.size();
        let pending = {
            let mut table = self.shared.nonblocking.lock();
            table.entry(seq).or_insert_with(|| Arc::new(Pending::new(n))).clone()
        };
        let mut a = pending.arrivals();
        a.parts[self.rank] = Some(part);
        a.arrived += 1;
        if a.arrived < n {
            return pending.clone();
        }
        // Complete: nobody can withdraw any more, and nobody else will look at the parts.
        let parts: Vec<Part> = a.parts.iter_mut().map(|p| p.take().expect("every part arrived")).collect();
        drop(a);
        self.shared.nonblocking.lock().remove(&seq);
        let verdict = match disagreement(&parts).or_else(|| agree(&parts)) {
            Some(details) => Err(Error::CollectiveMismatch { caller: self.rank, details }),
            None => Ok(()),
        };
        let ran = match verdict {
            Ok(()) => std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| perform(&parts))),
            Err(_) => Ok(()),
        };
        let outcome = match (&verdict, &ran) {
            (Err(e), _) => Err(e.clone()),
            (Ok(()), Ok(())) => Ok(()),
            (Ok(()), Err(_)) => Err(Error::Aborted {
                rank: self.me(),
                op: parts[0].op,
                cause: format!("rank {} panicked in the reduction of {}", self.me(), parts[0].op),
            }),
        };
        pending.arrivals().outcome = Some(outcome);
        pending.done.store(true, Release);
        let world = self.world();
        for (r, &w) in self.shared.group.iter().enumerate() {
            if r != self.rank {
                world.wake(w);
            }
        }
        if let Err(panic) = ran {
            std::panic::resume_unwind(panic);
        }
        pending
    }

    /// Blocks until `pending` is done (parked, as any blocking call). If the job aborts
    /// first, withdraws this rank's part if the collective has not started, else waits
    /// for the rank performing it (which never blocks).
    pub(super) fn wait_nonblocking(&self, pending: &Pending, op: &'static str) -> Result<()> {
        let desc = || {
            let a = pending.arrivals();
            let missing: Vec<usize> =
                (0..a.parts.len()).filter(|&r| a.parts[r].is_none()).map(|r| self.shared.group[r]).collect();
            WaitDesc { op, peer: format!("ranks {missing:?} to start it"), tag: None }
        };
        let poll = || {
            self.progress_posted();
            Ok(pending.outcome())
        };
        match self.world().wait_until(self.me(), desc, poll) {
            Ok(outcome) => outcome,
            Err(abort) => {
                let mut a = pending.arrivals();
                if a.arrived < a.parts.len() {
                    // Incomplete, so nobody will perform it: withdraw (unless done already).
                    if a.parts[self.rank].take().is_some() {
                        a.arrived -= 1;
                    }
                    return Err(abort);
                }
                drop(a);
                loop {
                    if let Some(outcome) = pending.outcome() {
                        return outcome;
                    }
                    std::thread::yield_now();
                }
            }
        }
    }
}

/// What every nonblocking collective checks: an argument error, the operation, the
/// root, the element type, the reduction (in the words of the blocking collectives).
fn disagreement(parts: &[Part]) -> Option<String> {
    if let Some((r, p)) = parts.iter().enumerate().find(|(_, p)| p.err.is_some()) {
        return Some(format!("rank {r} rejected its arguments to {}: {}", p.op, p.err.as_deref().unwrap_or("")));
    }
    let first = &parts[0];
    let list = |f: &dyn Fn(&Part) -> String| {
        parts.iter().enumerate().map(|(r, p)| format!("rank {r}: {}", f(p))).collect::<Vec<_>>().join(", ")
    };
    if parts.iter().any(|p| p.op != first.op) {
        let calls: Vec<String> = parts.iter().enumerate().map(|(r, p)| format!("rank {r} called {}", p.op)).collect();
        return Some(calls.join(", "));
    }
    let op = first.op;
    if parts.iter().any(|p| p.root != first.root) {
        return Some(format!("{op} with different roots ({})", list(&|p| p.root.to_string())));
    }
    if parts.iter().any(|p| (p.ty)().0 != (first.ty)().0) {
        let name = |p: &Part| crate::data::short_name((p.ty)().1).to_string();
        return Some(format!("{op} with different element types ({})", list(&name)));
    }
    if parts.iter().any(|p| p.op_kind != first.op_kind) {
        return Some(format!("{op} with different operations ({})", list(&|p| format!("{:?}", p.op_kind))));
    }
    None
}
