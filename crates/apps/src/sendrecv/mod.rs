//! `sendrecv`: rank 0 sends an object to rank 1 (tag 11), rank 1 prints it and replies
//! (tag 22), the other ranks idle, and everybody meets at a barrier. Needs 2 ranks.
//!
//! ```
//! use parsci_apps::{execute, sendrecv::{serial, SendRecv}};
//! use parsci_comm::Backend;
//! let run = execute(&SendRecv, Backend::Threads(3)).unwrap();
//! assert_eq!(run.result.reply, serial::expected_reply());
//! assert!(execute(&SendRecv, Backend::Threads(1)).is_err());
//! ```

mod message;
pub mod parallel;
pub mod serial;

pub use message::{Payload, Reply};

use parsci_comm::{Comm, Tag};
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::program::{Output, Program};

/// The tag of rank 0's payload.
pub const DATA_TAG: Tag = 11;
/// The tag of rank 1's reply.
pub const REPLY_TAG: Tag = 22;

/// The `sendrecv` program (no parameters).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SendRecv;

/// What `sendrecv` returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendRecvResult {
    /// What rank 0 sent.
    pub sent: Payload,
    /// What rank 1 received.
    pub received: Payload,
    /// What rank 0 got back.
    pub reply: Reply,
}

impl Program for SendRecv {
    type Result = SendRecvResult;
    const NAME: &'static str = "sendrecv";
    const MIN_RANKS: usize = 2;

    fn run(&self, comm: &Comm) -> Result<Option<Output<SendRecvResult>>> {
        parallel::run(comm)
    }

    fn check(&self, result: &SendRecvResult, _ranks: usize) -> Result<(), String> {
        let (payload, reply) = (serial::payload(), serial::expected_reply());
        if result.received != payload {
            return Err(format!("rank 1 received {}, expected {payload}", result.received));
        }
        if result.reply != reply {
            return Err(format!("rank 0 got the reply {}, expected {reply}", result.reply));
        }
        Ok(())
    }

    fn summary(&self, result: &SendRecvResult) -> String {
        format!("reply {}", result.reply)
    }
}
