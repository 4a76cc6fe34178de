//! `heat`: the 2-D heat equation by domain decomposition with halo exchange, the
//! workshops' example of tightly coupled parallelism.
//!
//! `u_t = alpha (u_xx + u_yy)` on an `NX x NY` grid of square cells (the longer side is
//! 1), explicit Euler with the 5-point stencil. Each axis is Dirichlet (a fixed wall value
//! outside the grid) or periodic. The ranks form a 2-D Cartesian process grid; every
//! step, each sends its edge rows and columns to its neighbours' ghost cells with
//! non-blocking messages and updates its interior while they travel. The field after any
//! number of steps equals the serial reference bit for bit, for every rank count and
//! process grid (the result's `fingerprint` digests every cell's bits).
//!
//! ```
//! use parsci_apps::{execute, heat::{Boundary, Heat}, Program};
//! use parsci_comm::Backend;
//! let params = Heat { nx: 30, ny: 20, steps: 50, bc_x: Boundary::Periodic, ..Heat::default() };
//! let run = execute(&params, Backend::Threads(3)).unwrap();
//! assert!(params.check(&run.result, 3).is_ok());
//! assert_eq!(run.result.procs, [1, 3]);
//! ```

pub mod assemble;
pub mod checkpoint;
pub mod decomp;
pub mod deep;
pub mod fingerprint;
pub mod halo;
mod init;
mod output;
pub mod parallel;
mod params;
pub mod serial;
pub mod snapshot;
mod start;
pub mod stencil;

use std::path::PathBuf;

use parsci_comm::Comm;
use serde::{Deserialize, Serialize};

pub use init::{initial_field, load};
pub use params::{Boundary, Init, DEFAULT_DEPTH, MAX_CELLS};

use crate::error::Result;
use crate::program::{Output, Program};

/// The parameters of `heat`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Heat {
    /// Cells per row (along x).
    pub nx: usize,
    /// Rows (along y).
    pub ny: usize,
    /// The diffusivity.
    pub alpha: f64,
    /// The time step; `None`: 0.9 times the largest stable one.
    pub dt: Option<f64>,
    /// The step to run to (counted from the start, also when restarting).
    pub steps: usize,
    /// The boundary at the two ends of x.
    pub bc_x: Boundary,
    /// The boundary at the two ends of y.
    pub bc_y: Boundary,
    /// The value outside a Dirichlet boundary.
    pub wall: f64,
    /// The field at step 0.
    pub init: Init,
    /// The process grid `[px, py]`; `None`: balanced, as `MPI_Dims_create`.
    pub procs: Option<[usize; 2]>,
    /// Ghost rows exchanged at once = steps per exchange (temporal blocking, one rank
    /// along x only); `None`: [`DEFAULT_DEPTH`] where it applies, else 1.
    pub halo_depth: Option<usize>,
    /// The halo exchange (at depth 1) copies its messages through plain `isend`/`irecv`
    /// instead of lending the block's edges to a scope: to compare the two.
    #[serde(default)]
    pub copied_halo: bool,
    /// Write the final field here (`.npy`).
    pub output: Option<PathBuf>,
    /// Every rank writes its own block next to `output` instead of rank 0 the whole field.
    pub per_rank_output: bool,
    /// Write PNG heat maps into this directory.
    pub snapshots: Option<PathBuf>,
    /// Steps between heat maps.
    pub every: usize,
    /// Write checkpoints to this file.
    pub checkpoint: Option<PathBuf>,
    /// Steps between checkpoints.
    pub checkpoint_every: usize,
    /// Resume from this checkpoint.
    pub restart: Option<PathBuf>,
}

impl Default for Heat {
    /// A 200 x 200 grid with a hot square in the middle, walls at 0, `alpha = 1`, the
    /// default time step, 1000 steps.
    fn default() -> Self {
        Heat {
            nx: 200,
            ny: 200,
            alpha: 1.0,
            dt: None,
            steps: 1000,
            bc_x: Boundary::Dirichlet,
            bc_y: Boundary::Dirichlet,
            wall: 0.0,
            init: Init::Square,
            procs: None,
            halo_depth: None,
            copied_halo: false,
            output: None,
            per_rank_output: false,
            snapshots: None,
            every: 100,
            checkpoint: None,
            checkpoint_every: 100,
            restart: None,
        }
    }
}

/// One rank's share and times.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeatRank {
    /// The rows it owns, `[first, end)`.
    pub rows: [usize; 2],
    /// The columns it owns, `[first, end)`.
    pub cols: [usize; 2],
    /// Seconds spent updating cells.
    pub compute_s: f64,
    /// Seconds spent in the halo exchange (posting, waiting, copying ghosts).
    pub exchange_s: f64,
}

/// What `heat` computes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeatResult {
    /// Cells per row.
    pub nx: usize,
    /// Rows.
    pub ny: usize,
    /// The process grid `[px, py]`.
    pub procs: [usize; 2],
    /// The step the run started from (0, or the checkpoint's).
    pub start_step: usize,
    /// The step reached.
    pub steps: usize,
    /// The time step.
    pub dt: f64,
    /// The time reached.
    pub time: f64,
    /// `alpha dt / h^2` (stable up to 0.25).
    pub courant: f64,
    /// Wall time of the steps (the slowest rank, files excluded), in seconds.
    pub step_time_s: f64,
    /// Billions of lattice (cell) updates per second.
    pub glups: f64,
    /// The slowest rank's compute time.
    pub compute_time_s: f64,
    /// The slowest rank's halo-exchange time.
    pub exchange_time_s: f64,
    /// Seconds spent writing snapshots and checkpoints.
    pub io_time_s: f64,
    /// The sum of the field times the cell area.
    pub total_heat: f64,
    /// The smallest value.
    pub min: f64,
    /// The largest value.
    pub max: f64,
    /// A digest of every cell's bits, equal for equal fields ([`fingerprint`]).
    pub fingerprint: String,
    /// Every rank's share and times, in rank order.
    pub ranks: Vec<HeatRank>,
    /// The files written.
    pub files: Vec<String>,
}

impl Program for Heat {
    type Result = HeatResult;
    const NAME: &'static str = "heat";

    fn validate(&self) -> Result<()> {
        self.check_params()?;
        // Files are read whole here, checksum included, so that a damaged one is refused
        // before the job starts; rank 0 reads them again in the job.
        match (&self.restart, &self.init) {
            (Some(path), _) => checkpoint::read(path)?.0.check_matches(self, path),
            (None, Init::File(path)) => init::load(self, path).map(drop),
            _ => Ok(()),
        }
    }

    fn validate_ranks(&self, ranks: usize) -> Result<()> {
        self.halo_depth_for(self.process_grid(ranks)?).map(|_| ())
    }

    fn run(&self, comm: &Comm) -> Result<Option<Output<HeatResult>>> {
        self.validate()?;
        parallel::run(comm, self)
    }

    fn check(&self, result: &HeatResult, _ranks: usize) -> Result<(), String> {
        let (start, initial) = match &self.restart {
            Some(path) => checkpoint::read(path).map(|(h, f)| (h.step, f)),
            None => initial_field(self).map(|f| (0, f)),
        }
        .map_err(|e| e.to_string())?;
        let want = fingerprint::hex(fingerprint::of(&serial::solve(self, &initial, self.steps - start)));
        if result.fingerprint == want && result.steps == self.steps && result.start_step == start {
            Ok(())
        } else {
            Err(format!(
                "steps {}..{}: fingerprint {}, the serial reference's ({start}..{}) is {want}",
                result.start_step, result.steps, result.fingerprint, self.steps
            ))
        }
    }

    fn summary(&self, r: &HeatResult) -> String {
        format!("{} x {}, {} steps: total heat {:.6}, {:.3} GLUP/s", r.nx, r.ny, r.steps, r.total_heat, r.glups)
    }
}
