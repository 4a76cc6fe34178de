//! The serial reference: the whole grid in one array, its ghost ring refreshed from the
//! boundary conditions before every step.

use super::params::Boundary;
use super::stencil::cell;
use super::Heat;

/// The field after `steps` steps from `initial` (`ny x nx`, row by row; see
/// [`initial_field`](super::init::initial_field)).
pub fn solve(p: &Heat, initial: &[f64], steps: usize) -> Vec<f64> {
    let (nx, ny, w) = (p.nx, p.ny, p.nx + 2);
    let a = p.courant();
    let mut u = vec![p.wall; (ny + 2) * w];
    for j in 0..ny {
        for i in 0..nx {
            u[(j + 1) * w + i + 1] = initial[j * nx + i];
        }
    }
    let mut next = u.clone();
    for _ in 0..steps {
        if p.bc_y == Boundary::Periodic {
            for i in 1..=nx {
                u[i] = u[ny * w + i];
                u[(ny + 1) * w + i] = u[w + i];
            }
        }
        if p.bc_x == Boundary::Periodic {
            for j in 1..=ny {
                u[j * w] = u[j * w + nx];
                u[j * w + nx + 1] = u[j * w + 1];
            }
        }
        for j in 1..=ny {
            for i in 1..=nx {
                let k = j * w + i;
                next[k] = cell(u[k - 1], u[k], u[k + 1], u[k - w], u[k + w], a);
            }
        }
        std::mem::swap(&mut u, &mut next);
    }
    (1..=ny).flat_map(|j| u[j * w + 1..j * w + 1 + nx].to_vec()).collect()
}
