//! The parameters of `heat`, their checks, and the quantities derived from them.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::Heat;
use crate::error::{Error, Result};

/// What holds the field at the two ends of an axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Boundary {
    /// A fixed value (the wall's, [`Heat::wall`]) just outside the grid.
    Dirichlet,
    /// The axis wraps around: the last cell's neighbour is the first.
    Periodic,
}

/// The field at step 0.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Init {
    /// 1 in the middle half of the domain along each axis, 0 elsewhere.
    Square,
    /// `exp(-r^2 / (2 sigma^2))` around the centre, `sigma` a tenth of the shorter side.
    Gaussian,
    /// A 2-D `.npy` file of shape `(NY, NX)`.
    File(PathBuf),
}

impl Heat {
    /// The cell size: the longer side of the domain is 1.
    pub fn spacing(&self) -> f64 {
        1.0 / self.nx.max(self.ny) as f64
    }

    /// The time step: `dt`, or 0.9 times the largest stable one.
    pub fn time_step(&self) -> f64 {
        self.dt.unwrap_or_else(|| 0.9 * self.max_stable_dt())
    }

    /// The largest stable time step, `h^2 / (4 alpha)`.
    pub fn max_stable_dt(&self) -> f64 {
        let h = self.spacing();
        h * h / (4.0 * self.alpha)
    }

    /// `alpha dt / h^2`: the explicit 5-point scheme is stable up to 0.25
    /// (`alpha dt (1/dx^2 + 1/dy^2) <= 1/2`).
    pub fn courant(&self) -> f64 {
        let h = self.spacing();
        self.alpha * self.time_step() / (h * h)
    }

    /// The process grid `[px, py]` for `ranks` ranks: `--procs`, or a balanced one as
    /// `MPI_Dims_create`, with the larger factor across the rows (whose halos are contiguous).
    pub fn process_grid(&self, ranks: usize) -> Result<[usize; 2]> {
        if let Some([px, py]) = self.procs {
            if px.checked_mul(py) != Some(ranks) {
                return Err(invalid(format!("--procs {px}x{py} has {} ranks but the job has {ranks}", px * py)));
            }
            return self.fits([px, py]).map(|()| [px, py]);
        }
        let d = parsci_comm::dims_create(ranks, &[0, 0]).map_err(invalid)?;
        let (default, swapped) = ([d[1], d[0]], [d[0], d[1]]);
        self.fits(default).map(|()| default).or_else(|e| self.fits(swapped).map(|()| swapped).map_err(|_| e))
    }

    /// The halo depth on a `[px, py]` process grid: `halo_depth`, or [`DEFAULT_DEPTH`]
    /// (at most the fewest rows a rank has) when there is one rank along x, else 1.
    pub fn halo_depth_for(&self, [px, py]: [usize; 2]) -> Result<usize> {
        let fewest_rows = self.ny / py;
        match self.halo_depth {
            None if px == 1 => Ok(DEFAULT_DEPTH.min(fewest_rows).max(1)),
            None | Some(1) => Ok(1),
            Some(0) => Err(invalid("--halo-depth must be at least 1".into())),
            Some(k) if px > 1 => Err(invalid(format!(
                "--halo-depth {k} needs one rank along x (--procs 1x{}); this grid has {px}",
                px * py
            ))),
            Some(k) if k > fewest_rows => Err(invalid(format!(
                "--halo-depth {k} is deeper than the {fewest_rows} rows of the smallest block; use at most {fewest_rows}"
            ))),
            Some(k) => Ok(k),
        }
    }

    /// An error if a process grid gives some rank no cell.
    fn fits(&self, [px, py]: [usize; 2]) -> Result<()> {
        if px == 0 || py == 0 {
            return Err(invalid(format!("--procs {px}x{py}: every axis needs at least 1 rank")));
        }
        for (axis, p, n) in [("x", px, self.nx), ("y", py, self.ny)] {
            if p > n {
                return Err(invalid(format!(
                    "{p} ranks along {axis} but the grid has {n} cells along it: every rank needs at least one; \
                     use fewer ranks or another process grid (--procs PXxPY)"
                )));
            }
        }
        Ok(())
    }

    /// Checks everything that can be checked before the job starts.
    pub(super) fn check_params(&self) -> Result<()> {
        if self.nx == 0 || self.ny == 0 {
            return Err(invalid(format!("the grid must have at least 1 x 1 cells, got {} x {}", self.nx, self.ny)));
        }
        if self.nx.checked_mul(self.ny).is_none_or(|n| n > MAX_CELLS) {
            return Err(invalid(format!("a {} x {} grid is too large (at most {MAX_CELLS} cells)", self.nx, self.ny)));
        }
        if !(self.alpha.is_finite() && self.alpha > 0.0) {
            return Err(invalid(format!("alpha must be a positive number, got {}", self.alpha)));
        }
        if let Some(dt) = self.dt.filter(|dt| !(dt.is_finite() && *dt > 0.0)) {
            return Err(invalid(format!("dt must be a positive number, got {dt}")));
        }
        if !self.wall.is_finite() {
            return Err(invalid(format!("the wall value must be a finite number, got {}", self.wall)));
        }
        let r = self.courant();
        if r.is_nan() || r > 0.25 {
            return Err(invalid(format!(
                "the explicit scheme is unstable: alpha dt (1/dx^2 + 1/dy^2) = {:.4} > 0.5 (alpha = {}, dt = {}, \
                 dx = dy = {}); use dt <= {:.3e}, a coarser grid or a smaller alpha",
                2.0 * r,
                self.alpha,
                self.time_step(),
                self.spacing(),
                self.max_stable_dt()
            )));
        }
        for (name, k, set) in [
            ("--every", self.every, self.snapshots.is_some()),
            ("--checkpoint-every", self.checkpoint_every, self.checkpoint.is_some()),
        ] {
            if set && k == 0 {
                return Err(invalid(format!("{name} must be at least 1")));
            }
        }
        if self.per_rank_output && self.output.is_none() {
            return Err(invalid("--per-rank needs --output FILE.npy (the name the rank files derive from)".into()));
        }
        if let Some(p) = &self.output {
            if p.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() != Some("npy") {
                return Err(invalid(format!("the output file must end in .npy, got '{}'", p.display())));
            }
        }
        Ok(())
    }
}

/// Steps per halo exchange where temporal blocking applies. The intermediate rows of 16
/// steps of a 4000-cell row (1.4 MB) stay in the L3 cache; on 2 cores 16 and 24 beat 8 and
/// 12 (BENCHMARKS.md), as memory is then read once per 16 steps.
pub const DEFAULT_DEPTH: usize = 16;

/// The most cells a grid may have (the field and its copy: 32 GiB).
pub const MAX_CELLS: usize = 1 << 31;

pub(super) fn invalid(msg: String) -> Error {
    Error::InvalidInput { program: "heat", msg }
}
