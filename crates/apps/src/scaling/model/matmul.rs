//! matmul's (SUMMA's) cost on `p` ranks: each rank multiplies its blocks, `2 M N K / p`
//! flops, while the panels of `A` are broadcast along the grid's rows and those of `B`
//! along its columns (binomial trees), the next panel's during the current product.

use parsci_comm::Layout;

use super::machine::{Cost, Machine};
use crate::matmul::{summa, Matmul, Strategy};

/// Bytes of one element (an `f64`).
const ELEM: f64 = 8.0;

/// The cost of SUMMA on `p` ranks: the grid, panels and panel width that `matmul` itself
/// uses; per panel, a broadcast of `mr x w` elements of `A` among the `px` ranks of a grid
/// row and one of `w x nc` of `B` among the `py` of a column. With overlap only the first
/// panel's broadcasts are not hidden behind a product. `None` for the other strategies
/// and where the grid cannot be made.
///
/// ```
/// use parsci_apps::matmul::Matmul;
/// use parsci_apps::scaling::model::{matmul_cost, Machine, Network};
/// let mm = Matmul::new(1000, 1000, 1000);
/// let m = Machine { net: Network::new(1e-5, 1e9).unwrap(), rate: 1e10, cores: None, overlap: false };
/// // A 2 x 2 grid, blocks of 500 x 500; panels at most 31 wide (a quarter of a block of C
/// // over two sets of panels of A and B: 500 * 500 / 4 / 2000), 17 in each half of K.
/// let c = matmul_cost(&mm, 4, &m).unwrap();
/// assert_eq!(c.grid, Some([2, 2]));
/// assert!((c.compute_s - 2.0 * 500.0 * 500.0 * 1000.0 / 1e10).abs() < 1e-12);
/// // Per panel one round (a tree over 2 ranks) for A and one for B; the widths add up to K.
/// assert!((c.comm_s - 2.0 * (34.0 * 1e-5 + 500.0 * 1000.0 * 8.0 / 1e9)).abs() < 1e-12);
/// ```
pub fn matmul_cost(mm: &Matmul, p: usize, m: &Machine) -> Option<Cost> {
    if mm.strategy != Strategy::Summa {
        return None;
    }
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
