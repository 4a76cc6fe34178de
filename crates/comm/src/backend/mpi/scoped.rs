//! Scoped non-blocking operations on MPI: `MPI_Isend` straight from the caller's buffer,
//! `MPI_Irecv` straight into it, no copies. MPI may use the buffer until the request
//! completes, and a request can be leaked, so the request handle is shared with the
//! scope (see `crate::scope`), which completes every operation still active before the
//! borrowed buffers are released.

use std::cell::Cell;
use std::mem::MaybeUninit;
use std::os::raw::c_int;
use std::rc::Rc;

use mpi::ffi::{MPI_Request, MPI_Status};

use super::comm::{check_rc, MpiComm};
use super::p2p::{mpi_rank, mpi_tag};
use super::request::completed_recv;
use super::types::datatype;
use super::vec_recv;
use super::watchdog;
use crate::data::{short_type_name, Data};
use crate::error::Result;
use crate::p2p::{check_dest, check_source, check_tag, Status, Tag, PROC_NULL};

/// An operation of a scope: MPI's request handle, shared by the scope and the request.
pub(crate) struct ScopedOp {
    raw: Cell<MPI_Request>,
    recv: bool,
}

impl ScopedOp {
    fn active(&self) -> bool {
        // SAFETY: reading a predefined handle.
        self.raw.get() != unsafe { mpi::ffi::RSMPI_REQUEST_NULL }
    }

    /// Completes the operation if it is still active: a receive is cancelled first (a
    /// message that already matched it is consumed), a send waits until MPI is done
    /// with its buffer.
    pub(crate) fn end(&self) {
        if !self.active() {
            return;
        }
        let mut raw = self.raw.get();
        // SAFETY: an active request of this process; MPI sets it to MPI_REQUEST_NULL.
        unsafe {
            if self.recv {
                mpi::ffi::MPI_Cancel(&mut raw);
            }
            mpi::ffi::MPI_Wait(&mut raw, mpi::ffi::RSMPI_STATUS_IGNORE);
        }
        self.raw.set(raw);
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
    type_name: fn() -> String,
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
        let isend = if super::runtime::sync_sends() { mpi::ffi::MPI_Issend } else { mpi::ffi::MPI_Isend };
        let mut raw = MaybeUninit::uninit();
        // SAFETY: `buf` holds n elements; the scope keeps it borrowed until the request ends.
        let rc = unsafe {
            isend(buf.as_ptr().cast(), n, datatype::<T>(), mpi_rank(dest), tag, self.raw(), raw.as_mut_ptr())
        };
        self.check("isend", rc)?;
        // SAFETY: MPI_Isend succeeded, so it wrote the request.
        let op = Rc::new(ScopedOp { raw: Cell::new(unsafe { raw.assume_init() }), recv: false });
        Ok(Some((
            self.scoped(op.clone(), "isend", dest, tag, buf.len(), short_type_name::<T>, std::mem::size_of::<T>()),
            op,
        )))
    }

    /// `MPI_Irecv` into `buf` itself. The caller (a scope) keeps `buf` borrowed until the
    /// returned operation has ended.
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
        let n = self.count("irecv", buf.len())?;
        let mut raw = MaybeUninit::uninit();
        // SAFETY: `buf` holds n elements; the scope keeps it borrowed until the request ends.
        let rc = unsafe {
            mpi::ffi::MPI_Irecv(
                buf.as_mut_ptr().cast(),
                n,
                datatype::<T>(),
                mpi_rank(src),
                mpi_tag(tag),
                self.raw(),
                raw.as_mut_ptr(),
            )
        };
        self.check("irecv", rc)?;
        // SAFETY: MPI_Irecv succeeded, so it wrote the request.
        let op = Rc::new(ScopedOp { raw: Cell::new(unsafe { raw.assume_init() }), recv: true });
        Ok(Some((
            self.scoped(op.clone(), "irecv", src, tag, buf.len(), short_type_name::<T>, std::mem::size_of::<T>()),
            op,
        )))
    }

    #[allow(clippy::too_many_arguments)]
    fn scoped(
        &self,
        op: Rc<ScopedOp>,
        name: &'static str,
        peer: usize,
        tag: Tag,
        count: usize,
        type_name: fn() -> String,
        elem: usize,
    ) -> MpiScopedRequest {
        MpiScopedRequest { op, elem, count, caller: self.rank(), name, peer, tag, type_name }
    }
}

impl MpiScopedRequest {
    pub(crate) fn wait(self) -> Result<Status> {
        if vec_recv::any() {
            return vec_recv::spin(|| self.poll().transpose());
        }
        let mut raw = self.op.raw.get();
        let mut st = MaybeUninit::<MPI_Status>::zeroed();
        let rc = {
            let _w = watchdog::enter(self.name, || watchdog::peer_text(self.peer), Some(self.tag));
            // SAFETY: a request of this process (MPI_Wait of a null request returns at once).
            unsafe { mpi::ffi::MPI_Wait(&mut raw, st.as_mut_ptr()) }
        };
        self.op.raw.set(raw);
        // SAFETY: MPI_Wait fills the status.
        self.finish(rc, unsafe { st.assume_init() })
    }

    pub(crate) fn test(&mut self) -> Result<Option<Status>> {
        vec_recv::progress();
        self.poll()
    }

    fn poll(&self) -> Result<Option<Status>> {
        let mut raw = self.op.raw.get();
        let mut st = MaybeUninit::<MPI_Status>::zeroed();
        let mut flag = 0;
        // SAFETY: a request of this process.
        let rc = unsafe { mpi::ffi::MPI_Test(&mut raw, &mut flag, st.as_mut_ptr()) };
        self.op.raw.set(raw);
        if rc == mpi::ffi::MPI_SUCCESS as c_int && flag == 0 {
            return Ok(None);
        }
        // SAFETY: MPI_Test filled the status of the completed request.
        self.finish(rc, unsafe { st.assume_init() }).map(Some)
    }

    fn finish(&self, rc: c_int, st: MPI_Status) -> Result<Status> {
        if !self.op.recv {
            check_rc(self.name, self.caller, rc)?;
            return Ok(Status { source: self.caller, tag: self.tag, count: self.count, bytes: self.count * self.elem });
        }
        completed_recv(self.name, self.caller, rc, &st, self.elem, self.count, self.type_name)
    }
}

impl Drop for MpiScopedRequest {
    fn drop(&mut self) {
        // A receive dropped unfinished is cancelled now; a send is left to the end of
        // the scope (which waits until MPI is done with its buffer).
        if self.op.recv {
            self.op.end();
        }
    }
}
