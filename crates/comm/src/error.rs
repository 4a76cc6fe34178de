//! The one error type of parsci-comm.

use std::fmt;

/// What went wrong in a communication call or a launch.
///
/// Every variant names the operation and the ranks involved (and the tag for
/// point-to-point), so that a message read from a log of many ranks is enough
/// to find the faulty call.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A peer rank outside `0..size` (and not `PROC_NULL`/`ANY_SOURCE` where allowed).
    #[error("{op} on rank {caller}: peer rank {rank} is out of range for a communicator of size {size}")]
    RankOutOfRange {
        /// The operation.
        op: &'static str,
        /// The rank that made the call.
        caller: usize,
        /// The offending rank.
        rank: usize,
        /// The communicator's size.
        size: usize,
    },
    /// A collective's root outside `0..size`.
    #[error("{op} on rank {caller}: root {root} is out of range for a communicator of size {size}")]
    RootOutOfRange {
        /// The operation.
        op: &'static str,
        /// The rank that made the call.
        caller: usize,
        /// The offending root.
        root: usize,
        /// The communicator's size.
        size: usize,
    },
    /// A tag outside `0..=MAX_TAG` passed to a send (or a negative tag other than `ANY_TAG`).
    #[error("{op} on rank {caller}: tag {tag} is invalid; tags go from 0 to {max}")]
    InvalidTag {
        /// The operation.
        op: &'static str,
        /// The rank that made the call.
        caller: usize,
        /// The offending tag.
        tag: i32,
        /// The largest valid tag.
        max: i32,
    },
    /// The message is longer than the receive buffer. The message is consumed, as on MPI.
    #[error("{op}: message from rank {from} to rank {to} with tag {tag} has {sent} elements but the receive buffer holds {capacity}; pass a larger buffer, or probe first, or use recv_vec")]
    Truncated {
        /// The operation.
        op: &'static str,
        /// The sending rank.
        from: usize,
        /// The receiving rank.
        to: usize,
        /// The message's tag.
        tag: i32,
        /// Elements sent.
        sent: usize,
        /// Elements the receive buffer holds.
        capacity: usize,
    },
    /// Sender and receiver disagree on the element type. The message is not consumed.
    #[error("{op}: rank {from} sent elements of type {sent_type} with tag {tag} but rank {to} receives {recv_type}")]
    TypeMismatch {
        /// The operation.
        op: &'static str,
        /// The sending rank.
        from: usize,
        /// The receiving rank.
        to: usize,
        /// The message's tag.
        tag: i32,
        /// The sender's element type.
        sent_type: String,
        /// The receiver's element type.
        recv_type: String,
    },
    /// Ranks called different collectives, or the same one with arguments that disagree.
    #[error("collective mismatch on rank {caller}: {details}")]
    CollectiveMismatch {
        /// The rank that reports it.
        caller: usize,
        /// Which ranks called what.
        details: String,
    },
    /// An argument that can never be right (lengths, counts, dimensions, a missing root buffer).
    #[error("{op} on rank {caller}: {msg}")]
    InvalidArgument {
        /// The operation.
        op: &'static str,
        /// The rank that made the call.
        caller: usize,
        /// What was wrong and what to do.
        msg: String,
    },
    /// An object message could not be encoded or decoded as the requested type.
    #[error("{op} on rank {caller}: object message (from rank {peer}, tag {tag}) could not be {what}: {msg}")]
    Serialization {
        /// The operation.
        op: &'static str,
        /// The rank that made the call.
        caller: usize,
        /// The other rank.
        peer: usize,
        /// The tag (-1 for collectives).
        tag: i32,
        /// "encoded" or "decoded as `<type>`".
        what: String,
        /// The codec's message.
        msg: String,
    },
    /// This rank's blocked call was abandoned because the job is failing.
    #[error("rank {rank} abandoned {op}: {cause}")]
    Aborted {
        /// The rank whose call was abandoned.
        rank: usize,
        /// The call it was in.
        op: &'static str,
        /// Why the job is failing (another rank's failure or a deadlock).
        cause: String,
    },
    /// Every live rank waits on another: nobody can proceed.
    #[error("deadlock: every live rank is blocked\n{0}")]
    Deadlock(DeadlockReport),
    /// A rank's closure returned an error or panicked; the launcher reports the first one.
    #[error("rank {rank} failed: {message}")]
    RankFailed {
        /// The failing rank.
        rank: usize,
        /// Its error or panic message.
        message: String,
    },
    /// A rank called [`Comm::abort`](crate::Comm::abort): the whole job was stopped.
    #[error("rank {rank} aborted the job with code {code}")]
    JobAborted {
        /// The rank that called `abort`.
        rank: usize,
        /// The code it gave (an MPI job exits with it).
        code: i32,
    },
    /// The job could not be started as asked.
    #[error("launch: {0}")]
    Launch(String),
    /// A communication trace could not be written (see [`JobOptions::trace`](crate::JobOptions)).
    #[error("trace: {0}")]
    Trace(String),
    /// MPI reported an error the other variants do not describe (MPI backend).
    #[error("{op} on rank {caller}: MPI error: {msg}")]
    Mpi {
        /// The operation.
        op: &'static str,
        /// The rank that made the call.
        caller: usize,
        /// MPI's error text.
        msg: String,
    },
}

/// Who waits for whom when a deadlock is detected: one line per blocked rank.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadlockReport {
    /// One entry per rank that had not finished.
    pub waits: Vec<Wait>,
}

/// What one blocked rank was waiting for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wait {
    /// The blocked rank (in the world).
    pub rank: usize,
    /// The call it is blocked in (`recv`, `send`, `bcast`, ...).
    pub op: &'static str,
    /// The peer it waits for, as text (`rank 1`, `any rank`, `ranks [1, 2]`).
    pub peer: String,
    /// The tag it waits on, if any.
    pub tag: Option<i32>,
}

impl fmt::Display for DeadlockReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, w) in self.waits.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "  rank {} waits in {} for {}", w.rank, w.op, w.peer)?;
            match w.tag {
                Some(-1) => write!(f, " (any tag)")?,
                Some(t) => write!(f, " (tag {t})")?,
                None => {}
            }
        }
        Ok(())
    }
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// True if this error only says another rank failed first (not a cause in itself).
    pub fn is_abort(&self) -> bool {
        matches!(self, Error::Aborted { .. })
    }
}
