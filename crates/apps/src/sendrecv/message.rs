//! The two objects `sendrecv` exchanges, printed the way mpi4py prints dicts.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What rank 0 sends to rank 1: `{data: [1, 2, 3], sender: 0}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payload {
    /// The data.
    pub data: Vec<i64>,
    /// The sending rank.
    pub sender: usize,
}

/// What rank 1 sends back: `{status: "ok", receiver: 1}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    /// `"ok"` when the payload arrived.
    pub status: String,
    /// The replying rank.
    pub receiver: usize,
}

impl fmt::Display for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{{data: {:?}, sender: {}}}", self.data, self.sender)
    }
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{{status: {:?}, receiver: {}}}", self.status, self.receiver)
    }
}
