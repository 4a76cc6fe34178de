//! The initial field: a hot square, a Gaussian, or a `.npy` file.

use std::path::Path;

use super::params::{invalid, Init};
use super::Heat;
use crate::error::Result;

impl Init {
    /// The value at cell `(j, i)` (row `j`, column `i`, from 0) of the analytic initial
    /// conditions; `None` for a file.
    pub fn value(&self, p: &Heat, j: usize, i: usize) -> Option<f64> {
        let h = p.spacing();
        let (lx, ly) = (p.nx as f64 * h, p.ny as f64 * h);
        let (x, y) = ((i as f64 + 0.5) * h, (j as f64 + 0.5) * h);
        match self {
            Init::Square => {
                let inside = |v: f64, l: f64| (0.25 * l..=0.75 * l).contains(&v);
                Some(if inside(x, lx) && inside(y, ly) { 1.0 } else { 0.0 })
            }
            Init::Gaussian => {
                let sigma = 0.1 * lx.min(ly);
                let r2 = (x - 0.5 * lx).powi(2) + (y - 0.5 * ly).powi(2);
                Some((-r2 / (2.0 * sigma * sigma)).exp())
            }
            Init::File(_) => None,
        }
    }
}

/// The whole initial field, `ny x nx` row by row.
pub fn initial_field(p: &Heat) -> Result<Vec<f64>> {
    match &p.init {
        Init::File(path) => load(p, path),
        init => Ok((0..p.ny * p.nx).map(|k| init.value(p, k / p.nx, k % p.nx).expect("analytic")).collect()),
    }
}

/// Reads the field from a `.npy` file of shape `(ny, nx)`.
pub fn load(p: &Heat, path: &Path) -> Result<Vec<f64>> {
    let f = std::fs::File::open(path).map_err(|e| invalid(format!("cannot open {}: {e}", path.display())))?;
    let (rows, cols, values) = crate::files::npy::read(&mut std::io::BufReader::new(f))
        .map_err(|e| invalid(format!("{}: {e}", path.display())))?;
    shape_matches(p, path, rows, cols)?;
    if let Some(k) = values.iter().position(|v| !v.is_finite()) {
        return Err(invalid(format!(
            "{}: the value at row {}, column {} is {}; the field must be finite",
            path.display(),
            k / cols,
            k % cols,
            values[k]
        )));
    }
    Ok(values)
}

fn shape_matches(p: &Heat, path: &Path, rows: usize, cols: usize) -> Result<()> {
    if (rows, cols) != (p.ny, p.nx) {
        return Err(invalid(format!(
            "{} holds a ({rows}, {cols}) field but the grid is NX x NY = {} x {}, i.e. shape ({}, {}); \
             pass {cols} {rows} as the grid size",
            path.display(),
            p.nx,
            p.ny,
            p.ny,
            p.nx
        )));
    }
    Ok(())
}
