//! Posted non-blocking receives on MPI (`irecv`, the scoped `irecv`, `irecv_vec`), kept
//! in a registry of this rank and matched by parsci, not by `MPI_Irecv`.
//!
//! MPI needs a buffer at least as long as the message it receives (Open MPI writes past
//! a shorter one: see `matched`), and `irecv_vec` has no length at all. So a posted
//! receive is a registered pattern with a target (a buffer of known capacity, or a new
//! `Vec`), matched by progress with `MPI_Improbe`: a message that fits a buffer starts
//! `MPI_Imrecv` into it (a large message then travels in the background, as with
//! `MPI_Irecv`); one that does not fit is received into scratch space and completes the
//! receive with an error; an `irecv_vec` receives into a `Vec` of the probed length.
//!
//! **When a posted receive is matched:** when the receive is posted (a message already
//! there matches at once), and whenever this rank next calls into parsci's point-to-point:
//! `test`/`wait` of any request, and, while any receive is registered, every blocking
//! point-to-point call (which then runs as its non-blocking form plus progress), not
//! inside a collective. So "irecv, then a blocking send the peer answers" works as it
//! does with MPI's own posted receives. Matching keeps MPI's order: a message goes to the
//! earliest-posted receive whose pattern it fits, and a blocking receive gets a message
//! only if no registered receive takes it (see `claim`). With none registered, the
//! blocking calls are plain MPI calls.
//!
//! A registered receive names its communicator by MPI handle, valid as long as the
//! communicator lives: requests borrow their communicator, and dropping an `MpiComm`
//! withdraws whatever is still registered on it (receives whose request was leaked), so
//! no entry ever outlives its communicator or matches on a later one with a reused handle.
//! A communicator that had such a receive is then not freed in MPI but leaked with it,
//! as a leaked `MPI_Irecv` would keep it: Open MPI would otherwise give its context to a
//! later communicator, into which the messages meant for the leaked receive would fall.

use std::any::Any;
use std::cell::RefCell;
use std::mem::MaybeUninit;
use std::os::raw::c_int;
use std::rc::Rc;

use mpi::ffi::{MPI_Comm, MPI_Message, MPI_Request, MPI_Status};

use super::comm::check_rc;
use super::matched::{discard, fit, Shape};
use super::request::completed_recv;
use crate::error::{Error, Result};
use crate::p2p::Status;

/// A received message: the `Vec<T>` (boxed; `()` for a buffer) and its status.
pub(crate) type Received = Result<(Box<dyn Any>, Status)>;
/// Receives a matched message of the probed status into a new `Vec<T>`.
pub(crate) type Mrecv = fn(&mut MPI_Message, &MPI_Status, usize) -> Received;

/// Where a posted receive puts its message.
pub(crate) enum Target {
    /// A new `Vec<T>` of the message's length (`irecv_vec`).
    Vec(Mrecv),
    /// The buffer at `ptr` of `shape` (an `irecv`'s own storage, or the buffer lent to a
    /// scoped `irecv`), written by `MPI_Imrecv` once matched. Whoever posts the receive
    /// keeps that memory alive until the receive has ended ([`PostedRecv::end`]), or
    /// leaks it.
    Buffer(*mut u8, Shape),
}

/// Where a posted receive is in its life.
enum State {
    /// Registered, waiting for its message.
    Posted,
    /// Matched: `MPI_Imrecv` is moving the message into the buffer.
    Receiving(MPI_Request),
    /// Complete, its result not yet taken.
    Done(Received),
    /// Complete and taken, or cancelled.
    Ended,
}

/// A posted receive: its pattern, its target and its state, shared by its request and
/// (while it waits for a match) the registry.
pub(crate) struct PostedRecv {
    comm: MPI_Comm,
    src: c_int,
    tag: c_int,
    caller: usize,
    op: &'static str,
    target: Target,
    state: RefCell<State>,
}

thread_local! {
    static REGISTERED: RefCell<Vec<Rc<PostedRecv>>> = const { RefCell::new(Vec::new()) };
}

/// True if some posted receive waits to be matched.
#[inline]
pub(crate) fn any() -> bool {
    REGISTERED.with(|p| !p.borrow().is_empty())
}

fn unregister(slot: &PostedRecv) {
    REGISTERED.with(|p| p.borrow_mut().retain(|s| !std::ptr::eq(&**s, slot)));
}

/// Withdraws every receive registered on `comm`, which is being dropped; true if there
/// was one (a receive whose request was leaked).
pub(crate) fn withdraw_comm(comm: MPI_Comm) -> bool {
    REGISTERED.with(|p| {
        let mut p = p.borrow_mut();
        let before = p.len();
        p.retain(|s| s.comm != comm);
        p.len() != before
    })
}

/// Matches every registered receive whose message is there, in posting order.
pub(crate) fn progress() {
    if !any() {
        return;
    }
    let slots: Vec<Rc<PostedRecv>> = REGISTERED.with(|p| p.borrow().clone());
    for slot in slots {
        // A message this receive probes may go to an earlier one (posted first, and
        // reached by a message that came since its own probe): then probe again.
        while matches!(*slot.state.borrow(), State::Posted) {
            let mut flag = 0;
            let mut msg = MaybeUninit::<MPI_Message>::uninit();
            let mut st = MaybeUninit::<MPI_Status>::zeroed();
            // SAFETY: a valid communicator (withdrawn before it is freed); MPI writes the
            // flag, and the message and status if set.
            let rc = unsafe {
                mpi::ffi::MPI_Improbe(slot.src, slot.tag, slot.comm, &mut flag, msg.as_mut_ptr(), st.as_mut_ptr())
            };
            if let Err(e) = check_rc(slot.op, slot.caller, rc) {
                slot.finish(State::Done(Err(e)));
                break;
            }
            if flag == 0 {
                break;
            }
            // SAFETY: set by MPI_Improbe with the flag.
            let (mut msg, st) = unsafe { (msg.assume_init(), st.assume_init()) };
            if !claim(slot.comm, &st, &mut msg) {
                slot.matched(&mut msg, &st); // withdrawn meanwhile: still, never lose a matched message
            }
        }
    }
}

/// Hands a matched message to the first registered receive (if any) whose pattern it
/// fits; gives it back if none does.
pub(crate) fn claim(comm: MPI_Comm, st: &MPI_Status, msg: &mut MPI_Message) -> bool {
    let fits = |s: &PostedRecv| {
        // SAFETY: reading predefined constants.
        let (any_src, any_tag) = unsafe { (mpi::ffi::RSMPI_ANY_SOURCE, mpi::ffi::RSMPI_ANY_TAG) };
        s.comm == comm && (s.src == any_src || s.src == st.MPI_SOURCE) && (s.tag == any_tag || s.tag == st.MPI_TAG)
    };
    let Some(slot) = REGISTERED.with(|p| p.borrow().iter().find(|s| fits(s)).cloned()) else { return false };
    slot.matched(msg, st);
    true
}

/// Runs `poll` (which returns `Some` when its operation is complete) with progress
/// between polls, until it completes.
pub(crate) fn spin<R>(mut poll: impl FnMut() -> Option<R>) -> R {
    loop {
        progress();
        if let Some(r) = poll() {
            return r;
        }
        std::hint::spin_loop();
    }
}

impl PostedRecv {
    /// Posts a receive of `op` by `caller` of (src, tag) (MPI's ranks and tags, not
    /// `PROC_NULL`) on `comm`, into `target`, and matches a message already there.
    ///
    /// # Safety
    /// A [`Target::Buffer`] must stay valid for writes of its shape until the receive has
    /// ended ([`end`](Self::end), or a completed `wait`/`poll`), or be leaked with the
    /// returned handle; `comm` must stay valid while the receive is registered (an
    /// `MpiComm` withdraws its receives when dropped).
    pub(crate) unsafe fn post(
        comm: MPI_Comm,
        src: c_int,
        tag: c_int,
        caller: usize,
        op: &'static str,
        target: Target,
    ) -> Rc<PostedRecv> {
        let slot = Rc::new(PostedRecv { comm, src, tag, caller, op, target, state: RefCell::new(State::Posted) });
        REGISTERED.with(|p| p.borrow_mut().push(slot.clone()));
        // Match a message that is already here at once, as a posted MPI receive (and the
        // thread backend's) does: dropping the request then consumes it on both backends.
        progress();
        slot
    }

    fn finish(&self, state: State) {
        *self.state.borrow_mut() = state;
        unregister(self);
    }

    /// Takes the message `msg` (probed as `st`) that matched this receive.
    fn matched(&self, msg: &mut MPI_Message, st: &MPI_Status) {
        let (op, caller) = (self.op, self.caller);
        let state = match &self.target {
            Target::Vec(mrecv) => State::Done(mrecv(msg, st, caller)),
            Target::Buffer(ptr, shape) => match fit(op, caller, st, shape) {
                Ok(n) => {
                    let mut req = MaybeUninit::<MPI_Request>::uninit();
                    // SAFETY: the buffer holds `shape.capacity >= n` elements of
                    // `shape.dt` and stays valid until the receive ends (`post`'s contract).
                    let rc = unsafe { mpi::ffi::MPI_Imrecv(ptr.cast(), n, shape.dt, msg, req.as_mut_ptr()) };
                    match check_rc(op, caller, rc) {
                        // SAFETY: MPI_Imrecv succeeded, so it wrote the request.
                        Ok(()) => State::Receiving(unsafe { req.assume_init() }),
                        Err(e) => State::Done(Err(e)),
                    }
                }
                Err(e) => State::Done(discard(op, caller, msg, st).and(Err(e))),
            },
        };
        self.finish(state);
    }

    /// The result of the finished `MPI_Imrecv` into the buffer.
    fn received(&self, rc: c_int, st: &MPI_Status) -> Received {
        let Target::Buffer(_, shape) = &self.target else {
            unreachable!("only buffers are received in the background")
        };
        let status = completed_recv(self.op, self.caller, rc, st, shape.elem, shape.capacity, shape.type_name)?;
        Ok((Box::new(()), status))
    }

    /// The result, taken, if the receive is complete (matched and, for a buffer, its
    /// message in it); `None` if not yet. Does no progress of its own.
    pub(crate) fn poll(&self) -> Option<Received> {
        let mut state = self.state.borrow_mut();
        match &mut *state {
            State::Posted => None,
            State::Receiving(req) => {
                let mut flag = 0;
                let mut st = MaybeUninit::<MPI_Status>::zeroed();
                // SAFETY: an active request of this process.
                let rc = unsafe { mpi::ffi::MPI_Test(req, &mut flag, st.as_mut_ptr()) };
                if rc == mpi::ffi::MPI_SUCCESS as c_int && flag == 0 {
                    return None;
                }
                *state = State::Ended;
                // SAFETY: zeroed, then filled by MPI_Test for the completed request.
                Some(self.received(rc, &unsafe { st.assume_init() }))
            }
            State::Done(_) => match std::mem::replace(&mut *state, State::Ended) {
                State::Done(r) => Some(r),
                _ => unreachable!(),
            },
            State::Ended => Some(Err(self.ended())),
        }
    }

    #[cold]
    fn ended(&self) -> Error {
        let msg = "the receive has already ended".to_string();
        Error::InvalidArgument { op: self.op, caller: self.caller, msg }
    }

    /// Blocks until the receive is complete, with progress of the others; its result.
    /// (The caller publishes the wait to the watchdog.)
    pub(crate) fn wait(&self) -> Received {
        spin(|| {
            if !any() {
                let mut state = self.state.borrow_mut();
                if let State::Receiving(req) = &mut *state {
                    // Nothing else to progress: block in MPI until the transfer is done.
                    let mut st = MaybeUninit::<MPI_Status>::zeroed();
                    // SAFETY: an active request of this process; MPI sets it to MPI_REQUEST_NULL.
                    let rc = unsafe { mpi::ffi::MPI_Wait(req, st.as_mut_ptr()) };
                    *state = State::Ended;
                    drop(state);
                    // SAFETY: zeroed, then filled by MPI_Wait.
                    return Some(self.received(rc, &unsafe { st.assume_init() }));
                }
            }
            self.poll()
        })
    }

    /// Ends the receive, as its request goes away: a message that is already here
    /// matches first (as it would have matched an `MPI_Irecv`), then a receive still
    /// unmatched is withdrawn (cancelled), and one whose message is on its way into the
    /// buffer waits until it is there (consumed). Afterwards MPI holds no pointer into
    /// the buffer.
    pub(crate) fn end(&self) {
        if matches!(*self.state.borrow(), State::Posted) {
            progress();
        }
        let mut state = self.state.borrow_mut();
        match &mut *state {
            State::Posted => {
                *state = State::Ended;
                drop(state);
                unregister(self);
            }
            State::Receiving(req) => {
                // SAFETY: an active request of this process; MPI sets it to MPI_REQUEST_NULL.
                unsafe { mpi::ffi::MPI_Wait(req, mpi::ffi::RSMPI_STATUS_IGNORE) };
                *state = State::Ended;
            }
            State::Done(_) | State::Ended => *state = State::Ended,
        }
    }
}
