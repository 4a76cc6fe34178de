//! Scoped non-blocking point-to-point: requests that borrow the caller's buffers instead
//! of copying them (in the spirit of rsmpi's `request::scope` and `std::thread::scope`).
//!
//! `isend` and `irecv` outside a scope are safe whatever the caller does with the
//! request, because they copy (a send takes its data at once; an MPI receive lands in
//! the request's own storage). Inside [`Comm::scope`], MPI reads and writes the caller's
//! buffers directly, and the thread backend's receiver copies a large message straight
//! out of the sender's buffer. This is sound because the scope, not the request, owns
//! the completion: buffers lent to a scope must outlive the whole `scope` call, and
//! `scope` completes every operation still active before it returns, also when a
//! request was leaked with `mem::forget` or the closure panicked: a send is waited for
//! (the thread backend copies it aside if its receiver is late), a receive is cancelled,
//! and a message that had already matched it lands in its buffer, on both backends.

mod collective;

pub(crate) use collective::Reduction;

use std::cell::RefCell;
use std::marker::PhantomData;

use crate::comm::{Comm, CommImpl};
use crate::data::Data;
use crate::error::Result;
use crate::p2p::{Request, Tag};
use crate::timing::Kind;

/// Lends buffers to non-blocking operations without copies; see [`Comm::scope`].
pub struct Scope<'scope, 'env: 'scope> {
    comm: &'env Comm,
    ops: RefCell<Vec<Op<'env>>>,
    /// Invariant in both lifetimes, as `std::thread::Scope`.
    _scope: PhantomData<&'scope mut &'scope ()>,
    _env: PhantomData<&'env mut &'env ()>,
}

/// What a scope completes at its end.
#[allow(clippy::enum_variant_names)] // the prefix names the backend (all `Thread` without MPI)
enum Op<'env> {
    /// A large send whose receiver copies out of the lent buffer.
    ThreadSend(&'env crate::backend::threads::ThreadComm, std::sync::Arc<crate::backend::threads::Rendezvous>),
    /// A receive into the lent buffer.
    ThreadRecv(
        &'env crate::backend::threads::ThreadComm,
        std::rc::Rc<crate::backend::threads::Posted>,
        std::rc::Rc<crate::backend::threads::RecvTarget>,
    ),
    /// A nonblocking collective on the thread backend.
    ThreadColl(
        &'env crate::backend::threads::ThreadComm,
        std::sync::Arc<crate::backend::threads::Pending>,
        &'static str,
    ),
    #[cfg(feature = "mpi")]
    Mpi(std::rc::Rc<crate::backend::mpi::ScopedOp>),
    /// A nonblocking collective on MPI.
    #[cfg(feature = "mpi")]
    MpiColl(std::rc::Rc<crate::backend::mpi::MpiColl>),
}

impl Comm {
    /// Runs `f` with a [`Scope`] whose `isend` and `irecv` use the caller's buffers
    /// directly, with no copies: the fast path for halo exchanges and other messages
    /// posted before a computation and waited for after it. Buffers lent to the scope
    /// must live outside it; every operation started in it is complete when `scope`
    /// returns (a receive nobody waited for is cancelled; a message that had already
    /// matched it is in its buffer). On MPI, a send nobody receives keeps the scope from
    /// returning, as `MPI_Wait` would.
    ///
    /// A buffer made inside the scope cannot be lent to it, as it would not outlive it:
    ///
    /// ```compile_fail
    /// use parsci_comm::{launch, Backend};
    /// launch(Backend::Threads(1), |comm| {
    ///     comm.scope(|s| {
    ///         let mut local = vec![0u8; 4];
    ///         let r = s.irecv(&mut local, 0, 0)?; // error: `local` does not live long enough
    ///         r.wait()
    ///     })
    /// });
    /// ```
    ///
    /// ```
    /// use parsci_comm::{launch, wait_all, Backend};
    /// let out = launch(Backend::Threads(3), |comm| {
    ///     let (me, p) = (comm.rank(), comm.size());
    ///     let (left, right) = ((me + p - 1) % p, (me + 1) % p);
    ///     let edge = vec![me as f64; 100_000];
    ///     let mut ghost = vec![0.0; 100_000];
    ///     comm.scope(|s| {
    ///         let recv = s.irecv(&mut ghost, left, 0)?;
    ///         let send = s.isend(&edge, right, 0)?;
    ///         // ... compute the interior here, while the edges travel ...
    ///         wait_all(vec![recv, send])
    ///     })?;
    ///     Ok::<_, parsci_comm::Error>(ghost[99_999])
    /// })
    /// .unwrap();
    /// assert_eq!(out.into_vec(), vec![2.0, 0.0, 1.0]);
    /// ```
    pub fn scope<'env, R>(&'env self, f: impl for<'scope> FnOnce(&'scope Scope<'scope, 'env>) -> R) -> R {
        let scope = Scope { comm: self, ops: RefCell::new(Vec::new()), _scope: PhantomData, _env: PhantomData };
        // Completes the operations on every way out, unwinding included.
        struct End<'a, 's, 'e>(&'a Scope<'s, 'e>);
        impl Drop for End<'_, '_, '_> {
            fn drop(&mut self) {
                self.0.end();
            }
        }
        let end = End(&scope);
        let out = f(end.0);
        drop(end);
        out
    }
}

impl<'scope, 'env> Scope<'scope, 'env> {
    /// Starts sending `buf` without copying it: `buf` stays borrowed until the scope ends.
    pub fn isend<T: Data>(&'scope self, buf: &'scope [T], dest: usize, tag: Tag) -> Result<Request<'scope>> {
        let bytes = std::mem::size_of_val(buf);
        let _t = self.comm.traced(Kind::P2p, "isend", dest, tag, bytes);
        let req = match &self.comm.inner {
            CommImpl::Threads(c) => {
                let (req, rdv) = c.isend_borrowed(buf, dest, tag)?;
                if let Some(rdv) = rdv {
                    self.ops.borrow_mut().push(Op::ThreadSend(c, rdv));
                }
                req
            }
            #[cfg(feature = "mpi")]
            CommImpl::Mpi(c) => self.mpi(c.isend_scoped(buf, dest, tag)?, self.comm.rank(), tag),
        };
        self.comm.trace_send(dest, tag, bytes);
        Ok(req)
    }

    /// Starts receiving into `buf` without a staging copy: `buf` stays borrowed until the
    /// scope ends.
    pub fn irecv<T: Data>(&'scope self, buf: &'scope mut [T], source: usize, tag: Tag) -> Result<Request<'scope>> {
        let _t = self.comm.traced(Kind::P2p, "irecv", source, tag, 0);
        let req = match &self.comm.inner {
            CommImpl::Threads(c) => {
                let (req, recv) = c.irecv_scoped(buf, source, tag)?;
                if let Some((posted, target)) = recv {
                    self.ops.borrow_mut().push(Op::ThreadRecv(c, posted, target));
                }
                req
            }
            #[cfg(feature = "mpi")]
            CommImpl::Mpi(c) => self.mpi(c.irecv_scoped(buf, source, tag)?, crate::p2p::PROC_NULL, tag),
        };
        Ok(req.traced_recv(self.comm))
    }

    /// The communicator this scope works on.
    pub fn comm(&self) -> &'env Comm {
        self.comm
    }

    #[cfg(feature = "mpi")]
    fn mpi(
        &self,
        started: Option<(crate::backend::mpi::MpiScopedRequest, std::rc::Rc<crate::backend::mpi::ScopedOp>)>,
        null_source: usize,
        tag: Tag,
    ) -> Request<'scope> {
        use crate::p2p::{ReqImpl, Status};
        match started {
            // PROC_NULL: nothing to do, complete at once.
            None => Request::new(ReqImpl::Done(Status { source: null_source, tag, ..Status::null() })),
            Some((req, op)) => {
                self.ops.borrow_mut().push(Op::Mpi(op));
                Request::new(ReqImpl::MpiScoped(req))
            }
        }
    }

    /// Completes whatever is still active.
    fn end(&self) {
        for op in self.ops.borrow_mut().drain(..) {
            match op {
                Op::ThreadSend(comm, rdv) => comm.finish_send(&rdv),
                Op::ThreadRecv(comm, posted, target) => target.end(comm, &posted),
                Op::ThreadColl(comm, pending, op) => crate::backend::threads::end_nonblocking(comm, &pending, op),
                #[cfg(feature = "mpi")]
                Op::Mpi(op) => op.end(),
                #[cfg(feature = "mpi")]
                Op::MpiColl(op) => op.end(),
            }
        }
    }
}
