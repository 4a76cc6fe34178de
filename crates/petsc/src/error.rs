//! PETSc's error codes as `Result`s, with PETSc's message.

/// What went wrong in PETSc, or before reaching it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A PETSc call returned an error code.
    #[error("PETSc error {code} in {function}: {message}")]
    Petsc {
        /// PETSc's error code (`PETSC_ERR_...`).
        code: i32,
        /// The PETSc function that reported it first (or the call that returned it).
        function: String,
        /// PETSc's message: the generic text of the code and the detail it gave.
        message: String,
    },
    /// PETSc cannot start on this communicator or with these arguments.
    #[error("PETSc: {0}")]
    Setup(String),
    /// A closure PETSc called (a SNES residual or Jacobian) failed for a reason of its own.
    #[error("{0}")]
    Callback(String),
    /// An argument PETSc cannot take (lengths that disagree, an index too large).
    #[error("PETSc: {0}")]
    InvalidArgument(String),
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
