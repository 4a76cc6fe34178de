//! The arguments of `heat1d` and `heat` and their conversion to the library's parameters.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use parsci_apps::heat::{Boundary, Heat, Init};
use parsci_apps::heat1d::Heat1d;

use crate::programs::{parse_count, parse_number};

/// `heat1d [options]`.
#[derive(Debug, Clone, Args)]
pub struct Heat1dArgs {
    /// Grid points on [0, 1], both ends included
    #[arg(long, value_name = "N", default_value_t = 21, value_parser = parse_count)]
    pub nx: usize,
    /// Diffusivity
    #[arg(long, default_value_t = 0.01, value_parser = parse_number)]
    pub alpha: f64,
    /// Time step
    #[arg(long, default_value_t = 0.001, value_parser = parse_number)]
    pub dt: f64,
    /// Number of time steps
    #[arg(long, value_name = "STEPS", default_value_t = 2000, value_parser = parse_count)]
    pub nt: usize,
}

impl Heat1dArgs {
    /// The library's parameters.
    pub fn params(&self) -> Heat1d {
        Heat1d { nx: self.nx, alpha: self.alpha, dt: self.dt, nt: self.nt }
    }
}

/// `heat [NX [NY]] [options]`.
#[derive(Debug, Clone, Args)]
pub struct HeatArgs {
    /// Cells per row (along x)
    #[arg(value_name = "NX", default_value_t = 200, value_parser = parse_count)]
    pub nx: usize,
    /// Rows (along y) [default: NX]
    #[arg(value_name = "NY", value_parser = parse_count)]
    pub ny: Option<usize>,
    /// Diffusivity
    #[arg(long, default_value_t = 1.0, value_parser = parse_number)]
    pub alpha: f64,
    /// Time step [default: 0.9 times the largest stable one, h^2 / (4 alpha)]
    #[arg(long, value_parser = parse_number)]
    pub dt: Option<f64>,
    /// The step to run to (also when restarting)
    #[arg(long, default_value_t = 1000)]
    pub steps: usize,
    /// Boundary of both axes (--bc-x and --bc-y set one)
    #[arg(long, value_enum, default_value_t = BoundaryArg::Dirichlet)]
    pub bc: BoundaryArg,
    /// Boundary along x [default: --bc]
    #[arg(long, value_enum)]
    pub bc_x: Option<BoundaryArg>,
    /// Boundary along y [default: --bc]
    #[arg(long, value_enum)]
    pub bc_y: Option<BoundaryArg>,
    /// The fixed value outside a Dirichlet boundary
    #[arg(long, default_value_t = 0.0, value_parser = parse_number)]
    pub wall: f64,
    /// Initial field: square (hot square), gaussian, or a FILE.npy of shape (NY, NX)
    #[arg(long, default_value = "square", value_parser = parse_init)]
    pub init: Init,
    /// Process grid PXxPY (ranks along x by ranks along y) [default: balanced, as MPI_Dims_create]
    #[arg(long, value_name = "PXxPY", value_parser = parse_procs)]
    pub procs: Option<[usize; 2]>,
    /// Ghost rows exchanged at once, i.e. steps per exchange (temporal blocking; needs one
    /// rank along x) [default: 16 where it applies, else 1]
    #[arg(long, value_name = "K", value_parser = parse_count)]
    pub halo_depth: Option<usize>,
    /// The depth-1 halo exchange copies its messages (plain isend/irecv) instead of lending
    /// the block's edges to a scope without copies: to compare the two
    #[arg(long, hide = true)]
    pub copied_halo: bool,
    /// Write the final field as a NumPy .npy file (gathered on rank 0)
    #[arg(long, short = 'o', value_name = "FILE.npy")]
    pub output: Option<PathBuf>,
    /// With --output: every rank writes its own block (FILE.rankR.npy) and rank 0 an index
    /// (FILE.blocks.json), for grids too large to gather
    #[arg(long)]
    pub per_rank: bool,
    /// Write PNG heat maps into DIR
    #[arg(long, value_name = "DIR")]
    pub snapshots: Option<PathBuf>,
    /// Steps between heat maps
    #[arg(long, value_name = "K", default_value_t = 100, value_parser = parse_count)]
    pub every: usize,
    /// Write checkpoints to FILE (atomically, with a checksum)
    #[arg(long, value_name = "FILE")]
    pub checkpoint: Option<PathBuf>,
    /// Steps between checkpoints
    #[arg(long, value_name = "K", default_value_t = 100, value_parser = parse_count)]
    pub checkpoint_every: usize,
    /// Resume from a checkpoint (any rank count)
    #[arg(long, value_name = "FILE")]
    pub restart: Option<PathBuf>,
}

/// The boundaries, as on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BoundaryArg {
    /// Fixed values (--wall) outside the grid
    Dirichlet,
    /// The axis wraps around
    Periodic,
}

impl From<BoundaryArg> for Boundary {
    fn from(b: BoundaryArg) -> Boundary {
        match b {
            BoundaryArg::Dirichlet => Boundary::Dirichlet,
            BoundaryArg::Periodic => Boundary::Periodic,
        }
    }
}

impl HeatArgs {
    /// The library's parameters.
    pub fn params(&self) -> Heat {
        Heat {
            nx: self.nx,
            ny: self.ny.unwrap_or(self.nx),
            alpha: self.alpha,
            dt: self.dt,
            steps: self.steps,
            bc_x: self.bc_x.unwrap_or(self.bc).into(),
            bc_y: self.bc_y.unwrap_or(self.bc).into(),
            wall: self.wall,
            init: self.init.clone(),
            procs: self.procs,
            halo_depth: self.halo_depth,
            copied_halo: self.copied_halo,
            output: self.output.clone(),
            per_rank_output: self.per_rank,
            snapshots: self.snapshots.clone(),
            every: self.every,
            checkpoint: self.checkpoint.clone(),
            checkpoint_every: self.checkpoint_every,
            restart: self.restart.clone(),
        }
    }
}

/// `square`, `gaussian`, or a path to a `.npy` file.
fn parse_init(s: &str) -> Result<Init, String> {
    match s {
        "square" => Ok(Init::Square),
        "gaussian" => Ok(Init::Gaussian),
        f if f.to_ascii_lowercase().ends_with(".npy") => Ok(Init::File(PathBuf::from(f))),
        _ => Err(format!("must be square, gaussian or a FILE.npy, got '{s}'")),
    }
}

/// `PXxPY`, e.g. `2x3`.
pub(crate) fn parse_procs(s: &str) -> Result<[usize; 2], String> {
    let parts: Vec<&str> = s.split(['x', 'X']).collect();
    match parts[..] {
        [px, py] => Ok([parse_count(px)?, parse_count(py)?]),
        _ => Err(format!("must be PXxPY (ranks along x by ranks along y, e.g. 2x3), got '{s}'")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn procs_and_init_parse() {
        assert_eq!(parse_procs("2x3"), Ok([2, 3]));
        assert!(parse_procs("2").unwrap_err().contains("PXxPY"));
        assert!(parse_procs("0x2").unwrap_err().contains("at least 1"));
        assert_eq!(parse_init("gaussian"), Ok(Init::Gaussian));
        assert_eq!(parse_init("f.NPY"), Ok(Init::File("f.NPY".into())));
        assert!(parse_init("hot").unwrap_err().contains("square"));
    }
}
