//! The one error type of parsci-apps.

/// What went wrong when running a workshop program.
///
/// Bad parameters and too few ranks are reported before any work starts; a failure
/// inside the job (a rank's error, a deadlock) comes back as [`Error::Comm`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A parameter that the program cannot use (a size of zero, a size too large).
    #[error("{program}: {msg}")]
    InvalidInput {
        /// The program (`"rootsum"`).
        program: &'static str,
        /// What was wrong and what to pass instead.
        msg: String,
    },
    /// The program needs more ranks than the job has.
    #[error(
        "{program} needs at least {needed} ranks but the job has {got}; \
         run it with more ranks (e.g. --ranks {needed})"
    )]
    TooFewRanks {
        /// The program.
        program: &'static str,
        /// The smallest rank count it runs on.
        needed: usize,
        /// The job's rank count.
        got: usize,
    },
    /// A rank received something the program's protocol does not allow.
    #[error("{program} on rank {rank}: {msg}")]
    Protocol {
        /// The program.
        program: &'static str,
        /// The rank that noticed.
        rank: usize,
        /// What it expected and what it got.
        msg: String,
    },
    /// An output file could not be written (nothing is left half-written: files are
    /// written to a temporary name and renamed).
    #[error("{program}: cannot write {path}: {msg}")]
    Output {
        /// The program.
        program: &'static str,
        /// The file.
        path: String,
        /// Why.
        msg: String,
    },
    /// A job of a task farm failed (returned an error or panicked) on the rank that ran it.
    #[error("{program}: job # {job} failed on rank {rank}: {message}")]
    JobFailed {
        /// The program.
        program: &'static str,
        /// The job's index.
        job: usize,
        /// The rank that ran it.
        rank: usize,
        /// Its error or panic message.
        message: String,
    },
    /// Rank 0's output did not come back from the job (a backend that does not host rank 0
    /// in this process, or a program that returned no output on rank 0).
    #[error("{program}: rank 0 returned no output")]
    MissingOutput {
        /// The program.
        program: &'static str,
    },
    /// A communication call or the launch failed (including another rank's failure).
    #[error(transparent)]
    Comm(#[from] parsci_comm::Error),
    /// A PETSc solve stopped without converging (feature `petsc`): the reason PETSc gave.
    #[cfg(feature = "petsc")]
    #[error("{program}: the {solver} solve did not converge: {reason} after {iterations} iterations")]
    NotConverged {
        /// The program.
        program: &'static str,
        /// `linear` or `nonlinear`.
        solver: &'static str,
        /// PETSc's reason (`DIVERGED_ITS`, `DIVERGED_LINEAR_SOLVE`, ...).
        reason: String,
        /// Iterations done.
        iterations: usize,
    },
    /// PETSc reported an error, with its message (feature `petsc`).
    #[cfg(feature = "petsc")]
    #[error(transparent)]
    Petsc(#[from] parsci_petsc::Error),
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
