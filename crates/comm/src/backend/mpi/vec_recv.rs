//! Receives of unknown length (`irecv_vec`) on MPI, kept posted.
//!
//! MPI needs a length to post a receive, so an `irecv_vec` is a registered pattern that
//! is matched (`MPI_Improbe`, then `MPI_Mrecv` into a `Vec` of the probed length) by
//! progress: whenever this rank tests or waits on anything, and, while any is registered,
//! inside the blocking point-to-point calls (which then run as their non-blocking
//! forms plus progress). So "irecv_vec, then a blocking send the peer answers" works as
//! it does with MPI's own posted receives, and earlier-registered receives match first.
//! With none registered, the blocking calls are plain MPI calls.
//!
//! A registered receive names its communicator by MPI handle, valid as long as the
//! communicator lives: requests borrow their communicator, and dropping an `MpiComm`
//! withdraws whatever is still registered on it (receives whose request was leaked), so
//! no entry ever outlives its communicator or matches on a later one with a reused handle.

use std::any::Any;
use std::cell::RefCell;
use std::mem::MaybeUninit;
use std::os::raw::c_int;
use std::rc::Rc;

use mpi::ffi::{MPI_Comm, MPI_Message, MPI_Status};

use crate::error::Result;
use crate::p2p::Status;

/// A received message: the `Vec<T>` (boxed) and its status.
pub(crate) type Received = Result<(Box<dyn Any>, Status)>;
/// Receives a matched message of the probed status into a new `Vec<T>`.
pub(crate) type Mrecv = fn(&mut MPI_Message, &MPI_Status, usize) -> Received;

/// A registered `irecv_vec`.
pub(crate) struct PostedVecRecv {
    pub comm: MPI_Comm,
    pub src: c_int,
    pub tag: c_int,
    pub caller: usize,
    pub mrecv: Mrecv,
    pub result: RefCell<Option<Received>>,
}

thread_local! {
    static REGISTERED: RefCell<Vec<Rc<PostedVecRecv>>> = const { RefCell::new(Vec::new()) };
}

/// True if some `irecv_vec` waits to be matched.
#[inline]
pub(crate) fn any() -> bool {
    REGISTERED.with(|p| !p.borrow().is_empty())
}

pub(crate) fn register(slot: Rc<PostedVecRecv>) {
    REGISTERED.with(|p| p.borrow_mut().push(slot));
}

pub(crate) fn unregister(slot: &Rc<PostedVecRecv>) {
    REGISTERED.with(|p| p.borrow_mut().retain(|s| !Rc::ptr_eq(s, slot)));
}

/// Withdraws every receive registered on `comm`, which is being freed.
pub(crate) fn withdraw_comm(comm: MPI_Comm) {
    REGISTERED.with(|p| p.borrow_mut().retain(|s| s.comm != comm));
}

/// Matches every registered receive whose message is there, in registration order.
pub(crate) fn progress() {
    let slots: Vec<Rc<PostedVecRecv>> = REGISTERED.with(|p| p.borrow().clone());
    for slot in slots {
        let mut flag = 0;
        let mut msg = MaybeUninit::<MPI_Message>::uninit();
        let mut st = MaybeUninit::<MPI_Status>::zeroed();
        // SAFETY: a valid communicator; MPI writes the flag, and the message and status if set.
        let rc = unsafe {
            mpi::ffi::MPI_Improbe(slot.src, slot.tag, slot.comm, &mut flag, msg.as_mut_ptr(), st.as_mut_ptr())
        };
        if let Err(e) = super::comm::check_rc("irecv_vec", slot.caller, rc) {
            finish(&slot, Err(e));
        } else if flag != 0 {
            // SAFETY: set by MPI_Improbe with the flag.
            let (mut msg, st) = unsafe { (msg.assume_init(), st.assume_init()) };
            finish(&slot, (slot.mrecv)(&mut msg, &st, slot.caller));
        }
    }
}

/// Hands a matched message to the first registered receive (if any) whose pattern it
/// fits; gives it back if none does.
pub(crate) fn claim(comm: MPI_Comm, st: &MPI_Status, msg: &mut MPI_Message) -> bool {
    let fits = |s: &PostedVecRecv| {
        // SAFETY: reading predefined constants.
        let (any_src, any_tag) = unsafe { (mpi::ffi::RSMPI_ANY_SOURCE, mpi::ffi::RSMPI_ANY_TAG) };
        s.comm == comm && (s.src == any_src || s.src == st.MPI_SOURCE) && (s.tag == any_tag || s.tag == st.MPI_TAG)
    };
    let Some(slot) = REGISTERED.with(|p| p.borrow().iter().find(|s| fits(s)).cloned()) else { return false };
    finish(&slot, (slot.mrecv)(msg, st, slot.caller));
    true
}

fn finish(slot: &Rc<PostedVecRecv>, r: Received) {
    *slot.result.borrow_mut() = Some(r);
    unregister(slot);
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
