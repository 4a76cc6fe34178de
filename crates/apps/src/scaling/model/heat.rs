//! heat's cost on `p` ranks: each rank updates its block of the grid every step and
//! exchanges its edge rows and columns with its neighbours (`K` rows every `K` steps at
//! halo depth `K`), while its interior is updated.

use super::machine::{Cost, Machine};
use crate::heat::{Boundary, Heat};

/// Bytes of one cell (an `f64`).
const CELL: f64 = 8.0;

/// The cost of `heat` on `p` ranks: the process grid and halo depth that `heat` itself
/// would use, the largest block's updates (with the rows temporal blocking recomputes),
/// and one exchange per pass: `alpha + (halo bytes) beta`, the messages to all neighbours
/// in flight together. `None` where the grid cannot be cut for `p` ranks.
///
/// ```
/// use parsci_apps::heat::Heat;
/// use parsci_apps::scaling::model::{heat_cost, Machine, Network};
/// let heat = Heat { nx: 1000, ny: 1000, steps: 10, halo_depth: Some(1), ..Heat::default() };
/// let m = Machine { net: Network::new(10e-6, 1e9).unwrap(), rate: 1e9, cores: None, hosts: None, overlap: false };
/// let c = heat_cost(&heat, 4, &m).unwrap(); // a 2 x 2 grid of 500 x 500 blocks: 2 neighbours
/// assert_eq!(c.grid, Some([2, 2]));
/// assert!((c.compute_s - 10.0 * 250_000.0 / 1e9).abs() < 1e-12);
/// assert!((c.comm_s - 10.0 * (10e-6 + (500.0 + 500.0) * 8.0 / 1e9)).abs() < 1e-12);
/// ```
pub fn heat_cost(h: &Heat, p: usize, m: &Machine) -> Option<Cost> {
    let [px, py] = h.process_grid(p).ok()?;
    let depth = h.halo_depth_for([px, py]).ok()?.max(1) as f64;
    let (bx, by) = (h.nx.div_ceil(px) as f64, h.ny.div_ceil(py) as f64);
    let (nbx, nby) = (neighbours(px, h.bc_x), neighbours(py, h.bc_y));
    // At depth K a pass recomputes, on each side with a neighbour, K-1 .. 0 extra rows.
    let extra = nby * (depth - 1.0) / 2.0 * bx;
    let steps = h.steps as f64;
    let compute_s = steps * (bx * by + extra) / m.rate * m.sharing(p);
    let halo_bytes = CELL * depth * (nby * bx + nbx * by);
    let comm_s = if nbx + nby == 0.0 { 0.0 } else { steps / depth * m.net.message(halo_bytes) };
    Some(Cost::new(p, Some([px, py]), compute_s, comm_s, m.overlap))
}

/// The neighbours a rank has along an axis of `p` ranks that is not its own: two in the
/// middle of the axis or around a periodic one, one at each end of a short Dirichlet axis.
fn neighbours(p: usize, bc: Boundary) -> f64 {
    match (p, bc) {
        (1, _) => 0.0,
        (2, Boundary::Dirichlet) => 1.0,
        _ => 2.0,
    }
}

/// The work of `heat` on one rank: cell updates.
pub fn heat_work(h: &Heat) -> f64 {
    h.nx as f64 * h.ny as f64 * h.steps as f64
}
