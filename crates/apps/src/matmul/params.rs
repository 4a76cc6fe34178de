//! The strategies, the defaults, and the checks of the parameters.

use serde::{Deserialize, Serialize};

use super::{source, Matmul};
use crate::error::{Error, Result};

/// The lesson's shapes: `A` of 300 x 400, `B` of 400 x 500.
pub const LESSON_SHAPE: [usize; 3] = [300, 400, 500];

/// SUMMA's default panel width: as wide as faer's own blocking of `K`, so that the
/// panels cost the local product nothing.
pub const DEFAULT_PANEL: usize = 512;

/// The largest error allowed, relative to `||A|| ||B||` (Frobenius norms).
pub const TOLERANCE: f64 = 1e-12;

/// The most elements one matrix may have (2^40: 8 TiB of `f64`).
pub const MAX_ELEMENTS: u128 = 1 << 40;

/// How `matmul` shares the work and the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    /// The lesson's first version: broadcast everything, reduce a full-size partial `C`.
    BcastReduce,
    /// The lesson's second version: scatter `A`'s rows, broadcast `B`, gather `C`'s rows.
    ScatterGather,
    /// SUMMA on a 2-D process grid: every matrix in blocks.
    Summa,
}

impl Strategy {
    /// Every strategy, in the lesson's order.
    pub const ALL: [Strategy; 3] = [Strategy::BcastReduce, Strategy::ScatterGather, Strategy::Summa];

    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Strategy::BcastReduce => "bcast-reduce",
            Strategy::ScatterGather => "scatter-gather",
            Strategy::Summa => "summa",
        }
    }
}

/// An [`Error::InvalidInput`] of `matmul`.
pub(crate) fn invalid(msg: String) -> Error {
    Error::InvalidInput { program: "matmul", msg }
}

impl Matmul {
    /// Checks the shapes, the panel, and the input files' headers (shapes and types).
    pub(crate) fn check_params(&self) -> Result<()> {
        for (name, v) in [("M", self.m), ("K", self.k), ("N", self.n)] {
            if v == 0 {
                return Err(invalid(format!("{name} is 0; every dimension must be at least 1")));
            }
        }
        for (name, r, c) in [("A", self.m, self.k), ("B", self.k, self.n), ("C", self.m, self.n)] {
            if (r as u128) * (c as u128) > MAX_ELEMENTS {
                return Err(invalid(format!("{name} would have {r} x {c} elements, more than 2^40")));
            }
        }
        if self.panel == 0 {
            return Err(invalid("the panel width must be at least 1".into()));
        }
        if self.lesson && self.input.is_some() {
            return Err(invalid("--lesson makes the matrices; leave out --input (or --lesson)".into()));
        }
        if let Some([a, b]) = &self.input {
            let (ha, hb) = (source::header(a)?, source::header(b)?);
            if ha.cols != hb.rows {
                return Err(invalid(format!(
                    "{} is {} x {} and {} is {} x {}: A's columns must equal B's rows to multiply them",
                    a.display(),
                    ha.rows,
                    ha.cols,
                    b.display(),
                    hb.rows,
                    hb.cols
                )));
            }
            if [ha.rows, ha.cols, hb.cols] != [self.m, self.k, self.n] {
                return Err(invalid(format!(
                    "the files hold a {} x {} times a {} x {} product, not M K N = {} {} {}; leave out M K N \
                     (they are read from the files)",
                    ha.rows, ha.cols, hb.rows, hb.cols, self.m, self.k, self.n
                )));
            }
        }
        if let Some(out) = &self.output {
            if out.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() != Some("npy") {
                return Err(invalid(format!("--output {}: the file name must end in .npy", out.display())));
            }
        }
        Ok(())
    }

    /// The process grid `[px, py]` on `ranks` ranks: SUMMA's (`--procs`, or the most
    /// square), `[1, ranks]` (row blocks) for the lesson's strategies.
    pub fn process_grid(&self, ranks: usize) -> Result<[usize; 2]> {
        if self.strategy != Strategy::Summa {
            if self.procs.is_some() {
                return Err(invalid(format!(
                    "--procs is for --strategy summa; {} shares the rows of C among the ranks",
                    self.strategy.name()
                )));
            }
            return Ok([1, ranks]);
        }
        match self.procs {
            Some([px, py]) if px.checked_mul(py) == Some(ranks) => Ok([px, py]),
            Some([px, py]) => Err(invalid(format!(
                "the process grid {px}x{py} has {} ranks but the job has {ranks}; pass a grid of {ranks} \
                 ranks (PXxPY with PX * PY = {ranks}) or leave out --procs",
                px.saturating_mul(py)
            ))),
            None => {
                let dims = parsci_comm::dims_create(ranks, &[0, 0]).map_err(invalid)?;
                Ok([dims[1], dims[0]])
            }
        }
    }

    /// Where the matrices come from, in words.
    pub fn input_name(&self) -> String {
        match (&self.input, self.lesson) {
            (Some([a, b]), _) => format!("{} and {}", a.display(), b.display()),
            (None, true) => "the lesson's (every element 1/sqrt(K))".into(),
            (None, false) => format!("random, seed {}", self.seed),
        }
    }
}
