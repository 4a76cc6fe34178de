//! A scaling study's numbers: per rank count the timings, speedup, efficiency and
//! Karp-Flatt fraction, and the fit of Amdahl's (strong) or Gustafson's (weak) law.

use serde::{Deserialize, Serialize};

use super::fit::{AmdahlFit, GustafsonFit};
use super::laws::{gustafson_speedup, karp_flatt};
use super::stats::Summary;

/// The rank counts at which a study predicts the speedup from its fit.
pub const PREDICT_AT: [usize; 3] = [16, 64, 1024];

/// What was measured at one rank count.
#[derive(Debug, Clone, PartialEq)]
pub struct Measured {
    /// The number of ranks.
    pub ranks: usize,
    /// The wall time of each repetition, in seconds.
    pub wall_s: Vec<f64>,
    /// Each repetition's time in communication calls (the mean over ranks), in seconds;
    /// empty when not counted.
    pub comm_s: Vec<f64>,
    /// Whether the result agreed with the reference (the first rank count's result for a
    /// strong study, the serial reference for a weak one), and if not, how it differed.
    pub agreement: Result<(), String>,
}

/// How the study was set up, for its report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Setup {
    /// The program's name.
    pub program: String,
    /// The problem at the smallest rank count, as on the command line.
    pub problem: String,
    /// The backend (`"threads"` or `"mpi"`).
    pub backend: String,
    /// The cores of this machine.
    pub cores: usize,
    /// For a weak-scaling study, how the problem grows with the rank count.
    pub weak: Option<String>,
    /// Whether oversubscribed rank counts (more ranks than cores) enter the fit.
    pub fit_oversubscribed: bool,
}

/// One rank count's line of the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// The number of ranks.
    pub ranks: usize,
    /// Wall time over the repetitions, in seconds.
    pub wall_s: Summary,
    /// Median time in communication calls (mean over ranks), in seconds, when counted.
    pub comm_s: Option<f64>,
    /// Median wall time minus the median communication time, in seconds, when counted.
    pub compute_s: Option<f64>,
    /// Speedup over the smallest rank count, scaled as if that count ran at full
    /// efficiency; for a weak study, the scaled (Gustafson) speedup `p T(p0) / T(p)`.
    pub speedup: f64,
    /// Parallel efficiency `speedup / p`.
    pub efficiency: f64,
    /// The Karp-Flatt serial fraction (strong studies, more than one rank).
    pub karp_flatt: Option<f64>,
    /// More ranks than cores: timings measure the sharing of cores, not scaling.
    pub oversubscribed: bool,
    /// Whether this row entered the fit.
    pub fitted: bool,
    /// Whether the result agreed with the reference.
    pub result_ok: bool,
    /// How the result differed, when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result_detail: Option<String>,
}

/// A prediction of the fitted law.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    /// The number of ranks.
    pub ranks: usize,
    /// The predicted (scaled, for a weak study) speedup.
    pub speedup: f64,
}

/// A whole study: setup, rows, fit and predictions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Study {
    /// How it was set up.
    pub setup: Setup,
    /// One row per rank count, in the order measured.
    pub rows: Vec<Row>,
    /// Amdahl's law fitted to the rows' median times (strong studies).
    pub amdahl: Option<AmdahlFit>,
    /// Gustafson's law fitted to the scaled speedups (weak studies).
    pub gustafson: Option<GustafsonFit>,
    /// The fitted law's speedups at 16, 64 and 1024 ranks.
    pub predictions: Vec<Prediction>,
    /// Whether every rank count gave the same result (within the program's tolerance).
    pub results_agree: bool,
    /// What the reader should know: a fit that could not be made, a baseline other than one rank.
    pub notes: Vec<String>,
}

impl Study {
    /// Computes the report from the measurements (in the order of the rank counts).
    ///
    /// ```
    /// use parsci_apps::scaling::{Measured, Setup, Study};
    /// let setup = Setup { program: "demo".into(), problem: "demo".into(), backend: "threads".into(),
    ///                     cores: 4, weak: None, fit_oversubscribed: false };
    /// let m = |ranks: usize, t: f64| Measured { ranks, wall_s: vec![t], comm_s: vec![], agreement: Ok(()) };
    /// let study = Study::analyse(setup, vec![m(1, 10.0), m(2, 5.5), m(4, 3.25)]);
    /// assert!((study.rows[2].speedup - 10.0 / 3.25).abs() < 1e-12);
    /// assert!((study.amdahl.unwrap().serial_fraction - 0.1).abs() < 1e-9);
    /// assert!((study.rows[1].karp_flatt.unwrap() - 0.1).abs() < 1e-9);
    /// ```
    pub fn analyse(setup: Setup, measured: Vec<Measured>) -> Study {
        let mut notes = Vec::new();
        let weak = setup.weak.is_some();
        let base = measured.iter().filter_map(|m| Some((m.ranks, Summary::of(&m.wall_s)?.median))).next();
        let Some((p0, t0)) = base else {
            return Study::empty(setup, vec!["nothing was measured".into()]);
        };
        if p0 != 1 {
            notes.push(format!("speedups are relative to {p0} ranks, taken as {p0}x one rank (no 1-rank measurement)"));
        }
        let rows: Vec<Row> = measured.iter().filter_map(|m| row(&setup, m, p0, t0, weak)).collect();
        let fit_rows: Vec<&Row> = rows.iter().filter(|r| r.fitted).collect();
        let (mut amdahl, mut gustafson, mut predictions) = (None, None, Vec::new());
        if weak {
            match GustafsonFit::fit(&fit_rows.iter().map(|r| (r.ranks, r.speedup)).collect::<Vec<_>>()) {
                Ok(g) => {
                    predictions = prediction(|p| gustafson_speedup(g.serial_fraction, p));
                    gustafson = Some(g);
                }
                Err(e) => notes.push(format!("no Gustafson fit: {e}")),
            }
        } else {
            // Fit to the median time at each rank count; a p0 != 1 baseline scales the times.
            let pts: Vec<(usize, f64)> = fit_rows.iter().map(|r| (r.ranks, r.wall_s.median)).collect();
            match AmdahlFit::fit(&pts) {
                Ok(a) => {
                    predictions = prediction(|p| a.speedup(p));
                    amdahl = Some(a);
                }
                Err(e) => notes.push(format!("no Amdahl fit: {e}")),
            }
        }
        if rows.iter().any(|r| r.oversubscribed && !r.fitted) {
            notes.push(format!(
                "rank counts above the {} cores are oversubscribed and left out of the fit (--fit-oversubscribed puts them in)",
                setup.cores
            ));
        }
        let results_agree = rows.iter().all(|r| r.result_ok);
        Study { setup, rows, amdahl, gustafson, predictions, results_agree, notes }
    }

    fn empty(setup: Setup, notes: Vec<String>) -> Study {
        Study {
            setup,
            rows: Vec::new(),
            amdahl: None,
            gustafson: None,
            predictions: Vec::new(),
            results_agree: true,
            notes,
        }
    }
}

fn row(setup: &Setup, m: &Measured, p0: usize, t0: f64, weak: bool) -> Option<Row> {
    let wall = Summary::of(&m.wall_s)?;
    let p = m.ranks as f64;
    let efficiency = if weak { t0 / wall.median } else { p0 as f64 * t0 / (p * wall.median) };
    let speedup = p * efficiency;
    let comm = Summary::of(&m.comm_s).map(|s| s.median);
    let oversubscribed = m.ranks > setup.cores;
    Some(Row {
        ranks: m.ranks,
        wall_s: wall,
        comm_s: comm,
        compute_s: comm.map(|c| (wall.median - c).max(0.0)),
        speedup,
        efficiency,
        karp_flatt: if weak { None } else { karp_flatt(speedup, m.ranks) },
        oversubscribed,
        fitted: !oversubscribed || setup.fit_oversubscribed,
        result_ok: m.agreement.is_ok(),
        result_detail: m.agreement.clone().err(),
    })
}

fn prediction(law: impl Fn(f64) -> f64) -> Vec<Prediction> {
    PREDICT_AT.iter().map(|&ranks| Prediction { ranks, speedup: law(ranks as f64) }).collect()
}
