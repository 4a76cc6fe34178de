//! PETSc's nonlinear solvers (SNES), with the residual and the Jacobian as Rust closures.

use std::ffi::c_char;
use std::marker::PhantomData;

use crate::callback::{self, Callbacks, Jacobian, Residual};
use crate::error::Result;
use crate::sys::{self, check};
use crate::{ConvergedReason, Dmda, Matrix, Petsc, Vector};

/// A nonlinear solver (`SNES`: Newton with line search by default; `-snes_type`,
/// `-snes_mf`, `-snes_monitor`, ... choose and watch it) on the PETSc communicator.
/// Destroyed on drop, with its closures.
///
/// The closures run inside PETSc's solve, on every rank: an `Err` they return, or a
/// panic, becomes a PETSc error that ends the solve and comes back from
/// [`solve`](Self::solve) as an [`Error`](crate::Error) carrying their message.
pub struct Snes<'a> {
    raw: sys::SNES,
    /// Owned (made by `Box::into_raw`), registered as live while the solver exists.
    callbacks: *mut Callbacks<'a>,
    /// The context number PETSc passes to the trampolines.
    id: usize,
    _petsc: PhantomData<&'a Petsc<'a>>,
}

impl std::fmt::Debug for Snes<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Snes({})", self.snes_type().unwrap_or_default())
    }
}

impl<'a> Snes<'a> {
    /// A solver with PETSc's defaults. Collective.
    pub fn new(petsc: &'a Petsc<'_>) -> Result<Snes<'a>> {
        let mut raw: sys::SNES = std::ptr::null_mut();
        // SAFETY: creates a solver on PETSc's live communicator into `raw`.
        check(unsafe { sys::SNESCreate(petsc.world(), &mut raw) }, "SNESCreate")?;
        let (callbacks, id) = callback::register(Callbacks::default());
        Ok(Snes { raw, callbacks, id, _petsc: PhantomData })
    }

    /// Solves on `dm`'s grid: PETSc then knows the grid (for `-pc_type mg`, coloring, ...).
    /// The solver keeps its own reference to it.
    pub fn set_dm(&mut self, dm: &Dmda<'_>) -> Result<()> {
        // SAFETY: a live solver and DM; PETSc takes a reference to the DM.
        check(unsafe { sys::SNESSetDM(self.raw, dm.raw) }, "SNESSetDM")
    }

    /// The residual `F(x)`: `residual(x, f)` writes F(x) into `f` (both global vectors of
    /// the solver's layout). Collective in the sense that PETSc calls it on every rank.
    pub fn set_function<F>(&mut self, residual: F) -> Result<()>
    where
        F: for<'v> FnMut(&Vector<'v>, &mut Vector<'v>) -> Result<()> + 'a,
    {
        let boxed: Box<Residual<'a>> = Box::new(residual);
        // SAFETY: `callbacks` is live until drop; the solver is not solving (we hold it
        // exclusively), so no closure runs.
        unsafe { (*self.callbacks).set_residual(boxed) };
        // SAFETY: a live solver; the trampoline reads its context only while it is
        // registered (see callback.rs), so a stale pointer kept by the DM is harmless.
        let code =
            unsafe { sys::SNESSetFunction(self.raw, std::ptr::null_mut(), Some(callback::residual), self.ctx()) };
        check(code, "SNESSetFunction")
    }

    /// The Jacobian: `jacobian(x, p)` fills `p` (the matrix given here, e.g. from
    /// [`Dmda::create_matrix`]) with F'(x) and assembles it. The solver keeps its own
    /// reference to the matrix. With `-snes_mf` PETSc applies the Jacobian without it
    /// (differences of residuals) and does not call the closure; with
    /// `-snes_mf_operator`, `p` preconditions.
    pub fn set_jacobian<F>(&mut self, p: &Matrix<'_>, jacobian: F) -> Result<()>
    where
        F: for<'v> FnMut(&Vector<'v>, &mut Matrix<'v>) -> Result<()> + 'a,
    {
        let boxed: Box<Jacobian<'a>> = Box::new(jacobian);
        // SAFETY: as in set_function.
        unsafe { (*self.callbacks).set_jacobian(boxed) };
        // SAFETY: a live solver and matrix (PETSc takes references); as in set_function.
        let code = unsafe { sys::SNESSetJacobian(self.raw, p.raw, p.raw, Some(callback::jacobian), self.ctx()) };
        check(code, "SNESSetJacobian")
    }

    /// The context for PETSc: a number, not an address (see callback.rs).
    fn ctx(&self) -> *mut std::ffi::c_void {
        self.id as *mut std::ffi::c_void
    }

    /// Applies the options database (`-snes_type`, `-snes_monitor`, `-snes_mf`,
    /// `-snes_rtol`, `-ksp_type`, `-pc_type`, ...).
    pub fn set_from_options(&mut self) -> Result<()> {
        // SAFETY: a live solver.
        check(unsafe { sys::SNESSetFromOptions(self.raw) }, "SNESSetFromOptions")
    }

    /// Solves F(x) = 0 from the initial guess in `x`. A solve that stops without
    /// converging is not an error: see [`converged_reason`](Self::converged_reason).
    /// Collective.
    pub fn solve(&mut self, x: &mut Vector<'_>) -> Result<()> {
        // SAFETY: a live solver and vector; the closures it calls are registered and
        // borrow only what outlives 'a.
        let r = check(unsafe { sys::SNESSolve(self.raw, std::ptr::null_mut(), x.raw) }, "SNESSolve");
        sys::flush_c_stdout(); // monitors print to C's stdout
        r
    }

    /// Newton iterations of the last solve.
    pub fn iterations(&self) -> Result<usize> {
        let mut its = 0;
        // SAFETY: a live solver; writes one PetscInt.
        check(unsafe { sys::SNESGetIterationNumber(self.raw, &mut its) }, "SNESGetIterationNumber")?;
        Ok(sys::from_petsc_int(its))
    }

    /// Linear (KSP) iterations of the last solve, over all its Newton steps.
    pub fn linear_iterations(&self) -> Result<usize> {
        let mut its = 0;
        // SAFETY: a live solver; writes one PetscInt.
        check(unsafe { sys::SNESGetLinearSolveIterations(self.raw, &mut its) }, "SNESGetLinearSolveIterations")?;
        Ok(sys::from_petsc_int(its))
    }

    /// The 2-norm of the residual at the last iterate.
    pub fn function_norm(&self) -> Result<f64> {
        let mut f: sys::Vec = std::ptr::null_mut();
        // SAFETY: a live solver; writes its residual vector's handle (still owned by it).
        let code = unsafe { sys::SNESGetFunction(self.raw, &mut f, std::ptr::null_mut(), std::ptr::null_mut()) };
        check(code, "SNESGetFunction")?;
        Vector::borrowed(f).norm2()
    }

    /// Why the last solve stopped (`CONVERGED_FNORM_RELATIVE`, `DIVERGED_MAX_IT`, ...).
    pub fn converged_reason(&self) -> Result<ConvergedReason> {
        let mut reason: sys::SNESConvergedReason = 0;
        // SAFETY: a live solver; writes one enum value.
        check(unsafe { sys::SNESGetConvergedReason(self.raw, &mut reason) }, "SNESGetConvergedReason")?;
        let code = reason as i32;
        // SAFETY: SNESConvergedReasons points into PETSc's static table of names, indexed
        // by the reason itself (negative reasons included).
        let name = unsafe { sys::text(*sys::SNESConvergedReasons.offset(code as isize)) };
        Ok(ConvergedReason { code, name })
    }

    /// The method's name (`newtonls`, ...).
    pub fn snes_type(&self) -> Result<String> {
        let mut name: *const c_char = std::ptr::null();
        // SAFETY: a live solver; writes a pointer to its type name.
        check(unsafe { sys::SNESGetType(self.raw, &mut name) }, "SNESGetType")?;
        // SAFETY: null or the solver's NUL-terminated name.
        Ok(unsafe { sys::text(name) })
    }
}

impl Drop for Snes<'_> {
    fn drop(&mut self) {
        // SAFETY: the solver is live and dropped once.
        let _ = check(unsafe { sys::SNESDestroy(&mut self.raw) }, "SNESDestroy");
        // SAFETY: made by callback::register and not freed yet; no closure runs now.
        unsafe { callback::unregister(self.callbacks) };
    }
}
