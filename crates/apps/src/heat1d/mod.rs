//! `heat1d`: the workshop's serial heat equation made parallel.
//!
//! `u_t = alpha u_xx + sin(2 pi x)` on `[0, 1]`, `u = 0` at both ends, starting from zero;
//! explicit Euler in time and second-order central differences in space on `nx` points
//! (`dx = 1 / (nx - 1)`). The points are split into contiguous blocks across the ranks,
//! each with one ghost cell per side, exchanged with the neighbours every step. The
//! result equals the serial reference bit for bit at every rank count.
//!
//! ```
//! use parsci_apps::{execute, heat1d::Heat1d, Program};
//! use parsci_comm::Backend;
//! let params = Heat1d::default(); // nx = 21, alpha = 0.01, dt = 0.001, nt = 2000
//! let run = execute(&params, Backend::Threads(3)).unwrap();
//! assert!(params.check(&run.result, 3).is_ok());
//! assert!(run.result.max_error < 0.05);
//! ```

pub mod parallel;
pub mod serial;

use std::f64::consts::PI;

use parsci_comm::Comm;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::program::{Output, Program};

/// The parameters of `heat1d`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Heat1d {
    /// Grid points, both ends included (at least 3).
    pub nx: usize,
    /// The diffusivity.
    pub alpha: f64,
    /// The time step.
    pub dt: f64,
    /// The number of steps.
    pub nt: usize,
}

impl Default for Heat1d {
    /// The workshop's case: `nx = 21`, `alpha = 0.01`, `dt = 0.001`, `nt = 2000`.
    fn default() -> Self {
        Heat1d { nx: 21, alpha: 0.01, dt: 0.001, nt: 2000 }
    }
}

/// What `heat1d` computes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Heat1dResult {
    /// The parameters.
    pub params: Heat1d,
    /// The time reached, `nt * dt`.
    pub time: f64,
    /// `u` at `x = 0.5` (linear between the two nearest points when 0.5 is not one).
    pub u_mid: f64,
    /// The largest `|u - exact|` over the points.
    pub max_error: f64,
    /// The number `alpha dt / dx^2` (the scheme is stable up to 0.5).
    pub courant: f64,
    /// Each rank's number of points, in rank order.
    pub points_per_rank: Vec<usize>,
    /// The field at the end (`--json` leaves it out).
    #[serde(skip)]
    pub u: Vec<f64>,
}

impl Heat1d {
    /// The grid spacing.
    pub fn dx(&self) -> f64 {
        1.0 / (self.nx - 1) as f64
    }

    /// `alpha dt / dx^2`: the explicit scheme is stable when it is at most 0.5.
    pub fn courant(&self) -> f64 {
        self.alpha * self.dt / (self.dx() * self.dx())
    }

    /// The exact solution at `x` and `t`: `sin(2 pi x) (1 - exp(-4 pi^2 alpha t)) / (4 pi^2 alpha)`.
    pub fn exact(&self, x: f64, t: f64) -> f64 {
        let k = 4.0 * PI * PI * self.alpha;
        (2.0 * PI * x).sin() * (1.0 - (-k * t).exp()) / k
    }

    fn invalid(msg: String) -> Error {
        Error::InvalidInput { program: Self::NAME, msg }
    }
}

impl Program for Heat1d {
    type Result = Heat1dResult;
    const NAME: &'static str = "heat1d";

    fn validate(&self) -> Result<()> {
        if self.nx < 3 {
            return Err(Self::invalid(format!(
                "nx must be at least 3 (two ends and a point between), got {}",
                self.nx
            )));
        }
        for (name, v) in [("alpha", self.alpha), ("dt", self.dt)] {
            if !(v.is_finite() && v > 0.0) {
                return Err(Self::invalid(format!("{name} must be a positive number, got {v}")));
            }
        }
        if self.nt == 0 {
            return Err(Self::invalid("nt must be at least 1".into()));
        }
        let r = self.courant();
        if r.is_nan() || r > 0.5 {
            let dt_max = 0.5 * self.dx() * self.dx() / self.alpha;
            return Err(Self::invalid(format!(
                "the explicit scheme is unstable: alpha dt / dx^2 = {r:.4} > 0.5 (alpha = {}, dt = {}, dx = {}); \
                 use dt <= {dt_max:.3e}, fewer points or a smaller alpha",
                self.alpha,
                self.dt,
                self.dx()
            )));
        }
        Ok(())
    }

    fn validate_ranks(&self, ranks: usize) -> Result<()> {
        if ranks > self.nx {
            return Err(Self::invalid(format!(
                "{ranks} ranks for {} points: every rank needs at least one point; use at most {} ranks or more points",
                self.nx, self.nx
            )));
        }
        Ok(())
    }

    fn run(&self, comm: &Comm) -> Result<Option<Output<Heat1dResult>>> {
        self.validate()?;
        self.validate_ranks(comm.size())?;
        parallel::run(comm, self)
    }

    fn check(&self, result: &Heat1dResult, _ranks: usize) -> Result<(), String> {
        let want = serial::solve(self);
        match result.u.iter().zip(&want).position(|(a, b)| a.to_bits() != b.to_bits()) {
            None if result.u.len() == want.len() => Ok(()),
            None => Err(format!("{} points, the serial reference has {}", result.u.len(), want.len())),
            Some(i) => Err(format!("u[{i}] = {:e}, the serial reference has {:e}", result.u[i], want[i])),
        }
    }

    fn summary(&self, result: &Heat1dResult) -> String {
        format!("u(0.5) = {:.6}, max error {:.2e}", result.u_mid, result.max_error)
    }
}

/// `u` at `x = 0.5`: the point there, or the line between the two nearest points.
pub(crate) fn value_at_half(u: &[f64]) -> f64 {
    let pos = 0.5 * (u.len() - 1) as f64;
    let i = pos.floor() as usize;
    let f = pos - i as f64;
    if f == 0.0 {
        u[i]
    } else {
        u[i] * (1.0 - f) + u[i + 1] * f
    }
}
