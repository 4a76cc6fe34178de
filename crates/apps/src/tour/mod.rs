//! `tour`: runs every program, checks each result against its serial reference, and
//! reports a table (program, ranks, result, check, time), then a short scaling study of
//! an embarrassingly parallel and a tightly coupled program at 1 and 2 ranks.
//!
//! ```
//! use parsci_apps::tour::{self, Tour};
//! use parsci_comm::Backend;
//! use parsci_apps::mandelbrot::Mandelbrot;
//! let small = Mandelbrot { nr: 40, ni: 30, imax: 100, ..Mandelbrot::default() };
//! let params = Tour { rootsum_sizes: vec![1000], mandelbrot: small, scaling: None, ..Tour::default() };
//! let run = tour::execute(&params, Backend::Threads(2)).unwrap();
//! assert!(run.result.passed);
//! assert_eq!(run.result.rows.len(), 17); // 5 programs, rootsum, mandelbrot x 4, taskfarm, heat1d, heat, matmul x 3, train
//! ```

mod scaling;
mod table;

pub use scaling::TourScaling;

use std::time::Instant;

use parsci_comm::Backend;
use serde::{Deserialize, Serialize};

use crate::execute::{check_ranks, done_line, Run};
use crate::heat::{Boundary, Heat};
use crate::heat1d::Heat1d;
use crate::mandelbrot::{Mandelbrot, Strategy};
use crate::matmul::{Matmul, Strategy as MatmulStrategy};
use crate::program::Program;
use crate::rootsum::{RootSum, WORKSHOP_M};
use crate::taskfarm::TaskFarm;
use crate::train::Train;
use crate::{bcast::Bcast, hello::Hello, scatter_gather::ScatterGather};
use crate::{error::Result, sendrecv::SendRecv, squares::Squares};

/// The tour's parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tour {
    /// The `M` of each `rootsum` run.
    pub rootsum_sizes: Vec<u64>,
    /// The `mandelbrot` run, once with every strategy (its own strategy is ignored).
    pub mandelbrot: Mandelbrot,
    /// The `taskfarm` run.
    pub taskfarm: TaskFarm,
    /// The `heat1d` run.
    pub heat1d: Heat1d,
    /// The `heat` run.
    pub heat: Heat,
    /// The `matmul` run, once with every strategy (its own strategy is ignored).
    #[serde(default)]
    pub matmul: Matmul,
    /// The `train` run (a short logistic regression).
    #[serde(default = "short_training")]
    pub train: Train,
    /// The closing scaling study (none to skip it).
    pub scaling: Option<TourScaling>,
    /// Where the `heat` run's communication trace goes (none: not traced).
    #[serde(default)]
    pub trace: Option<std::path::PathBuf>,
}

impl Default for Tour {
    /// `rootsum` at the workshop's `M = 1234567` and at `M = 10^8`, `mandelbrot` at the
    /// lesson's `200 200 -1.5 0.5 -1 1 1000`, the lesson's 20 jobs in milliseconds, the
    /// workshop's `heat1d`, `heat` on a 400 x 300 grid for 500 steps, the lesson's `matmul`
    /// (300 x 400 times 400 x 500) with every strategy, and 3 epochs of `train logreg` on
    /// 20,000 samples.
    fn default() -> Self {
        Tour {
            rootsum_sizes: vec![WORKSHOP_M, 100_000_000],
            mandelbrot: Mandelbrot::default(),
            taskfarm: TaskFarm { time_scale: 0.001, ..TaskFarm::default() },
            heat1d: Heat1d::default(),
            heat: Heat { nx: 400, ny: 300, steps: 500, bc_x: Boundary::Periodic, ..Heat::default() },
            matmul: Matmul::default(),
            train: short_training(),
            scaling: Some(TourScaling::default()),
            trace: Some(std::env::temp_dir().join("parsci-tour-heat-trace.json")),
        }
    }
}

/// The tour's training row: the workshop's logistic regression on 20,000 samples, 3 epochs.
fn short_training() -> Train {
    Train { samples: 20_000, epochs: 3, ..Train::logreg() }
}

/// One program's line of the tour.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TourRow {
    /// The program's name.
    pub program: String,
    /// The ranks it ran on (`sendrecv` runs on at least 2).
    pub ranks: usize,
    /// A summary of its result, or its error.
    pub result: String,
    /// Whether the result matched the serial reference.
    pub passed: bool,
    /// What differed, or the error, when the check failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Wall time of the run, in seconds.
    pub time_s: f64,
}

/// The tour's result: one row per run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TourReport {
    /// One row per program run, in the order they ran.
    pub rows: Vec<TourRow>,
    /// The closing scaling studies (speedup at 1 and 2 ranks).
    pub scaling: Vec<crate::scaling::Study>,
    /// Whether every check passed (including the studies' results agreeing).
    pub passed: bool,
}

/// Runs every program on `backend` (with at least the ranks each needs) and checks
/// each against its serial reference. A failing program is a failed row, not an error;
/// an error is returned only for bad parameters.
pub fn execute(tour: &Tour, backend: Backend) -> Result<Run<TourReport>> {
    check_ranks("tour", 1, backend.ranks())?;
    for &m in &tour.rootsum_sizes {
        RootSum { m }.validate()?;
    }
    tour.mandelbrot.validate()?;
    tour.taskfarm.validate()?;
    tour.heat1d.validate()?;
    tour.heat.validate()?;
    tour.matmul.validate()?;
    tour.train.validate()?;
    if let Some(s) = &tour.scaling {
        s.validate()?;
    }
    let start = Instant::now();
    let mut rows = vec![row(&Hello, backend), row(&SendRecv, backend), row(&Bcast, backend)];
    rows.push(row(&ScatterGather, backend));
    rows.push(row(&Squares, backend));
    rows.extend(tour.rootsum_sizes.iter().map(|&m| row(&RootSum { m }, backend)));
    rows.extend(Strategy::ALL.map(|strategy| row(&Mandelbrot { strategy, ..tour.mandelbrot.clone() }, backend)));
    rows.push(row(&tour.taskfarm, backend));
    rows.push(row(&tour.heat1d, backend));
    let options = match &tour.trace {
        Some(path) => parsci_comm::JobOptions::default().with_trace(path),
        None => parsci_comm::JobOptions::default(),
    };
    rows.push(row_with(&tour.heat, backend, &options));
    rows.extend(MatmulStrategy::ALL.map(|strategy| row(&Matmul { strategy, ..tour.matmul.clone() }, backend)));
    rows.push(row(&tour.train, backend));
    let studies = match &tour.scaling {
        Some(s) => s.run()?,
        None => Vec::new(),
    };
    let wall_time_s = start.elapsed().as_secs_f64();
    let passed = rows.iter().all(|r| r.passed) && studies.iter().all(|s| s.results_agree);
    let report = TourReport { passed, rows, scaling: studies };
    let mut lines = table::render(&report);
    if let Some(path) = &tour.trace {
        lines.extend(trace_lines(path));
    }
    lines.extend(scaling::render(&report.scaling));
    lines.push(done_line(wall_time_s));
    let (ranks, name) = (backend.ranks(), backend.name());
    Ok(Run { program: "tour", ranks, backend: name, wall_time_s, result: report, comm_time_s: None, lines })
}

/// Where the trace went, and the top of its profile.
fn trace_lines(path: &std::path::Path) -> Vec<String> {
    let mut lines = vec![String::new()];
    match parsci_comm::trace::Trace::read(path) {
        Ok(t) => {
            lines.push(format!(
                "The heat run's communication trace: {} (open it in ui.perfetto.dev; parsci trace {} --png timeline.png)",
                path.display(),
                path.display()
            ));
            let text = parsci_comm::trace::Profile::of(&t).text(3);
            let top =
                text.lines().take_while(|l| !l.starts_with("Communication matrix") && !l.starts_with("Wait states"));
            lines.extend(top.filter(|l| !l.is_empty()).map(|l| format!("  {l}")));
        }
        Err(e) => lines.push(format!("The heat run's trace could not be read: {e}")),
    }
    lines
}

/// Runs one program and checks it.
fn row<P: Program>(program: &P, backend: Backend) -> TourRow {
    row_with(program, backend, &parsci_comm::JobOptions::default())
}

/// Runs one program with job options (a trace) and checks it.
fn row_with<P: Program>(program: &P, backend: Backend, options: &parsci_comm::JobOptions) -> TourRow {
    let backend = with_at_least(backend, P::MIN_RANKS);
    let run = crate::execute_with(program, backend, options)
        .and_then(|r| r.ok_or(crate::error::Error::MissingOutput { program: P::NAME }));
    match run {
        Ok(run) => {
            let check = program.check(&run.result, run.ranks);
            TourRow {
                program: P::NAME.into(),
                ranks: run.ranks,
                result: program.summary(&run.result),
                passed: check.is_ok(),
                detail: check.err(),
                time_s: run.wall_time_s,
            }
        }
        Err(e) => TourRow {
            program: P::NAME.into(),
            ranks: backend.ranks(),
            result: "error".into(),
            passed: false,
            detail: Some(e.to_string()),
            time_s: 0.0,
        },
    }
}

/// `backend` with at least `n` ranks, where the backend lets us choose.
fn with_at_least(backend: Backend, n: usize) -> Backend {
    match backend {
        Backend::Threads(r) => Backend::Threads(r.max(n)),
        other => other,
    }
}
