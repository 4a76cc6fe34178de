//! Reduce-scatter (`MPI_Reduce_scatter_block`, `MPI_Reduce_scatter`): the elementwise
//! reduction of every rank's send buffer, cut into blocks, block `i` to rank `i`. As an
//! allreduce of which each rank keeps only its part, for a fraction of the traffic.

use crate::comm::{dispatch, Comm};
use crate::data::{Data, Op};
use crate::error::Result;
use crate::timing::Kind;

impl Comm {
    /// `send` holds `size` blocks of `recv.len()` elements (every rank passes the same
    /// length); rank `i` receives block `i` of `send(0) op ... op send(size-1)`, combined
    /// in rank order.
    ///
    /// ```
    /// use parsci_comm::{launch, Backend, Op};
    /// let out = launch(Backend::Threads(3), |comm| {
    ///     // Every rank contributes 1 + its rank to each of 3 blocks of 2 elements.
    ///     let send = vec![comm.rank() as i32 + 1; 6];
    ///     let mut mine = [0i32; 2];
    ///     comm.reduce_scatter_block(&send, &mut mine, &Op::sum())?;
    ///     Ok::<_, parsci_comm::Error>(mine)
    /// })
    /// .unwrap();
    /// assert!(out.into_vec().iter().all(|m| m == &[6, 6]));
    /// ```
    pub fn reduce_scatter_block<T: Data>(&self, send: &[T], recv: &mut [T], op: &Op<T>) -> Result<()> {
        let _t = self.traced(
            Kind::Collective,
            "reduce_scatter_block",
            crate::p2p::PROC_NULL,
            -1,
            std::mem::size_of_val(send),
        );
        dispatch!(self, c => c.reduce_scatter_block(send, recv, op))
    }

    /// As [`reduce_scatter_block`](Comm::reduce_scatter_block) with blocks of `counts[i]`
    /// elements, one after the other: `send` holds their sum, rank `i` receives block `i`
    /// into the start of `recv` (at least `counts[i]` elements; the rest is left as it is).
    /// Every rank passes the same `counts`.
    ///
    /// ```
    /// use parsci_comm::{launch, Backend, Op};
    /// let out = launch(Backend::Threads(2), |comm| {
    ///     let send: Vec<u64> = (0..5).map(|i| 10 * i + comm.rank() as u64).collect();
    ///     let mut mine = vec![0u64; 3];
    ///     comm.reduce_scatter(&send, &mut mine, &[2, 3], &Op::sum())?;
    ///     Ok::<_, parsci_comm::Error>(mine)
    /// })
    /// .unwrap();
    /// assert_eq!(out.into_vec(), vec![vec![1, 21, 0], vec![41, 61, 81]]);
    /// ```
    pub fn reduce_scatter<T: Data>(&self, send: &[T], recv: &mut [T], counts: &[usize], op: &Op<T>) -> Result<()> {
        let _t =
            self.traced(Kind::Collective, "reduce_scatter", crate::p2p::PROC_NULL, -1, std::mem::size_of_val(send));
        dispatch!(self, c => c.reduce_scatter(send, recv, counts, op))
    }
}
