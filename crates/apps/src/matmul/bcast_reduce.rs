//! The lesson's first version: rank 0 broadcasts all of `A` and `B`, each rank computes
//! its rows of `C` into a zeroed full-size matrix, and a reduce (sum) combines the
//! partial matrices on rank 0 (in place: rank 0's partial matrix becomes `C`). Every rank
//! holds two whole inputs and a whole result: the memory the lesson warns about.

use parsci_comm::{Comm, Layout, Op};

use super::gemm::{multiply_add, Rect};
use super::gen::Which;
use super::memory::Ledger;
use super::output::{self, Done, Watch};
use super::probe::Partial;
use super::Matmul;
use crate::error::Result;

/// Runs the strategy on this rank.
pub(super) fn run(comm: &Comm, p: &Matmul) -> Result<Done> {
    let (m, k, n) = (p.m, p.k, p.n);
    let root = comm.rank() == 0;
    let ledger = Ledger::default();
    let mut w = Watch::start(comm)?;
    let mut a = ledger.hold(if root { p.whole(Which::A)? } else { super::memory::zeroed(m * k) });
    let mut b = ledger.hold(if root { p.whole(Which::B)? } else { super::memory::zeroed(k * n) });
    w.inputs_ready(comm)?;

    {
        let _phase = comm.span("distribute");
        w.comm(|| comm.bcast(&mut a, 0))?;
        w.comm(|| comm.bcast(&mut b, 0))?;
    }
    let rows = Layout::balanced(m, comm.size()).range(comm.rank());
    let mut c = ledger.zeros(m * n);
    let phase = comm.span("multiply");
    w.compute(|| {
        let mine = Rect::whole(&mut c[rows.start * n..rows.end * n], rows.len(), n);
        multiply_add(
            mine,
            Rect::whole(&a[rows.start * k..rows.end * k], rows.len(), k),
            Rect::whole(&b, k, n),
            faer::Par::Seq,
        )
    });
    drop(phase);
    let phase = comm.span("collect");
    w.comm(|| comm.reduce_in_place(&mut c, &Op::sum(), 0))?;
    drop(phase);
    w.finished();

    let mut partial = Partial::default();
    let mut files = Vec::new();
    if root {
        partial.add_a(&a);
        partial.add_b(&b);
        partial.add_c(&c, 0..m, 0..n);
        files.extend(output::write_whole(p, &c)?);
    }
    Ok(w.done([1, comm.size()], [rows.start, rows.end, 0, n], &ledger, partial, files))
}
