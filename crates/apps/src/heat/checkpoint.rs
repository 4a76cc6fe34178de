//! Checkpoints: the field at a step, with the parameters that produced it, in the
//! project's checkpoint files ([`crate::files::checkpoint`]: durable, checksummed).
//!
//! Layout: the line `PARSCI-HEAT-CHECKPOINT`, a little-endian `u32` header length, the
//! header as JSON ([`Header`]), the `ny x nx` field as little-endian `f64`, and a `u64`
//! checksum of the header and the field.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::params::{invalid, Boundary};
use super::Heat;
use crate::error::Result;
use crate::files::checkpoint::{self, Kind};

const KIND: Kind = Kind { magic: b"PARSCI-HEAT-CHECKPOINT\n", program: "heat" };
const VERSION: u32 = 1;

/// What a checkpoint records besides the field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    /// The format's version.
    pub version: u32,
    /// Cells per row.
    pub nx: usize,
    /// Rows.
    pub ny: usize,
    /// The diffusivity.
    pub alpha: f64,
    /// The time step.
    pub dt: f64,
    /// The cell size.
    pub h: f64,
    /// The boundary along x.
    pub bc_x: Boundary,
    /// The boundary along y.
    pub bc_y: Boundary,
    /// The Dirichlet value.
    pub wall: f64,
    /// The steps done.
    pub step: usize,
    /// The snapshots' colour scale, kept so that a resumed run's frames match.
    pub scale: [f64; 2],
}

impl Header {
    /// The header of a run of `p` at `step`.
    pub fn of(p: &Heat, step: usize, scale: [f64; 2]) -> Header {
        Header {
            version: VERSION,
            nx: p.nx,
            ny: p.ny,
            alpha: p.alpha,
            dt: p.time_step(),
            h: p.spacing(),
            bc_x: p.bc_x,
            bc_y: p.bc_y,
            wall: p.wall,
            step,
            scale,
        }
    }

    /// An error naming every parameter of `p` that differs from the checkpoint's.
    pub fn check_matches(&self, p: &Heat, path: &Path) -> Result<()> {
        let want = Header::of(p, self.step, self.scale);
        let mut diffs = Vec::new();
        let mut differ = |name: &str, a: String, b: String| {
            if a != b {
                diffs.push(format!("{name} {a} (this run: {b})"));
            }
        };
        differ("grid", format!("{} x {}", self.nx, self.ny), format!("{} x {}", want.nx, want.ny));
        differ("alpha", self.alpha.to_string(), want.alpha.to_string());
        differ("dt", self.dt.to_string(), want.dt.to_string());
        differ("cell size", self.h.to_string(), want.h.to_string());
        differ("x boundary", format!("{:?}", self.bc_x), format!("{:?}", want.bc_x));
        differ("y boundary", format!("{:?}", self.bc_y), format!("{:?}", want.bc_y));
        differ("wall value", self.wall.to_string(), want.wall.to_string());
        if !diffs.is_empty() {
            return Err(invalid(format!(
                "{} was written by another run: {}; restart with that run's parameters",
                path.display(),
                diffs.join(", ")
            )));
        }
        if self.step > p.steps {
            return Err(invalid(format!(
                "{} is at step {}, past the {} steps asked; ask for at least {} steps",
                path.display(),
                self.step,
                p.steps,
                self.step
            )));
        }
        Ok(())
    }
}

/// Writes a checkpoint durably: the old file stays whole until the new one is.
pub fn write(path: &Path, header: &Header, field: &[f64]) -> std::io::Result<()> {
    checkpoint::write(path, &KIND, header, field)
}

/// Reads and checks a checkpoint's header and its length (not the checksum).
pub fn read_header(path: &Path) -> Result<Header> {
    checkpoint::read_header(path, &KIND, cells)
}

/// Reads a checkpoint whole, checking its length and checksum.
pub fn read(path: &Path) -> Result<(Header, Vec<f64>)> {
    checkpoint::read(path, &KIND, cells)
}

/// The header's version and grid, checked: the cells that follow it.
fn cells(header: &Header) -> Result<usize, String> {
    if header.version != VERSION {
        return Err(format!("it has format version {}, this parsci reads {VERSION}", header.version));
    }
    let cells = header.nx.checked_mul(header.ny).filter(|&n| n > 0 && n <= super::params::MAX_CELLS);
    cells.ok_or_else(|| format!("its grid {} x {} is corrupted", header.nx, header.ny))
}
