//! The lesson's second version: rank 0 scatters `A`'s row blocks (`scatterv`: `M` need
//! not divide by the rank count), broadcasts `B`, each rank multiplies its block, and
//! `C`'s row blocks are gathered on rank 0 (`gatherv`). A rank other than 0 holds `1/P`
//! of `A` and `C` and all of `B`; rank 0 holds the whole `A`, `B` and `C`, and works on its
//! rows in place (its blocks of the scatter and the gather are empty).

use parsci_comm::{Comm, Layout};

use super::gemm::{multiply_add, Rect};
use super::gen::Which;
use super::memory::Ledger;
use super::output::{self, Done, Watch};
use super::probe::Partial;
use super::Matmul;
use crate::error::Result;

/// `rows` (a layout of rows) in elements of rows `width` long, without rank 0's block:
/// rank 0 keeps its rows where they are (what `MPI_IN_PLACE` does at a root).
fn in_place(rows: &Layout, width: usize) -> Layout {
    let counts: Vec<usize> =
        rows.counts().iter().enumerate().map(|(r, c)| if r == 0 { 0 } else { c * width }).collect();
    let displs: Vec<usize> = rows.displs().iter().map(|d| d * width).collect();
    Layout::new(&counts, &displs).expect("blocks of a balanced layout")
}

/// Runs the strategy on this rank.
pub(super) fn run(comm: &Comm, p: &Matmul) -> Result<Done> {
    let (m, k, n) = (p.m, p.k, p.n);
    let root = comm.rank() == 0;
    let ledger = Ledger::default();
    let mut w = Watch::start(comm)?;
    let a = if root { Some(ledger.hold(p.whole(Which::A)?)) } else { None };
    let mut b = ledger.hold(if root { p.whole(Which::B)? } else { super::memory::zeroed(k * n) });
    w.inputs_ready(comm)?;

    let rows_of = Layout::balanced(m, comm.size());
    let rows = rows_of.range(comm.rank());
    // Rank 0 reads its rows of A from A and writes its rows of C into C in place.
    let mut a_mine = ledger.zeros(if root { 0 } else { rows.len() * k });
    let a_layout = in_place(&rows_of, k);
    let phase = comm.span("distribute");
    w.comm(|| comm.scatterv(a.as_ref().map(|a| (&a[..], &a_layout)), &mut a_mine, 0))?;
    w.comm(|| comm.bcast(&mut b, 0))?;
    drop(phase);
    let mut c = if root { Some(ledger.zeros(m * n)) } else { None };
    let mut c_mine = ledger.zeros(if root { 0 } else { rows.len() * n });
    let (a_rows, c_rows) = match (&a, &mut c) {
        (Some(a), Some(c)) => (&a[rows.start * k..rows.end * k], &mut c[rows.start * n..rows.end * n]),
        _ => (&a_mine[..], &mut c_mine[..]),
    };
    let phase = comm.span("multiply");
    w.compute(|| {
        multiply_add(
            Rect::whole(c_rows, rows.len(), n),
            Rect::whole(a_rows, rows.len(), k),
            Rect::whole(&b, k, n),
            faer::Par::Seq,
        )
    });
    drop(phase);
    let c_layout = in_place(&rows_of, n);
    let phase = comm.span("collect");
    w.comm(|| comm.gatherv(&c_mine, c.as_mut().map(|c| (&mut c[..], &c_layout)), 0))?;
    drop(phase);
    w.finished();

    let mut partial = Partial::default();
    let mut files = Vec::new();
    if let (Some(a), Some(c)) = (&a, &c) {
        partial.add_a(a);
        partial.add_b(&b);
        partial.add_c(c, 0..m, 0..n);
        files.extend(output::write_whole(p, c)?);
    }
    Ok(w.done([1, comm.size()], [rows.start, rows.end, 0, n], &ledger, partial, files))
}
