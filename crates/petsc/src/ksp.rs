//! PETSc's Krylov solvers (KSP) and their preconditioners (PC).

use std::ffi::{c_char, CString};
use std::marker::PhantomData;

use crate::error::{Error, Result};
use crate::sys::{self, check};
use crate::{Matrix, Petsc, Vector};

/// A Krylov solver (`KSP`) on the PETSc communicator. Destroyed on drop.
pub struct Ksp<'p> {
    raw: sys::KSP,
    _petsc: PhantomData<&'p Petsc<'p>>,
}

impl std::fmt::Debug for Ksp<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Ksp({})", self.ksp_type().unwrap_or_default())
    }
}

/// Convergence tolerances; `None` keeps PETSc's default (`PETSC_DEFAULT`).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Tolerances {
    /// Relative decrease of the residual norm.
    pub rtol: Option<f64>,
    /// Absolute residual norm.
    pub atol: Option<f64>,
    /// Divergence: relative increase of the residual norm.
    pub dtol: Option<f64>,
    /// Most iterations.
    pub max_it: Option<usize>,
}

/// Why a solve stopped: PETSc's `KSPConvergedReason`, positive when converged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvergedReason {
    /// PETSc's code.
    pub code: i32,
    /// Its name (`CONVERGED_RTOL`, `DIVERGED_ITS`, ...).
    pub name: String,
}

impl ConvergedReason {
    /// Whether the solve converged.
    pub fn converged(&self) -> bool {
        self.code > 0
    }
}

impl<'p> Ksp<'p> {
    /// A solver with PETSc's defaults (GMRES with ILU/block Jacobi). Collective.
    pub fn new(petsc: &'p Petsc<'_>) -> Result<Ksp<'p>> {
        let mut raw: sys::KSP = std::ptr::null_mut();
        // SAFETY: creates a solver on PETSc's live communicator into `raw`.
        check(unsafe { sys::KSPCreate(petsc.world(), &mut raw) }, "KSPCreate")?;
        Ok(Ksp { raw, _petsc: PhantomData })
    }

    /// Solve with `a`, preconditioned from `a` too. The solver keeps its own reference.
    pub fn set_operators(&mut self, a: &Matrix<'_>) -> Result<()> {
        // SAFETY: a live solver and matrix; PETSc takes a reference to the matrix.
        check(unsafe { sys::KSPSetOperators(self.raw, a.raw, a.raw) }, "KSPSetOperators")
    }

    /// Sets the tolerances (before [`set_from_options`](Self::set_from_options), which may override them).
    pub fn set_tolerances(&mut self, t: Tolerances) -> Result<()> {
        let real = |x: Option<f64>| x.unwrap_or(f64::from(sys::PETSC_DEFAULT));
        let max_it = match t.max_it {
            Some(n) => sys::petsc_int(n, "iteration count")?,
            None => sys::PETSC_DEFAULT,
        };
        // SAFETY: a live solver.
        let code = unsafe { sys::KSPSetTolerances(self.raw, real(t.rtol), real(t.atol), real(t.dtol), max_it) };
        check(code, "KSPSetTolerances")
    }

    /// Sets the Krylov method by name (`cg`, `gmres`, ...).
    pub fn set_type(&mut self, name: &str) -> Result<()> {
        let c = CString::new(name).map_err(|_| Error::InvalidArgument(format!("KSP type {name:?}")))?;
        // SAFETY: a live solver; PETSc copies the name.
        check(unsafe { sys::KSPSetType(self.raw, c.as_ptr()) }, "KSPSetType")
    }

    /// Whether [`solve`](Self::solve) starts from what `x` holds (else from zero).
    pub fn set_initial_guess_nonzero(&mut self, nonzero: bool) -> Result<()> {
        let flag = if nonzero { sys::PetscBool::PETSC_TRUE } else { sys::PetscBool::PETSC_FALSE };
        // SAFETY: a live solver.
        check(unsafe { sys::KSPSetInitialGuessNonzero(self.raw, flag) }, "KSPSetInitialGuessNonzero")
    }

    /// Applies the options database (`-ksp_type`, `-pc_type`, `-ksp_rtol`, `-ksp_monitor`, ...).
    pub fn set_from_options(&mut self) -> Result<()> {
        // SAFETY: a live solver.
        check(unsafe { sys::KSPSetFromOptions(self.raw) }, "KSPSetFromOptions")
    }

    /// Solves `A x = b` (`x` holds the initial guess, zero by default). A solve that
    /// stops without converging is not an error: see [`converged_reason`](Self::converged_reason).
    pub fn solve(&mut self, b: &Vector<'_>, x: &mut Vector<'_>) -> Result<()> {
        // SAFETY: a live solver and vectors; PETSc checks their layouts against A.
        let r = check(unsafe { sys::KSPSolve(self.raw, b.raw, x.raw) }, "KSPSolve");
        sys::flush_c_stdout(); // monitors print to C's stdout
        r
    }

    /// The iterations of the last solve.
    pub fn iterations(&self) -> Result<usize> {
        let mut its = 0;
        // SAFETY: a live solver; writes one PetscInt.
        check(unsafe { sys::KSPGetIterationNumber(self.raw, &mut its) }, "KSPGetIterationNumber")?;
        Ok(sys::from_petsc_int(its))
    }

    /// The last residual norm of the last solve (preconditioned, by default, as the monitor shows).
    pub fn residual_norm(&self) -> Result<f64> {
        let mut r = 0.0;
        // SAFETY: a live solver; writes one PetscReal.
        check(unsafe { sys::KSPGetResidualNorm(self.raw, &mut r) }, "KSPGetResidualNorm")?;
        Ok(r)
    }

    /// Why the last solve stopped.
    pub fn converged_reason(&self) -> Result<ConvergedReason> {
        let mut reason: sys::KSPConvergedReason = 0;
        // SAFETY: a live solver; writes one enum value.
        check(unsafe { sys::KSPGetConvergedReason(self.raw, &mut reason) }, "KSPGetConvergedReason")?;
        let code = reason as i32;
        // SAFETY: KSPConvergedReasons points into PETSc's static table of names, which
        // is indexed by the reason itself (negative reasons included).
        let name = unsafe { sys::text(*sys::KSPConvergedReasons.offset(code as isize)) };
        Ok(ConvergedReason { code, name })
    }

    /// The Krylov method's name.
    pub fn ksp_type(&self) -> Result<String> {
        let mut name: *const c_char = std::ptr::null();
        // SAFETY: a live solver; writes a pointer to its type name.
        check(unsafe { sys::KSPGetType(self.raw, &mut name) }, "KSPGetType")?;
        // SAFETY: null or the solver's NUL-terminated name.
        Ok(unsafe { sys::text(name) })
    }

    /// The preconditioner, borrowed from the solver.
    pub fn pc(&mut self) -> Result<Pc<'_>> {
        let mut raw: sys::PC = std::ptr::null_mut();
        // SAFETY: a live solver; writes its PC handle (owned by the solver).
        check(unsafe { sys::KSPGetPC(self.raw, &mut raw) }, "KSPGetPC")?;
        Ok(Pc { raw, _ksp: PhantomData })
    }
}

impl Drop for Ksp<'_> {
    fn drop(&mut self) {
        // SAFETY: the solver is live and dropped once.
        let _ = check(unsafe { sys::KSPDestroy(&mut self.raw) }, "KSPDestroy");
    }
}

/// A solver's preconditioner (`PC`), borrowed from its [`Ksp`].
pub struct Pc<'k> {
    raw: sys::PC,
    _ksp: PhantomData<&'k mut ()>,
}

impl std::fmt::Debug for Pc<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Pc({})", self.pc_type().unwrap_or_default())
    }
}

impl Pc<'_> {
    /// Sets the preconditioner by name (`jacobi`, `ilu`, `gamg`, `none`, ...).
    pub fn set_type(&mut self, name: &str) -> Result<()> {
        let c = CString::new(name).map_err(|_| Error::InvalidArgument(format!("PC type {name:?}")))?;
        // SAFETY: a live PC; PETSc copies the name.
        check(unsafe { sys::PCSetType(self.raw, c.as_ptr()) }, "PCSetType")
    }

    /// The preconditioner's name (empty before the solver has set it up).
    pub fn pc_type(&self) -> Result<String> {
        let mut name: *const c_char = std::ptr::null();
        // SAFETY: a live PC; writes a pointer to its type name.
        check(unsafe { sys::PCGetType(self.raw, &mut name) }, "PCGetType")?;
        // SAFETY: null or the PC's NUL-terminated name.
        Ok(unsafe { sys::text(name) })
    }
}
