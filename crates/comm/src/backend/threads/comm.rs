//! A thread-backend communicator: a group of world ranks with its own context.

use std::cell::Cell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::{Arc, Mutex};

use super::collective::CollArea;
use super::endpoint::Endpoint;
use super::world::World;
use crate::error::Result;

/// What all members of one communicator share.
pub(crate) struct CommShared {
    pub ctx: u32,
    /// Communicator rank -> world rank.
    pub group: Vec<usize>,
    pub coll: CollArea,
    /// Nonblocking collectives some ranks have started, by sequence number.
    pub nonblocking: super::spin_lock::SpinLock<HashMap<u64, Arc<super::nonblocking::Pending>>>,
    /// Communicators being created by `split`/`dup`, handed from leader to members:
    /// (collective number, color) -> (communicator, members still to take it).
    handoff: Mutex<HashMap<(u64, u32), Handoff>>,
}

impl CommShared {
    pub fn new(ctx: u32, group: Vec<usize>) -> Self {
        let n = group.len();
        CommShared {
            ctx,
            group,
            coll: CollArea::new(n),
            nonblocking: super::spin_lock::SpinLock::new(HashMap::new()),
            handoff: Mutex::new(HashMap::new()),
        }
    }
}

/// A new communicator and how many members have yet to take it.
type Handoff = (Arc<CommShared>, usize);

pub(crate) struct ThreadComm {
    pub ep: Rc<Endpoint>,
    pub shared: Arc<CommShared>,
    pub rank: usize,
    /// Collectives started on this communicator by this rank.
    pub coll_seq: Cell<u64>,
    /// Barrier phases passed by this rank.
    pub bar_seq: Cell<u64>,
    /// Nonblocking collectives started on this communicator by this rank.
    pub icoll_seq: Cell<u64>,
    /// The last collective that every rank is known to have started (small communicators).
    pub met: Cell<u64>,
}

impl Drop for ThreadComm {
    fn drop(&mut self) {
        // Requests borrow their communicator, so only leaked ones can still be posted.
        self.ep.forget_context(self.shared.ctx);
    }
}

impl ThreadComm {
    pub fn new(ep: Rc<Endpoint>, shared: Arc<CommShared>, rank: usize) -> Self {
        ThreadComm {
            ep,
            shared,
            rank,
            coll_seq: Cell::new(0),
            bar_seq: Cell::new(0),
            icoll_seq: Cell::new(0),
            met: Cell::new(0),
        }
    }

    pub fn rank(&self) -> usize {
        self.rank
    }
    pub fn size(&self) -> usize {
        self.shared.group.len()
    }
    pub fn processor_name(&self) -> String {
        self.ep.world.host.clone()
    }
    pub fn world(&self) -> &World {
        &self.ep.world
    }
    /// This rank's world rank.
    pub fn me(&self) -> usize {
        self.ep.me
    }

    /// Stops the whole job: every rank's blocked call returns `Error::Aborted` and
    /// `launch` returns `Error::JobAborted`; this rank's closure unwinds.
    pub fn abort(&self, code: i32) -> ! {
        self.world().fail(super::world::Failure::Abort { rank: self.shared.group[self.rank], code });
        std::panic::resume_unwind(Box::new(super::run::AbortUnwind))
    }

    pub fn dup(&self) -> Result<ThreadComm> {
        Ok(self.split(Some(0), 0)?.expect("every rank has color 0"))
    }

    pub fn split(&self, color: Option<u32>, key: i32) -> Result<Option<ThreadComm>> {
        let n = self.size();
        let seq = self.coll_seq.get();
        // Everyone learns everyone's (color, key): -1 stands for "no color".
        let mine = [color.map_or(-1, i64::from), i64::from(key)];
        let mut all = vec![0i64; 2 * n];
        self.allgather(&mine, &mut all)?;
        let Some(color) = color else {
            self.barrier()?;
            return Ok(None);
        };
        let mut members: Vec<(i64, usize)> =
            (0..n).filter(|&r| all[2 * r] == i64::from(color)).map(|r| (all[2 * r + 1], r)).collect();
        members.sort_unstable();
        let leader = members.iter().map(|&(_, r)| r).min().expect("this rank is a member");
        let new_rank = members.iter().position(|&(_, r)| r == self.rank).expect("member");
        let key = (seq, color);
        if self.rank == leader {
            let group = members.iter().map(|&(_, r)| self.shared.group[r]).collect();
            let shared = Arc::new(CommShared::new(self.world().new_context(), group));
            let mut h = self.shared.handoff.lock().unwrap_or_else(|p| p.into_inner());
            h.insert(key, (shared.clone(), members.len() - 1));
            drop(h);
            self.barrier()?;
            return Ok(Some(ThreadComm::new(self.ep.clone(), shared, new_rank)));
        }
        self.barrier()?;
        let mut h = self.shared.handoff.lock().unwrap_or_else(|p| p.into_inner());
        let entry = h.get_mut(&key).expect("the leader inserted it before the barrier");
        let shared = entry.0.clone();
        entry.1 -= 1;
        if entry.1 == 0 {
            h.remove(&key);
        }
        Ok(Some(ThreadComm::new(self.ep.clone(), shared, new_rank)))
    }
}
