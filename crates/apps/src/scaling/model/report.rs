//! A prediction over rank counts, with the measured points and the model's error on them.

use serde::{Deserialize, Serialize};

use super::machine::Machine;
use super::network::Allreduce;
use super::Workload;

/// The prediction at one rank count.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Point {
    /// The number of ranks.
    pub ranks: usize,
    /// The process grid, for programs on one.
    pub grid: Option<[usize; 2]>,
    /// The slowest rank's computation, in seconds.
    pub compute_s: f64,
    /// Its communication, in seconds.
    pub comm_s: f64,
    /// The predicted time, in seconds.
    pub time_s: f64,
    /// `T(1) / T(p)`; weak: `p T(1) / T(p)`, with `T(p)` the grown problem's time.
    pub speedup: f64,
    /// `speedup / p`.
    pub efficiency: f64,
}

/// One predicted curve (training has one per allreduce algorithm).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Curve {
    /// What it predicts (`"heat"`, `"ring allreduce"`).
    pub label: String,
    /// Its points, by rank count (those the problem cannot be cut for are left out).
    pub points: Vec<Point>,
}

impl Curve {
    /// The point at `ranks`, if predicted.
    pub fn at(&self, ranks: usize) -> Option<&Point> {
        self.points.iter().find(|p| p.ranks == ranks)
    }
}

/// The model against one measurement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    /// The curve compared.
    pub curve: String,
    /// The number of ranks.
    pub ranks: usize,
    /// The measured time (median), in seconds.
    pub measured_s: f64,
    /// The predicted time, in seconds.
    pub predicted_s: f64,
    /// `predicted / measured - 1`.
    pub error: f64,
}

/// Everything `parsci model` reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// The program.
    pub program: String,
    /// The problem (at one rank).
    pub problem: String,
    /// Weak scaling (the problem grows with the ranks).
    pub weak: bool,
    /// The machine the prediction is for.
    pub machine: Machine,
    /// The unit of `machine.rate`.
    pub rate_unit: String,
    /// The predicted curves.
    pub curves: Vec<Curve>,
    /// The measured `(ranks, median seconds)`, if any.
    pub measured: Vec<(usize, f64)>,
    /// The model against each measured point, for each curve.
    pub checks: Vec<Check>,
}

impl Report {
    /// The mean and the largest absolute relative error over the checks (`None` without any).
    pub fn error_summary(&self) -> Option<(f64, f64)> {
        let errs: Vec<f64> = self.checks.iter().map(|c| c.error.abs()).collect();
        let max = errs.iter().copied().fold(None, |m: Option<f64>, e| Some(m.map_or(e, |m| m.max(e))))?;
        Some((errs.iter().sum::<f64>() / errs.len() as f64, max))
    }

    /// The report as text lines: the machine, one table per curve, the checks.
    pub fn render(&self) -> Vec<String> {
        let m = &self.machine;
        let mut out = vec![
            format!(
                "# parsci model: {} scaling of {} (Hockney model)",
                if self.weak { "weak" } else { "strong" },
                self.problem
            ),
            format!(
                "network: latency {:.2} us, bandwidth {:.3} GB/s; one rank: {:.4e} {}; {}; {}",
                m.net.alpha_s * 1e6,
                m.net.bandwidth() / 1e9,
                m.rate,
                self.rate_unit,
                match (m.cores, m.hosts) {
                    (Some(c), Some(1)) => format!("the ranks share one host of {c} cores"),
                    (Some(c), Some(h)) => format!("the ranks spread over {h} hosts of {c} cores"),
                    _ => "a core per rank".into(),
                },
                if m.overlap { "communication overlaps computation" } else { "no overlap" }
            ),
        ];
        for c in &self.curves {
            out.push(String::new());
            out.push(format!("## {}", c.label));
            out.push(format!(
                "{:>6} {:>10} {:>12} {:>12} {:>12} {:>10} {:>10}",
                "ranks", "grid", "compute s", "comm s", "time s", "speedup", "efficiency"
            ));
            for p in &c.points {
                let grid = p.grid.map_or("-".to_string(), |[x, y]| format!("{x}x{y}"));
                out.push(format!(
                    "{:>6} {:>10} {:>12.4e} {:>12.4e} {:>12.4e} {:>10.2} {:>9.1}%",
                    p.ranks,
                    grid,
                    p.compute_s,
                    p.comm_s,
                    p.time_s,
                    p.speedup,
                    100.0 * p.efficiency
                ));
            }
        }
        if !self.checks.is_empty() {
            out.push(String::new());
            out.push("## the model against the measurements".into());
            out.push(format!(
                "{:>20} {:>6} {:>12} {:>12} {:>8}",
                "curve", "ranks", "measured s", "predicted s", "error"
            ));
            for c in &self.checks {
                out.push(format!(
                    "{:>20} {:>6} {:>12.4e} {:>12.4e} {:>+7.1}%",
                    c.curve,
                    c.ranks,
                    c.measured_s,
                    c.predicted_s,
                    100.0 * c.error
                ));
            }
            if let Some((mean, max)) = self.error_summary() {
                out.push(format!(
                    "error: mean {:.1}%, largest {:.1}% (absolute, relative to the measured time)",
                    100.0 * mean,
                    100.0 * max
                ));
            }
        }
        out
    }
}

/// Predicts `w` on `machine` at `ranks` (and at the measured rank counts), strong or
/// weak, and compares with `measured` `(ranks, seconds)` points (their median per rank count).
pub fn predict(w: &Workload, machine: &Machine, weak: bool, ranks: &[usize], measured: &[(usize, f64)]) -> Report {
    let measured = medians(measured);
    let mut all: Vec<usize> = ranks.iter().copied().chain(measured.iter().map(|m| m.0)).filter(|&p| p > 0).collect();
    all.sort_unstable();
    all.dedup();
    let curves: Vec<Curve> = w.variants().into_iter().map(|algo| curve(w, machine, weak, &all, algo)).collect();
    let checks = curves
        .iter()
        .flat_map(|c| {
            measured.iter().filter_map(move |&(p, t)| {
                let pred = c.at(p)?.time_s;
                Some(Check {
                    curve: c.label.clone(),
                    ranks: p,
                    measured_s: t,
                    predicted_s: pred,
                    error: pred / t - 1.0,
                })
            })
        })
        .collect();
    Report {
        program: w.name().into(),
        problem: w.problem(),
        weak,
        machine: *machine,
        rate_unit: w.rate_unit().into(),
        curves,
        measured,
        checks,
    }
}

fn curve(w: &Workload, m: &Machine, weak: bool, ranks: &[usize], algo: Option<Allreduce>) -> Curve {
    let t1 = w.cost(1, algo, m).map(|c| c.time_s);
    let points = ranks
        .iter()
        .filter_map(|&p| {
            let cost = if weak { w.weak(p).cost(p, algo, m)? } else { w.cost(p, algo, m)? };
            let t1 = t1?;
            let speedup = if weak { p as f64 * t1 / cost.time_s } else { t1 / cost.time_s };
            Some(Point {
                ranks: p,
                grid: cost.grid,
                compute_s: cost.compute_s,
                comm_s: cost.comm_s,
                time_s: cost.time_s,
                speedup,
                efficiency: speedup / p as f64,
            })
        })
        .collect();
    let label = match algo {
        Some(a) => format!("{} allreduce", a.name()),
        None => w.name().to_string(),
    };
    Curve { label, points }
}

/// The median time per rank count, by rank count.
fn medians(points: &[(usize, f64)]) -> Vec<(usize, f64)> {
    let mut ranks: Vec<usize> = points.iter().map(|p| p.0).collect();
    ranks.sort_unstable();
    ranks.dedup();
    ranks
        .into_iter()
        .filter_map(|r| {
            let mut t: Vec<f64> = points.iter().filter(|p| p.0 == r && p.1 > 0.0).map(|p| p.1).collect();
            t.sort_by(f64::total_cmp);
            let n = t.len();
            (n > 0).then(|| (r, if n % 2 == 1 { t[n / 2] } else { (t[n / 2 - 1] + t[n / 2]) / 2.0 }))
        })
        .collect()
}
