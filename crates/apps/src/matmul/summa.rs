//! SUMMA (van de Geijn and Watts, 1997) on a `py x px` Cartesian process grid: `A`,
//! `B` and `C` in 2-D blocks, no rank ever holding a whole matrix.
//!
//! The rank at grid coordinates `(cy, cx)` owns `A[rows(cy), kx(cx)]`,
//! `B[ky(cy), cols(cx)]` and `C[rows(cy), cols(cx)]`, where `rows`, `cols`, `kx` and `ky`
//! split `M`, `N` and `K` into balanced blocks. `K` is cut into [`panels`] that each lie in
//! one block of `kx` and one of `ky` (at most `panel` wide); for each panel the owner of
//! its columns of `A` broadcasts them along its grid row, the owner of its rows of `B`
//! along its grid column, and every rank adds the panel product to its block of `C`.
//!
//! Overlap: the next panel's two broadcasts are started (`ibcast` in a scope on the row
//! and column communicators) before the current panel's product, which runs in a few
//! slices of `C`'s rows with a `test` of the broadcasts between them, and waited for
//! after it. On the thread backend a broadcast is carried out by the last rank to start
//! it, inside its `ibcast` call, so nobody waits for data that has been sent; what
//! overlaps is one rank's product with another's late start. On MPI, Open MPI moves the
//! data inside MPI calls: the `test`s between slices let a large broadcast advance during
//! the product (a slice at a time), and the `wait` completes it.

use std::ops::Range;
use std::time::{Duration, Instant};

use parsci_comm::{test_some, wait_all, CartComm, Comm, Layout};

use super::gemm::{multiply_add, Rect};
use super::gen::Which;
use super::memory::{Held, Ledger};
use super::output::{self, Done, Watch};
use super::params::invalid;
use super::probe::Partial;
use super::Matmul;
use crate::error::Result;

/// One panel: columns `k` of `A` (rows of `B`), owned by grid column `ax` (for `A`) and
/// grid row `by` (for `B`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Panel {
    /// The columns of `A` and rows of `B`.
    pub k: Range<usize>,
    /// The grid column whose ranks own these columns of `A`.
    pub ax: usize,
    /// The grid row whose ranks own these rows of `B`.
    pub by: usize,
}

/// Cuts `0..k` into panels at every block boundary of `kx` (`A`'s columns over `px`
/// grid columns) and `ky` (`B`'s rows over `py` grid rows), and every `width` within.
///
/// ```
/// use parsci_apps::matmul::summa::panels;
/// use parsci_comm::Layout;
/// let p = panels(10, &Layout::balanced(10, 2), &Layout::balanced(10, 3), 3);
/// let cuts: Vec<_> = p.iter().map(|p| (p.k.clone(), p.ax, p.by)).collect();
/// assert_eq!(cuts, vec![(0..3, 0, 0), (3..4, 0, 0), (4..5, 0, 1), (5..7, 1, 1), (7..10, 1, 2)]);
/// ```
pub fn panels(k: usize, kx: &Layout, ky: &Layout, width: usize) -> Vec<Panel> {
    let owner = |l: &Layout, at: usize| (0..l.counts().len()).find(|&i| l.range(i).contains(&at)).expect("owned");
    let mut out = Vec::new();
    let mut at = 0;
    while at < k {
        let (ax, by) = (owner(kx, at), owner(ky, at));
        let end = kx.range(ax).end.min(ky.range(by).end).min(at + width.max(1));
        out.push(Panel { k: at..end, ax, by });
        at = end;
    }
    out
}

/// The panel width SUMMA uses on a `px x py` grid: at most `p.panel`, and at most what
/// keeps the panels' buffers (two sets: the current and the next) within a quarter of the
/// largest block of `C`, so that a rank holds about `1/P` of the data (at least 8 wide).
/// The same on every rank.
pub fn width(p: &Matmul, [px, py]: [usize; 2]) -> usize {
    let (mr, nc) = (p.m.div_ceil(py), p.n.div_ceil(px));
    let per_column = 2 * (if px > 1 { mr } else { 0 } + if py > 1 { nc } else { 0 });
    let fits = (mr * nc / 4).checked_div(per_column).unwrap_or(usize::MAX);
    p.panel.min(fits.max(8)).max(1)
}

/// A panel's buffers: `A`'s columns (`rows x width`) and `B`'s rows (`width x cols`).
struct Buffers<'a> {
    a: Held<'a>,
    b: Held<'a>,
}

/// This rank's blocks and its place in the grid.
struct Blocks<'a> {
    cart: CartComm,
    row: CartComm,
    col: CartComm,
    a: Held<'a>,
    b: Held<'a>,
    /// `A`'s columns held here.
    ak: Range<usize>,
    /// `B`'s rows held here.
    bk: Range<usize>,
    /// `C`'s rows and columns held here.
    rows: Range<usize>,
    cols: Range<usize>,
}

impl Blocks<'_> {
    /// The owners put their part of panel `q` into `buf`.
    fn load(&self, q: &Panel, buf: &mut Buffers) {
        let (mr, nc, kb) = (self.rows.len(), self.cols.len(), q.k.len());
        let c = self.cart.coords();
        if c[1] == q.ax && self.row.size() > 1 {
            let (w, from) = (self.ak.len(), q.k.start - self.ak.start);
            for (dst, src) in buf.a[..mr * kb].chunks_exact_mut(kb.max(1)).zip(self.a.chunks_exact(w.max(1))) {
                dst.copy_from_slice(&src[from..from + kb]);
            }
        }
        if c[0] == q.by && self.col.size() > 1 {
            let from = (q.k.start - self.bk.start) * nc;
            buf.b[..kb * nc].copy_from_slice(&self.b[from..from + kb * nc]);
        }
    }
}

/// Runs SUMMA on this rank.
pub(super) fn run(comm: &Comm, p: &Matmul) -> Result<Done> {
    let (m, k, n) = (p.m, p.k, p.n);
    let [px, py] = p.process_grid(comm.size())?;
    let cart =
        comm.cart_create(&[py, px], &[false, false])?.ok_or_else(|| invalid("a rank outside the grid".into()))?;
    let (row, col) = (cart.sub(&[false, true])?, cart.sub(&[true, false])?);
    let c = cart.coords();
    let (cy, cx) = (c[0], c[1]);
    let (kx, ky) = (Layout::balanced(k, px), Layout::balanced(k, py));
    let rows = Layout::balanced(m, py).range(cy);
    let cols = Layout::balanced(n, px).range(cx);
    let (ak, bk) = (kx.range(cx), ky.range(cy));

    let ledger = Ledger::default();
    let mut w = Watch::start(comm)?;
    let a = ledger.hold(p.block(Which::A, rows.clone(), ak.clone())?);
    let b = ledger.hold(p.block(Which::B, bk.clone(), cols.clone())?);
    let me = Blocks { cart, row, col, a, b, ak, bk, rows: rows.clone(), cols: cols.clone() };
    w.inputs_ready(comm)?;

    let panels = panels(k, &kx, &ky, width(p, [px, py]));
    let (mr, nc) = (rows.len(), cols.len());
    // A panel of A needs no buffer where the grid row is one rank (the block is read in
    // place), nor one of B where the grid column is.
    let (a_moves, b_moves) = (me.row.size() > 1, me.col.size() > 1);
    let widest = panels.iter().map(|q| q.k.len()).max().unwrap_or(0);
    let mut c = ledger.zeros(mr * nc);
    let buffers = || Buffers {
        a: ledger.zeros(if a_moves { mr * widest } else { 0 }),
        b: ledger.zeros(if b_moves { widest * nc } else { 0 }),
    };
    let mut cur = buffers();
    let mut next = if panels.len() > 1 && (a_moves || b_moves) { Some(buffers()) } else { None };
    let mut comm_t = Duration::ZERO;
    let mut compute_t = Duration::ZERO;
    if let Some(q) = panels.first() {
        let t = Instant::now();
        me.load(q, &mut cur);
        let kb = q.k.len();
        if a_moves {
            me.row.bcast(&mut cur.a[..mr * kb], q.ax)?;
        }
        if b_moves {
            me.col.bcast(&mut cur.b[..kb * nc], q.by)?;
        }
        comm_t += t.elapsed();
    }
    for (t, q) in panels.iter().enumerate() {
        let _phase = comm.span("panel");
        let upcoming = panels.get(t + 1);
        let started = Instant::now();
        if let (Some(u), Some(nb)) = (upcoming, next.as_mut()) {
            me.load(u, nb);
        }
        let kb = q.k.len();
        // The panel: this rank's own block in place, or the buffer the broadcast filled.
        let cur_a = match a_moves {
            true => Rect::whole(&cur.a[..mr * kb], mr, kb),
            false => Rect {
                data: me.a.get(q.k.start - me.ak.start..).unwrap_or(&[]),
                rows: mr,
                cols: kb,
                stride: me.ak.len(),
            },
        };
        let cur_b = match b_moves {
            true => &cur.b[..kb * nc],
            false => &me.b[(q.k.start - me.bk.start) * nc..(q.k.end - me.bk.start) * nc],
        };
        let c = &mut c[..];
        let mut inside = Duration::ZERO;
        me.row.scope(|rs| {
            me.col.scope(|cs| -> Result<()> {
                // One list per scope: a request borrows its own scope.
                let (mut along_row, mut along_col) = (Vec::new(), Vec::new());
                if let (Some(u), Some(nb)) = (upcoming, next.as_mut()) {
                    let ub = u.k.len();
                    if a_moves {
                        along_row.push(Some(rs.ibcast(&mut nb.a[..mr * ub], u.ax)?));
                    }
                    if b_moves {
                        along_col.push(Some(cs.ibcast(&mut nb.b[..ub * nc], u.by)?));
                    }
                }
                // The product in slices of C's rows, the broadcasts tested in between.
                let pending = !(along_row.is_empty() && along_col.is_empty());
                let slices = if pending { 4.min(mr).max(1) } else { 1 };
                let per = mr.div_ceil(slices).max(1);
                for (i, cs_rows) in c.chunks_mut(per * nc.max(1)).enumerate() {
                    let r = cs_rows.len() / nc.max(1);
                    let from = i * per * cur_a.stride;
                    let a_rows = Rect { data: &cur_a.data[from..], rows: r, cols: kb, stride: cur_a.stride };
                    let t = Instant::now();
                    multiply_add(Rect::whole(cs_rows, r, nc), a_rows, Rect::whole(cur_b, kb, nc), faer::Par::Seq);
                    inside += t.elapsed();
                    test_some(&mut along_row)?;
                    test_some(&mut along_col)?;
                }
                wait_all(along_row.into_iter().flatten().collect())?;
                wait_all(along_col.into_iter().flatten().collect())?;
                Ok(())
            })
        })?;
        compute_t += inside;
        comm_t += started.elapsed() - inside;
        if let Some(nb) = next.as_mut() {
            std::mem::swap(&mut cur, nb);
        }
    }
    w.add_comm(comm_t);
    w.add_compute(compute_t);
    w.finished();
    drop((cur, next));

    let files = output::write_blocks(comm, p, &c, [rows.start, rows.end, cols.start, cols.end])?;
    let mut partial = Partial::default();
    partial.add_a(&me.a);
    partial.add_b(&me.b);
    partial.add_c(&c, rows.clone(), cols.clone());
    Ok(w.done([px, py], [rows.start, rows.end, cols.start, cols.end], &ledger, partial, files.into_iter().collect()))
}
