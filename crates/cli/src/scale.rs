//! `parsci scale PROGRAM [ARGS] --ranks 1,2,4 --repeat 5`: a scaling study of one program.
//!
//! The programs a study can run are the variants of [`ScaleProgram`]; each maps its
//! arguments to the library's parameters, whose `Scalable` implementation says how the
//! problem grows for `--weak` and how results are compared.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use parsci_apps::rootsum::RootSum;
use parsci_apps::scaling::{self, Progress, Scalable, ScaleOptions};
use serde::de::DeserializeOwned;

use crate::args::{parse_m, BackendArg, GlobalArgs};
use crate::commands::{print, CliError};
use crate::heat_args::HeatArgs;
use crate::programs::MandelbrotArgs;

/// `scale PROGRAM [ARGS] [options]`.
#[derive(Debug, Clone, Args)]
pub struct ScaleArgs {
    /// The program to study, with its arguments
    #[command(subcommand)]
    pub program: ScaleProgram,
    /// Timed runs at each rank count (after one untimed warm-up run)
    #[arg(long, global = true, value_name = "N", default_value_t = 3, value_parser = parse_repeat)]
    pub repeat: usize,
    /// Weak scaling: the problem grows with the rank count (each program says how)
    #[arg(long, global = true)]
    pub weak: bool,
    /// Fit rank counts above the number of cores too (left out by default)
    #[arg(long, global = true)]
    pub fit_oversubscribed: bool,
    /// Write the rows as CSV to FILE
    #[arg(long, global = true, value_name = "FILE")]
    pub csv: Option<PathBuf>,
    /// Plot speedup and efficiency to FILE.png or FILE.svg
    #[arg(long, global = true, value_name = "FILE")]
    pub plot: Option<PathBuf>,
    /// Run each job under MPI with this launcher, {n} standing for the rank count
    /// (e.g. "mpirun -n {n}"); needs a parsci built with --features mpi
    #[arg(long, global = true, value_name = "CMD")]
    pub launcher: Option<String>,
}

/// The programs a scaling study can run. To add one: a variant here, its arm in
/// [`ScaleArgs::run`], and `impl Scalable` for its parameters in parsci-apps.
#[derive(Debug, Clone, Subcommand)]
pub enum ScaleProgram {
    /// Sum of sqrt(i) for i = 1..M (embarrassingly parallel); weak: M grows as p * M
    Rootsum {
        /// The upper bound M (a positive integer)
        #[arg(value_name = "M", value_parser = parse_m, allow_negative_numbers = true)]
        m: u64,
    },
    /// The Mandelbrot set (--strategy reduce communicates the whole image); weak: NI grows as p * NI
    #[command(allow_negative_numbers = true)]
    Mandelbrot(MandelbrotArgs),
    /// The 2-D heat equation (halo exchange every step or every --halo-depth steps); weak: NY grows as p * NY
    #[command(allow_negative_numbers = true)]
    Heat(HeatArgs),
    /// Distributed matrix multiplication (any strategy); weak: M grows as p * M
    Matmul(crate::matmul_args::MatmulArgs),
    /// A PETSc program (poisson: M grows as p * M; bratu, heat: NY grows as p * NY), one MPI
    /// job per rank count: needs --launcher "mpirun -n {n}" and a parsci built with --features petsc
    Petsc(crate::petsc_args::PetscArgs),
}

impl ScaleArgs {
    /// Runs the study and prints it; fails (exit code 1) if the results differ between
    /// rank counts.
    pub fn run(&self, g: &GlobalArgs) -> Result<ExitCode, CliError> {
        match &self.program {
            ScaleProgram::Rootsum { m } => self.study(&RootSum { m: *m }, g),
            ScaleProgram::Mandelbrot(a) => {
                if a.output.is_some() {
                    return Err("scale mandelbrot: a study runs the program many times, each run would overwrite \
                                the image; leave out --output (run `parsci mandelbrot` for it)"
                        .into());
                }
                self.study(&a.params(), g)
            }
            ScaleProgram::Heat(a) => {
                let p = a.params();
                if p.output.is_some() || p.snapshots.is_some() || p.checkpoint.is_some() || p.procs.is_some() {
                    return Err("scale heat: a study runs the program many times at several rank counts; leave out \
                                --output, --snapshots, --checkpoint and --procs (run `parsci heat` for those)"
                        .into());
                }
                self.study(&p, g)
            }
            ScaleProgram::Matmul(a) => {
                let p = a.params()?;
                if p.output.is_some() || p.procs.is_some() {
                    return Err("scale matmul: a study runs the program many times at several rank counts; leave \
                                out --output and --procs (run `parsci matmul` for those)"
                        .into());
                }
                self.study(&p, g)
            }
            ScaleProgram::Petsc(a) => crate::petsc_args::scale(a, self, g),
        }
    }

    pub(crate) fn study<P>(&self, program: &P, g: &GlobalArgs) -> Result<ExitCode, CliError>
    where
        P: Scalable,
        P::Result: DeserializeOwned,
    {
        let cores = parsci_comm::available_cores();
        let ranks = match &g.ranks {
            Some(r) => r.counts(),
            None => crate::ranks::Ranks::Range(1, cores).counts(),
        };
        let options = ScaleOptions {
            ranks,
            repeat: self.repeat,
            weak: self.weak,
            fit_oversubscribed: self.fit_oversubscribed,
            cores,
        };
        options.validate()?;
        if let Some(path) = &self.plot {
            check_plot_name(path)?;
        }
        if parsci_comm::detect_launcher().is_some() {
            return Err("run parsci scale itself without mpirun: it starts one MPI job per rank count \
                        when given --launcher \"mpirun -n {n}\""
                .into());
        }
        let runs = 1 + options.ranks.len() * self.repeat;
        let bar = parsci_apps::progress::Bar::new(0, runs as u64, "scale");
        parsci_apps::progress::enable(false); // one bar: the runs' own (heat's steps) stay hidden
        let mut started = false;
        let progress = |p: Progress| {
            if std::mem::replace(&mut started, true) {
                bar.inc(1);
            }
            bar.message(progress_text(&p));
        };
        let study = match (&self.launcher, g.backend) {
            (Some(template), None | Some(BackendArg::Mpi)) => {
                let launcher = crate::launcher::Launcher::new(template, self.repeat)?;
                scaling::study(program, &options, "mpi", |p, n| launcher.job(p, n), progress)
            }
            (None, Some(BackendArg::Mpi)) => {
                return Err("parsci scale --backend mpi needs --launcher \"mpirun -n {n}\" (one MPI job per \
                            rank count)"
                    .into())
            }
            (Some(_), Some(BackendArg::Threads)) => {
                return Err("--launcher starts MPI jobs: leave out --backend threads".into())
            }
            (None, _) => scaling::study(program, &options, "threads", scaling::threads_job, progress),
        };
        drop(bar);
        let study = study?;
        if let Some(path) = &self.csv {
            parsci_apps::mandelbrot::output::write_file(path, |w| w.write_all(scaling::to_csv(&study).as_bytes()))
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        }
        if let Some(path) = &self.plot {
            scaling::plot::write_plot(path, &scaling::study_figure(&study))?;
        }
        if g.json {
            print(&(serde_json::to_string_pretty(&study)? + "\n"))?;
        } else {
            print(&scaling::render(&study).iter().map(|l| format!("{l}\n")).collect::<String>())?;
        }
        Ok(if study.results_agree { ExitCode::SUCCESS } else { ExitCode::FAILURE })
    }
}

/// An error unless the plot's file name ends in .png or .svg (checked before any run).
pub(crate) fn check_plot_name(path: &std::path::Path) -> Result<(), String> {
    match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
        Some("png" | "svg") => Ok(()),
        _ => Err(format!("--plot {}: the file name must end in .png or .svg", path.display())),
    }
}

/// `2 ranks (2 of 3), run 4 of 5`.
fn progress_text(p: &Progress) -> String {
    let run = if p.rep == 0 { "warm-up".to_string() } else { format!("run {} of {}", p.rep, p.repeat) };
    format!("{} ranks ({} of {}), {run}", p.ranks, p.index, p.of)
}

/// `--repeat`: a whole number of at least 1.
fn parse_repeat(s: &str) -> Result<usize, String> {
    match s.trim().parse::<i128>() {
        Ok(n) if (1..=1_000_000).contains(&n) => Ok(n as usize),
        Ok(n) => Err(format!("--repeat must be at least 1 (and at most 1000000), got {n}")),
        Err(_) => Err(format!("--repeat must be a whole number of at least 1, got '{s}'")),
    }
}
