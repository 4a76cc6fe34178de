//! Scoped receives on the thread backend (see `crate::scope`): the receive shares the
//! caller's buffer, as a raw pointer, with the scope that lent it, so that whichever
//! finishes the receive (its request, or the scope's end for a leaked or dropped one)
//! delivers a message that has matched it into the buffer, as MPI would have written it.

use std::cell::Cell;
use std::marker::PhantomData;
use std::rc::Rc;

use super::channel::Envelope;
use super::comm::ThreadComm;
use super::endpoint::{Matched, Posted};
use super::p2p::{check, deliver, PostedRecv};
use crate::data::Data;
use crate::error::Result;
use crate::p2p::Status;

/// The buffer of a scoped receive, delivered into at most once.
pub(crate) struct RecvTarget {
    ptr: *mut u8,
    /// Elements of the receive's type.
    cap: usize,
    deliver: unsafe fn(&ThreadComm, Envelope, *mut u8, usize) -> Result<Status>,
    done: Cell<bool>,
}

/// Checks a message and copies it into `cap` `T`s at `ptr`.
///
/// # Safety
/// `ptr` must point to `cap` `T`s that nothing else reads or writes meanwhile.
unsafe fn deliver_into<T: Data>(comm: &ThreadComm, env: Envelope, ptr: *mut u8, cap: usize) -> Result<Status> {
    check::<T>("irecv", comm.rank, &env, Some(cap))?;
    // SAFETY: guaranteed by the caller.
    let buf = unsafe { std::slice::from_raw_parts_mut(ptr as *mut T, cap) };
    Ok(deliver(&comm.ep, env, buf))
}

impl RecvTarget {
    fn new<T: Data>(buf: &mut [T]) -> Self {
        RecvTarget { ptr: buf.as_mut_ptr().cast(), cap: buf.len(), deliver: deliver_into::<T>, done: Cell::new(false) }
    }

    /// Delivers the matched message (once).
    fn take(&self, comm: &ThreadComm, m: Matched) -> Result<Status> {
        assert!(!self.done.replace(true), "a scoped receive delivers once");
        // SAFETY: the buffer is borrowed for the whole scope (the scope's `'scope`
        // lifetime), which ends only after the scope has finished this receive; the
        // request holds no other reference to it, and `done` makes this the only write.
        unsafe { (self.deliver)(comm, m.env, self.ptr, self.cap) }
    }

    /// Finishes a receive nobody completed: a message that has matched it (after a last
    /// look at what has arrived) lands in the buffer; else the receive is withdrawn.
    pub(crate) fn end(&self, comm: &ThreadComm, posted: &Rc<Posted>) {
        if !self.done.get() {
            comm.ep.progress(posted.pattern.src);
            let matched = posted.matched.borrow_mut().take();
            if let Some(m) = matched {
                // Its error, if any, has nobody to go to: the message is consumed, as
                // an MPI receive completed by its cancellation.
                let _ = self.take(comm, m);
            }
        }
        comm.ep.cancel(posted);
    }
}

/// A scoped `irecv` in flight.
pub(crate) struct ScopedRecv<'a> {
    pending: PostedRecv<'a>,
    target: Rc<RecvTarget>,
    _buf: PhantomData<&'a mut [u8]>,
}

impl<'a> ScopedRecv<'a> {
    /// Starts the receive; the target is shared with the scope.
    pub(crate) fn new<T: Data>(pending: PostedRecv<'a>, buf: &'a mut [T]) -> (Self, Rc<RecvTarget>) {
        let target = Rc::new(RecvTarget::new(buf));
        (ScopedRecv { pending, target: target.clone(), _buf: PhantomData }, target)
    }

    pub(crate) fn comm(&self) -> &'a ThreadComm {
        self.pending.comm
    }

    pub(crate) fn wait(mut self) -> Result<Status> {
        let m = self.pending.wait()?;
        self.target.take(self.pending.comm, m)
    }

    pub(crate) fn test(&mut self) -> Result<Option<Status>> {
        match self.pending.test() {
            None => Ok(None),
            Some(m) => self.target.take(self.pending.comm, m).map(Some),
        }
    }
}

impl Drop for ScopedRecv<'_> {
    fn drop(&mut self) {
        // Dropped unfinished: as MPI_Cancel, a message that has matched lands in the buffer.
        if let Some(p) = self.pending.posted.take() {
            self.target.end(self.pending.comm, &p);
        }
    }
}
