//! Scoped non-blocking operations on MPI: `MPI_Isend` straight from the caller's buffer,
//! and a receive posted into it (`MPI_Imrecv` once its message is matched and known to
//! fit, see `posted`), no copies. MPI may use the buffer until the operation completes,
//! and a request can be leaked, so the operation is shared with the scope (see
//! `crate::scope`), which completes every operation still active before the borrowed
//! buffers are released.

use std::cell::Cell;
use std::mem::MaybeUninit;
use std::os::raw::c_int;
use std::rc::Rc;

use mpi::ffi::MPI_Request;

use super::comm::{check_rc, MpiComm};
use super::matched::Shape;
use super::p2p::{mpi_rank, mpi_tag};
use super::posted::{self, PostedRecv, Target};
use super::types::datatype;
use super::watchdog;
use crate::data::Data;
use crate::error::Result;
use crate::p2p::{check_dest, check_source, check_tag, Status, Tag, PROC_NULL};

/// An operation of a scope, shared by the scope and the request.
pub(crate) enum ScopedOp {
    /// MPI's request handle of an `MPI_Isend` from the lent buffer.
    Send(Cell<MPI_Request>),
    /// A receive posted into the lent buffer.
    Recv(Rc<PostedRecv>),
}

impl ScopedOp {
    /// Completes the operation if it is still active: a receive is cancelled (a message
    /// that is already here, or already matched it, is consumed into its buffer), a send
    /// waits until MPI is done with its buffer.
    pub(crate) fn end(&self) {
        match self {
            ScopedOp::Recv(p) => p.end(),
            ScopedOp::Send(raw) => {
                let mut r = raw.get();
                // SAFETY: reading a predefined handle.
                if r == unsafe { mpi::ffi::RSMPI_REQUEST_NULL } {
                    return;
                }
                // SAFETY: an active request of this process; MPI sets it to MPI_REQUEST_NULL.
                unsafe { mpi::ffi::MPI_Wait(&mut r, mpi::ffi::RSMPI_STATUS_IGNORE) };
                raw.set(r);
            }
        }
    }
}

/// A scoped send or receive in flight.
pub(crate) struct MpiScopedRequest {
    op: Rc<ScopedOp>,
    elem: usize,
    count: usize,
    caller: usize,
    name: &'static str,
    peer: usize,
    tag: Tag,
}

impl MpiComm {
    /// `MPI_Isend` from `buf` itself (`MPI_Issend` in strict mode). The caller (a scope)
    /// keeps `buf` borrowed until the returned operation has ended.
    pub(crate) fn isend_scoped<T: Data>(
        &self,
        buf: &[T],
        dest: usize,
        tag: Tag,
    ) -> Result<Option<(MpiScopedRequest, Rc<ScopedOp>)>> {
        check_dest("isend", self.rank(), self.size(), dest)?;
        check_tag("isend", self.rank(), tag, false)?;
        if dest == PROC_NULL {
            return Ok(None);
        }
        let n = self.count("isend", buf.len())?;
        super::bounce::check_size("isend", self.rank(), std::mem::size_of_val(buf))?;
        let isend = if super::runtime::sync_sends() { mpi::ffi::MPI_Issend } else { mpi::ffi::MPI_Isend };
        let mut raw = MaybeUninit::uninit();
        // SAFETY: `buf` holds n elements; the scope keeps it borrowed until the request ends.
        let rc = unsafe {
            isend(buf.as_ptr().cast(), n, datatype::<T>(), mpi_rank(dest), tag, self.raw(), raw.as_mut_ptr())
        };
        self.check("isend", rc)?;
        // SAFETY: MPI_Isend succeeded, so it wrote the request.
        let op = Rc::new(ScopedOp::Send(Cell::new(unsafe { raw.assume_init() })));
        Ok(Some((self.scoped(op.clone(), "isend", dest, tag, buf.len(), std::mem::size_of::<T>()), op)))
    }

    /// A receive posted into `buf` itself (see `posted`: `MPI_Imrecv` into `buf` once its
    /// message is matched and known to fit). The caller (a scope) keeps `buf` borrowed
    /// until the returned operation has ended.
    pub(crate) fn irecv_scoped<T: Data>(
        &self,
        buf: &mut [T],
        src: usize,
        tag: Tag,
    ) -> Result<Option<(MpiScopedRequest, Rc<ScopedOp>)>> {
        check_source("irecv", self.rank(), self.size(), src)?;
        check_tag("irecv", self.rank(), tag, true)?;
        if src == PROC_NULL {
            return Ok(None);
        }
        self.count("irecv", buf.len())?;
        let target = Target::Buffer(buf.as_mut_ptr().cast(), Shape::of::<T>(buf.len()));
        // SAFETY: `buf` holds the shape; the scope keeps it borrowed until the operation
        // has ended (`ScopedOp::end`, on every way out of the scope). The scope borrows
        // the communicator.
        let posted = unsafe { PostedRecv::post(self.raw(), mpi_rank(src), mpi_tag(tag), self.rank(), "irecv", target) };
        let op = Rc::new(ScopedOp::Recv(posted));
        Ok(Some((self.scoped(op.clone(), "irecv", src, tag, buf.len(), std::mem::size_of::<T>()), op)))
    }

    fn scoped(
        &self,
        op: Rc<ScopedOp>,
        name: &'static str,
        peer: usize,
        tag: Tag,
        count: usize,
        elem: usize,
    ) -> MpiScopedRequest {
        MpiScopedRequest { op, elem, count, caller: self.rank(), name, peer, tag }
    }
}

impl MpiScopedRequest {
    pub(crate) fn wait(self) -> Result<Status> {
        let _w = watchdog::enter(self.name, || watchdog::peer_text(self.peer), Some(self.tag));
        match &*self.op {
            ScopedOp::Recv(p) => p.wait().map(|(_, st)| st),
            ScopedOp::Send(_) if posted::any() => posted::spin(|| self.poll().transpose()),
            ScopedOp::Send(raw) => {
                let mut r = raw.get();
                // SAFETY: a request of this process (MPI_Wait of a null request returns at once).
                let rc = unsafe { mpi::ffi::MPI_Wait(&mut r, mpi::ffi::RSMPI_STATUS_IGNORE) };
                raw.set(r);
                self.sent(rc)
            }
        }
    }

    pub(crate) fn test(&mut self) -> Result<Option<Status>> {
        posted::progress();
        self.poll()
    }

    fn poll(&self) -> Result<Option<Status>> {
        match &*self.op {
            ScopedOp::Recv(p) => p.poll().map(|r| r.map(|(_, st)| st)).transpose(),
            ScopedOp::Send(raw) => {
                let mut r = raw.get();
                let mut flag = 0;
                // SAFETY: a request of this process (or MPI_REQUEST_NULL once complete).
                let rc = unsafe { mpi::ffi::MPI_Test(&mut r, &mut flag, mpi::ffi::RSMPI_STATUS_IGNORE) };
                raw.set(r);
                if rc == mpi::ffi::MPI_SUCCESS as c_int && flag == 0 {
                    return Ok(None);
                }
                self.sent(rc).map(Some)
            }
        }
    }

    fn sent(&self, rc: c_int) -> Result<Status> {
        check_rc(self.name, self.caller, rc)?;
        Ok(Status { source: self.caller, tag: self.tag, count: self.count, bytes: self.count * self.elem })
    }
}

impl Drop for MpiScopedRequest {
    fn drop(&mut self) {
        // A receive dropped unfinished is cancelled now; a send is left to the end of
        // the scope (which waits until MPI is done with its buffer).
        if let ScopedOp::Recv(p) = &*self.op {
            p.end();
        }
    }
}
