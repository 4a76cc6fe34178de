//! A traced communicator's identity: the same id on every member, on both backends.

use std::cell::Cell;
use std::rc::Rc;

use crate::comm::Comm;
use crate::error::Result;
use crate::timing;

/// Ids fit a JSON number exactly (53 bits).
const ID_MASK: u64 = (1 << 53) - 1;

/// What the trace knows of one communicator on one rank.
pub(crate) struct CommTrace {
    /// 0 for the job's world; derived ones hash their parent, creation number and group.
    pub id: u64,
    /// Communicator rank -> world rank.
    pub group: Vec<u32>,
    children: Cell<u64>,
    coll: Cell<u64>,
    icoll: Cell<u64>,
}

impl CommTrace {
    pub fn new(id: u64, group: Vec<u32>) -> Self {
        CommTrace { id, group, children: Cell::new(0), coll: Cell::new(0), icoll: Cell::new(0) }
    }
    pub fn next_coll(&self) -> u64 {
        self.coll.set(self.coll.get() + 1);
        self.coll.get()
    }
    pub fn next_icoll(&self) -> u64 {
        self.icoll.set(self.icoll.get() + 1);
        self.icoll.get()
    }
}

/// SplitMix64's finaliser: a well-spread hash of one word.
pub(crate) fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

impl Comm {
    /// Gives a communicator made from this one (`dup`, `split`, Cartesian) its trace
    /// identity. Every rank of this communicator calls it, with `None` where it gets no
    /// new communicator, so that the creation numbers agree. Inside the creating call.
    pub(crate) fn derive_trace(&self, child: Option<Comm>) -> Result<Option<Comm>> {
        if !timing::tracing() {
            return Ok(child);
        }
        let Some(parent) = self.trace_info() else { return Ok(child) };
        parent.children.set(parent.children.get() + 1);
        let k = parent.children.get();
        let Some(child) = child else { return Ok(None) };
        let me = super::record::with(|r| r.rank).unwrap_or(0);
        let mut group = vec![0u32; child.size()];
        child.allgather(&[me], &mut group)?;
        let id = mix(mix(parent.id ^ k) ^ u64::from(group[0]) ^ ((group.len() as u64) << 32)) & ID_MASK;
        let _ = child.trace.set(Rc::new(CommTrace::new(id.max(1), group)));
        Ok(Some(child))
    }
}
