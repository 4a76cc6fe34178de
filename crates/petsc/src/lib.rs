//! # parsci-petsc: PETSc from parsci
//!
//! The real PETSc (Debian's `petsc-dev`, PETSc 3.18 on Open MPI, the MPI of parsci's
//! backend), as petsc4py brings it to Python: bindgen bindings restricted to what is used
//! (`sys`, the only module with `unsafe`), and a thin safe layer over them:
//!
//! - [`Petsc::init`] starts PETSc on a parsci [`Comm`](parsci_comm::Comm) of the MPI
//!   backend (PETSc's `PETSC_COMM_WORLD` is that communicator; MPI stays parsci's, and
//!   PETSc does not finalise it), with options for PETSc's options database
//!   (`-ksp_type cg -pc_type gamg -ksp_monitor ...`); dropping it finalises PETSc.
//! - [`Vector`], [`Matrix`] (AIJ, assembled by the rows a rank owns), [`Ksp`] and its
//!   [`Pc`]: created on the PETSc communicator, destroyed on drop, borrowing the
//!   [`Petsc`] so that none outlives it.
//! - [`Dmda`]: a 2-D structured grid split into patches, its global and local (ghosted)
//!   vectors, the ghost exchange, its matrices filled by grid point ([`Stencil`]).
//! - [`Snes`]: Newton's method and its kin with the residual and the Jacobian as Rust
//!   closures; an `Err` or a panic in a closure becomes a PETSc error that ends the solve
//!   (never an unwind into C).
//! - Every PETSc error code becomes an [`Error`] carrying PETSc's own message.
//!
//! Everything is behind the feature `petsc` (which needs PETSc installed); without it
//! this crate is empty.

#![cfg_attr(not(feature = "petsc"), allow(unused))]

#[cfg(feature = "petsc")]
mod callback;
#[cfg(feature = "petsc")]
mod dmda;
#[cfg(feature = "petsc")]
mod error;
#[cfg(feature = "petsc")]
mod init;
#[cfg(feature = "petsc")]
mod ksp;
#[cfg(feature = "petsc")]
mod mat;
#[cfg(feature = "petsc")]
mod snes;
#[cfg(feature = "petsc")]
mod sys;
#[cfg(feature = "petsc")]
mod vec;

#[cfg(feature = "petsc")]
pub use dmda::{Boundary, Dmda, DmdaInfo, DmdaSpec, Patch, StencilShape};
#[cfg(feature = "petsc")]
pub use error::{Error, Result};
#[cfg(feature = "petsc")]
pub use init::Petsc;
#[cfg(feature = "petsc")]
pub use ksp::{ConvergedReason, Ksp, Pc, Tolerances};
#[cfg(feature = "petsc")]
pub use mat::{InsertMode, Matrix, Stencil};
#[cfg(feature = "petsc")]
pub use snes::Snes;
#[cfg(feature = "petsc")]
pub use vec::{VecRead, VecWrite, Vector};
