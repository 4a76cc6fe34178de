//! `parsci`: the command line of parsci. It parses, calls `parsci-apps`, and prints.

mod amdahl;
mod args;
mod commands;
mod heat_args;
mod launcher;
mod matmul_args;
mod model;
mod petsc_args;
mod programs;
mod ranks;
mod scale;
mod slurm;
mod trace_args;
mod train_args;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    match commands::run(&cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
