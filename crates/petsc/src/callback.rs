//! Rust closures called by PETSc: the C trampolines, and how an error or a panic in a
//! closure becomes a PETSc error instead of unwinding into C (undefined behaviour).
//!
//! A solver's closures live in a [`Callbacks`] on the heap. PETSc keeps, as the
//! callback's context, not its address but a number never used twice, and PETSc may
//! keep it longer than the solver (a DM remembers the last residual set on it): the
//! trampolines find the callbacks by that number only while they are registered, from
//! [`register`] to [`unregister`], so a stale context is refused, never followed.

use std::cell::{Cell, RefCell};
use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use crate::error::{Error, Result};
use crate::sys;
use crate::{Matrix, Vector};

/// A residual closure: `(x, f)` writes F(x) into f.
pub(crate) type Residual<'a> = dyn for<'v> FnMut(&Vector<'v>, &mut Vector<'v>) -> Result<()> + 'a;
/// A Jacobian closure: `(x, p)` fills and assembles p.
pub(crate) type Jacobian<'a> = dyn for<'v> FnMut(&Vector<'v>, &mut Matrix<'v>) -> Result<()> + 'a;

/// One solver's closures. A closure that panicked is not called again.
#[derive(Default)]
pub(crate) struct Callbacks<'a> {
    residual: RefCell<Option<Box<Residual<'a>>>>,
    jacobian: RefCell<Option<Box<Jacobian<'a>>>>,
    panicked: Cell<bool>,
}

impl<'a> Callbacks<'a> {
    pub(crate) fn set_residual(&self, f: Box<Residual<'a>>) {
        *self.residual.borrow_mut() = Some(f);
    }

    pub(crate) fn set_jacobian(&self, f: Box<Jacobian<'a>>) {
        *self.jacobian.borrow_mut() = Some(f);
    }
}

/// The live [`Callbacks`]: (context number, address).
static LIVE: Mutex<Vec<(usize, usize)>> = Mutex::new(Vec::new());
/// The next context number (0 is never one: PETSc's "no context").
static NEXT: AtomicUsize = AtomicUsize::new(1);

/// Moves `callbacks` to the heap and registers it as live: its address, and the context
/// number to give PETSc.
pub(crate) fn register(callbacks: Callbacks<'_>) -> (*mut Callbacks<'_>, usize) {
    let ptr = Box::into_raw(Box::new(callbacks));
    let id = NEXT.fetch_add(1, Ordering::Relaxed);
    LIVE.lock().unwrap_or_else(|e| e.into_inner()).push((id, ptr as usize));
    (ptr, id)
}

/// Unregisters and frees callbacks made by [`register`].
///
/// # Safety
/// `ptr` came from [`register`], is not freed yet, and no closure of it is running.
pub(crate) unsafe fn unregister(ptr: *mut Callbacks<'_>) {
    LIVE.lock().unwrap_or_else(|e| e.into_inner()).retain(|&(_, p)| p != ptr as usize);
    // SAFETY: made by Box::into_raw in `register`, freed only here (caller's contract).
    let callbacks = unsafe { Box::from_raw(ptr) };
    // A closure's drop may panic; never let it unwind out of a Drop into PETSc's frames.
    let _ = catch_unwind(AssertUnwindSafe(move || drop(callbacks)));
}

/// The callbacks of context number `ctx` if they are live.
///
/// # Safety
/// Live callbacks outlive the call: their solver is in a call into PETSc (which is how
/// a trampoline runs) and is not dropped meanwhile.
unsafe fn live<'c>(ctx: *mut c_void) -> Option<&'c Callbacks<'c>> {
    let live = LIVE.lock().unwrap_or_else(|e| e.into_inner());
    let ptr = live.iter().find(|&&(id, _)| id == ctx as usize).map(|&(_, p)| p)?;
    // SAFETY: registered, hence a valid Callbacks (caller's contract for the lifetime).
    Some(unsafe { &*(ptr as *const Callbacks<'c>) })
}

/// Records `message` as the error PETSc reports from `function`, and returns `code` for
/// the trampoline to return to PETSc.
fn fail(code: sys::PetscErrorCode, function: &str, message: String) -> sys::PetscErrorCode {
    sys::report(function, message);
    code
}

/// `PETSC_ERR_LIB`: an error in a library PETSc called (here: the closure).
const ERR_LIB: sys::PetscErrorCode = 76;
/// `PETSC_ERR_USER`: the user has not provided a function PETSc needs.
const ERR_USER: sys::PetscErrorCode = 83;

/// Runs closure `what` of `cb` with `call`, turning an error or a panic into a PETSc
/// error code (0 on success).
fn run<F: ?Sized>(
    what: &str,
    cb: &Callbacks<'_>,
    cell: &RefCell<Option<Box<F>>>,
    call: impl FnOnce(&mut F) -> Result<()>,
) -> sys::PetscErrorCode {
    if cb.panicked.get() {
        return fail(ERR_LIB, what, "not called again: a closure of this solver panicked".into());
    }
    let Ok(mut slot) = cell.try_borrow_mut() else {
        return fail(ERR_LIB, what, "called again from inside itself".into());
    };
    let Some(f) = slot.as_mut() else {
        return fail(ERR_USER, what, "no closure was set for it".into());
    };
    match catch_unwind(AssertUnwindSafe(|| call(f))) {
        Ok(Ok(())) => 0,
        Ok(Err(Error::Petsc { code, function, message })) => fail(code, what, format!("{function}: {message}")),
        Ok(Err(e)) => fail(ERR_LIB, what, e.to_string()),
        Err(panic) => {
            cb.panicked.set(true);
            let text = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "(a panic without a message)".into());
            fail(ERR_LIB, what, format!("panicked: {text}"))
        }
    }
}

/// PETSc's `SNESFunction`: calls the solver's residual closure.
pub(crate) unsafe extern "C" fn residual(
    _snes: sys::SNES,
    x: sys::Vec,
    f: sys::Vec,
    ctx: *mut c_void,
) -> sys::PetscErrorCode {
    const WHAT: &str = "the SNES residual closure";
    // SAFETY: PETSc calls this inside SNESSolve (or a residual evaluation) of a live
    // solver, which holds its callbacks until dropped.
    let Some(cb) = (unsafe { live(ctx) }) else {
        return fail(ERR_USER, WHAT, "called after its solver was dropped".into());
    };
    // Borrowed: PETSc owns both vectors; if the closure swaps `f` for a vector of its
    // own, that one is destroyed here and PETSc's is left alone.
    let (x, mut f) = (Vector::borrowed(x), Vector::borrowed(f));
    run(WHAT, cb, &cb.residual, |r| r(&x, &mut f))
}

/// PETSc's `SNESJacobianFunction`: calls the solver's Jacobian closure on the
/// preconditioning matrix, then assembles the operator if it is another matrix
/// (matrix-free with `-snes_mf_operator`), as PETSc's DMDA wrappers do.
pub(crate) unsafe extern "C" fn jacobian(
    _snes: sys::SNES,
    x: sys::Vec,
    a: sys::Mat,
    p: sys::Mat,
    ctx: *mut c_void,
) -> sys::PetscErrorCode {
    const WHAT: &str = "the SNES Jacobian closure";
    // SAFETY: as in `residual`.
    let Some(cb) = (unsafe { live(ctx) }) else {
        return fail(ERR_USER, WHAT, "called after its solver was dropped".into());
    };
    let (x, mut pm) = (Vector::borrowed(x), Matrix::borrowed(p));
    let code = run(WHAT, cb, &cb.jacobian, |j| j(&x, &mut pm));
    if code != 0 || a == p {
        return code;
    }
    match Matrix::borrowed(a).assemble() {
        Ok(()) => 0,
        Err(Error::Petsc { code, function, message }) => fail(code, &function, message),
        Err(e) => fail(ERR_LIB, WHAT, e.to_string()),
    }
}
