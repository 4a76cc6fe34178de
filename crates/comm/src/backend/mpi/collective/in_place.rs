//! Reductions in place on MPI: `MPI_IN_PLACE` as the send buffer where MPI allows it
//! (every rank of `MPI_Allreduce` and `MPI_Scan`, the root of `MPI_Reduce`, the ranks
//! but 0 of `MPI_Exscan`), after the same checks and agreement as the out-of-place forms.

use std::ffi::c_void;
use std::os::raw::c_int;

use super::{null, recv_ptr, send_ptr, MpiComm};
use crate::backend::mpi::types::with_op;
use crate::collective::agree::Call;
use crate::data::{Data, Op};
use crate::error::{Error, Result};

/// `MPI_IN_PLACE`, `((void *) 1)` in Open MPI's `mpi.h`: a cast in a macro, which rsmpi's
/// generated bindings do not carry. parsci's MPI backend is built on Open MPI (see
/// `runtime`). `recv_ptr` keeps empty buffers off this address.
pub(in crate::backend::mpi) fn mpi_in_place() -> *mut c_void {
    std::ptr::without_provenance_mut(1)
}

/// An MPI reduction call: `(send, recv, count, datatype, op, comm)`.
type Reduce =
    fn(*const c_void, *mut c_void, c_int, mpi::ffi::MPI_Datatype, mpi::ffi::MPI_Op, mpi::ffi::MPI_Comm) -> c_int;

impl MpiComm {
    pub fn allreduce_in_place<T: Data>(&self, buf: &mut [T], op: &Op<T>) -> Result<()> {
        self.in_place("allreduce_in_place", buf, op, None, |s, r, n, dt, mop, c| {
            // SAFETY: `r` is the buffer, of at least n elements; `s` is MPI_IN_PLACE.
            unsafe { mpi::ffi::MPI_Allreduce(s, r, n, dt, mop, c) }
        })
    }

    pub fn scan_in_place<T: Data>(&self, buf: &mut [T], op: &Op<T>) -> Result<()> {
        self.in_place("scan_in_place", buf, op, None, |s, r, n, dt, mop, c| {
            // SAFETY: as in allreduce_in_place.
            unsafe { mpi::ffi::MPI_Scan(s, r, n, dt, mop, c) }
        })
    }

    pub fn exscan_in_place<T: Data>(&self, buf: &mut [T], op: &Op<T>) -> Result<()> {
        let exscan: Reduce = |s, r, n, dt, mop, c| {
            // SAFETY: `r` holds at least n elements; `s` is MPI_IN_PLACE or holds n.
            unsafe { mpi::ffi::MPI_Exscan(s, r, n, dt, mop, c) }
        };
        if self.rank() != 0 {
            return self.in_place("exscan_in_place", buf, op, None, exscan);
        }
        // MPI leaves rank 0's result undefined (and may use its buffer): rank 0 sends its
        // buffer and receives into scratch space, so that its buffer is left as it is.
        let mut scratch = vec![T::zeroed(); buf.len()];
        let name = "exscan_in_place";
        self.agree(Call { count: buf.len(), op_kind: Some(op.kind()), ..Call::new::<T>(name) }, None)?;
        let n = self.count(name, buf.len())?;
        with_op(op, self.rank(), |mop, dt| {
            self.collective(name, || exscan(send_ptr(buf), recv_ptr(&mut scratch), n, dt, mop, self.raw()))
        })
    }

    pub fn reduce_in_place<T: Data>(&self, buf: &mut [T], op: &Op<T>, root: usize) -> Result<()> {
        let name = "reduce_in_place";
        let err = self.caller().root(name, root);
        self.agree(Call { root, count: buf.len(), op_kind: Some(op.kind()), ..Call::new::<T>(name) }, err)?;
        let n = self.count(name, buf.len())?;
        let r = root as c_int;
        with_op(op, self.rank(), |mop, dt| {
            if self.rank() == root {
                let into = recv_ptr(buf);
                // SAFETY: the root's buffer holds n elements, in and out.
                self.collective(name, || unsafe {
                    mpi::ffi::MPI_Reduce(mpi_in_place(), into, n, dt, mop, r, self.raw())
                })
            } else {
                // SAFETY: the buffer holds n elements, only read.
                self.collective(name, || unsafe {
                    mpi::ffi::MPI_Reduce(send_ptr(buf), null(), n, dt, mop, r, self.raw())
                })
            }
        })
    }

    /// `allreduce_in_place`, `scan_in_place`, `exscan_in_place` (but on rank 0): checks,
    /// then `call(MPI_IN_PLACE, buf, n, datatype, op, comm)`.
    fn in_place<T: Data>(
        &self,
        name: &'static str,
        buf: &mut [T],
        op: &Op<T>,
        err: Option<Error>,
        call: Reduce,
    ) -> Result<()> {
        self.agree(Call { count: buf.len(), op_kind: Some(op.kind()), ..Call::new::<T>(name) }, err)?;
        let n = self.count(name, buf.len())?;
        let into = recv_ptr(buf);
        with_op(op, self.rank(), |mop, dt| self.collective(name, || call(mpi_in_place(), into, n, dt, mop, self.raw())))
    }
}
