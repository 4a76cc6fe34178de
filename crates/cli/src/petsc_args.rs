//! `parsci petsc ...`: the programs on PETSc (feature `petsc`). PETSc's ranks are MPI
//! processes: under `mpirun` the job's; without a launcher, one process (an MPI singleton).

use std::process::ExitCode;

use clap::{Args, Subcommand};

use crate::args::GlobalArgs;
use crate::commands::CliError;
use crate::programs::{parse_count, parse_number};

/// `petsc PROGRAM ...`.
#[derive(Debug, Clone, Args)]
pub struct PetscArgs {
    /// The program.
    #[command(subcommand)]
    pub program: PetscProgram,
}

/// The PETSc programs.
#[derive(Debug, Clone, Subcommand)]
pub enum PetscProgram {
    /// The 2-D 5-point Laplacian on an M x N grid solved with KSP, as PETSc's ksp/tutorials/ex2
    /// (e.g. mpirun -n 2 parsci petsc poisson 100 100 -- -ksp_type cg -pc_type gamg -ksp_monitor)
    Poisson {
        /// Grid lines (ex2's -m)
        #[arg(value_name = "M", value_parser = parse_count)]
        m: usize,
        /// Points per line (ex2's -n)
        #[arg(value_name = "N", value_parser = parse_count)]
        n: usize,
        /// Options for PETSc's options database, after `--`
        #[arg(last = true, value_name = "PETSC OPTIONS")]
        options: Vec<String>,
    },
    /// The heat equation of `parsci heat`, implicit: backward Euler on a DMDA, one KSP solve
    /// per step, stable at any time step (e.g. mpirun -n 2 parsci petsc heat 400 --dt 1e-4
    /// --steps 50 -o field.npy -- -pc_type gamg)
    Heat {
        /// The grid, the physics and the files, as for `parsci heat`
        #[command(flatten)]
        heat: Box<crate::heat_args::HeatArgs>,
        /// Options for PETSc's options database, after `--`
        #[arg(last = true, value_name = "PETSC OPTIONS")]
        options: Vec<String>,
    },
    /// The Bratu problem -Laplacian(u) - lambda exp(u) = f with SNES on a DMDA, as PETSc's
    /// snes/tutorials/ex5 (e.g. mpirun -n 4 parsci petsc bratu --nx 81 --ny 81 --lambda 6 --
    /// -snes_monitor_short)
    Bratu {
        /// Grid points along x, edges included (ex5's -da_grid_x)
        #[arg(long, default_value_t = 64, value_parser = parse_count)]
        nx: usize,
        /// Grid points along y, edges included (ex5's -da_grid_y)
        #[arg(long, default_value_t = 32, value_parser = parse_count)]
        ny: usize,
        /// The nonlinearity, 0 to 6.81 (ex5's -par)
        #[arg(long, default_value_t = 6.0, value_parser = parse_number)]
        lambda: f64,
        /// Right-hand side as ex5's -mms: 0 the plain problem (f = 0), 1 the manufactured
        /// solution x(1-x)y(1-y) (ex5's default), 2 sin(pi x) sin(pi y)
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(0..=2))]
        mms: u32,
        /// Newton-Krylov without a Jacobian matrix (adds -snes_mf)
        #[arg(long)]
        matrix_free: bool,
        /// Options for PETSc's options database, after `--`
        #[arg(last = true, value_name = "PETSC OPTIONS")]
        options: Vec<String>,
    },
}

/// Runs a PETSc program on the MPI backend.
#[cfg(feature = "petsc")]
pub fn run(args: &PetscArgs, g: &GlobalArgs) -> Result<ExitCode, CliError> {
    use crate::args::BackendArg;
    use parsci_apps::petsc::{Bratu, ImplicitHeat, Mms, Poisson};
    use parsci_comm::Backend;

    let how = "PETSc's ranks are MPI processes: run `mpirun -n N parsci petsc ...` (or one process \
               without mpirun)";
    if g.backend == Some(BackendArg::Threads) {
        return Err(format!("--backend threads: {how}").into());
    }
    let chosen = g.ranks.as_ref().map(crate::ranks::Ranks::single).transpose()?;
    // Without a launcher, MPI starts this process as a job of one (a singleton).
    let backend = Backend::mpi()?;
    if let Some(n) = chosen.filter(|&n| n != backend.ranks()) {
        return Err(format!("--ranks {n}, but the MPI job has {} process(es): {how}", backend.ranks()).into());
    }
    match &args.program {
        PetscProgram::Poisson { m, n, options } => {
            crate::commands::program_on(&Poisson { m: *m, n: *n, options: options.clone() }, g, backend)
        }
        PetscProgram::Heat { heat, options } => {
            let heat = ImplicitHeat { heat: heat.params(), options: options.clone() };
            crate::commands::program_on(&heat, g, backend)
        }
        PetscProgram::Bratu { nx, ny, lambda, mms, matrix_free, options } => {
            let mms = Mms::from_number(*mms).ok_or("--mms must be 0, 1 or 2")?;
            let bratu =
                Bratu { nx: *nx, ny: *ny, lambda: *lambda, mms, matrix_free: *matrix_free, options: options.clone() };
            crate::commands::program_on(&bratu, g, backend)
        }
    }
}

/// A scaling study of a PETSc program: one MPI job per rank count, through `--launcher`.
#[cfg(feature = "petsc")]
pub fn scale(args: &PetscArgs, study: &crate::scale::ScaleArgs, g: &GlobalArgs) -> Result<ExitCode, CliError> {
    use parsci_apps::petsc::{Bratu, ImplicitHeat, Mms, Poisson};

    if study.launcher.is_none() {
        return Err("scale petsc: PETSc's ranks are MPI processes; give --launcher \"mpirun -n {n}\" (one MPI job \
                    per rank count)"
            .into());
    }
    match &args.program {
        PetscProgram::Poisson { m, n, options } => study.study(&Poisson { m: *m, n: *n, options: options.clone() }, g),
        PetscProgram::Heat { heat, options } => {
            let p = heat.params();
            if p.output.is_some() || p.snapshots.is_some() {
                return Err("scale petsc heat: a study runs the program many times; leave out --output and \
                            --snapshots"
                    .into());
            }
            study.study(&ImplicitHeat { heat: p, options: options.clone() }, g)
        }
        PetscProgram::Bratu { nx, ny, lambda, mms, matrix_free, options } => {
            let mms = Mms::from_number(*mms).ok_or("--mms must be 0, 1 or 2")?;
            let bratu =
                Bratu { nx: *nx, ny: *ny, lambda: *lambda, mms, matrix_free: *matrix_free, options: options.clone() };
            study.study(&bratu, g)
        }
    }
}

/// Without the feature: says how to get it.
#[cfg(not(feature = "petsc"))]
pub fn scale(args: &PetscArgs, _study: &crate::scale::ScaleArgs, g: &GlobalArgs) -> Result<ExitCode, CliError> {
    run(args, g)
}

/// Without the feature: says how to get it.
#[cfg(not(feature = "petsc"))]
pub fn run(_args: &PetscArgs, _g: &GlobalArgs) -> Result<ExitCode, CliError> {
    Err("this parsci was built without PETSc: rebuild it with `cargo build --release --features petsc` \
         (needs PETSc's development files, e.g. `apt-get install petsc-dev`, and Open MPI: see the README)"
        .into())
}
