//! PETSc's lifetime on a parsci communicator.

use std::ffi::{c_char, CString};
use std::marker::PhantomData;

use parsci_comm::Comm;

use crate::error::{Error, Result};
use crate::sys;

/// PETSc running on a parsci communicator: `PETSC_COMM_WORLD` is that communicator.
///
/// Created by [`Petsc::init`] (collective over the communicator), finalised on drop.
/// MPI belongs to parsci: PETSc finds it initialised and leaves it so. One `Petsc` at a
/// time per process; the objects made from it borrow it, so they are destroyed first.
pub struct Petsc<'c> {
    world: sys::MPI_Comm,
    /// The argument vector PETSc was given: PETSc keeps pointers into it until finalised.
    _args: Vec<CString>,
    _argv: Vec<*mut c_char>,
    _comm: PhantomData<&'c Comm>,
}

impl std::fmt::Debug for Petsc<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Petsc")
    }
}

impl<'c> Petsc<'c> {
    /// Starts PETSc on `comm` (of the MPI backend), with `options` for PETSc's options
    /// database, as on a PETSc program's command line (`["-ksp_type", "cg", "-ksp_monitor"]`;
    /// PETSc also reads `PETSC_OPTIONS` and `~/.petscrc`). Collective over `comm`.
    ///
    /// Errors: `comm` is not an MPI communicator (the thread backend: PETSc's ranks are
    /// MPI processes), PETSc already runs in this process, or PETSc fails to start.
    pub fn init(comm: &'c Comm, options: &[String]) -> Result<Petsc<'c>> {
        let raw = comm.raw_mpi_comm().ok_or_else(|| {
            Error::Setup(
                "PETSc's ranks are MPI processes, and this communicator is of the thread backend: run \
                 under mpirun (mpirun -n 4 parsci petsc ...), or as one process with --backend mpi"
                    .into(),
            )
        })?;
        let mut running = sys::PetscBool::PETSC_FALSE;
        // SAFETY: PetscInitialized writes one PetscBool; callable before PetscInitialize.
        sys::check(unsafe { sys::PetscInitialized(&mut running) }, "PetscInitialized")?;
        if running == sys::PetscBool::PETSC_TRUE {
            return Err(Error::Setup("PETSc already runs in this process (one Petsc at a time)".into()));
        }
        let mut args = Vec::with_capacity(options.len() + 1);
        for a in std::iter::once("parsci").chain(options.iter().map(String::as_str)) {
            args.push(CString::new(a).map_err(|_| Error::InvalidArgument(format!("option {a:?} contains a NUL")))?);
        }
        let mut argv: Vec<*mut c_char> = args.iter().map(|a| a.as_ptr().cast_mut()).collect();
        argv.push(std::ptr::null_mut());
        let mut argc = sys::petsc_int(args.len(), "the number of options")?;
        let mut argv_ptr = argv.as_mut_ptr();
        // SAFETY: PETSc is not running (checked above), so nothing reads PETSC_COMM_WORLD
        // concurrently; `raw` is a valid communicator (Open MPI's handle type, the same MPI
        // PETSc is built on) that outlives PETSc, as `comm` outlives `self`.
        unsafe { sys::PETSC_COMM_WORLD = raw.0.cast::<sys::ompi_communicator_t>() };
        // SAFETY: argc/argv describe NUL-terminated strings in `args`, and argv ends with
        // null; both vectors live in `self` until PetscFinalize. MPI is initialised, so
        // PETSc neither initialises nor finalises it.
        let code = unsafe { sys::PetscInitialize(&mut argc, &mut argv_ptr, std::ptr::null(), std::ptr::null()) };
        sys::check(code, "PetscInitialize")?;
        let petsc =
            Petsc { world: raw.0.cast::<sys::ompi_communicator_t>(), _args: args, _argv: argv, _comm: PhantomData };
        sys::push_error_handler()?;
        Ok(petsc)
    }

    /// The options given to PETSc that nothing has used so far (`-options_left`): after a
    /// solve, a misspelt name (`-ksp_typ`) or an option for a solver that did not run.
    pub fn unused_options(&self) -> Result<Vec<String>> {
        let mut n: sys::PetscInt = 0;
        let mut names: *mut *mut c_char = std::ptr::null_mut();
        let mut values: *mut *mut c_char = std::ptr::null_mut();
        // SAFETY: PETSc runs; it allocates two arrays of `n` strings, given back below.
        let code = unsafe { sys::PetscOptionsLeftGet(std::ptr::null_mut(), &mut n, &mut names, &mut values) };
        sys::check(code, "PetscOptionsLeftGet")?;
        let left = (0..sys::from_petsc_int(n))
            // SAFETY: `names` holds `n` NUL-terminated option names (without the dash).
            .map(|k| format!("-{}", unsafe { sys::text(*names.add(k)) }))
            .collect();
        // SAFETY: gives back the arrays PetscOptionsLeftGet made.
        let code = unsafe { sys::PetscOptionsLeftRestore(std::ptr::null_mut(), &mut n, &mut names, &mut values) };
        sys::check(code, "PetscOptionsLeftRestore")?;
        Ok(left)
    }

    /// The communicator PETSc's objects are created on.
    pub(crate) fn world(&self) -> sys::MPI_Comm {
        self.world
    }
}

impl Drop for Petsc<'_> {
    fn drop(&mut self) {
        sys::pop_error_handler();
        sys::flush_c_stdout();
        // SAFETY: every object made from this Petsc borrowed it, so all are destroyed.
        if let Err(e) = sys::check(unsafe { sys::PetscFinalize() }, "PetscFinalize") {
            eprintln!("parsci-petsc: {e}");
        }
        sys::flush_c_stdout();
    }
}
