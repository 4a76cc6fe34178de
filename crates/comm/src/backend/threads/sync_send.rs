//! Strict mode's synchronous sends: a send completes only once a receive has matched
//! its message, as `MPI_Ssend`, so that a program relying on MPI buffering its sends
//! is stopped by the deadlock detector here instead of hanging on a cluster.
//!
//! The message carries a [`SyncToken`]; the receiver drops it when a receive matches
//! the message (a posted receive takes it, or a blocking receive delivers it), or when
//! the message is discarded, and dropping it tells the sender.

use std::sync::atomic::{AtomicBool, Ordering::*};
use std::sync::{Arc, Weak};

use super::world::World;

/// What the sender of a synchronous message waits on.
pub(crate) struct SyncFlag {
    matched: AtomicBool,
    /// The sender's world rank, to wake it.
    sender: usize,
    world: Weak<World>,
}

impl SyncFlag {
    /// True once a receive has matched the message.
    #[inline]
    pub fn matched(&self) -> bool {
        self.matched.load(Acquire)
    }
}

/// Travels with a synchronous message; dropping it completes the send.
pub(crate) struct SyncToken(Arc<SyncFlag>);

impl SyncToken {
    /// A token for a message sent by world rank `sender`, and the flag it sets.
    pub fn new(world: &Arc<World>, sender: usize) -> (SyncToken, Arc<SyncFlag>) {
        let flag = Arc::new(SyncFlag { matched: AtomicBool::new(false), sender, world: Arc::downgrade(world) });
        (SyncToken(flag.clone()), flag)
    }
}

impl Drop for SyncToken {
    fn drop(&mut self) {
        self.0.matched.store(true, Release);
        // The world is gone only when the job is over: nobody waits any more.
        if let Some(world) = self.0.world.upgrade() {
            world.wake(self.0.sender);
        }
    }
}
