//! `parsci amdahl`: Amdahl's and Gustafson's laws for a serial fraction, or for the one
//! fitted to measured times, with the workshop's rule of thumb.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use parsci_apps::scaling::{self, AmdahlFit};
use serde::Serialize;

use crate::args::GlobalArgs;
use crate::commands::{print, CliError};
use crate::ranks::Ranks;

/// `amdahl [--serial-fraction F] [--times FILE.csv] [--ranks A..B] [--plot FILE]`.
#[derive(Debug, Clone, Args)]
pub struct AmdahlArgs {
    /// The serial fraction f, from 0 to 1 [default: fitted to --times, else 0.05]
    #[arg(long, short = 'f', value_name = "F", value_parser = parse_fraction)]
    pub serial_fraction: Option<f64>,
    /// Measured times to fit: CSV with columns ranks and time_s (or median_s, as parsci
    /// scale --csv writes), or two columns ranks,seconds without a header
    #[arg(long, value_name = "FILE.csv")]
    pub times: Option<PathBuf>,
    /// Plot the curves (and the measured speedups) to FILE.png or FILE.svg
    #[arg(long, value_name = "FILE")]
    pub plot: Option<PathBuf>,
}

/// One line of the table.
#[derive(Debug, Serialize)]
struct Line {
    ranks: usize,
    amdahl_speedup: f64,
    amdahl_efficiency: f64,
    gustafson_speedup: f64,
}

/// What `--json` prints.
#[derive(Debug, Serialize)]
struct Report {
    serial_fraction: f64,
    useful_ranks: f64,
    fit: Option<AmdahlFit>,
    lines: Vec<Line>,
}

impl AmdahlArgs {
    /// Prints the table (or JSON) and writes the plot.
    pub fn run(&self, g: &GlobalArgs) -> Result<ExitCode, CliError> {
        let (lo, hi) = g.ranks.clone().unwrap_or(Ranks::Range(1, 1024)).bounds();
        let ranks = Ranks::Range(lo, hi).counts();
        if let Some(path) = &self.plot {
            crate::scale::check_plot_name(path)?;
        }
        let measured = match &self.times {
            None => Vec::new(),
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                scaling::parse_times(&text).map_err(|e| format!("{}: {e}", path.display()))?
            }
        };
        let fit = if measured.is_empty() {
            None
        } else {
            Some(AmdahlFit::fit(&measured).map_err(|e| format!("{}: {e}", self.times.as_ref().unwrap().display()))?)
        };
        let f = self.serial_fraction.or(fit.map(|a| a.serial_fraction)).unwrap_or(0.05);
        let lines: Vec<Line> = ranks
            .iter()
            .map(|&p| {
                let s = scaling::amdahl_speedup(f, p as f64);
                Line {
                    ranks: p,
                    amdahl_speedup: s,
                    amdahl_efficiency: s / p as f64,
                    gustafson_speedup: scaling::gustafson_speedup(f, p as f64),
                }
            })
            .collect();
        if let Some(path) = &self.plot {
            let speedups = measured_speedups(&measured, fit.as_ref());
            scaling::plot::write_plot(path, &scaling::laws_figure(f, lo, hi, &speedups))?;
        }
        let useful = scaling::useful_ranks(f);
        if g.json {
            let report = Report { serial_fraction: f, useful_ranks: useful, fit, lines };
            print(&(serde_json::to_string_pretty(&report)? + "\n"))?;
            return Ok(ExitCode::SUCCESS);
        }
        let mut out = Vec::new();
        if let Some(a) = &fit {
            out.push(format!(
                "Fitted to {} measurements: T(p) = {:.4} s + {:.4} s / p, serial fraction f = {:.4} (R^2 = {:.3})",
                a.points, a.serial_s, a.parallel_s, a.serial_fraction, a.r_squared
            ));
        }
        out.push(format!("Serial fraction f = {f}"));
        let header = ["ranks", "Amdahl speedup", "efficiency", "Gustafson speedup", ""];
        let rows: Vec<Vec<String>> = lines
            .iter()
            .map(|l| {
                vec![
                    l.ranks.to_string(),
                    format!("{:.2}", l.amdahl_speedup),
                    format!("{:.1}%", 100.0 * l.amdahl_efficiency),
                    format!("{:.2}", l.gustafson_speedup),
                    if (l.ranks as f64) > useful { "beyond 1/f".into() } else { String::new() },
                ]
            })
            .collect();
        out.extend(parsci_apps::scaling::align_columns(&header, &rows, 1));
        out.push(if useful.is_finite() {
            format!(
                "Rule of thumb: with a serial fraction of {f}, no more than 1/f = {useful:.0} ranks pay off \
                 (Amdahl's speedup can never exceed {useful:.1}); Gustafson's scaled speedup keeps growing \
                 when the problem grows with the ranks."
            )
        } else {
            "Rule of thumb: with no serial part every rank pays off (the speedup is unbounded).".into()
        });
        print(&out.iter().map(|l| format!("{l}\n")).collect::<String>())?;
        Ok(ExitCode::SUCCESS)
    }
}

/// Speedups of measured times over the fitted one-rank time.
fn measured_speedups(measured: &[(usize, f64)], fit: Option<&AmdahlFit>) -> Vec<(usize, f64)> {
    let Some(a) = fit else { return Vec::new() };
    let t1 = a.time(1.0);
    measured.iter().map(|&(p, t)| (p, t1 / t)).collect()
}

/// A serial fraction: a number from 0 to 1.
fn parse_fraction(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(f) if (0.0..=1.0).contains(&f) => Ok(f),
        _ => Err(format!("the serial fraction must be a number from 0 to 1 (e.g. 0.05), got '{s}'")),
    }
}
