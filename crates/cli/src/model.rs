//! `parsci model PROGRAM [ARGS]`: predicts strong or weak scaling out to thousands of
//! ranks with the Hockney (alpha-beta) model, from a latency and bandwidth (given, or
//! fitted to `parsci bench` JSON) and one rank's compute rate (given, measured in a
//! scaling study's CSV, or measured now on one rank), and states its error on the
//! measured points.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use parsci_apps::scaling::model::{self, parse_bandwidth, parse_latency, Machine, Network, Workload};
use parsci_apps::{execute, scaling, Program};
use parsci_comm::Backend;
use serde_json::Value;

use crate::args::GlobalArgs;
use crate::commands::{print, CliError};
use crate::heat_args::HeatArgs;
use crate::ranks::Ranks;
use crate::train_args::TrainModel;

/// `model PROGRAM [ARGS] [options]`.
#[derive(Debug, Clone, Args)]
pub struct ModelArgs {
    /// The program to predict, with its arguments
    #[command(subcommand)]
    pub program: ModelProgram,
    /// One-way latency of a small message (e.g. 1.5us, 20us)
    #[arg(long, global = true, value_name = "TIME", value_parser = parse_latency, requires = "bandwidth")]
    pub latency: Option<f64>,
    /// Bandwidth of large messages (e.g. 12GB/s, 10Gbit/s)
    #[arg(long, global = true, value_name = "RATE", value_parser = parse_bandwidth, requires = "latency")]
    pub bandwidth: Option<f64>,
    /// Fit latency and bandwidth to the ping-pong of `parsci bench --json` (or `bench --compare
    /// --json`: the MPI backend's column), instead of --latency and --bandwidth
    #[arg(long, global = true, value_name = "FILE.json", conflicts_with_all = ["latency", "bandwidth"])]
    pub bench: Option<PathBuf>,
    /// One rank's compute rate (heat: cell updates/s, matmul: flop/s, train: samples/s)
    /// [default: from the 1-rank time in --measured, else measured now on one rank]
    #[arg(long, global = true, value_name = "RATE", value_parser = parse_rate)]
    pub rate: Option<f64>,
    /// Measured times to compare with: CSV with ranks and median_s (as `parsci scale --csv`
    /// writes) or time_s, or two columns ranks,seconds
    #[arg(long, global = true, value_name = "FILE.csv")]
    pub measured: Option<PathBuf>,
    /// Weak scaling: the problem grows with the ranks (heat: NY, matmul: M, train: samples and batch)
    #[arg(long, global = true)]
    pub weak: bool,
    /// Cores of each host; a rank computes at cores / (ranks on its host) of its rate when
    /// the ranks outnumber them [default: this machine's]
    #[arg(long, global = true, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub cores: Option<u32>,
    /// Hosts the ranks are spread over (1: all on one machine, as in `parsci scale` or
    /// the namespaces of scripts/cluster) [default: a host per CORES ranks, never shared]
    #[arg(long, global = true, value_name = "H", value_parser = clap::value_parser!(u32).range(1..))]
    pub hosts: Option<u32>,
    /// Communication does not overlap computation (their sum, instead of the larger)
    #[arg(long, global = true)]
    pub no_overlap: bool,
    /// Plot the predicted and measured speedup and efficiency to FILE.png or FILE.svg
    #[arg(long, global = true, value_name = "FILE")]
    pub plot: Option<PathBuf>,
}

/// The programs the model knows.
#[derive(Debug, Clone, Subcommand)]
pub enum ModelProgram {
    /// The 2-D heat equation: halo bytes per step from the decomposition heat would use
    #[command(allow_negative_numbers = true)]
    Heat(HeatArgs),
    /// matmul: SUMMA's panel broadcasts, or the lesson's strategies (--strategy
    /// bcast-reduce: broadcasts of A and B, a reduce of C; scatter-gather: a scatter of A,
    /// a broadcast of B, a gather of C)
    Matmul(crate::matmul_args::MatmulArgs),
    /// Data-parallel training: an allreduce of the gradients per step (ring and tree)
    #[command(subcommand)]
    Train(TrainModel),
}

impl ModelArgs {
    /// Prints the prediction (table or JSON) and writes the plot.
    pub fn run(&self, g: &GlobalArgs) -> Result<ExitCode, CliError> {
        let workload = match &self.program {
            ModelProgram::Heat(a) => Workload::Heat(a.params()),
            ModelProgram::Matmul(a) => Workload::Matmul(a.params()?),
            ModelProgram::Train(t) => Workload::Train(t.params()?),
        };
        if let Some(path) = &self.plot {
            crate::scale::check_plot_name(path)?;
        }
        let net = self.network()?;
        let measured = match &self.measured {
            None => Vec::new(),
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                scaling::parse_times(&text).map_err(|e| format!("{}: {e}", path.display()))?
            }
        };
        let rate = match self.rate {
            Some(r) => r,
            None => rate_of(&workload, &measured)?,
        };
        let cores = match self.cores {
            Some(c) => c as usize,
            None => std::thread::available_parallelism().map_or(1, |n| n.get()),
        };
        let machine =
            Machine { net, rate, cores: Some(cores), hosts: self.hosts.map(|h| h as usize), overlap: !self.no_overlap };
        let ranks = g.ranks.clone().unwrap_or(Ranks::Range(1, 4096)).counts();
        if ranks.iter().any(|&p| p == 0 || p > 1 << 20) {
            return Err("--ranks: rank counts from 1 to 1048576".into());
        }
        let report = model::predict(&workload, &machine, self.weak, &ranks, &measured);
        if let Some(path) = &self.plot {
            scaling::plot::write_plot(path, &model::model_figure(&report))?;
        }
        if g.json {
            print(&(serde_json::to_string_pretty(&report)? + "\n"))?;
        } else {
            print(&report.render().iter().map(|l| format!("{l}\n")).collect::<String>())?;
        }
        Ok(ExitCode::SUCCESS)
    }

    fn network(&self) -> Result<Network, String> {
        match (self.latency, self.bandwidth, &self.bench) {
            (Some(l), Some(b), None) => Network::new(l, b),
            (None, None, Some(path)) => {
                let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                let json: Value = serde_json::from_str(&text)
                    .map_err(|e| format!("{}: not parsci bench JSON: {e}", path.display()))?;
                Network::fit_pingpong(&pingpong_points(&json)).map_err(|e| format!("{}: {e}", path.display()))
            }
            _ => Err("give the network: --latency TIME --bandwidth RATE (e.g. --latency 1.5us --bandwidth \
                      12GB/s), or --bench FILE.json from `parsci bench pingpong --json`"
                .into()),
        }
    }
}

/// The ping-pong `(bytes, seconds)` of `parsci bench --json` (its samples) or of `bench
/// --compare --json` (its rows' MPI backend).
fn pingpong_points(json: &Value) -> Vec<(f64, f64)> {
    let from = |list: &Value, time: &dyn Fn(&Value) -> Option<f64>| -> Vec<(f64, f64)> {
        list.as_array()
            .into_iter()
            .flatten()
            .filter(|s| s["kind"] == "pingpong")
            .filter_map(|s| Some((s["bytes"].as_f64()?, time(s)? * 1e-6)))
            .collect()
    };
    let mut pts = from(&json["samples"], &|s| s["time_us"].as_f64());
    pts.extend(from(&json["rows"], &|s| s["mpi"]["time_us"].as_f64()));
    pts
}

/// One rank's rate: the work over the measured 1-rank median, or over a run on one
/// rank now (threads).
fn rate_of(w: &Workload, measured: &[(usize, f64)]) -> Result<f64, CliError> {
    let mut ones: Vec<f64> = measured.iter().filter(|m| m.0 == 1).map(|m| m.1).collect();
    ones.sort_by(f64::total_cmp);
    let t1 = match ones.get(ones.len() / 2) {
        Some(&t) => t,
        None => {
            eprintln!("parsci model: measuring one rank's rate (a run on 1 rank; --rate skips it)");
            match w {
                Workload::Heat(h) => one_rank(h)?,
                Workload::Matmul(m) => one_rank(m)?,
                Workload::Train(t) => one_rank(t)?,
            }
        }
    };
    if t1 <= 0.0 {
        return Err(format!("the one-rank time must be positive, got {t1} s").into());
    }
    Ok(w.work() / t1)
}

fn one_rank<P: Program>(p: &P) -> Result<f64, CliError> {
    parsci_apps::progress::enable(false);
    Ok(execute(p, Backend::Threads(1))?.wall_time_s)
}

/// `--rate`: a positive number (`1.2e9`).
fn parse_rate(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(r) if r > 0.0 && r.is_finite() => Ok(r),
        _ => Err(format!("--rate must be a positive number of units per second (e.g. 1.2e9), got '{s}'")),
    }
}
