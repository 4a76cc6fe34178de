//! Nonblocking collectives (`MPI_Ibcast`, `MPI_Iallreduce`, ...) on buffers lent to a
//! [`Scope`]: no copies, and sound whatever happens to the request, because the scope
//! completes every collective still in flight before the buffers are released.
//!
//! # When they progress
//! - Thread backend: the rank that starts a collective last performs it for everyone,
//!   inside its own call (it moves every rank's data through shared memory); the others
//!   find it done at their next `test` or `wait`. Nobody needs to poll.
//! - MPI backend: the real `MPI_I*` calls, on a private duplicate of the communicator
//!   (made with the communicator). Open MPI progresses
//!   them inside MPI calls: `test`, `wait`, the request sets, and the end of the scope.
//!   A collective of 2 KiB or more (and every `v` collective, and all with the check on)
//!   first agrees on its arguments with a small `MPI_Iallreduce`, as the blocking
//!   collectives do, so that a mismatch is an error and never a write past a buffer;
//!   its data moves once that agreement completes, which a `test` or `wait` notices.
//!
//! Nonblocking collectives on a communicator are matched in the order the ranks start
//! them, separately from its blocking collectives (as in MPI, a nonblocking collective
//! never matches a blocking one). Arguments are checked as for the blocking
//! collectives; a rank whose arguments are wrong gets its error at once, and the others
//! a `CollectiveMismatch` from their requests.

use super::{Op as ScopeOp, Scope};
use crate::collective::{Caller, Layout};
use crate::comm::CommImpl;
use crate::data::{Data, Op};
use crate::error::{Error, Result};
use crate::p2p::{ReqImpl, Request};
use crate::timing::Kind;

impl<'scope, 'env> Scope<'scope, 'env> {
    fn caller(&self) -> Caller {
        Caller { rank: self.comm.rank(), size: self.comm.size() }
    }

    /// The request of a started thread-backend collective; its scope completes it.
    fn thread(&self, started: Result<crate::backend::threads::CollRequest<'env>>) -> Result<Request<'scope>> {
        let req = started?;
        let (comm, pending, op) = req.parts();
        self.ops.borrow_mut().push(ScopeOp::ThreadColl(comm, pending, op));
        Ok(Request::new(ReqImpl::Threads(crate::backend::threads::ThreadRequest::Coll(req))))
    }

    #[cfg(feature = "mpi")]
    fn mpi_coll(&self, started: Result<crate::backend::mpi::MpiCollRequest>) -> Result<Request<'scope>> {
        let req = started?;
        self.ops.borrow_mut().push(ScopeOp::MpiColl(req.op()));
        Ok(Request::new(ReqImpl::MpiColl(req)))
    }

    /// Starts a barrier: the request completes once every rank has started it.
    pub fn ibarrier(&'scope self) -> Result<Request<'scope>> {
        let _t = self.comm.traced(Kind::Collective, "ibarrier", crate::p2p::PROC_NULL, -1, 0);
        match &self.comm.inner {
            CommImpl::Threads(c) => self.thread(c.ibarrier()),
            #[cfg(feature = "mpi")]
            CommImpl::Mpi(c) => self.mpi_coll(c.ibarrier()),
        }
    }

    /// Starts broadcasting the root's `buf` into every other rank's `buf`.
    ///
    /// ```
    /// use parsci_comm::{launch, Backend};
    /// let out = launch(Backend::Threads(3), |comm| {
    ///     let mut params = if comm.rank() == 0 { vec![0.5f64; 1000] } else { vec![0.0; 1000] };
    ///     comm.scope(|s| {
    ///         let req = s.ibcast(&mut params, 0)?;
    ///         // ... work that does not touch `params` ...
    ///         req.wait()
    ///     })?;
    ///     Ok::<_, parsci_comm::Error>(params[999])
    /// })
    /// .unwrap();
    /// assert_eq!(out.into_vec(), vec![0.5; 3]);
    /// ```
    pub fn ibcast<T: Data>(&'scope self, buf: &'scope mut [T], root: usize) -> Result<Request<'scope>> {
        let _t = self.comm.traced(Kind::Collective, "ibcast", root, -1, std::mem::size_of_val(buf));
        let err = renamed(self.caller().bcast(root), "ibcast");
        match &self.comm.inner {
            CommImpl::Threads(c) => self.thread(c.ibcast(buf, root, err)),
            #[cfg(feature = "mpi")]
            CommImpl::Mpi(c) => self.mpi_coll(c.ibcast(buf, root, err)),
        }
    }

    /// Starts reducing every rank's `send` into the root's `recv` (`None` elsewhere), in
    /// rank order as [`Comm::reduce`](crate::Comm::reduce).
    pub fn ireduce<T: Data>(
        &'scope self,
        send: &'scope [T],
        recv: Option<&'scope mut [T]>,
        op: &Op<T>,
        root: usize,
    ) -> Result<Request<'scope>> {
        let err = renamed(self.caller().reduce(root, send.len(), recv.as_ref().map(|b| b.len())), "ireduce");
        let recv = recv.filter(|_| self.comm.rank() == root).map(|b| b.as_mut_ptr());
        self.reduction(Reduction { name: "ireduce", send: send.as_ptr(), recv, len: send.len(), op, root, err })
    }

    /// Starts reducing in place: every rank's `buf` is its contribution, and the root's
    /// `buf` receives the result (`MPI_IN_PLACE` at the root).
    pub fn ireduce_in_place<T: Data>(
        &'scope self,
        buf: &'scope mut [T],
        op: &Op<T>,
        root: usize,
    ) -> Result<Request<'scope>> {
        let err = renamed(self.caller().root("reduce", root), "ireduce");
        let ptr = buf.as_mut_ptr();
        let recv = (self.comm.rank() == root).then_some(ptr);
        self.reduction(Reduction { name: "ireduce", send: ptr, recv, len: buf.len(), op, root, err })
    }

    /// Starts reducing every rank's `send` into every rank's `recv`, in rank order.
    pub fn iallreduce<T: Data>(
        &'scope self,
        send: &'scope [T],
        recv: &'scope mut [T],
        op: &Op<T>,
    ) -> Result<Request<'scope>> {
        let err = renamed(self.caller().reduced("allreduce", send.len(), recv.len()), "iallreduce");
        let recv = Some(recv.as_mut_ptr());
        self.reduction(Reduction { name: "iallreduce", send: send.as_ptr(), recv, len: send.len(), op, root: 0, err })
    }

    /// Starts reducing every rank's `buf` in place (`MPI_IN_PLACE`): the way to sum a
    /// gradient while the next layer's is computed, with no second buffer.
    ///
    /// ```
    /// use parsci_comm::{launch, wait_all, Backend, Op};
    /// let out = launch(Backend::Threads(4), |comm| {
    ///     let r = comm.rank() as f32;
    ///     let (mut layer1, mut layer2) = (vec![r; 3000], vec![1.0f32; 10]);
    ///     comm.scope(|s| {
    ///         let first = s.iallreduce_in_place(&mut layer1, &Op::sum())?;
    ///         // ... compute the next layer's gradient here ...
    ///         let second = s.iallreduce_in_place(&mut layer2, &Op::sum())?;
    ///         wait_all(vec![first, second])
    ///     })?;
    ///     Ok::<_, parsci_comm::Error>((layer1[0], layer2[9]))
    /// })
    /// .unwrap();
    /// assert_eq!(out.into_vec(), vec![(6.0, 4.0); 4]);
    /// ```
    pub fn iallreduce_in_place<T: Data>(&'scope self, buf: &'scope mut [T], op: &Op<T>) -> Result<Request<'scope>> {
        let ptr = buf.as_mut_ptr();
        self.reduction(Reduction {
            name: "iallreduce",
            send: ptr,
            recv: Some(ptr),
            len: buf.len(),
            op,
            root: 0,
            err: None,
        })
    }

    fn reduction<T: Data>(&'scope self, r: Reduction<'_, T>) -> Result<Request<'scope>> {
        let _t = self.comm.traced(Kind::Collective, r.name, r.root, -1, r.len * std::mem::size_of::<T>());
        match &self.comm.inner {
            CommImpl::Threads(c) => self.thread(c.ireduction(r)),
            #[cfg(feature = "mpi")]
            CommImpl::Mpi(c) => self.mpi_coll(c.ireduction(r)),
        }
    }

    /// Starts gathering every rank's `send` into the root's `recv` (`None` elsewhere), in rank order.
    pub fn igather<T: Data>(
        &'scope self,
        send: &'scope [T],
        recv: Option<&'scope mut [T]>,
        root: usize,
    ) -> Result<Request<'scope>> {
        let err = renamed(self.caller().gather(root, send.len(), recv.as_ref().map(|b| b.len())), "igather");
        let recv = recv.map(|b| (b.as_mut_ptr(), None));
        self.gather("igather", send, recv, root, err)
    }

    /// Starts gathering blocks of different lengths: block `r` of the root's layout from rank `r`.
    pub fn igatherv<T: Data>(
        &'scope self,
        send: &'scope [T],
        recv: Option<(&'scope mut [T], &Layout)>,
        root: usize,
    ) -> Result<Request<'scope>> {
        let err = renamed(self.caller().gatherv(root, recv.as_ref().map(|(b, l)| (b.len(), *l))), "igatherv");
        let recv = recv.map(|(b, l)| (b.as_mut_ptr(), Some(l)));
        self.gather("igatherv", send, recv, root, err)
    }

    fn gather<T: Data>(
        &'scope self,
        name: &'static str,
        send: &'scope [T],
        recv: Option<(*mut T, Option<&Layout>)>,
        root: usize,
        err: Option<Error>,
    ) -> Result<Request<'scope>> {
        let _t = self.comm.traced(Kind::Collective, name, root, -1, std::mem::size_of_val(send));
        match &self.comm.inner {
            CommImpl::Threads(c) => self.thread(c.igather(name, send, recv, root, err)),
            #[cfg(feature = "mpi")]
            CommImpl::Mpi(c) => self.mpi_coll(c.igather(name, send, recv, root, err)),
        }
    }

    /// Starts scattering the root's `send` (`None` elsewhere), one block of `recv.len()` per rank.
    pub fn iscatter<T: Data>(
        &'scope self,
        send: Option<&'scope [T]>,
        recv: &'scope mut [T],
        root: usize,
    ) -> Result<Request<'scope>> {
        let err = renamed(self.caller().scatter(root, send.map(<[T]>::len), recv.len()), "iscatter");
        self.scatter("iscatter", send.map(|b| (b, None)), recv, root, err)
    }

    /// Starts scattering blocks of different lengths: block `r` of the root's layout to rank `r`.
    pub fn iscatterv<T: Data>(
        &'scope self,
        send: Option<(&'scope [T], &Layout)>,
        recv: &'scope mut [T],
        root: usize,
    ) -> Result<Request<'scope>> {
        let err = renamed(self.caller().scatterv(root, send.map(|(b, l)| (b.len(), l))), "iscatterv");
        self.scatter("iscatterv", send.map(|(b, l)| (b, Some(l))), recv, root, err)
    }

    fn scatter<T: Data>(
        &'scope self,
        name: &'static str,
        send: Option<(&'scope [T], Option<&Layout>)>,
        recv: &'scope mut [T],
        root: usize,
        err: Option<Error>,
    ) -> Result<Request<'scope>> {
        let _t = self.comm.traced(Kind::Collective, name, root, -1, std::mem::size_of_val(recv));
        match &self.comm.inner {
            CommImpl::Threads(c) => self.thread(c.iscatter(name, send, recv, root, err)),
            #[cfg(feature = "mpi")]
            CommImpl::Mpi(c) => self.mpi_coll(c.iscatter(name, send, recv, root, err)),
        }
    }

    /// Starts gathering every rank's `send` into every rank's `recv`, in rank order.
    pub fn iallgather<T: Data>(&'scope self, send: &'scope [T], recv: &'scope mut [T]) -> Result<Request<'scope>> {
        let err = renamed(self.caller().allgather(send.len(), recv.len()), "iallgather");
        self.allgather("iallgather", send, recv, None, err)
    }

    /// Starts gathering blocks of different lengths into every rank (the same `layout` everywhere).
    pub fn iallgatherv<T: Data>(
        &'scope self,
        send: &'scope [T],
        recv: &'scope mut [T],
        layout: &Layout,
    ) -> Result<Request<'scope>> {
        let err = renamed(self.caller().allgatherv(send.len(), recv.len(), layout), "iallgatherv");
        self.allgather("iallgatherv", send, recv, Some(layout), err)
    }

    fn allgather<T: Data>(
        &'scope self,
        name: &'static str,
        send: &'scope [T],
        recv: &'scope mut [T],
        layout: Option<&Layout>,
        err: Option<Error>,
    ) -> Result<Request<'scope>> {
        let _t = self.comm.traced(Kind::Collective, name, crate::p2p::PROC_NULL, -1, std::mem::size_of_val(send));
        match &self.comm.inner {
            CommImpl::Threads(c) => self.thread(c.iallgather(name, send, recv, layout, err)),
            #[cfg(feature = "mpi")]
            CommImpl::Mpi(c) => self.mpi_coll(c.iallgather(name, send, recv, layout, err)),
        }
    }

    /// Starts an all-to-all: block `j` of `send` to rank `j`, block `i` of `recv` from rank `i`.
    pub fn ialltoall<T: Data>(&'scope self, send: &'scope [T], recv: &'scope mut [T]) -> Result<Request<'scope>> {
        let err = renamed(self.caller().alltoall(send.len(), recv.len()), "ialltoall");
        self.alltoall("ialltoall", send, recv, None, err)
    }

    /// Starts an all-to-all with per-peer layouts (their counts must agree pairwise).
    pub fn ialltoallv<T: Data>(
        &'scope self,
        send: &'scope [T],
        send_layout: &Layout,
        recv: &'scope mut [T],
        recv_layout: &Layout,
    ) -> Result<Request<'scope>> {
        let err = renamed(self.caller().alltoallv(send.len(), send_layout, recv.len(), recv_layout), "ialltoallv");
        self.alltoall("ialltoallv", send, recv, Some((send_layout, recv_layout)), err)
    }

    fn alltoall<T: Data>(
        &'scope self,
        name: &'static str,
        send: &'scope [T],
        recv: &'scope mut [T],
        layouts: Option<(&Layout, &Layout)>,
        err: Option<Error>,
    ) -> Result<Request<'scope>> {
        let _t = self.comm.traced(Kind::Collective, name, crate::p2p::PROC_NULL, -1, std::mem::size_of_val(send));
        match &self.comm.inner {
            CommImpl::Threads(c) => self.thread(c.ialltoall(name, send, recv, layouts, err)),
            #[cfg(feature = "mpi")]
            CommImpl::Mpi(c) => self.mpi_coll(c.ialltoall(name, send, recv, layouts, err)),
        }
    }
}

/// A nonblocking reduction as the backends take it: `ireduce` or `iallreduce`, in place
/// where `send` is `recv`; `recv` is `None` on the ranks that receive nothing.
pub(crate) struct Reduction<'a, T> {
    pub name: &'static str,
    pub send: *const T,
    pub recv: Option<*mut T>,
    pub len: usize,
    pub op: &'a Op<T>,
    pub root: usize,
    pub err: Option<Error>,
}

/// The blocking collective's argument error, under the nonblocking call's name.
fn renamed(err: Option<Error>, name: &'static str) -> Option<Error> {
    err.map(|e| match e {
        Error::InvalidArgument { caller, msg, .. } => Error::InvalidArgument { op: name, caller, msg },
        Error::RootOutOfRange { caller, root, size, .. } => Error::RootOutOfRange { op: name, caller, root, size },
        other => other,
    })
}
