//! The private channel of a communicator's nonblocking collectives on MPI, and the
//! state of each one.
//!
//! A collective that must agree on its arguments first (see `crate::collective::agree`)
//! starts with a small `MPI_Iallreduce` on the user's communicator, issued at the call,
//! so in the same order on every rank as the user's other collectives. Its data moves
//! only once that completes, which a rank notices at different times: so the data goes
//! on a private duplicate of the communicator (made with it), where every rank issues
//! the collectives strictly in the order it started them (a queue), skipping those all
//! ranks found to disagree.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::mem::MaybeUninit;
use std::os::raw::c_int;
use std::rc::Rc;

use mpi::ffi::{MPI_Comm, MPI_Request};

use super::super::comm::check_rc;
use crate::collective::agree::agreed;
use crate::error::{Error, Result};

/// Issues a collective's data movement on the private communicator, given the agreed
/// minima of the agreement (empty without one): its request, and what must live until
/// it completes (a user reduction).
pub(crate) type Starter = Box<dyn FnOnce(MPI_Comm, &[i64]) -> Result<(MPI_Request, Option<Box<dyn Any>>)>>;

enum State {
    /// The agreement's `MPI_Iallreduce` (`MPI_MIN` of `send` into `recv`) is in flight.
    Agreeing {
        req: MPI_Request,
        _send: Box<[i64]>,
        recv: Box<[i64]>,
    },
    /// Agreed (or no agreement needed): waits for its turn on the private communicator.
    Ready {
        agreed: Box<[i64]>,
    },
    /// The data is moving.
    Running {
        req: MPI_Request,
        _keep: Option<Box<dyn Any>>,
    },
    Done(Result<()>),
}

/// One nonblocking collective of this rank.
pub(crate) struct MpiColl {
    pub(super) name: &'static str,
    caller: usize,
    state: RefCell<State>,
    start: RefCell<Option<Starter>>,
    /// What a disagreement is reported as.
    mismatch: String,
    chan: Rc<Channel>,
}

/// A communicator's private channel: the duplicate and the queue of collectives whose
/// data has not started moving yet.
pub(crate) struct Channel {
    /// `None` if `MPI_Comm_dup` failed (every nonblocking collective then fails).
    shadow: Cell<Option<MPI_Comm>>,
    queue: RefCell<VecDeque<Rc<MpiColl>>>,
}

fn request_null() -> MPI_Request {
    // SAFETY: reading a predefined handle.
    unsafe { mpi::ffi::RSMPI_REQUEST_NULL }
}

/// `MPI_Test`: `Some(return code)` once complete.
fn test(req: &mut MPI_Request) -> Option<c_int> {
    let mut flag = 0;
    // SAFETY: an active request of this process, or MPI_REQUEST_NULL.
    let rc = unsafe { mpi::ffi::MPI_Test(req, &mut flag, mpi::ffi::RSMPI_STATUS_IGNORE) };
    (rc != mpi::ffi::MPI_SUCCESS as c_int || flag != 0).then_some(rc)
}

impl Channel {
    /// The channel of `comm`, made with the communicator (every member creates it at the
    /// same point, so a blocking `MPI_Comm_dup` is safe here, where `MPI_Comm_idup` at
    /// the first nonblocking collective would race with the agreements after it).
    pub fn new(comm: MPI_Comm) -> Self {
        let mut shadow = MaybeUninit::<MPI_Comm>::uninit();
        // SAFETY: a valid communicator; MPI writes the duplicate when it succeeds.
        let rc = unsafe { mpi::ffi::MPI_Comm_dup(comm, shadow.as_mut_ptr()) };
        let shadow = (rc == mpi::ffi::MPI_SUCCESS as c_int).then(|| {
            // SAFETY: written by the successful MPI_Comm_dup.
            let shadow = unsafe { shadow.assume_init() };
            // SAFETY: our own communicator; errors are returned, not fatal.
            unsafe { mpi::ffi::MPI_Comm_set_errhandler(shadow, mpi::ffi::RSMPI_ERRORS_RETURN) };
            shadow
        });
        Channel { shadow: Cell::new(shadow), queue: RefCell::new(VecDeque::new()) }
    }

    /// Moves what can move: the private communicator, agreements that completed, and
    /// the data of the collectives at the head of the queue, in order.
    pub fn progress(&self) {
        for op in self.queue.borrow().iter() {
            op.poll_agreement();
        }
        loop {
            let Some(op) = self.queue.borrow().front().cloned() else { break };
            let state = std::mem::replace(&mut *op.state.borrow_mut(), State::Done(Ok(())));
            let next = match state {
                State::Agreeing { .. } => {
                    *op.state.borrow_mut() = state;
                    break;
                }
                // Every rank found the disagreement: nobody moves its data.
                done @ State::Done(_) => done,
                State::Ready { agreed } => match self.shadow.get() {
                    None => {
                        *op.state.borrow_mut() = State::Ready { agreed };
                        break;
                    }
                    Some(shadow) => match op.start.borrow_mut().take() {
                        Some(start) => match start(shadow, &agreed) {
                            Ok((req, keep)) => State::Running { req, _keep: keep },
                            Err(e) => State::Done(Err(e)),
                        },
                        None => State::Done(Ok(())),
                    },
                },
                running @ State::Running { .. } => running,
            };
            *op.state.borrow_mut() = next;
            self.queue.borrow_mut().pop_front();
        }
    }

    /// True if the private communicator could not be made.
    fn failed(&self) -> bool {
        self.shadow.get().is_none()
    }

    /// Completes everything still queued (collectives whose requests were returned with
    /// an argument error), then frees the private communicator.
    pub fn close(&self) {
        while !self.queue.borrow().is_empty() && !self.failed() {
            self.progress();
            std::hint::spin_loop();
        }
        if let Some(mut shadow) = self.shadow.take() {
            // SAFETY: our own communicator; every collective on it has completed.
            unsafe { mpi::ffi::MPI_Comm_free(&mut shadow) };
        }
    }
}

impl MpiColl {
    /// Queues a collective: with `agreement` (the packed fields of its call, see
    /// `crate::collective::agree::pack`), after an `MPI_Iallreduce` of them on `comm`.
    pub(super) fn queue(
        chan: &Rc<Channel>,
        comm: MPI_Comm,
        name: &'static str,
        caller: usize,
        agreement: Option<Vec<i64>>,
        mismatch: String,
        start: Starter,
    ) -> Result<Rc<MpiColl>> {
        let state = match agreement {
            None => State::Ready { agreed: Box::new([]) },
            Some(fields) => {
                let send = fields.into_boxed_slice();
                let mut recv = vec![0i64; send.len()].into_boxed_slice();
                let n = c_int::try_from(send.len()).map_err(|_| Error::InvalidArgument {
                    op: name,
                    caller,
                    msg: "too many ranks to agree on the arguments".into(),
                })?;
                let mut req = request_null();
                // SAFETY: both boxed buffers hold n i64s and live in the state until the
                // request completes; a predefined op and datatype.
                let rc = unsafe {
                    mpi::ffi::MPI_Iallreduce(
                        send.as_ptr().cast(),
                        recv.as_mut_ptr().cast(),
                        n,
                        super::super::types::datatype::<i64>(),
                        mpi::ffi::RSMPI_MIN,
                        comm,
                        &mut req,
                    )
                };
                check_rc(name, caller, rc)?;
                State::Agreeing { req, _send: send, recv }
            }
        };
        let op = Rc::new(MpiColl {
            name,
            caller,
            state: RefCell::new(state),
            start: RefCell::new(Some(start)),
            mismatch,
            chan: chan.clone(),
        });
        chan.queue.borrow_mut().push_back(op.clone());
        chan.progress();
        Ok(op)
    }

    /// Notices a completed agreement: ready to move the data, or done with a mismatch.
    fn poll_agreement(&self) {
        let mut state = self.state.borrow_mut();
        let State::Agreeing { req, recv, .. } = &mut *state else { return };
        let Some(rc) = test(req) else { return };
        *state = if let Err(e) = check_rc(self.name, self.caller, rc) {
            State::Done(Err(e))
        } else if agreed(recv) {
            State::Ready { agreed: std::mem::take(recv) }
        } else {
            State::Done(Err(Error::CollectiveMismatch { caller: self.caller, details: self.mismatch.clone() }))
        };
    }

    /// Completes the collective if it can without blocking.
    pub fn poll(&self) -> Option<Result<()>> {
        self.chan.progress();
        let mut state = self.state.borrow_mut();
        match &mut *state {
            State::Done(r) => Some(r.clone()),
            State::Running { req, .. } => {
                let rc = test(req)?;
                let out = check_rc(self.name, self.caller, rc);
                *state = State::Done(out.clone());
                Some(out)
            }
            _ if self.chan.failed() => Some(Err(Error::Mpi {
                op: self.name,
                caller: self.caller,
                msg: "the private communicator of nonblocking collectives could not be made".into(),
            })),
            _ => None,
        }
    }

    /// Blocks until the collective is complete.
    pub fn wait(&self) -> Result<()> {
        let _w = super::super::watchdog::enter(self.name, || "all ranks".into(), None);
        loop {
            super::super::posted::progress();
            if let Some(r) = self.poll() {
                return r;
            }
            // Once its data moves and nothing is queued behind it, MPI can wait for it.
            if self.chan.queue.borrow().is_empty() && !super::super::posted::any() {
                let mut state = self.state.borrow_mut();
                if let State::Running { req, .. } = &mut *state {
                    // SAFETY: our own active request.
                    let rc = unsafe { mpi::ffi::MPI_Wait(req, mpi::ffi::RSMPI_STATUS_IGNORE) };
                    let out = check_rc(self.name, self.caller, rc);
                    *state = State::Done(out.clone());
                    return out;
                }
            }
            std::hint::spin_loop();
        }
    }

    /// At the end of its scope: completes the collective (its result went to its request).
    pub fn end(&self) {
        let _ = self.wait();
    }
}
