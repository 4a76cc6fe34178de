//! `bratu`: the Bratu (solid fuel ignition) problem -Laplacian(u) - lambda exp(u) = f on
//! the unit square, u = g on its edges, with PETSc's SNES on a DMDA: the residual and
//! the analytic Jacobian are Rust closures (or `--matrix-free`: `-snes_mf`, Newton-Krylov
//! without a matrix). The same discretisation, initial guess and manufactured solutions
//! as PETSc's `snes/tutorials/ex5.c`, so that both print the same residual history.

use parsci_comm::Comm;
use parsci_petsc::{Dmda, DmdaInfo, DmdaSpec, InsertMode, Petsc, Snes, Stencil};
use serde::{Deserialize, Serialize};

use super::fmt_g;
use crate::error::{Error, Result};
use crate::program::{Output, Program};

/// The largest lambda with a solution (ex5's bound; the fold is near 6.808).
pub const LAMBDA_MAX: f64 = 6.81;

/// The problem's right-hand side and boundary values, as ex5's `-mms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Mms {
    /// The plain Bratu problem: f = 0, u = 0 on the edges (`-mms 0`).
    Plain,
    /// Manufactured solution u = x(1-x)y(1-y), f to match (`-mms 1`, ex5's default).
    Quadratic,
    /// Manufactured solution u = sin(pi x) sin(pi y), f to match (`-mms 2`).
    Sine,
}

impl Mms {
    /// From ex5's `-mms` number.
    pub fn from_number(n: u32) -> Option<Mms> {
        [Mms::Plain, Mms::Quadratic, Mms::Sine].get(n as usize).copied()
    }

    /// The exact solution at (x, y), ex5's `MMSSolutionN` (0 for the plain problem).
    fn solution(self, x: f64, y: f64) -> f64 {
        match self {
            Mms::Plain => 0.0,
            Mms::Quadratic => x * (1.0 - x) * y * (1.0 - y),
            Mms::Sine => (std::f64::consts::PI * x).sin() * (std::f64::consts::PI * y).sin(),
        }
    }

    /// The forcing at (x, y), ex5's `MMSForcingN`, operation for operation.
    fn forcing(self, lambda: f64, x: f64, y: f64) -> f64 {
        use std::f64::consts::PI;
        match self {
            Mms::Plain => 0.0,
            Mms::Quadratic => {
                2.0 * x * (1.0 - x) + 2.0 * y * (1.0 - y) - lambda * (x * (1.0 - x) * y * (1.0 - y)).exp()
            }
            Mms::Sine => {
                2.0 * (PI * PI) * (PI * x).sin() * (PI * y).sin() - lambda * ((PI * x).sin() * (PI * y).sin()).exp()
            }
        }
    }
}

/// The parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Bratu {
    /// Grid points along x, edges included (ex5's `-da_grid_x`).
    pub nx: usize,
    /// Grid points along y, edges included (ex5's `-da_grid_y`).
    pub ny: usize,
    /// The nonlinearity, 0 <= lambda <= 6.81 (ex5's `-par`).
    pub lambda: f64,
    /// Right-hand side and boundary values (ex5's `-mms`).
    pub mms: Mms,
    /// Newton-Krylov without a Jacobian matrix (`-snes_mf`).
    pub matrix_free: bool,
    /// Options for PETSc's options database (`-snes_monitor_short -snes_type newtonls`).
    pub options: Vec<String>,
}

/// What rank 0 reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BratuResult {
    /// Grid points along x.
    pub nx: usize,
    /// Grid points along y.
    pub ny: usize,
    /// The nonlinearity.
    pub lambda: f64,
    /// The nonlinear method PETSc used.
    pub snes_type: String,
    /// Newton iterations.
    pub iterations: usize,
    /// Linear iterations, over all Newton steps.
    pub linear_iterations: usize,
    /// The residual's 2-norm at the end.
    pub function_norm: f64,
    /// Why the solve stopped (`CONVERGED_FNORM_RELATIVE`, ...).
    pub reason: String,
    /// Whether it converged.
    pub converged: bool,
    /// With a manufactured solution: the error's RMS over the grid and its maximum.
    pub error: Option<(f64, f64)>,
    /// The solution's largest value.
    pub max_u: f64,
}

impl Program for Bratu {
    type Result = BratuResult;
    const NAME: &'static str = "bratu";

    fn validate(&self) -> Result<()> {
        let bad = |msg: String| Err(Error::InvalidInput { program: Self::NAME, msg });
        if self.nx < 3 || self.ny < 3 {
            return bad(format!(
                "the grid needs at least 3 x 3 points (edges included), got {} x {}",
                self.nx, self.ny
            ));
        }
        if !(0.0..=LAMBDA_MAX).contains(&self.lambda) {
            return bad(format!("lambda must be in [0, {LAMBDA_MAX}] (no solution beyond), got {}", self.lambda));
        }
        match self.nx.checked_mul(self.ny) {
            Some(u) if i32::try_from(u).is_ok() => Ok(()),
            _ => bad(format!("{} x {} points are beyond PETSc's 32-bit indices", self.nx, self.ny)),
        }
    }

    fn run(&self, comm: &Comm) -> Result<Option<Output<BratuResult>>> {
        self.validate()?;
        let mut options = self.options.clone();
        if self.matrix_free {
            options.push("-snes_mf".into());
        }
        let petsc = Petsc::init(comm, &options)?;
        let result = solve(&petsc, self)?;
        super::check_options_used(Self::NAME, &petsc)?;
        drop(petsc); // PETSc's own output (-log_view) comes before ours
        if !result.converged {
            // The reason is the same on every rank: each reports it, the job stops.
            let (reason, iterations) = (result.reason, result.iterations);
            return Err(Error::NotConverged { program: Self::NAME, solver: "nonlinear", reason, iterations });
        }
        if comm.rank() != 0 {
            return Ok(None);
        }
        let jacobian = if self.matrix_free { "matrix-free (-snes_mf)" } else { "analytic Jacobian" };
        let mut lines = vec![
            format!(
                "Bratu 2-D (solid fuel ignition), lambda {}: {} x {} grid on {} rank(s), SNES {} with {}",
                fmt_g(self.lambda),
                result.nx,
                result.ny,
                comm.size(),
                result.snes_type,
                jacobian
            ),
            format!("Nonlinear solve converged due to {} iterations {}", result.reason, result.iterations),
            format!(
                "Linear iterations {}, residual norm {}, max u {}",
                result.linear_iterations,
                fmt_g(result.function_norm),
                fmt_g(result.max_u)
            ),
        ];
        if let Some((l2, inf)) = result.error {
            lines.push(format!("N: {} error L2 {} inf {}", result.nx * result.ny, fmt_g(l2), fmt_g(inf)));
        }
        Ok(Some(Output { lines, result }))
    }

    fn check(&self, result: &BratuResult, _ranks: usize) -> Result<(), String> {
        if !result.converged {
            return Err(format!(
                "the solve did not converge: {} after {} iterations",
                result.reason, result.iterations
            ));
        }
        // The 5-point stencil is second order: the error is O(h^2), a few h^2 at most.
        let h = 1.0 / (result.nx.min(result.ny) - 1) as f64;
        match result.error {
            Some((_, inf)) if inf > 10.0 * h * h => {
                Err(format!("error {inf} against the exact solution, above 10 h^2"))
            }
            _ => Ok(()),
        }
    }

    fn summary(&self, r: &BratuResult) -> String {
        format!(
            "{} x {}, lambda {}: {} Newton steps, |F| {}",
            r.nx,
            r.ny,
            fmt_g(r.lambda),
            r.iterations,
            fmt_g(r.function_norm)
        )
    }
}

/// The grid's spacing: ex5's `1 / (M - 1)`.
fn spacing(info: &DmdaInfo) -> (f64, f64) {
    (1.0 / (info.nx - 1) as f64, 1.0 / (info.ny - 1) as f64)
}

/// Builds the grid, the residual and the Jacobian, and solves; every rank returns the result.
fn solve(petsc: &Petsc<'_>, p: &Bratu) -> Result<BratuResult> {
    let da = Dmda::new_2d(petsc, DmdaSpec::new(p.nx, p.ny))?;
    let info = *da.info();
    if info.nx < 3 || info.ny < 3 {
        let msg = format!("the grid needs at least 3 x 3 points, PETSc's options made it {} x {}", info.nx, info.ny);
        return Err(Error::InvalidInput { program: Bratu::NAME, msg });
    }
    let (lambda, mms) = (p.lambda, p.mms);
    let mut snes = Snes::new(petsc)?;
    snes.set_dm(&da)?;

    let mut xl = da.local_vector()?;
    let da_ref = &da;
    snes.set_function(move |x, f| {
        da_ref.global_to_local(x, &mut xl)?;
        residual(&info, lambda, mms, &xl.read()?, &mut f.write()?);
        Ok(())
    })?;
    let jac = da.create_matrix()?;
    let mut jl = da.local_vector()?;
    snes.set_jacobian(&jac, move |x, j| {
        da_ref.global_to_local(x, &mut jl)?;
        let u = jl.read()?;
        jacobian(&info, lambda, &u, j)
    })?;
    snes.set_from_options()?;

    let mut x = da.global_vector()?;
    initial_guess(&info, lambda, &mut x.write()?);
    snes.solve(&mut x)?;

    let reason = snes.converged_reason()?;
    let error = match mms {
        Mms::Plain => None,
        _ => {
            let mut e = x.duplicate()?;
            exact(&info, mms, &mut e.write()?);
            e.axpy(-1.0, &x)?;
            Some((e.norm2()? / ((info.nx * info.ny) as f64).sqrt(), e.norm_inf()?))
        }
    };
    Ok(BratuResult {
        nx: info.nx,
        ny: info.ny,
        lambda,
        snes_type: snes.snes_type()?,
        iterations: snes.iterations()?,
        linear_iterations: snes.linear_iterations()?,
        function_norm: snes.function_norm()?,
        converged: reason.converged(),
        reason: reason.name,
        error,
        max_u: x.max()?,
    })
}

/// ex5's `FormInitialGuess`: lambda/(lambda+1) sqrt(distance to the nearest edge).
fn initial_guess(info: &DmdaInfo, lambda: f64, x: &mut [f64]) {
    let (hx, hy) = spacing(info);
    let (mx, my) = (info.nx as isize, info.ny as isize);
    let temp1 = lambda / (lambda + 1.0);
    for (i, j) in info.owned.points() {
        let k = info.owned.index(i, j);
        x[k] = if i == 0 || j == 0 || i == mx - 1 || j == my - 1 {
            0.0
        } else {
            let temp = j.min(my - j - 1) as f64 * hy;
            temp1 * ((i.min(mx - i - 1) as f64 * hx).min(temp)).sqrt()
        };
    }
}

/// The manufactured solution at this rank's points.
fn exact(info: &DmdaInfo, mms: Mms, u: &mut [f64]) {
    let (hx, hy) = spacing(info);
    for (i, j) in info.owned.points() {
        u[info.owned.index(i, j)] = mms.solution(i as f64 * hx, j as f64 * hy);
    }
}

/// ex5's `FormFunctionLocal`, operation for operation: `u` is the ghosted patch, `f`
/// this rank's part of F(u). Edge rows pin u to the boundary values; interior rows use
/// the boundary values for neighbours on the edge (which keeps the Jacobian symmetric).
fn residual(info: &DmdaInfo, lambda: f64, mms: Mms, u: &[f64], f: &mut [f64]) {
    let (hx, hy) = spacing(info);
    let (hxdhy, hydhx) = (hx / hy, hy / hx);
    let (mx, my) = (info.nx as isize, info.ny as isize);
    let (g, o) = (&info.ghosted, &info.owned);
    let at = |i: isize, j: isize| mms.solution(i as f64 * hx, j as f64 * hy);
    for (i, j) in o.points() {
        let uc = u[g.index(i, j)];
        f[o.index(i, j)] = if i == 0 || j == 0 || i == mx - 1 || j == my - 1 {
            2.0 * (hydhx + hxdhy) * (uc - at(i, j))
        } else {
            let uw = if i - 1 == 0 { at(i - 1, j) } else { u[g.index(i - 1, j)] };
            let ue = if i + 1 == mx - 1 { at(i + 1, j) } else { u[g.index(i + 1, j)] };
            let un = if j - 1 == 0 { at(i, j - 1) } else { u[g.index(i, j - 1)] };
            let us = if j + 1 == my - 1 { at(i, j + 1) } else { u[g.index(i, j + 1)] };
            let uxx = (2.0 * uc - uw - ue) * hydhx;
            let uyy = (2.0 * uc - un - us) * hxdhy;
            let forcing = mms.forcing(lambda, i as f64 * hx, j as f64 * hy);
            uxx + uyy - hx * hy * (lambda * uc.exp() + forcing)
        };
    }
}

/// ex5's `FormJacobianLocal`: the residual's derivative, by grid points; the spacing is
/// taken, as ex5 does, from the difference of this rank's first two coordinates.
fn jacobian(info: &DmdaInfo, lambda: f64, u: &[f64], jac: &mut parsci_petsc::Matrix<'_>) -> parsci_petsc::Result<()> {
    let (h0x, h0y) = spacing(info);
    let (o, g) = (&info.owned, &info.ghosted);
    let coord_step =
        |h: f64, start: isize, n: usize| if n > 1 { h * (start + 1) as f64 - h * start as f64 } else { 1.0 };
    let (hx, hy) = (coord_step(h0x, o.x0, o.nx), coord_step(h0y, o.y0, o.ny));
    let (hxdhy, hydhx) = (hx / hy, hy / hx);
    let sc = hx * hy * lambda;
    let (mx, my) = (info.nx as isize, info.ny as isize);
    let mut cols = Vec::with_capacity(5);
    let mut vals = Vec::with_capacity(5);
    for (i, j) in o.points() {
        let row = Stencil::at(i, j);
        if i == 0 || j == 0 || i == mx - 1 || j == my - 1 {
            jac.set_values_stencil(row, &[row], &[2.0 * (hydhx + hxdhy)], InsertMode::Insert)?;
            continue;
        }
        cols.clear();
        vals.clear();
        let mut push = |inside: bool, s: Stencil, v: f64| {
            if inside {
                cols.push(s);
                vals.push(v);
            }
        };
        push(j - 1 != 0, Stencil::at(i, j - 1), -hxdhy);
        push(i - 1 != 0, Stencil::at(i - 1, j), -hydhx);
        push(true, row, 2.0 * (hydhx + hxdhy) - sc * u[g.index(i, j)].exp());
        push(i + 1 != mx - 1, Stencil::at(i + 1, j), -hydhx);
        push(j + 1 != my - 1, Stencil::at(i, j + 1), -hxdhy);
        jac.set_values_stencil(row, &cols, &vals, InsertMode::Insert)?;
    }
    jac.assemble()
}
