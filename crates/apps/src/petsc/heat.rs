//! `petsc heat`: the heat equation of `parsci heat` (same grid, boundaries, initial
//! fields and files) stepped implicitly: backward Euler on a DMDA, one KSP solve per step,
//!
//! `(1 + 4a) u' - a (u'_w + u'_e + u'_n + u'_s) = u`, `a = alpha dt / h^2`,
//!
//! a Dirichlet wall's value moved to the right-hand side. Unconditionally stable: time
//! steps far beyond the explicit limit `h^2 / (4 alpha)` keep the field between its
//! initial extremes, where explicit Euler blows up. Both are first order in time, so
//! where both are stable they agree to O(dt).

use std::time::Instant;

use parsci_comm::Comm;
use parsci_petsc::{Boundary as DaBoundary, Dmda, DmdaInfo, DmdaSpec, InsertMode, Ksp, Petsc, Stencil, Tolerances};
use serde::{Deserialize, Serialize};

use super::fmt_g;
use crate::error::{Error, Result};
use crate::files::{npy, write_file};
use crate::heat::{initial_field, snapshot, Boundary, Heat, Init};
use crate::program::{Output, Program};

/// The parameters: those of `parsci heat` (checkpoints, restarts, process grids and
/// per-rank files excepted), and PETSc's options.
#[derive(Debug, Clone, PartialEq)]
pub struct ImplicitHeat {
    /// The problem, as for the explicit solver; `dt` may exceed its stability limit.
    pub heat: Heat,
    /// Options for PETSc's options database (`-ksp_type`, `-pc_type`, `-ksp_monitor`).
    pub options: Vec<String>,
}

/// What rank 0 reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImplicitHeatResult {
    /// Cells per row.
    pub nx: usize,
    /// Rows.
    pub ny: usize,
    /// Steps taken.
    pub steps: usize,
    /// The time step.
    pub dt: f64,
    /// The time reached.
    pub time: f64,
    /// `alpha dt / h^2` (the explicit scheme needs at most 0.25).
    pub courant: f64,
    /// `dt` over the explicit scheme's largest stable step.
    pub explicit_limits: f64,
    /// The Krylov method.
    pub ksp_type: String,
    /// The preconditioner.
    pub pc_type: String,
    /// Linear iterations over all steps.
    pub iterations: usize,
    /// Wall time of the steps (files excluded), in seconds.
    pub step_time_s: f64,
    /// The sum of the field times the cell area.
    pub total_heat: f64,
    /// The smallest value.
    pub min: f64,
    /// The largest value.
    pub max: f64,
    /// The files written.
    pub files: Vec<String>,
}

impl ImplicitHeat {
    fn invalid(msg: String) -> Error {
        Error::InvalidInput { program: "petsc heat", msg }
    }
}

impl Program for ImplicitHeat {
    type Result = ImplicitHeatResult;
    const NAME: &'static str = "petsc heat";

    fn validate(&self) -> Result<()> {
        let p = &self.heat;
        let bad = |m: String| Err(Self::invalid(m));
        if p.nx < 2 || p.ny < 2 {
            return bad(format!("the grid must have at least 2 x 2 cells, got {} x {}", p.nx, p.ny));
        }
        if p.nx.checked_mul(p.ny).is_none_or(|n| i32::try_from(n).is_err()) {
            return bad(format!("{} x {} cells are beyond PETSc's 32-bit indices", p.nx, p.ny));
        }
        if !(p.alpha.is_finite() && p.alpha > 0.0) {
            return bad(format!("alpha must be a positive number, got {}", p.alpha));
        }
        if let Some(dt) = p.dt.filter(|dt| !(dt.is_finite() && *dt > 0.0)) {
            return bad(format!("dt must be a positive number, got {dt}"));
        }
        if !p.wall.is_finite() {
            return bad(format!("the wall value must be a finite number, got {}", p.wall));
        }
        if p.snapshots.is_some() && p.every == 0 {
            return bad("--every must be at least 1".into());
        }
        if let Some(o) = &p.output {
            if o.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() != Some("npy") {
                return bad(format!("the output file must end in .npy, got '{}'", o.display()));
            }
        }
        let unsupported = [
            ("--checkpoint", p.checkpoint.is_some()),
            ("--restart", p.restart.is_some()),
            ("--procs", p.procs.is_some()),
            ("--halo-depth", p.halo_depth.is_some()),
            ("--per-rank", p.per_rank_output),
        ];
        if let Some((name, _)) = unsupported.iter().find(|(_, set)| *set) {
            return bad(format!("{name} is for the explicit solver (parsci heat); PETSc splits the grid itself"));
        }
        if let Init::File(path) = &p.init {
            crate::heat::load(p, path)?;
        }
        Ok(())
    }

    fn run(&self, comm: &Comm) -> Result<Option<Output<ImplicitHeatResult>>> {
        self.validate()?;
        let petsc = Petsc::init(comm, &self.options)?;
        let result = solve(&petsc, &self.heat)?;
        super::check_options_used(Self::NAME, &petsc)?;
        drop(petsc);
        if comm.rank() != 0 {
            return Ok(None);
        }
        let p = &self.heat;
        let bc = |b: Boundary| format!("{b:?}").to_lowercase();
        let per_step = result.iterations as f64 / result.steps.max(1) as f64;
        let mut lines = vec![
            format!(
                "heat, implicit (backward Euler, PETSc): {} x {} cells on {} rank(s); {} x, {} y; alpha = {}, \
                 dt = {:.4e}, alpha dt / h^2 = {:.4} ({} x the explicit limit)",
                result.nx,
                result.ny,
                comm.size(),
                bc(p.bc_x),
                bc(p.bc_y),
                p.alpha,
                result.dt,
                result.courant,
                fmt_g(result.explicit_limits)
            ),
            format!(
                "steps 0 to {} (t = {:.6e}) in {:.6} s: KSP {} with PC {}, {} iterations ({:.1} per step), \
                 total heat {:.9e}",
                result.steps,
                result.time,
                result.step_time_s,
                result.ksp_type,
                result.pc_type,
                result.iterations,
                per_step,
                result.total_heat
            ),
            format!("field from {:.6e} to {:.6e}", result.min, result.max),
        ];
        lines.extend(result.files.iter().map(|f| format!("wrote {f}")));
        Ok(Some(Output { lines, result }))
    }

    /// Backward Euler keeps the field between the extremes of the initial field and the
    /// walls (a discrete maximum principle), at any time step.
    fn check(&self, r: &ImplicitHeatResult, _ranks: usize) -> Result<(), String> {
        let initial = initial_field(&self.heat).map_err(|e| e.to_string())?;
        let walls = self.heat.bc_x == Boundary::Dirichlet || self.heat.bc_y == Boundary::Dirichlet;
        let (mut lo, mut hi) = extremes(&initial);
        if walls {
            (lo, hi) = (lo.min(self.heat.wall), hi.max(self.heat.wall));
        }
        let slack = 1e-8 * (hi - lo).abs().max(1.0);
        if r.min >= lo - slack && r.max <= hi + slack {
            Ok(())
        } else {
            Err(format!("field from {} to {} leaves the initial range [{lo}, {hi}]", r.min, r.max))
        }
    }

    fn summary(&self, r: &ImplicitHeatResult) -> String {
        format!(
            "{} x {}, {} steps: total heat {:.6}, {} KSP iterations",
            r.nx, r.ny, r.steps, r.total_heat, r.iterations
        )
    }
}

fn extremes(v: &[f64]) -> (f64, f64) {
    v.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| (lo.min(x), hi.max(x)))
}

fn da_boundary(b: Boundary) -> DaBoundary {
    match b {
        Boundary::Dirichlet => DaBoundary::None,
        Boundary::Periodic => DaBoundary::Periodic,
    }
}

/// Steps the field on PETSc's communicator; every rank returns the result.
fn solve(petsc: &Petsc<'_>, p: &Heat) -> Result<ImplicitHeatResult> {
    let spec = DmdaSpec { boundary: [da_boundary(p.bc_x), da_boundary(p.bc_y)], ..DmdaSpec::new(p.nx, p.ny) };
    let da = Dmda::new_2d(petsc, spec)?;
    let info = *da.info();
    if (info.nx, info.ny) != (p.nx, p.ny) {
        let msg = format!("PETSc's options changed the grid to {} x {}; use NX NY instead", info.nx, info.ny);
        return Err(ImplicitHeat::invalid(msg));
    }
    let dt = p.time_step();
    let h = p.spacing();
    let a = p.alpha * dt / (h * h);

    let mut matrix = da.create_matrix()?;
    let mut wall_term = da.global_vector()?;
    assemble(&info, p, a, &mut matrix, &mut wall_term.write()?)?;
    matrix.assemble()?;
    matrix.set_symmetric(true)?;

    let initial = initial_field(p)?;
    let mut u = da.global_vector()?;
    {
        let mut w = u.write()?;
        for (i, j) in info.owned.points() {
            w[info.owned.index(i, j)] = initial[j as usize * p.nx + i as usize];
        }
    }
    let mut b = u.duplicate()?;
    let mut next = u.duplicate()?;

    let mut ksp = Ksp::new(petsc)?;
    ksp.set_operators(&matrix)?;
    ksp.set_type("cg")?; // the matrix is symmetric positive definite
    ksp.set_tolerances(Tolerances { rtol: Some(1e-10), ..Tolerances::default() })?;
    ksp.set_initial_guess_nonzero(true)?; // the last step's field: a good guess
    ksp.set_from_options()?;

    let mut files = Vec::new();
    let scale = snapshot::scale(range_with_walls(p, &initial));
    let mut step_time = 0.0;
    let mut iterations = 0;
    for step in 0..=p.steps {
        if let (Some(dir), true) = (&p.snapshots, step % p.every.max(1) == 0) {
            let field = da.gather_natural(&u)?;
            if !field.is_empty() {
                std::fs::create_dir_all(dir).map_err(|e| failed(dir, e.to_string()))?;
                let path = snapshot::path(dir, step, step as f64 * dt);
                snapshot::write(&path, p.ny, p.nx, &field, scale).map_err(|e| failed(&path, e.to_string()))?;
                files.push(path.display().to_string());
            }
        }
        if step == p.steps {
            break;
        }
        let began = Instant::now();
        b.copy_from(&u)?;
        b.axpy(1.0, &wall_term)?;
        next.copy_from(&u)?;
        ksp.solve(&b, &mut next)?;
        let reason = ksp.converged_reason()?;
        if !reason.converged() {
            let (reason, iterations) = (reason.name, ksp.iterations()?);
            return Err(Error::NotConverged { program: "petsc heat", solver: "linear", reason, iterations });
        }
        iterations += ksp.iterations()?;
        u.copy_from(&next)?;
        step_time += began.elapsed().as_secs_f64();
    }

    let field = da.gather_natural(&u)?;
    if let (Some(path), false) = (&p.output, field.is_empty()) {
        write_file(path, |w| npy::write(w, p.ny, p.nx, &field)).map_err(|e| failed(path, e.to_string()))?;
        files.push(path.display().to_string());
    }
    let (min, max) = (u.min()?, u.max()?);
    Ok(ImplicitHeatResult {
        nx: p.nx,
        ny: p.ny,
        steps: p.steps,
        dt,
        time: p.steps as f64 * dt,
        courant: a,
        explicit_limits: dt / p.max_stable_dt(),
        ksp_type: ksp.ksp_type()?,
        pc_type: ksp.pc()?.pc_type()?,
        iterations,
        step_time_s: step_time,
        total_heat: u.sum()? * h * h,
        min,
        max,
        files,
    })
}

/// The extremes of the initial field and, with a Dirichlet axis, of the wall value.
fn range_with_walls(p: &Heat, initial: &[f64]) -> [f64; 2] {
    let (mut lo, mut hi) = extremes(initial);
    if p.bc_x == Boundary::Dirichlet || p.bc_y == Boundary::Dirichlet {
        (lo, hi) = (lo.min(p.wall), hi.max(p.wall));
    }
    [lo, hi]
}

/// Backward Euler's matrix, row by owned cell, and the walls' share of the right-hand
/// side: `a wall` per neighbour beyond a Dirichlet edge.
fn assemble(info: &DmdaInfo, p: &Heat, a: f64, m: &mut parsci_petsc::Matrix<'_>, wall: &mut [f64]) -> Result<()> {
    let (nx, ny) = (info.nx as isize, info.ny as isize);
    let mut cols = Vec::with_capacity(5);
    let mut vals = Vec::with_capacity(5);
    for (i, j) in info.owned.points() {
        cols.clear();
        vals.clear();
        let mut outside = 0;
        for (di, dj) in [(-1, 0), (1, 0), (0, -1), (0, 1)] {
            let (ni, nj) = (i + di, j + dj);
            let beyond_x = ni < 0 || ni >= nx;
            let beyond_y = nj < 0 || nj >= ny;
            let wraps = (beyond_x && p.bc_x == Boundary::Periodic) || (beyond_y && p.bc_y == Boundary::Periodic);
            if (beyond_x || beyond_y) && !wraps {
                outside += 1;
            } else {
                cols.push(Stencil::at(ni, nj));
                vals.push(-a);
            }
        }
        cols.push(Stencil::at(i, j));
        vals.push(1.0 + 4.0 * a);
        m.set_values_stencil(Stencil::at(i, j), &cols, &vals, InsertMode::Add)?;
        wall[info.owned.index(i, j)] = a * p.wall * f64::from(outside);
    }
    Ok(())
}

fn failed(path: &std::path::Path, msg: String) -> Error {
    Error::Output { program: "petsc heat", path: path.display().to_string(), msg }
}
