//! The communicator handle: identity, duplication and splitting.

use crate::backend::threads::ThreadComm;
use crate::error::Result;
use crate::p2p::PROC_NULL;
use crate::timing::Kind;

/// Which backend a communicator runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BackendKind {
    /// Ranks are threads of one process.
    Threads,
    /// Ranks are MPI processes.
    Mpi,
}

impl BackendKind {
    /// `"threads"` or `"mpi"`.
    pub fn name(self) -> &'static str {
        match self {
            BackendKind::Threads => "threads",
            BackendKind::Mpi => "mpi",
        }
    }
}

/// A communicator as seen by one rank: a group of ranks and a private message space.
///
/// Every rank of a job gets its own `Comm` from [`launch`](crate::launch). Like an MPI
/// communicator it is used by one thread at a time (it is neither `Send` nor `Sync`).
///
/// ```
/// use parsci_comm::{launch, Backend};
/// let ranks = launch(Backend::Threads(3), |comm| {
///     Ok::<_, parsci_comm::Error>((comm.rank(), comm.size()))
/// })
/// .unwrap();
/// assert_eq!(ranks.into_vec(), vec![(0, 3), (1, 3), (2, 3)]);
/// ```
pub struct Comm {
    pub(crate) inner: CommImpl,
    /// Its identity in the trace, set only while tracing (see [`crate::trace`]).
    pub(crate) trace: std::cell::OnceCell<std::rc::Rc<crate::trace::CommTrace>>,
}

pub(crate) enum CommImpl {
    Threads(ThreadComm),
    #[cfg(feature = "mpi")]
    Mpi(crate::backend::mpi::MpiComm),
}

/// Runs `$body` with `$c` bound to the backend communicator.
macro_rules! dispatch {
    ($self:expr, $c:ident => $body:expr) => {
        match &$self.inner {
            $crate::comm::CommImpl::Threads($c) => $body,
            #[cfg(feature = "mpi")]
            $crate::comm::CommImpl::Mpi($c) => $body,
        }
    };
}
pub(crate) use dispatch;

impl std::fmt::Debug for Comm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Comm(rank {} of {}, {})", self.rank(), self.size(), self.backend().name())
    }
}

impl Comm {
    pub(crate) fn from_threads(c: ThreadComm) -> Self {
        Comm { inner: CommImpl::Threads(c), trace: std::cell::OnceCell::new() }
    }

    #[cfg(feature = "mpi")]
    pub(crate) fn from_mpi(c: crate::backend::mpi::MpiComm) -> Self {
        Comm { inner: CommImpl::Mpi(c), trace: std::cell::OnceCell::new() }
    }

    /// This rank's number, `0..size()`.
    pub fn rank(&self) -> usize {
        dispatch!(self, c => c.rank())
    }

    /// The number of ranks in this communicator.
    pub fn size(&self) -> usize {
        dispatch!(self, c => c.size())
    }

    /// The name of the machine this rank runs on (MPI's `Get_processor_name`).
    pub fn processor_name(&self) -> String {
        dispatch!(self, c => c.processor_name())
    }

    /// The backend this communicator runs on.
    pub fn backend(&self) -> BackendKind {
        match &self.inner {
            CommImpl::Threads(_) => BackendKind::Threads,
            #[cfg(feature = "mpi")]
            CommImpl::Mpi(_) => BackendKind::Mpi,
        }
    }

    /// The MPI communicator behind this `Comm`, for libraries that take one (PETSc):
    /// `None` on the thread backend. The handle stays valid while this `Comm` lives; do
    /// not free it, and do not pass it to code that outlives the `Comm`.
    #[cfg(feature = "mpi")]
    pub fn raw_mpi_comm(&self) -> Option<mpi::ffi::MPI_Comm> {
        match &self.inner {
            CommImpl::Threads(_) => None,
            CommImpl::Mpi(c) => Some(c.raw()),
        }
    }

    /// A new communicator with the same ranks and a separate message space
    /// (messages and collectives on one never match the other). Collective.
    pub fn dup(&self) -> Result<Comm> {
        let _t = self.traced(Kind::Collective, "dup", PROC_NULL, -1, 0);
        let c = match &self.inner {
            CommImpl::Threads(c) => Comm::from_threads(c.dup()?),
            #[cfg(feature = "mpi")]
            CommImpl::Mpi(c) => Comm::from_mpi(c.dup()?),
        };
        Ok(self.derive_trace(Some(c))?.expect("a communicator"))
    }

    /// Splits into one communicator per `color`; within each, ranks are ordered by
    /// `(key, old rank)`. A rank passing `None` (MPI's `UNDEFINED`) gets `None`. Collective.
    ///
    /// ```
    /// use parsci_comm::{launch, Backend};
    /// let r = launch(Backend::Threads(4), |comm| {
    ///     let half = comm.split(Some((comm.rank() % 2) as u32), 0)?.unwrap();
    ///     Ok::<_, parsci_comm::Error>((half.rank(), half.size()))
    /// })
    /// .unwrap();
    /// assert_eq!(r.into_vec(), vec![(0, 2), (0, 2), (1, 2), (1, 2)]);
    /// ```
    pub fn split(&self, color: Option<u32>, key: i32) -> Result<Option<Comm>> {
        let _t = self.traced(Kind::Collective, "split", PROC_NULL, -1, 0);
        let c = match &self.inner {
            CommImpl::Threads(c) => c.split(color, key)?.map(Comm::from_threads),
            #[cfg(feature = "mpi")]
            CommImpl::Mpi(c) => c.split(color, key)?.map(Comm::from_mpi),
        };
        self.derive_trace(c)
    }

    /// The ranks that share this rank's node (its memory), as a communicator ordered by
    /// `(key, rank)`: MPI's `Comm_split_type(COMM_TYPE_SHARED)`. On the thread backend the
    /// whole job shares one process; under MPI, the processes on this rank's host. Collective.
    ///
    /// ```
    /// use parsci_comm::{launch, Backend};
    /// let sizes = launch(Backend::Threads(3), |comm| {
    ///     let node = comm.split_shared(0)?;
    ///     Ok::<_, parsci_comm::Error>((node.rank(), node.size()))
    /// })
    /// .unwrap();
    /// assert_eq!(sizes.into_vec(), vec![(0, 3), (1, 3), (2, 3)]);
    /// ```
    pub fn split_shared(&self, key: i32) -> Result<Comm> {
        let _t = self.traced(Kind::Collective, "split_shared", PROC_NULL, -1, 0);
        let c = match &self.inner {
            CommImpl::Threads(c) => Comm::from_threads(c.split(Some(0), key)?.expect("every rank has color 0")),
            #[cfg(feature = "mpi")]
            CommImpl::Mpi(c) => Comm::from_mpi(c.split_shared(key)),
        };
        Ok(self.derive_trace(Some(c))?.expect("a communicator"))
    }
}
