//! Reduce-scatter on MPI: `MPI_Reduce_scatter_block` and `MPI_Reduce_scatter`, after the
//! local checks shared with the thread backend and the agreement (always, for
//! `reduce_scatter`, whose counts could otherwise disagree in the messages' lengths).

use std::os::raw::c_int;

use super::{recv_ptr, send_ptr, MpiComm};
use crate::backend::mpi::types::with_op;
use crate::collective::agree::Call;
use crate::collective::Layout;
use crate::data::{Data, Op};
use crate::error::Result;

impl MpiComm {
    pub fn reduce_scatter_block<T: Data>(&self, send: &[T], recv: &mut [T], op: &Op<T>) -> Result<()> {
        let name = "reduce_scatter_block";
        let err = self.caller().reduce_scatter_block(send.len(), recv.len());
        self.agree(Call { count: send.len(), op_kind: Some(op.kind()), ..Call::new::<T>(name) }, err)?;
        let k = self.count(name, recv.len())?;
        let (s, r) = (send_ptr(send), recv_ptr(recv));
        with_op(op, self.rank(), |mop, dt| {
            // SAFETY: `send` holds p blocks of k elements and `recv` k (checked, and the
            // same k on every rank where the messages are large: agreed).
            self.collective(name, || unsafe { mpi::ffi::MPI_Reduce_scatter_block(s, r, k, dt, mop, self.raw()) })
        })
    }

    pub fn reduce_scatter<T: Data>(&self, send: &[T], recv: &mut [T], counts: &[usize], op: &Op<T>) -> Result<()> {
        let name = "reduce_scatter";
        let err = self.caller().reduce_scatter(send.len(), recv.len(), counts);
        let layout = Layout::from_counts(counts);
        let call = Call { count: send.len(), layout: Some(&layout), op_kind: Some(op.kind()), ..Call::new::<T>(name) };
        self.agree(call, err)?;
        let counts: Vec<c_int> = counts.iter().map(|&c| self.count(name, c)).collect::<Result<_>>()?;
        let (s, r) = (send_ptr(send), recv_ptr(recv));
        with_op(op, self.rank(), |mop, dt| {
            // SAFETY: `send` holds the sum of the counts, `recv` at least this rank's
            // (checked), and every rank passes the same counts (agreed).
            self.collective(name, || unsafe {
                mpi::ffi::MPI_Reduce_scatter(s, r, counts.as_ptr(), dt, mop, self.raw())
            })
        })
    }
}
