//! Point-to-point communication: blocking, combined and non-blocking, typed and object messages.
//!
//! Ranks are plain `usize`, with two sentinels, [`ANY_SOURCE`] and [`PROC_NULL`], as in
//! mpi4py and the MPI standard. A typed source (rsmpi's `AnySource` and `Process`) would
//! turn "`ANY_SOURCE` as a destination" into a compile error, but every call checks its
//! ranks anyway (that mistake is `Error::RankOutOfRange`, never undefined behaviour), and
//! plain ranks flow without conversions from `CartComm::shift` (which gives `PROC_NULL` at
//! a grid's edge), from arithmetic like `(rank + 1) % size`, and between communicators.
//! The sentinels cannot be real ranks: a job has at most [`MAX_THREAD_RANKS`](crate::MAX_THREAD_RANKS) thread ranks,
//! and MPI's ranks fit in an `i32`.

use serde::{de::DeserializeOwned, Serialize};

use crate::backend::threads::{ThreadRequest, ThreadVecRequest};
use crate::comm::{dispatch, Comm, CommImpl};
use crate::data::{short_type_name, Data, ObjByte};
use crate::error::{Error, Result};
use crate::timing::{self, Kind};
use crate::trace::{CallInfo, CommTrace};
use std::rc::Rc;

/// Times and traces a `wait` or `test` of a request on the traced communicator `t`.
#[inline]
pub(crate) fn wait_call(op: &'static str, t: Option<&CommTrace>) -> Option<timing::Timed> {
    timing::enter_call(Kind::Wait, || CallInfo { op, comm: t.map_or(0, |t| t.id), ..CallInfo::unnamed(Kind::Wait) })
}

/// A message tag. User tags go from 0 to [`MAX_TAG`].
pub type Tag = i32;
/// Receive a message with any tag.
pub const ANY_TAG: Tag = -1;
/// The largest valid tag (the MPI standard guarantees at least 32767).
pub const MAX_TAG: Tag = 32767;
/// Receive from any rank.
pub const ANY_SOURCE: usize = usize::MAX;
/// "No rank": sending to it does nothing and receiving from it returns at once
/// with an empty message, as MPI's `PROC_NULL` (what a Cartesian `shift` gives at an edge).
pub const PROC_NULL: usize = usize::MAX - 1;

/// An error unless `dest` is a rank of a communicator of `size` or `PROC_NULL`.
pub(crate) fn check_dest(op: &'static str, caller: usize, size: usize, dest: usize) -> Result<()> {
    if dest < size || dest == PROC_NULL {
        return Ok(());
    }
    Err(Error::RankOutOfRange { op, caller, rank: dest, size })
}

/// An error unless `src` is a rank of a communicator of `size`, `PROC_NULL` or `ANY_SOURCE`.
pub(crate) fn check_source(op: &'static str, caller: usize, size: usize, src: usize) -> Result<()> {
    if src == ANY_SOURCE {
        return Ok(());
    }
    check_dest(op, caller, size, src)
}

/// An error unless `tag` is a user tag (or `ANY_TAG` where `any_ok`).
pub(crate) fn check_tag(op: &'static str, caller: usize, tag: Tag, any_ok: bool) -> Result<()> {
    if (0..=MAX_TAG).contains(&tag) || (any_ok && tag == ANY_TAG) {
        return Ok(());
    }
    Err(Error::InvalidTag { op, caller, tag, max: MAX_TAG })
}

/// What a receive or probe found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    /// The sending rank ([`PROC_NULL`] for a receive from `PROC_NULL`).
    pub source: usize,
    /// The message's tag.
    pub tag: Tag,
    /// The number of elements received, in the receiver's element type. For
    /// [`probe`](Comm::probe) and [`iprobe`](Comm::iprobe), which have no element type,
    /// the number of bytes (as MPI's `Get_count` with `MPI_BYTE`): see [`Status::count_as`].
    pub count: usize,
    /// The message's length in bytes.
    pub bytes: usize,
}

impl Status {
    pub(crate) fn null() -> Self {
        Status { source: PROC_NULL, tag: ANY_TAG, count: 0, bytes: 0 }
    }

    /// The status of a message of `count` elements of `T`.
    #[inline]
    pub(crate) fn of<T>(source: usize, tag: Tag, count: usize) -> Self {
        Status { source, tag, count, bytes: count * std::mem::size_of::<T>() }
    }

    /// The message's length in elements of `T` (MPI's `Get_count`): `None` if it is not
    /// a whole number of them.
    ///
    /// ```
    /// use parsci_comm::{launch, Backend};
    /// let n = launch(Backend::Threads(2), |comm| {
    ///     if comm.rank() == 0 {
    ///         comm.send(&[1.0f64, 2.0, 3.0], 1, 0)?;
    ///         return Ok(0);
    ///     }
    ///     let st = comm.probe(0, 0)?; // the count of a probe is in bytes
    ///     assert_eq!((st.count, st.count_as::<u32>()), (24, Some(6)));
    ///     let mut buf = vec![0.0f64; st.count_as::<f64>().unwrap()];
    ///     Ok::<_, parsci_comm::Error>(comm.recv(&mut buf, 0, 0)?.count)
    /// })
    /// .unwrap();
    /// assert_eq!(n.into_vec(), vec![0, 3]);
    /// ```
    pub fn count_as<T>(&self) -> Option<usize> {
        match std::mem::size_of::<T>() {
            0 => Some(0),
            e if self.bytes.is_multiple_of(e) => Some(self.bytes / e),
            _ => None,
        }
    }
}

/// A non-blocking receive (or send) in flight; finish it with [`wait`](Request::wait)
/// or poll it with [`test`](Request::test).
///
/// A request borrows its communicator (and, for a receive, its buffer), so neither can
/// go away while it is in flight:
///
/// ```compile_fail
/// use parsci_comm::{launch, Backend};
/// launch(Backend::Threads(1), |comm| {
///     let sub = comm.dup()?;
///     let mut buf = [0u8; 4];
///     let req = sub.irecv(&mut buf, 0, 0)?;
///     drop(sub); // error: `sub` is still borrowed by `req`
///     req.wait()?;
///     Ok::<_, parsci_comm::Error>(())
/// });
/// ```
///
/// Dropping an unfinished receive cancels it, as `MPI_Cancel`: if a message had already
/// matched it, that message is consumed, on both backends. A request that is leaked
/// (`mem::forget`) stays posted, as an MPI request that is never completed, until its
/// communicator is dropped, which withdraws it: a leaked request never touches memory
/// and never outlives its communicator.
#[must_use = "a request does nothing until it is waited on"]
pub struct Request<'a> {
    pub(crate) inner: ReqImpl<'a>,
    /// A receive's communicator in the trace, while tracing: its completion is a message.
    pub(crate) trace: Option<Rc<CommTrace>>,
}

pub(crate) enum ReqImpl<'a> {
    Done(Status),
    /// A finished receive that failed: every later `test` or `wait` reports the error.
    Failed(Error),
    Threads(ThreadRequest<'a>),
    #[cfg(feature = "mpi")]
    Mpi(crate::backend::mpi::MpiRequest<'a>),
    /// A scoped operation on the caller's buffer (its scope keeps the buffer borrowed).
    #[cfg(feature = "mpi")]
    MpiScoped(crate::backend::mpi::MpiScopedRequest),
    /// A nonblocking collective (its scope keeps the buffers borrowed).
    #[cfg(feature = "mpi")]
    MpiColl(crate::backend::mpi::MpiCollRequest),
}

impl<'a> Request<'a> {
    pub(crate) fn new(inner: ReqImpl<'a>) -> Self {
        Request { inner, trace: None }
    }

    /// This request, a receive on `comm`, traced as one.
    pub(crate) fn traced_recv(mut self, comm: &Comm) -> Self {
        self.trace = comm.trace_request();
        self
    }

    /// The thread-backend communicator a request waits on, to park on its world.
    pub(crate) fn thread_comm(&self) -> Option<&'a crate::backend::threads::ThreadComm> {
        match &self.inner {
            ReqImpl::Threads(r) => Some(r.comm()),
            _ => None,
        }
    }

    /// Blocks until the operation completes.
    pub fn wait(self) -> Result<Status> {
        let trace = self.trace;
        let _t = wait_call("wait", trace.as_deref());
        let out = match self.inner {
            ReqImpl::Done(s) => Ok(s),
            ReqImpl::Failed(e) => Err(e),
            ReqImpl::Threads(r) => r.wait(),
            #[cfg(feature = "mpi")]
            ReqImpl::Mpi(r) => r.wait(),
            #[cfg(feature = "mpi")]
            ReqImpl::MpiScoped(r) => r.wait(),
            #[cfg(feature = "mpi")]
            ReqImpl::MpiColl(r) => r.wait(),
        };
        if let (Some(t), Ok(st)) = (&trace, &out) {
            crate::trace::trace_recv_on(t, st);
        }
        out
    }
    /// Completes the operation if it can without blocking.
    pub fn test(&mut self) -> Result<Option<Status>> {
        let _t = wait_call("test", self.trace.as_deref());
        let out = match &mut self.inner {
            ReqImpl::Done(s) => return Ok(Some(*s)),
            ReqImpl::Failed(e) => return Err(e.clone()),
            ReqImpl::Threads(r) => r.test(),
            #[cfg(feature = "mpi")]
            ReqImpl::Mpi(r) => r.test(),
            #[cfg(feature = "mpi")]
            ReqImpl::MpiScoped(r) => r.test(),
            #[cfg(feature = "mpi")]
            ReqImpl::MpiColl(r) => r.test(),
        };
        // A finished request stays finished: its status, or its error, again and again.
        match &out {
            Ok(Some(s)) => {
                if let Some(t) = self.trace.take() {
                    crate::trace::trace_recv_on(&t, s);
                }
                self.inner = ReqImpl::Done(*s)
            }
            Err(e) => self.inner = ReqImpl::Failed(e.clone()),
            Ok(None) => {}
        }
        out
    }
}

/// A non-blocking receive into a new `Vec` (see [`Comm::irecv_vec`]). It borrows its
/// communicator; dropping or leaking it behaves as for [`Request`].
#[must_use = "a request does nothing until it is waited on"]
pub struct VecRequest<'c, T: Data> {
    inner: VecReqImpl<'c, T>,
    trace: Option<Rc<CommTrace>>,
    caller: usize,
    /// Set once `test` has returned the message or an error: what later calls return.
    done: Option<Error>,
}

enum VecReqImpl<'c, T: Data> {
    Threads(ThreadVecRequest<'c, T>),
    #[cfg(feature = "mpi")]
    Mpi(crate::backend::mpi::MpiVecRequest<'c, T>),
}

impl<T: Data> VecRequest<'_, T> {
    /// Blocks until the message has arrived.
    pub fn wait(self) -> Result<(Vec<T>, Status)> {
        let _t = wait_call("wait", self.trace.as_deref());
        if let Some(done) = self.done {
            return Err(done);
        }
        let out = match self.inner {
            VecReqImpl::Threads(r) => r.wait(),
            #[cfg(feature = "mpi")]
            VecReqImpl::Mpi(r) => r.wait(),
        };
        if let (Some(t), Ok((_, st))) = (&self.trace, &out) {
            crate::trace::trace_recv_on(t, st);
        }
        out
    }
    /// Takes the message if it has arrived. Once the message (or an error) has been
    /// returned, the request is finished: later calls return an error.
    pub fn test(&mut self) -> Result<Option<(Vec<T>, Status)>> {
        let _t = wait_call("test", self.trace.as_deref());
        if let Some(done) = &self.done {
            return Err(done.clone());
        }
        let out = match &mut self.inner {
            VecReqImpl::Threads(r) => r.test(),
            #[cfg(feature = "mpi")]
            VecReqImpl::Mpi(r) => r.test(),
        };
        match &out {
            Ok(None) => {}
            Ok(Some((_, st))) => {
                if let Some(t) = self.trace.take() {
                    crate::trace::trace_recv_on(&t, st);
                }
                let msg = format!(
                    "the request was already completed: its message (from rank {}, tag {}) was returned by an \
                     earlier test",
                    st.source, st.tag
                );
                self.done = Some(Error::InvalidArgument { op: "VecRequest::test", caller: self.caller, msg });
            }
            Err(e) => self.done = Some(e.clone()),
        }
        out
    }
}

/// A non-blocking receive of an object (see [`Comm::irecv_obj`]); it borrows its communicator.
#[must_use = "a request does nothing until it is waited on"]
pub struct ObjRequest<'c, T> {
    inner: VecRequest<'c, ObjByte>,
    caller: usize,
    _t: std::marker::PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned> ObjRequest<'_, T> {
    /// Blocks until the object has arrived.
    pub fn wait(self) -> Result<(T, Status)> {
        let _t = wait_call("wait", self.inner.trace.as_deref());
        let (bytes, st) = self.inner.wait()?;
        Ok((decode(&bytes, "irecv_obj", self.caller, st.source, st.tag)?, st))
    }
    /// Takes the object if it has arrived.
    pub fn test(&mut self) -> Result<Option<(T, Status)>> {
        let _t = wait_call("test", self.inner.trace.as_deref());
        match self.inner.test()? {
            None => Ok(None),
            Some((bytes, st)) => Ok(Some((decode(&bytes, "irecv_obj", self.caller, st.source, st.tag)?, st))),
        }
    }
}

pub(crate) fn codec() -> impl bincode::Options {
    use bincode::Options;
    bincode::DefaultOptions::new().reject_trailing_bytes()
}

pub(crate) fn encode<T: Serialize + ?Sized>(
    v: &T,
    op: &'static str,
    caller: usize,
    peer: usize,
    tag: Tag,
) -> Result<Vec<ObjByte>> {
    use bincode::Options;
    let bytes = codec().serialize(v).map_err(|e| Error::Serialization {
        op,
        caller,
        peer,
        tag,
        what: "encoded".into(),
        msg: e.to_string(),
    })?;
    // ObjByte is repr(transparent) over u8: the cast reuses the allocation.
    Ok(bytemuck::allocation::cast_vec(bytes))
}

pub(crate) fn decode<T: DeserializeOwned>(
    bytes: &[ObjByte],
    op: &'static str,
    caller: usize,
    peer: usize,
    tag: Tag,
) -> Result<T> {
    use bincode::Options;
    codec().deserialize(bytemuck::cast_slice(bytes)).map_err(|e| Error::Serialization {
        op,
        caller,
        peer,
        tag,
        what: format!("decoded as {}", short_type_name::<T>()),
        msg: e.to_string(),
    })
}

/// Typed messages (the fast path, like mpi4py's `Send`/`Recv`).
impl Comm {
    /// Sends `buf` to `dest` with `tag`. Returns once `buf` may be reused.
    ///
    /// ```
    /// use parsci_comm::{launch, Backend};
    /// let out = launch(Backend::Threads(2), |comm| {
    ///     if comm.rank() == 0 {
    ///         comm.send(&[1.0f64, 2.0, 3.0], 1, 7)?;
    ///         Ok(0.0)
    ///     } else {
    ///         let mut buf = [0.0f64; 3];
    ///         let st = comm.recv(&mut buf, 0, 7)?;
    ///         assert_eq!((st.source, st.tag, st.count), (0, 7, 3));
    ///         Ok::<_, parsci_comm::Error>(buf.iter().sum())
    ///     }
    /// })
    /// .unwrap();
    /// assert_eq!(out.into_vec(), vec![0.0, 6.0]);
    /// ```
    pub fn send<T: Data>(&self, buf: &[T], dest: usize, tag: Tag) -> Result<()> {
        let bytes = std::mem::size_of_val(buf);
        let _t = self.traced(Kind::P2p, "send", dest, tag, bytes);
        dispatch!(self, c => c.send(buf, dest, tag))?;
        self.trace_send(dest, tag, bytes);
        Ok(())
    }

    /// Sends a `Vec`, moving it to the receiver without a copy where the backend can.
    pub fn send_vec<T: Data>(&self, buf: Vec<T>, dest: usize, tag: Tag) -> Result<()> {
        let bytes = std::mem::size_of_val(buf.as_slice());
        let _t = self.traced(Kind::P2p, "send", dest, tag, bytes);
        dispatch!(self, c => c.send_vec(buf, dest, tag))?;
        self.trace_send(dest, tag, bytes);
        Ok(())
    }

    /// Receives into `buf` from `source` (or [`ANY_SOURCE`]) with `tag` (or [`ANY_TAG`]).
    /// The message may be shorter than `buf`; `Status::count` says how long it was.
    pub fn recv<T: Data>(&self, buf: &mut [T], source: usize, tag: Tag) -> Result<Status> {
        let _t = self.traced(Kind::P2p, "recv", source, tag, 0);
        let st = dispatch!(self, c => c.recv(buf, source, tag))?;
        self.trace_recv(&st);
        Ok(st)
    }

    /// Receives a message of any length into a new `Vec`.
    pub fn recv_vec<T: Data>(&self, source: usize, tag: Tag) -> Result<(Vec<T>, Status)> {
        let _t = self.traced(Kind::P2p, "recv", source, tag, 0);
        let (v, st) = dispatch!(self, c => c.recv_vec(source, tag))?;
        self.trace_recv(&st);
        Ok((v, st))
    }

    /// Sends `send` to `dest` and receives into `recv` from `source`, without deadlock
    /// however the peers pair up (MPI's `Sendrecv`). Either peer may be [`PROC_NULL`].
    #[allow(clippy::too_many_arguments)]
    pub fn sendrecv<T: Data, U: Data>(
        &self,
        send: &[T],
        dest: usize,
        send_tag: Tag,
        recv: &mut [U],
        source: usize,
        recv_tag: Tag,
    ) -> Result<Status> {
        let bytes = std::mem::size_of_val(send);
        let _t = self.traced(Kind::P2p, "sendrecv", dest, send_tag, bytes);
        let st = dispatch!(self, c => c.sendrecv(send, dest, send_tag, recv, source, recv_tag))?;
        self.trace_send(dest, send_tag, bytes);
        self.trace_recv(&st);
        Ok(st)
    }

    /// Blocks until a matching message is available and describes it without receiving it.
    ///
    /// On MPI, `Status::count` of a probe is in bytes: MPI does not carry the sender's
    /// element type.
    pub fn probe(&self, source: usize, tag: Tag) -> Result<Status> {
        let _t = self.traced(Kind::P2p, "probe", source, tag, 0);
        dispatch!(self, c => c.probe(source, tag))
    }

    /// Describes a matching message if one is available now.
    pub fn iprobe(&self, source: usize, tag: Tag) -> Result<Option<Status>> {
        let _t = self.traced(Kind::P2p, "iprobe", source, tag, 0);
        dispatch!(self, c => c.iprobe(source, tag))
    }

    /// Starts a send; the data is taken (copied) at once, so `buf` is free on return.
    /// In strict mode ([`JobOptions::sync_sends`](crate::JobOptions::sync_sends)) the
    /// request completes only once a receive has matched the message, as `MPI_Issend`.
    pub fn isend<T: Data>(&self, buf: &[T], dest: usize, tag: Tag) -> Result<Request<'_>> {
        let bytes = std::mem::size_of_val(buf);
        let _t = self.traced(Kind::P2p, "isend", dest, tag, bytes);
        let req = match &self.inner {
            CommImpl::Threads(c) => c.isend(buf, dest, tag)?,
            #[cfg(feature = "mpi")]
            CommImpl::Mpi(c) => Request::new(ReqImpl::Mpi(c.isend(buf, dest, tag)?)),
        };
        self.trace_send(dest, tag, bytes);
        Ok(req)
    }

    /// Starts a receive into `buf`; the data lands there by the time `wait` or `test` completes.
    /// The request borrows both the communicator and `buf`.
    pub fn irecv<'a, T: Data>(&'a self, buf: &'a mut [T], source: usize, tag: Tag) -> Result<Request<'a>> {
        let _t = self.traced(Kind::P2p, "irecv", source, tag, 0);
        let req = match &self.inner {
            CommImpl::Threads(c) => c.irecv(buf, source, tag)?,
            #[cfg(feature = "mpi")]
            CommImpl::Mpi(c) => Request::new(ReqImpl::Mpi(c.irecv(buf, source, tag)?)),
        };
        Ok(req.traced_recv(self))
    }

    /// Starts a receive of a message of any length.
    ///
    /// On the thread backend the receive is posted at once. On MPI, whose receives need a
    /// length, it is matched (probed, then received) when the request is tested or waited
    /// on: do not block in a send that only this receive can complete before testing it
    /// (post [`irecv`](Comm::irecv) into a sized buffer, or send with `isend`).
    pub fn irecv_vec<T: Data>(&self, source: usize, tag: Tag) -> Result<VecRequest<'_, T>> {
        let _t = self.traced(Kind::P2p, "irecv", source, tag, 0);
        Ok(VecRequest {
            caller: self.rank(),
            done: None,
            trace: self.trace_request(),
            inner: match &self.inner {
                CommImpl::Threads(c) => VecReqImpl::Threads(c.irecv_vec(source, tag)?),
                #[cfg(feature = "mpi")]
                CommImpl::Mpi(c) => VecReqImpl::Mpi(c.irecv_vec(source, tag)?),
            },
        })
    }
}

/// Object messages (any serde value, like mpi4py's lowercase `send`/`recv`).
impl Comm {
    /// Sends any serializable value.
    ///
    /// ```
    /// use parsci_comm::{launch, Backend};
    /// use std::collections::BTreeMap;
    /// let out = launch(Backend::Threads(2), |comm| {
    ///     if comm.rank() == 0 {
    ///         let cfg = BTreeMap::from([("steps".to_string(), 10)]);
    ///         comm.send_obj(&cfg, 1, 0)?;
    ///         Ok(0)
    ///     } else {
    ///         let (cfg, _) = comm.recv_obj::<BTreeMap<String, i32>>(0, 0)?;
    ///         Ok::<_, parsci_comm::Error>(cfg["steps"])
    ///     }
    /// })
    /// .unwrap();
    /// assert_eq!(out.into_vec(), vec![0, 10]);
    /// ```
    pub fn send_obj<T: Serialize + ?Sized>(&self, value: &T, dest: usize, tag: Tag) -> Result<()> {
        let bytes = encode(value, "send_obj", self.rank(), dest, tag)?;
        let _t = self.traced(Kind::P2p, "send_obj", dest, tag, bytes.len());
        self.send_vec(bytes, dest, tag)
    }

    /// Receives an object sent with [`send_obj`](Comm::send_obj).
    pub fn recv_obj<T: DeserializeOwned>(&self, source: usize, tag: Tag) -> Result<(T, Status)> {
        let _t = self.traced(Kind::P2p, "recv_obj", source, tag, 0);
        let (bytes, st) = self.recv_vec::<ObjByte>(source, tag)?;
        Ok((decode(&bytes, "recv_obj", self.rank(), st.source, st.tag)?, st))
    }

    /// Sends `value` to `dest` and receives an object from `source` (both may be [`PROC_NULL`];
    /// a receive from `PROC_NULL` gives `None`).
    pub fn sendrecv_obj<T: Serialize + ?Sized, U: DeserializeOwned>(
        &self,
        value: &T,
        dest: usize,
        send_tag: Tag,
        source: usize,
        recv_tag: Tag,
    ) -> Result<(Option<U>, Status)> {
        let me = self.rank();
        let bytes = encode(value, "sendrecv_obj", me, dest, send_tag)?;
        let _t = self.traced(Kind::P2p, "sendrecv_obj", dest, send_tag, bytes.len());
        // The lengths first, then the bytes from whoever sent the length: two `sendrecv`s,
        // which never deadlock however the peers pair up, on any backend.
        let mut len = [0u64];
        let st = self.sendrecv(&[bytes.len() as u64], dest, send_tag, &mut len, source, recv_tag)?;
        if st.source == PROC_NULL {
            let mut none: [ObjByte; 0] = [];
            self.sendrecv(&bytes, dest, send_tag, &mut none, PROC_NULL, recv_tag)?;
            return Ok((None, st));
        }
        let mut got = vec![ObjByte(0); len[0] as usize];
        let st = self.sendrecv(&bytes, dest, send_tag, &mut got, st.source, st.tag)?;
        Ok((Some(decode(&got, "sendrecv_obj", me, st.source, st.tag)?), st))
    }

    /// Starts sending an object; it is encoded at once.
    pub fn isend_obj<T: Serialize + ?Sized>(&self, value: &T, dest: usize, tag: Tag) -> Result<Request<'_>> {
        let bytes = encode(value, "isend_obj", self.rank(), dest, tag)?;
        let len = bytes.len();
        let _t = self.traced(Kind::P2p, "isend_obj", dest, tag, len);
        let req = match &self.inner {
            // The thread backend moves the bytes to the receiver.
            CommImpl::Threads(c) => c.isend_vec(bytes, dest, tag)?,
            #[cfg(feature = "mpi")]
            CommImpl::Mpi(c) => Request::new(ReqImpl::Mpi(c.isend(&bytes, dest, tag)?)),
        };
        self.trace_send(dest, tag, len);
        Ok(req)
    }

    /// Starts receiving an object.
    ///
    /// On MPI, as [`irecv_vec`](Comm::irecv_vec), the message is matched when the request
    /// is tested or waited on.
    pub fn irecv_obj<T: DeserializeOwned>(&self, source: usize, tag: Tag) -> Result<ObjRequest<'_, T>> {
        let _t = self.traced(Kind::P2p, "irecv_obj", source, tag, 0);
        Ok(ObjRequest { inner: self.irecv_vec(source, tag)?, caller: self.rank(), _t: std::marker::PhantomData })
    }
}
