//! matmul's cost on `p` ranks, for each of its strategies. SUMMA: each rank multiplies
//! its blocks, `2 M N K / p` flops, while the panels of `A` are broadcast along the grid's
//! rows and those of `B` along its columns (binomial trees), the next panel's during the
//! current product. The lesson's two strategies share `C`'s rows and communicate before
//! and after the product, never during it: bcast-reduce broadcasts all of `A` and `B`
//! and sums a whole `M x N` partial `C` onto rank 0 (a reduce); scatter-gather scatters
//! `A`'s rows, broadcasts `B` and gathers `C`'s rows.

use parsci_comm::Layout;

use super::machine::{Cost, Machine};
use crate::matmul::{summa, Matmul, Strategy};

/// Bytes of one element (an `f64`).
const ELEM: f64 = 8.0;

/// The cost of SUMMA on `p` ranks: the grid, panels and panel width that `matmul` itself
/// uses; per panel, a broadcast of `mr x w` elements of `A` among the `px` ranks of a grid
/// row and one of `w x nc` of `B` among the `py` of a column. With overlap only the first
/// panel's broadcasts are not hidden behind a product. The lesson's strategies: the
/// largest row block's product, then their collectives (see the module doc), which no
/// product hides. `None` where the grid cannot be made.
///
/// ```
/// use parsci_apps::matmul::Matmul;
/// use parsci_apps::scaling::model::{matmul_cost, Machine, Network};
/// let mm = Matmul::new(1000, 1000, 1000);
/// let m = Machine { net: Network::new(1e-5, 1e9).unwrap(), rate: 1e10, cores: None, hosts: None, overlap: false };
/// // A 2 x 2 grid, blocks of 500 x 500; panels at most 31 wide (a quarter of a block of C
/// // over two sets of panels of A and B: 500 * 500 / 4 / 2000), 17 in each half of K.
/// let c = matmul_cost(&mm, 4, &m).unwrap();
/// assert_eq!(c.grid, Some([2, 2]));
/// assert!((c.compute_s - 2.0 * 500.0 * 500.0 * 1000.0 / 1e10).abs() < 1e-12);
/// // Per panel one round (a tree over 2 ranks) for A and one for B; the widths add up to K.
/// assert!((c.comm_s - 2.0 * (34.0 * 1e-5 + 500.0 * 1000.0 * 8.0 / 1e9)).abs() < 1e-12);
/// ```
pub fn matmul_cost(mm: &Matmul, p: usize, m: &Machine) -> Option<Cost> {
    match mm.strategy {
        Strategy::Summa => summa_cost(mm, p, m),
        Strategy::BcastReduce | Strategy::ScatterGather => lesson_cost(mm, p, m),
    }
}

/// The lesson's strategies on `p` ranks (a `1 x p` grid of row blocks): the largest row
/// block's product at the shared rate, and their collectives' binomial-tree costs, which
/// no product hides (time = compute + communication, overlap or not). bcast-reduce:
/// `bcast(A) + bcast(B) + reduce(C)`, all whole matrices; scatter-gather: `scatter(A) +
/// bcast(B) + gather(C)`. `None` with more ranks than rows.
fn lesson_cost(mm: &Matmul, p: usize, m: &Machine) -> Option<Cost> {
    if p > mm.m {
        return None;
    }
    let (a, b, c) = (ELEM * (mm.m * mm.k) as f64, ELEM * (mm.k * mm.n) as f64, ELEM * (mm.m * mm.n) as f64);
    let net = &m.net;
    let comm_s = match mm.strategy {
        Strategy::BcastReduce => net.bcast(p, a) + net.bcast(p, b) + net.reduce(p, c),
        _ => net.scatter(p, a) + net.bcast(p, b) + net.gather(p, c),
    };
    let rows = mm.m.div_ceil(p) as f64;
    let compute_s = 2.0 * rows * (mm.n * mm.k) as f64 / m.rate * m.sharing(p);
    Some(Cost::new(p, Some([1, p]), compute_s, comm_s, false))
}

fn summa_cost(mm: &Matmul, p: usize, m: &Machine) -> Option<Cost> {
    let [px, py] = mm.process_grid(p).ok()?;
    if px > mm.n || py > mm.m || px > mm.k || py > mm.k {
        return None;
    }
    let (mr, nc) = (mm.m.div_ceil(py) as f64, mm.n.div_ceil(px) as f64);
    let width = summa::width(mm, [px, py]);
    let panels = summa::panels(mm.k, &Layout::balanced(mm.k, px), &Layout::balanced(mm.k, py), width);
    let comm_s: f64 = panels
        .iter()
        .map(|q| {
            let w = q.k.len() as f64;
            let a = if px > 1 { m.net.bcast(px, ELEM * mr * w) } else { 0.0 };
            let b = if py > 1 { m.net.bcast(py, ELEM * w * nc) } else { 0.0 };
            a + b
        })
        .sum();
    let compute_s = 2.0 * mr * nc * mm.k as f64 / m.rate * m.sharing(p);
    let mut cost = Cost::new(p, Some([px, py]), compute_s, comm_s, m.overlap);
    if m.overlap && !panels.is_empty() {
        cost.time_s += comm_s / panels.len() as f64; // the first panel waits for its broadcasts
    }
    Some(cost)
}

/// The work of `matmul` on one rank: `2 M N K` floating-point operations.
pub fn matmul_work(mm: &Matmul) -> f64 {
    2.0 * mm.m as f64 * mm.n as f64 * mm.k as f64
}
