//! The serial reference: the workshop's loop over the whole grid.

use super::Heat1d;

/// One point's update: explicit Euler with the central second difference and the source
/// `f`. Serial and parallel code share it, so they agree bit for bit.
#[inline(always)]
pub fn update(left: f64, u: f64, right: f64, f: f64, alpha_over_dx2: f64, dt: f64) -> f64 {
    u + dt * (alpha_over_dx2 * (left - 2.0 * u + right) + f)
}

/// The source term `sin(2 pi x)` at global point `i`.
pub fn source(p: &Heat1d, i: usize) -> f64 {
    (2.0 * std::f64::consts::PI * i as f64 * p.dx()).sin()
}

/// `u` after `nt` steps, at every point (the ends stay 0).
pub fn solve(p: &Heat1d) -> Vec<f64> {
    let k = p.alpha / (p.dx() * p.dx());
    let f: Vec<f64> = (0..p.nx).map(|i| source(p, i)).collect();
    let mut u = vec![0.0; p.nx];
    let mut next = u.clone();
    for _ in 0..p.nt {
        for i in 1..p.nx - 1 {
            next[i] = update(u[i - 1], u[i], u[i + 1], f[i], k, p.dt);
        }
        std::mem::swap(&mut u, &mut next);
    }
    u
}
