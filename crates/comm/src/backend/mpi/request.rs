//! Non-blocking operations on MPI.
//!
//! A request owns the memory MPI reads or writes (rsmpi's `StaticScope` discipline: the
//! buffer outlives the request), and a receive copies into the caller's slice when it
//! completes. So a request that is leaked (`mem::forget`) leaks its buffer instead of
//! letting MPI write into freed memory, which a borrowed-buffer request could not promise.
//! A receive is posted in parsci's registry (see `posted`), which gives MPI its storage
//! only once the message is known to fit.

use std::mem::MaybeUninit;
use std::os::raw::c_int;
use std::rc::Rc;

use mpi::ffi::{MPI_Message, MPI_Request, MPI_Status};

use super::comm::{check_rc, MpiComm};
use super::matched::Shape;
use super::p2p::{mpi_rank, mpi_tag, status_of};
use super::posted::{self, PostedRecv, Target};
use super::types::datatype;
use super::watchdog;
use crate::data::{short_type_name, Data};
use crate::error::{Error, Result};
use crate::p2p::{Status, Tag, PROC_NULL};

enum Kind<'a> {
    /// A send of the owned copy.
    Send(MPI_Request),
    /// A posted receive into the owned storage (none from `PROC_NULL`), copied to the
    /// caller's slice on completion.
    Recv(Option<Rc<PostedRecv>>, &'a mut [u8]),
}

/// A send or a receive in flight.
pub(crate) struct MpiRequest<'a> {
    kind: Kind<'a>,
    storage: Vec<u8>,
    elem: usize,
    caller: usize,
    op: &'static str,
    peer: usize,
    tag: Tag,
}

impl<'a> MpiRequest<'a> {
    pub(crate) fn isend<T: Data>(c: &MpiComm, buf: &[T], dest: usize, tag: Tag) -> Result<MpiRequest<'static>> {
        let n = c.count("isend", buf.len())?;
        super::bounce::check_size("isend", c.rank(), std::mem::size_of_val(buf))?;
        let storage = bytemuck::cast_slice::<T, u8>(buf).to_vec();
        let dt = datatype::<T>();
        let mut raw = MaybeUninit::uninit();
        let isend = if super::runtime::sync_sends() { mpi::ffi::MPI_Issend } else { mpi::ffi::MPI_Isend };
        // SAFETY: `storage` holds n elements and lives (or leaks) until the request completes.
        let rc = unsafe { isend(storage.as_ptr().cast(), n, dt, mpi_rank(dest), tag, c.raw(), raw.as_mut_ptr()) };
        c.check("isend", rc)?;
        Ok(MpiRequest {
            // SAFETY: MPI_Isend succeeded, so it wrote the request.
            kind: Kind::Send(unsafe { raw.assume_init() }),
            storage,
            elem: std::mem::size_of::<T>(),
            caller: c.rank(),
            op: "isend",
            peer: dest,
            tag,
        })
    }

    pub(crate) fn irecv<T: Data>(c: &MpiComm, buf: &'a mut [T], src: usize, tag: Tag) -> Result<MpiRequest<'a>> {
        c.count("irecv", buf.len())?;
        let mut storage = vec![0u8; std::mem::size_of_val(buf)];
        let posted = (src != PROC_NULL).then(|| {
            let target = Target::Buffer(storage.as_mut_ptr(), Shape::of::<T>(buf.len()));
            // SAFETY: `storage` (its heap block, which moving the Vec keeps) holds the
            // shape; the request ends the receive before freeing it (`Drop`), or leaks
            // both. The request borrows its communicator.
            unsafe { PostedRecv::post(c.raw(), mpi_rank(src), mpi_tag(tag), c.rank(), "irecv", target) }
        });
        Ok(MpiRequest {
            kind: Kind::Recv(posted, bytemuck::cast_slice_mut(buf)),
            storage,
            elem: std::mem::size_of::<T>(),
            caller: c.rank(),
            op: "irecv",
            peer: src,
            tag,
        })
    }

    pub(crate) fn wait(mut self) -> Result<Status> {
        let _w = watchdog::enter(self.op, || watchdog::peer_text(self.peer), Some(self.tag));
        if matches!(self.kind, Kind::Send(_)) && posted::any() {
            return posted::spin(|| self.test().transpose());
        }
        match &mut self.kind {
            Kind::Send(raw) => {
                let mut st = MaybeUninit::<MPI_Status>::zeroed();
                // SAFETY: an active request of this process; MPI sets it to MPI_REQUEST_NULL.
                let rc = unsafe { mpi::ffi::MPI_Wait(raw, st.as_mut_ptr()) };
                check_rc(self.op, self.caller, rc)?;
                Ok(self.sent())
            }
            Kind::Recv(None, _) => Ok(Status::null()),
            Kind::Recv(Some(p), _) => {
                let r = p.wait();
                self.received(r)
            }
        }
    }

    pub(crate) fn test(&mut self) -> Result<Option<Status>> {
        posted::progress();
        match &mut self.kind {
            Kind::Send(raw) => {
                let mut flag = 0;
                // SAFETY: an active request of this process (or MPI_REQUEST_NULL once complete).
                let rc = unsafe { mpi::ffi::MPI_Test(raw, &mut flag, mpi::ffi::RSMPI_STATUS_IGNORE) };
                check_rc(self.op, self.caller, rc)?;
                Ok((flag != 0).then(|| self.sent()))
            }
            Kind::Recv(None, _) => Ok(Some(Status::null())),
            Kind::Recv(Some(p), _) => match p.poll() {
                None => Ok(None),
                Some(r) => self.received(r).map(Some),
            },
        }
    }

    fn sent(&self) -> Status {
        let count = self.storage.len() / self.elem.max(1);
        Status { source: self.caller, tag: self.tag, count, bytes: self.storage.len() }
    }

    /// The status of the completed receive, its message copied to the caller's slice.
    fn received(&mut self, r: posted::Received) -> Result<Status> {
        let (_, status) = r?;
        if let Kind::Recv(_, into) = &mut self.kind {
            into[..status.bytes].copy_from_slice(&self.storage[..status.bytes]);
        }
        Ok(status)
    }
}

impl Drop for MpiRequest<'_> {
    fn drop(&mut self) {
        match &mut self.kind {
            // Cancelled, or waited for if its message is on its way into the storage.
            Kind::Recv(Some(p), _) => p.end(),
            Kind::Recv(None, _) => {}
            Kind::Send(raw) => {
                // SAFETY: reading a predefined handle.
                if *raw == unsafe { mpi::ffi::RSMPI_REQUEST_NULL } {
                    return;
                }
                // The send completes on its own; its buffer must outlive it.
                std::mem::forget(std::mem::take(&mut self.storage));
                // SAFETY: freeing our own handle; MPI finishes the send in the background.
                unsafe { mpi::ffi::MPI_Request_free(raw) };
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

/// A receive of a message of any length, registered for matching (see `posted`).
/// It borrows its communicator, whose MPI handle the registration names.
pub(crate) struct MpiVecRequest<'c, T> {
    slot: Option<Rc<PostedRecv>>,
    peer: usize,
    tag: Tag,
    _comm: std::marker::PhantomData<&'c MpiComm>,
    _t: std::marker::PhantomData<fn() -> T>,
}

impl<'c, T: Data> MpiVecRequest<'c, T> {
    pub(crate) fn new(c: &'c MpiComm, src: usize, tag: Tag) -> Self {
        let slot = (src != PROC_NULL).then(|| {
            let target = Target::Vec(mrecv_vec::<T>);
            // SAFETY: no buffer to keep alive; the request borrows its communicator.
            unsafe { PostedRecv::post(c.raw(), mpi_rank(src), mpi_tag(tag), c.rank(), "irecv_vec", target) }
        });
        MpiVecRequest { slot, peer: src, tag, _comm: std::marker::PhantomData, _t: std::marker::PhantomData }
    }

    fn unbox(r: posted::Received) -> Result<(Vec<T>, Status)> {
        r.map(|(v, st)| (*v.downcast::<Vec<T>>().expect("a Vec of the request's type"), st))
    }

    pub(crate) fn wait(self) -> Result<(Vec<T>, Status)> {
        let Some(slot) = &self.slot else { return Ok((Vec::new(), Status::null())) };
        let _w = watchdog::enter("irecv_vec", || watchdog::peer_text(self.peer), Some(self.tag));
        Self::unbox(slot.wait())
    }

    pub(crate) fn test(&mut self) -> Result<Option<(Vec<T>, Status)>> {
        posted::progress();
        let Some(slot) = &self.slot else { return Ok(Some((Vec::new(), Status::null()))) };
        slot.poll().map(Self::unbox).transpose()
    }
}

impl<T> Drop for MpiVecRequest<'_, T> {
    fn drop(&mut self) {
        if let Some(slot) = &self.slot {
            slot.end();
        }
    }
}

/// Receives a matched message into a new `Vec<T>` of its length.
pub(crate) fn mrecv_vec<T: Data>(msg: &mut MPI_Message, st: &MPI_Status, caller: usize) -> posted::Received {
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
