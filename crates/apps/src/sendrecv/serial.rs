//! The serial reference: what is sent and what the reply must be.

use super::message::{Payload, Reply};

/// The object rank 0 sends: `{data: [1, 2, 3], sender: 0}`.
pub fn payload() -> Payload {
    Payload { data: vec![1, 2, 3], sender: 0 }
}

/// The reply rank 1 must send back: `{status: "ok", receiver: 1}`.
pub fn expected_reply() -> Reply {
    Reply { status: "ok".into(), receiver: 1 }
}
