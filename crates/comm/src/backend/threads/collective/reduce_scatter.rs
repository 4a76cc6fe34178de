//! Reduce-scatter: every rank combines its own block straight from all ranks' send
//! buffers, in rank order, into its receive buffer (no copy of anyone's data), chunk by
//! chunk so that the partial results stay in cache while the ranks are combined.

use super::super::comm::ThreadComm;
use super::area::{chunk, dst, src, Call, Calls};
use super::verdict::counts_equal;
use crate::collective::Layout;
use crate::copy::FastCopy;
use crate::data::{Data, Op};
use crate::error::Result;

impl ThreadComm {
    pub fn reduce_scatter_block<T: Data>(&self, send: &[T], recv: &mut [T], op: &Op<T>) -> Result<()> {
        let (me, p, k) = (self.rank, self.size(), recv.len());
        let name = "reduce_scatter_block";
        let err = self.caller().reduce_scatter_block(send.len(), k);
        let mine = Call {
            count: send.len(),
            send: send.as_ptr().cast(),
            recv: recv.as_mut_ptr().cast(),
            recv_len: k,
            op_kind: Some(op.kind()),
            ..Call::new::<T>(name)
        };
        self.collective(mine, err, counts_equal(name), |s| combine_block(s, me, p, me * k, k, op))
    }

    pub fn reduce_scatter<T: Data>(&self, send: &[T], recv: &mut [T], counts: &[usize], op: &Op<T>) -> Result<()> {
        let (me, p) = (self.rank, self.size());
        let name = "reduce_scatter";
        let err = self.caller().reduce_scatter(send.len(), recv.len(), counts);
        let layout = Layout::from_counts(counts);
        let mine = Call {
            count: send.len(),
            send: send.as_ptr().cast(),
            recv: recv.as_mut_ptr().cast(),
            recv_len: recv.len(),
            layout: &layout,
            op_kind: Some(op.kind()),
            ..Call::new::<T>(name)
        };
        self.collective(mine, err, same_counts, |s| {
            let block = layout.range(me);
            combine_block(s, me, p, block.start, block.len(), op)
        })
    }
}

/// `reduce_scatter`: every rank passes the same counts.
fn same_counts(s: &Calls) -> Option<String> {
    let counts = |r: usize| s.get(r).layout().map(Layout::counts);
    (1..s.area.n)
        .find(|&r| counts(r) != counts(0))
        .map(|r| format!("reduce_scatter: ranks 0 and {r} pass different counts"))
}

/// Combines elements `at..at + len` of every rank's send buffer, in rank order, into the
/// first `len` elements of this rank's receive buffer.
fn combine_block<T: Data>(s: &Calls, me: usize, p: usize, at: usize, len: usize, op: &Op<T>) {
    let step = chunk::<T>();
    let mut off = 0;
    while off < len {
        let l = step.min(len - off);
        let from = at + off;
        // SAFETY: every send buffer holds the sum of the counts (checked on every rank) and
        // is only read during the call; this rank's receive buffer holds at least `len`
        // elements (checked) and only this rank writes it.
        unsafe {
            let acc = dst::<T>(s.get(me).recv, off, l);
            if p == 1 {
                acc.fast_copy_from(src(s.get(0).send, from, l));
            } else {
                op.apply_into(acc, src(s.get(0).send, from, l), src(s.get(1).send, from, l));
                for r in 2..p {
                    op.apply(acc, src(s.get(r).send, from, l));
                }
            }
        }
        off += l;
    }
}
