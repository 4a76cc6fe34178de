//! Non-blocking operations on MPI.
//!
//! A request owns the memory MPI reads or writes (rsmpi's `StaticScope` discipline: the
//! buffer outlives the request), and a receive copies into the caller's slice when it
//! completes. So a request that is leaked (`mem::forget`) leaks its buffer instead of
//! letting MPI write into freed memory, which a borrowed-buffer request could not promise.

use std::mem::MaybeUninit;
use std::os::raw::c_int;

use std::cell::RefCell;
use std::rc::Rc;

use mpi::ffi::{MPI_Message, MPI_Request, MPI_Status};

use super::comm::{check_rc, MpiComm};
use super::p2p::{mpi_rank, mpi_tag, status_of};
use super::types::datatype;
use super::vec_recv::{self, PostedVecRecv};
use super::watchdog;
use crate::data::{short_type_name, Data};
use crate::error::{Error, Result};
use crate::p2p::{Status, Tag, PROC_NULL};

enum Kind<'a> {
    /// A send of the owned copy.
    Send,
    /// A receive into the owned buffer, copied to the caller's on completion.
    Recv(&'a mut [u8]),
}

/// A send or a receive in flight.
pub(crate) struct MpiRequest<'a> {
    raw: MPI_Request,
    storage: Vec<u8>,
    kind: Kind<'a>,
    elem: usize,
    caller: usize,
    op: &'static str,
    peer: usize,
    tag: Tag,
    type_name: fn() -> String,
}

impl<'a> MpiRequest<'a> {
    pub(crate) fn isend<T: Data>(c: &MpiComm, buf: &[T], dest: usize, tag: Tag) -> Result<MpiRequest<'static>> {
        let n = c.count("isend", buf.len())?;
        let storage = bytemuck::cast_slice::<T, u8>(buf).to_vec();
        let dt = datatype::<T>();
        let mut raw = MaybeUninit::uninit();
        let isend = if super::runtime::sync_sends() { mpi::ffi::MPI_Issend } else { mpi::ffi::MPI_Isend };
        // SAFETY: `storage` holds n elements and lives (or leaks) until the request completes.
        let rc = unsafe { isend(storage.as_ptr().cast(), n, dt, mpi_rank(dest), tag, c.raw(), raw.as_mut_ptr()) };
        c.check("isend", rc)?;
        Ok(MpiRequest {
            // SAFETY: MPI_Isend succeeded, so it wrote the request.
            raw: unsafe { raw.assume_init() },
            storage,
            kind: Kind::Send,
            elem: std::mem::size_of::<T>(),
            caller: c.rank(),
            op: "isend",
            peer: dest,
            tag,
            type_name: short_type_name::<T>,
        })
    }

    pub(crate) fn irecv<T: Data>(c: &MpiComm, buf: &'a mut [T], src: usize, tag: Tag) -> Result<MpiRequest<'a>> {
        let n = c.count("irecv", buf.len())?;
        let mut storage = vec![0u8; std::mem::size_of_val(buf)];
        let dt = datatype::<T>();
        let mut raw = MaybeUninit::uninit();
        // SAFETY: `storage` holds n elements and lives (or leaks) until the request completes.
        let rc = unsafe {
            mpi::ffi::MPI_Irecv(
                storage.as_mut_ptr().cast(),
                n,
                dt,
                mpi_rank(src),
                mpi_tag(tag),
                c.raw(),
                raw.as_mut_ptr(),
            )
        };
        c.check("irecv", rc)?;
        Ok(MpiRequest {
            // SAFETY: MPI_Irecv succeeded, so it wrote the request.
            raw: unsafe { raw.assume_init() },
            storage,
            kind: Kind::Recv(bytemuck::cast_slice_mut(buf)),
            elem: std::mem::size_of::<T>(),
            caller: c.rank(),
            op: "irecv",
            peer: src,
            tag,
            type_name: short_type_name::<T>,
        })
    }

    fn active(&self) -> bool {
        // SAFETY: reading a predefined handle.
        self.raw != unsafe { mpi::ffi::RSMPI_REQUEST_NULL }
    }

    pub(crate) fn wait(mut self) -> Result<Status> {
        if vec_recv::any() {
            return vec_recv::spin(|| self.test().transpose());
        }
        let mut st = MaybeUninit::<MPI_Status>::zeroed();
        let rc = {
            let _w = watchdog::enter(self.op, || watchdog::peer_text(self.peer), Some(self.tag));
            // SAFETY: an active request of this process; MPI sets it to MPI_REQUEST_NULL.
            unsafe { mpi::ffi::MPI_Wait(&mut self.raw, st.as_mut_ptr()) }
        };
        // SAFETY: MPI_Wait fills the status.
        self.finish(rc, unsafe { st.assume_init() })
    }

    pub(crate) fn test(&mut self) -> Result<Option<Status>> {
        let mut st = MaybeUninit::<MPI_Status>::zeroed();
        let mut flag = 0;
        // SAFETY: an active request of this process.
        let rc = unsafe { mpi::ffi::MPI_Test(&mut self.raw, &mut flag, st.as_mut_ptr()) };
        if rc == mpi::ffi::MPI_SUCCESS as c_int && flag == 0 {
            return Ok(None);
        }
        // SAFETY: MPI_Test filled the status of the completed request.
        self.finish(rc, unsafe { st.assume_init() }).map(Some)
    }

    fn finish(&mut self, rc: c_int, st: MPI_Status) -> Result<Status> {
        let caller = self.caller;
        match &mut self.kind {
            Kind::Send => {
                check_rc(self.op, caller, rc)?;
                let count = self.storage.len() / self.elem.max(1);
                Ok(Status { source: caller, tag: self.tag, count, bytes: self.storage.len() })
            }
            Kind::Recv(into) => {
                let status =
                    completed_recv(self.op, caller, rc, &st, self.elem, into.len() / self.elem.max(1), self.type_name)?;
                let bytes = status.count * self.elem;
                into[..bytes].copy_from_slice(&self.storage[..bytes]);
                Ok(status)
            }
        }
    }
}

impl Drop for MpiRequest<'_> {
    fn drop(&mut self) {
        if !self.active() {
            return;
        }
        match self.kind {
            // SAFETY: cancelling and completing our own active receive.
            Kind::Recv(_) => unsafe {
                mpi::ffi::MPI_Cancel(&mut self.raw);
                mpi::ffi::MPI_Wait(&mut self.raw, mpi::ffi::RSMPI_STATUS_IGNORE);
            },
            Kind::Send => {
                // The send completes on its own; its buffer must outlive it.
                std::mem::forget(std::mem::take(&mut self.storage));
                // SAFETY: freeing our own handle; MPI finishes the send in the background.
                unsafe { mpi::ffi::MPI_Request_free(&mut self.raw) };
            }
        }
    }
}

/// The status of a finished receive of up to `capacity` elements, or its error.
#[inline]
pub(crate) fn completed_recv(
    op: &'static str,
    caller: usize,
    rc: c_int,
    st: &MPI_Status,
    elem: usize,
    capacity: usize,
    recv_type: fn() -> String,
) -> Result<Status> {
    if rc == mpi::ffi::MPI_SUCCESS as c_int {
        let status = status_of(st, elem);
        if status.count != usize::MAX || status.source == PROC_NULL {
            return Ok(status);
        }
    }
    failed_recv(op, caller, rc, st, elem, capacity, recv_type)
}

/// `completed_recv` of a receive that failed or whose message is not a whole number of elements.
#[cold]
#[inline(never)]
fn failed_recv(
    op: &'static str,
    caller: usize,
    rc: c_int,
    st: &MPI_Status,
    elem: usize,
    capacity: usize,
    recv_type: fn() -> String,
) -> Result<Status> {
    if rc != mpi::ffi::MPI_SUCCESS as c_int {
        if MpiComm::error_class(rc) == mpi::ffi::MPI_ERR_TRUNCATE as c_int {
            let sent = status_of(st, elem).count.max(capacity + 1);
            return Err(Error::Truncated {
                op,
                from: st.MPI_SOURCE as usize,
                to: caller,
                tag: st.MPI_TAG,
                sent,
                capacity,
            });
        }
        check_rc(op, caller, rc)?;
    }
    let status = status_of(st, elem);
    let bytes = status_of(st, 1).count;
    Err(mismatch(op, caller, &status, bytes, recv_type()))
}

/// The error of a message that is not a whole number of the receiver's elements.
pub(crate) fn mismatch(op: &'static str, caller: usize, st: &Status, bytes: usize, recv_type: String) -> Error {
    Error::TypeMismatch {
        op,
        from: st.source,
        to: caller,
        tag: st.tag,
        sent_type: format!("a type of another size ({bytes} bytes in all)"),
        recv_type,
    }
}

/// A receive of a message of any length, registered for matching (see `vec_recv`).
/// It borrows its communicator, whose MPI handle the registration names.
pub(crate) struct MpiVecRequest<'c, T> {
    slot: Option<Rc<PostedVecRecv>>,
    _comm: std::marker::PhantomData<&'c MpiComm>,
    _t: std::marker::PhantomData<fn() -> T>,
}

impl<'c, T: Data> MpiVecRequest<'c, T> {
    pub(crate) fn new(c: &'c MpiComm, src: usize, tag: Tag) -> Self {
        if src == PROC_NULL {
            return MpiVecRequest { slot: None, _comm: std::marker::PhantomData, _t: std::marker::PhantomData };
        }
        let slot = Rc::new(PostedVecRecv {
            comm: c.raw(),
            src: mpi_rank(src),
            tag: mpi_tag(tag),
            caller: c.rank(),
            mrecv: mrecv_vec::<T>,
            result: RefCell::new(None),
        });
        vec_recv::register(slot.clone());
        // Match a message that is already here at once, as a posted MPI receive (and the
        // thread backend's) does: dropping the request then consumes it on both backends.
        vec_recv::progress();
        MpiVecRequest { slot: Some(slot), _comm: std::marker::PhantomData, _t: std::marker::PhantomData }
    }

    fn take(&self) -> Option<Result<(Vec<T>, Status)>> {
        let Some(slot) = &self.slot else { return Some(Ok((Vec::new(), Status::null()))) };
        let r = slot.result.borrow_mut().take()?;
        Some(r.map(|(v, st)| (*v.downcast::<Vec<T>>().expect("a Vec of the request's type"), st)))
    }

    pub(crate) fn wait(self) -> Result<(Vec<T>, Status)> {
        let (peer, tag) = self.slot.as_ref().map_or((PROC_NULL, 0), |s| (s.src as usize, s.tag));
        let _w = watchdog::enter("irecv_vec", || watchdog::peer_text(peer), Some(tag));
        vec_recv::spin(|| self.take())
    }

    pub(crate) fn test(&mut self) -> Result<Option<(Vec<T>, Status)>> {
        vec_recv::progress();
        self.take().transpose()
    }
}

impl<T> Drop for MpiVecRequest<'_, T> {
    fn drop(&mut self) {
        if let Some(slot) = &self.slot {
            vec_recv::unregister(slot);
        }
    }
}

/// Receives a matched message into a new `Vec<T>` of its length.
pub(crate) fn mrecv_vec<T: Data>(msg: &mut MPI_Message, st: &MPI_Status, caller: usize) -> vec_recv::Received {
    let dt = datatype::<T>();
    let probed = status_of(st, std::mem::size_of::<T>());
    let (count, dt_recv) = if probed.count == usize::MAX {
        // Not a whole number of T: receive it as bytes (a matched message must be received).
        (status_of(st, 1).count, datatype::<u8>())
    } else {
        (probed.count, dt)
    };
    let mut buf = vec![0u8; count * if dt_recv == dt { std::mem::size_of::<T>() } else { 1 }];
    let mut st2 = MaybeUninit::<MPI_Status>::zeroed();
    // SAFETY: `buf` holds `count` elements of `dt_recv`, the probed length.
    let rc = unsafe { mpi::ffi::MPI_Mrecv(buf.as_mut_ptr().cast(), count as c_int, dt_recv, msg, st2.as_mut_ptr()) };
    check_rc("irecv_vec", caller, rc)?;
    if dt_recv != dt {
        return Err(mismatch("irecv_vec", caller, &probed, count, short_type_name::<T>()));
    }
    let v: Vec<T> = bytemuck::pod_collect_to_vec(&buf);
    Ok((Box::new(v), probed))
}
