//! `poisson`: the 2-D 5-point Laplacian on an M x N grid with a known solution, assembled
//! in parallel and solved with PETSc's KSP. The same system, tolerances and output line
//! as PETSc's `ksp/tutorials/ex2.c` (`-m M -n N`): u = 1, b = A u, solve, report
//! `Norm of error ... iterations ...`; options after `--` go to PETSc.

use parsci_comm::Comm;
use parsci_petsc::{InsertMode, Ksp, Matrix, Petsc, Tolerances, Vector};
use serde::{Deserialize, Serialize};

use super::fmt_g;
use crate::error::{Error, Result};
use crate::program::{Output, Program};

/// The parameters: the grid and PETSc's options.
#[derive(Debug, Clone, PartialEq)]
pub struct Poisson {
    /// Grid lines in the first index (`-m` of ex2).
    pub m: usize,
    /// Grid points per line (`-n` of ex2).
    pub n: usize,
    /// Options for PETSc's options database (`-ksp_type cg -pc_type gamg -ksp_monitor`).
    pub options: Vec<String>,
}

/// What rank 0 reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PoissonResult {
    /// Grid lines.
    pub m: usize,
    /// Points per line.
    pub n: usize,
    /// The Krylov method PETSc used.
    pub ksp_type: String,
    /// The preconditioner PETSc used.
    pub pc_type: String,
    /// Iterations of the solve.
    pub iterations: usize,
    /// The last residual norm (as PETSc's monitor shows it).
    pub residual_norm: f64,
    /// The 2-norm of the error against the exact solution (all ones).
    pub error_norm: f64,
    /// Why the solve stopped (`CONVERGED_RTOL`, ...).
    pub reason: String,
    /// Whether it converged.
    pub converged: bool,
}

impl Poisson {
    /// The number of unknowns, M N.
    fn unknowns(&self) -> Option<usize> {
        self.m.checked_mul(self.n)
    }
}

impl Program for Poisson {
    type Result = PoissonResult;
    const NAME: &'static str = "poisson";

    fn validate(&self) -> Result<()> {
        let bad = |msg: String| Err(Error::InvalidInput { program: Self::NAME, msg });
        if self.m == 0 || self.n == 0 {
            return bad(format!("the grid must be at least 1 x 1, got {} x {}", self.m, self.n));
        }
        match self.unknowns() {
            Some(u) if i32::try_from(u).is_ok() => Ok(()),
            _ => bad(format!(
                "{} x {} unknowns are beyond PETSc's 32-bit indices (Debian's PETSc): use a smaller grid",
                self.m, self.n
            )),
        }
    }

    fn run(&self, comm: &Comm) -> Result<Option<Output<PoissonResult>>> {
        self.validate()?;
        let petsc = Petsc::init(comm, &self.options)?;
        let result = solve(&petsc, self.m, self.n)?;
        super::check_options_used(Self::NAME, &petsc)?;
        drop(petsc); // PETSc's own output (-log_view) comes before ours
        if !result.converged {
            // The reason is the same on every rank: each reports it, the job stops.
            let (reason, iterations) = (result.reason, result.iterations);
            return Err(Error::NotConverged { program: Self::NAME, solver: "linear", reason, iterations });
        }
        if comm.rank() != 0 {
            return Ok(None);
        }
        let lines = vec![
            format!(
                "Poisson 2-D, 5-point Laplacian: {} x {} grid ({} unknowns) on {} rank(s), KSP {} with PC {}",
                self.m,
                self.n,
                self.m * self.n,
                comm.size(),
                result.ksp_type,
                result.pc_type
            ),
            format!("Norm of error {} iterations {}", fmt_g(result.error_norm), result.iterations),
            format!("Residual norm {} ({})", fmt_g(result.residual_norm), result.reason),
        ];
        Ok(Some(Output { lines, result }))
    }

    fn check(&self, result: &PoissonResult, _ranks: usize) -> Result<(), String> {
        if result.converged {
            Ok(())
        } else {
            Err(format!("the solve did not converge: {} after {} iterations", result.reason, result.iterations))
        }
    }

    fn summary(&self, r: &PoissonResult) -> String {
        format!("{} x {}: error {} in {} iterations", r.m, r.n, fmt_g(r.error_norm), r.iterations)
    }
}

/// Assembles and solves ex2's system on PETSc's communicator; every rank returns the result.
fn solve(petsc: &Petsc<'_>, m: usize, n: usize) -> Result<PoissonResult> {
    let mut a = Matrix::aij(petsc, m * n, m * n, 5, 5)?;
    // Each rank sets the rows it owns; row I is grid point (i, j) = (I / n, I % n).
    let (mut cols, mut vals) = (Vec::with_capacity(5), Vec::with_capacity(5));
    for row in a.ownership_range()? {
        let (i, j) = (row / n, row % n);
        cols.clear();
        vals.clear();
        let neighbours =
            [(i > 0, row.wrapping_sub(n)), (i + 1 < m, row + n), (j > 0, row.wrapping_sub(1)), (j + 1 < n, row + 1)];
        for (inside, col) in neighbours {
            if inside {
                cols.push(col);
                vals.push(-1.0);
            }
        }
        cols.push(row);
        vals.push(4.0);
        a.set_values(&[row], &cols, &vals, InsertMode::Add)?;
    }
    a.assemble()?;
    a.set_symmetric(true)?;

    let mut u = Vector::new(petsc, m * n)?;
    let mut b = u.duplicate()?;
    let mut x = b.duplicate()?;
    u.set(1.0)?;
    a.mult(&u, &mut b)?;

    let mut ksp = Ksp::new(petsc)?;
    ksp.set_operators(&a)?;
    let rtol = 1e-2 / ((m + 1) * (n + 1)) as f64;
    ksp.set_tolerances(Tolerances { rtol: Some(rtol), atol: Some(1e-50), ..Tolerances::default() })?;
    ksp.set_from_options()?;
    ksp.solve(&b, &mut x)?;

    x.axpy(-1.0, &u)?;
    let error_norm = x.norm2()?;
    let reason = ksp.converged_reason()?;
    Ok(PoissonResult {
        m,
        n,
        ksp_type: ksp.ksp_type()?,
        pc_type: ksp.pc()?.pc_type()?,
        iterations: ksp.iterations()?,
        residual_norm: ksp.residual_norm()?,
        error_norm,
        converged: reason.converged(),
        reason: reason.name,
    })
}
