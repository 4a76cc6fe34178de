//! Starting a job: one closure run on every rank of the chosen backend.

use std::fmt::Display;

use crate::comm::Comm;
use crate::error::{Error, Result};

/// Where the ranks run. The one place the backend is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Backend {
    /// `n` ranks as threads of this process.
    Threads(usize),
}

impl Backend {
    /// The backend's name (`"threads"`).
    pub fn name(&self) -> &'static str {
        match self {
            Backend::Threads(_) => "threads",
        }
    }

    /// The number of ranks the job will have.
    pub fn ranks(&self) -> usize {
        match self {
            Backend::Threads(n) => *n,
        }
    }

    /// Threads with one rank per available core.
    pub fn threads_per_core() -> Self {
        Backend::Threads(available_cores())
    }
}

/// The number of cores this process may use (at least 1).
pub fn available_cores() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

/// What every rank of this process returned, by rank.
///
/// On the thread backend this process hosts every rank; a backend with one rank
/// per process holds only its own.
#[derive(Debug, Clone, PartialEq)]
pub struct Launched<R> {
    size: usize,
    results: Vec<(usize, R)>,
}

impl<R> Launched<R> {
    /// The job's number of ranks.
    pub fn size(&self) -> usize {
        self.size
    }
    /// The result of `rank`, if this process hosted it.
    pub fn get(&self, rank: usize) -> Option<&R> {
        self.results.iter().find(|(r, _)| *r == rank).map(|(_, v)| v)
    }
    /// Rank 0's result, if this process hosted it (the one that prints).
    pub fn root(&self) -> Option<&R> {
        self.get(0)
    }
    /// Rank 0's result, by value.
    pub fn into_root(self) -> Option<R> {
        self.results.into_iter().find(|(r, _)| *r == 0).map(|(_, v)| v)
    }
    /// The hosted results in rank order.
    pub fn into_vec(self) -> Vec<R> {
        self.results.into_iter().map(|(_, v)| v).collect()
    }
    /// `(rank, result)` pairs in rank order.
    pub fn iter(&self) -> impl Iterator<Item = (usize, &R)> {
        self.results.iter().map(|(r, v)| (*r, v))
    }
}

/// Runs `f` on every rank of `backend` and returns every rank's result, or the first
/// failure: a rank's error or panic (`Error::RankFailed`, naming the rank) or a
/// deadlock (`Error::Deadlock`, saying who waits for whom). When one rank fails,
/// the others' blocked calls return promptly with `Error::Aborted`.
///
/// ```
/// use parsci_comm::{launch, Backend, Error, Op};
/// let sums = launch(Backend::Threads(4), |comm| {
///     let mut total = [0u64];
///     comm.allreduce(&[comm.rank() as u64 + 1], &mut total, &Op::sum())?;
///     Ok::<_, Error>(total[0])
/// })
/// .unwrap();
/// assert_eq!(sums.into_vec(), vec![10; 4]);
///
/// let failed = launch(Backend::Threads(2), |comm| {
///     if comm.rank() == 1 {
///         return Err("no input file".to_string());
///     }
///     let mut x = [0u8];
///     comm.recv(&mut x, 1, 0).map_err(|e| e.to_string())?; // unblocked by rank 1's failure
///     Ok(())
/// });
/// assert_eq!(failed.unwrap_err().to_string(), "rank 1 failed: no input file");
/// ```
pub fn launch<R, E, F>(backend: Backend, f: F) -> Result<Launched<R>>
where
    R: Send,
    E: Display,
    F: Fn(&Comm) -> Result<R, E> + Sync,
{
    match backend {
        Backend::Threads(n) => {
            if n == 0 {
                return Err(Error::Launch("the number of ranks must be at least 1".into()));
            }
            let results = crate::backend::threads::run(n, &f)?;
            Ok(Launched { size: n, results: results.into_iter().enumerate().collect() })
        }
    }
}
