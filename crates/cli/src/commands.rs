//! Running a parsed command: call the library, print text or JSON.

use std::io::Write;
use std::process::ExitCode;

use clap::CommandFactory;
use parsci_apps::rootsum::{RootSum, WORKSHOP_M};
use parsci_apps::{bcast::Bcast, hello::Hello, scatter_gather::ScatterGather};
use parsci_apps::{execute_with, sendrecv::SendRecv, squares::Squares, tour, Program, Run};
use serde::Serialize;

use crate::args::{Cli, Command, GlobalArgs};

/// A failure to report on stderr.
pub(crate) type CliError = Box<dyn std::error::Error>;

/// Runs the command; the exit code says whether its checks passed.
pub fn run(cli: &Cli) -> Result<ExitCode, CliError> {
    let g = &cli.global;
    // Bars on stderr for long runs: on a terminal, by rank 0, never mixed into JSON.
    parsci_apps::progress::enable(!g.json);
    match &cli.command {
        Command::Hello => program(&Hello, g),
        Command::Sendrecv => program(&SendRecv, g),
        Command::Bcast => program(&Bcast, g),
        Command::ScatterGather => program(&ScatterGather, g),
        Command::Squares => program(&Squares, g),
        Command::Rootsum { m } => program(&RootSum { m: *m }, g),
        Command::Mandelbrot(args) => program(&args.params(), g),
        Command::Taskfarm(args) => program(&args.params(), g),
        Command::Heat1d(args) => program(&args.params(), g),
        Command::Heat(args) => program(&args.params(), g),
        Command::Matmul(args) => program(&args.params()?, g),
        Command::Train(model) => program(&model.params()?, g),
        Command::Petsc(args) => crate::petsc_args::run(args, g),
        Command::Tour { large_m } => {
            let mut params = tour::Tour { rootsum_sizes: vec![WORKSHOP_M, *large_m], ..tour::Tour::default() };
            if let Some(path) = &g.trace_file {
                params.trace = Some(path.clone());
            }
            let backend = g.backend()?;
            if backend.name() != "threads" {
                return Err("the tour runs every program at several rank counts in one process: run it on \
                            the thread backend (without mpirun); under MPI, run the programs one by one"
                    .into());
            }
            parsci_apps::progress::enable(false); // many short runs: no bar for each
            let run = tour::execute(&params, backend)?;
            emit(&run, g.json)?;
            Ok(if run.result.passed { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
        Command::Bench(args) => {
            // Drawn by rank 0 once it knows how many steps there are (only on a terminal).
            let bar = std::sync::OnceLock::new();
            let progress = |_done: u64, total: u64| {
                bar.get_or_init(|| parsci_apps::progress::Bar::new(0, total, "bench")).inc(1);
            };
            if let Some(report) = parsci_bench::run(args, g.backend()?, g.json, &progress)? {
                print(&report)?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Scale(args) => args.run(g),
        Command::Amdahl(args) => args.run(g),
        Command::Trace(args) => args.run(g),
        Command::Model(args) => args.run(g),
        Command::Slurm(args) => {
            print(&args.script(g)?)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Completions { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(*shell, &mut Cli::command(), "parsci", &mut out);
            std::io::stdout().write_all(&out)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Man => {
            let mut out = Vec::new();
            clap_mangen::Man::new(Cli::command()).render(&mut out)?;
            std::io::stdout().write_all(&out)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Runs one program and prints its output.
fn program<P: Program>(p: &P, g: &GlobalArgs) -> Result<ExitCode, CliError> {
    program_on(p, g, g.backend()?)
}

/// Runs one program on `backend` and prints its output.
pub(crate) fn program_on<P: Program>(
    p: &P,
    g: &GlobalArgs,
    backend: parsci_comm::Backend,
) -> Result<ExitCode, CliError> {
    let options = g.job_options();
    if g.job_runs > 1 {
        // Several runs in one job (MPI initialised once), for a scaling study: JSON only.
        let mut runs = Vec::with_capacity(g.job_runs);
        for _ in 0..g.job_runs {
            runs.extend(execute_with(p, backend, &options)?);
        }
        if !runs.is_empty() {
            print(&(serde_json::to_string(&runs)? + "\n"))?;
        }
    } else if let Some(run) = execute_with(p, backend, &options)? {
        emit(&run, g.json)?;
        if let (Some(path), false) = (&g.trace_file, g.json) {
            eprintln!(
                "parsci: trace written to {} (open it in ui.perfetto.dev, or: parsci trace {})",
                path.display(),
                path.display()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints rank 0's text, or the JSON object.
fn emit<R: Serialize>(run: &Run<R>, json: bool) -> Result<(), CliError> {
    if json {
        print(&(serde_json::to_string_pretty(run)? + "\n"))
    } else {
        print(&run.text())
    }
}

/// Writes to stdout; a closed pipe (`parsci tour | head`) is not an error.
pub(crate) fn print(text: &str) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}
