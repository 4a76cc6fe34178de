//! Reductions in place (MPI's `MPI_IN_PLACE`): one buffer is both this rank's contribution
//! and where its result lands, so a large buffer (a gradient, a field) is reduced without
//! a second copy of it. The results are those of the out-of-place forms, bit for bit,
//! combined in rank order (user ops need not be commutative).
//!
//! Every rank of the communicator calls the same in-place form: a rank calling
//! `allreduce_in_place` while another calls `allreduce` is a
//! [`CollectiveMismatch`](crate::Error::CollectiveMismatch), as any two different collectives.

use crate::comm::{dispatch, Comm};
use crate::data::{Data, Op};
use crate::error::Result;
use crate::timing::Kind;

impl Comm {
    /// Replaces `buf` on every rank by `buf(0) op buf(1) op ... op buf(size-1)`,
    /// elementwise (every rank passes the same length); the same bits everywhere.
    ///
    /// ```
    /// use parsci_comm::{launch, Backend, Op};
    /// let out = launch(Backend::Threads(4), |comm| {
    ///     // A rank's gradient, summed over the ranks where it lies.
    ///     let mut grad = vec![comm.rank() as f64, 1.0];
    ///     comm.allreduce_in_place(&mut grad, &Op::sum())?;
    ///     Ok::<_, parsci_comm::Error>(grad)
    /// })
    /// .unwrap();
    /// assert!(out.into_vec().iter().all(|g| g == &[6.0, 4.0]));
    /// ```
    pub fn allreduce_in_place<T: Data>(&self, buf: &mut [T], op: &Op<T>) -> Result<()> {
        let _t =
            self.traced(Kind::Collective, "allreduce_in_place", crate::p2p::PROC_NULL, -1, std::mem::size_of_val(buf));
        dispatch!(self, c => c.allreduce_in_place(buf, op))
    }

    /// Root's `buf` is replaced by `buf(0) op ... op buf(size-1)`; on the other ranks `buf`
    /// is only read (their contribution) and left as it is.
    ///
    /// ```
    /// use parsci_comm::{launch, Backend, Op};
    /// let out = launch(Backend::Threads(3), |comm| {
    ///     let mut x = [comm.rank() as i64 + 1];
    ///     comm.reduce_in_place(&mut x, &Op::prod(), 2)?;
    ///     Ok::<_, parsci_comm::Error>(x[0])
    /// })
    /// .unwrap();
    /// assert_eq!(out.into_vec(), vec![1, 2, 6]);
    /// ```
    pub fn reduce_in_place<T: Data>(&self, buf: &mut [T], op: &Op<T>, root: usize) -> Result<()> {
        let _t = self.traced(Kind::Collective, "reduce_in_place", root, -1, std::mem::size_of_val(buf));
        dispatch!(self, c => c.reduce_in_place(buf, op, root))
    }

    /// Replaces `buf` on rank `i` by `buf(0) op ... op buf(i)` (inclusive prefix).
    ///
    /// ```
    /// use parsci_comm::{launch, Backend, Op};
    /// let out = launch(Backend::Threads(4), |comm| {
    ///     let mut x = [1u32, comm.rank() as u32];
    ///     comm.scan_in_place(&mut x, &Op::sum())?;
    ///     Ok::<_, parsci_comm::Error>(x)
    /// })
    /// .unwrap();
    /// assert_eq!(out.into_vec(), vec![[1, 0], [2, 1], [3, 3], [4, 6]]);
    /// ```
    pub fn scan_in_place<T: Data>(&self, buf: &mut [T], op: &Op<T>) -> Result<()> {
        let _t = self.traced(Kind::Collective, "scan_in_place", crate::p2p::PROC_NULL, -1, std::mem::size_of_val(buf));
        dispatch!(self, c => c.scan_in_place(buf, op))
    }

    /// Replaces `buf` on rank `i > 0` by `buf(0) op ... op buf(i-1)` (exclusive prefix).
    /// Rank 0's `buf` is left as it is (MPI leaves it undefined; parsci promises to leave
    /// it alone on every backend), as [`exscan`](Comm::exscan) does.
    ///
    /// ```
    /// use parsci_comm::{launch, Backend, Op};
    /// let out = launch(Backend::Threads(4), |comm| {
    ///     // Where each rank's 10 items start in the global numbering.
    ///     let mut start = [10u64];
    ///     comm.exscan_in_place(&mut start, &Op::sum())?;
    ///     Ok::<_, parsci_comm::Error>(if comm.rank() == 0 { 0 } else { start[0] })
    /// })
    /// .unwrap();
    /// assert_eq!(out.into_vec(), vec![0, 10, 20, 30]);
    /// ```
    pub fn exscan_in_place<T: Data>(&self, buf: &mut [T], op: &Op<T>) -> Result<()> {
        let _t =
            self.traced(Kind::Collective, "exscan_in_place", crate::p2p::PROC_NULL, -1, std::mem::size_of_val(buf));
        dispatch!(self, c => c.exscan_in_place(buf, op))
    }
}
