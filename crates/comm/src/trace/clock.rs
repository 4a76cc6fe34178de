//! Aligning the ranks' clocks under MPI: ping-pongs with rank 0, the fastest round wins
//! (Cristian's algorithm; its error is at most half that round trip).

use serde::{Deserialize, Serialize};

use super::record::now_ns;
use crate::comm::Comm;
use crate::error::Result;

/// Ping-pongs per rank; the one with the shortest round trip gives the estimate.
const ROUNDS: usize = 16;

/// One estimate of a rank's clock against rank 0's.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub(crate) struct Sync {
    /// When (on this rank's clock, ns) the estimate holds.
    pub at_ns: u64,
    /// Add to this rank's time to get rank 0's (ns).
    pub offset_ns: i64,
    /// Half the best round trip: the most the offset can be off by (ns).
    pub error_ns: u64,
}

/// Estimates every rank's offset from rank 0 (collective on `comm`); `one_clock` when the
/// ranks share a clock (threads): then nothing is exchanged.
pub(crate) fn sync(comm: &Comm, one_clock: bool) -> Result<Sync> {
    if one_clock || comm.size() == 1 {
        return Ok(Sync { at_ns: now_ns(), offset_ns: 0, error_ns: 0 });
    }
    if comm.rank() == 0 {
        let mut ping = [0u64];
        for r in 1..comm.size() {
            for _ in 0..ROUNDS {
                comm.recv(&mut ping, r, 0)?;
                comm.send(&[now_ns()], r, 0)?;
            }
        }
        return Ok(Sync { at_ns: now_ns(), offset_ns: 0, error_ns: 0 });
    }
    let mut best = Sync { at_ns: 0, offset_ns: 0, error_ns: u64::MAX };
    let mut pong = [0u64];
    for _ in 0..ROUNDS {
        let t1 = now_ns();
        comm.send(&[t1], 0, 0)?;
        comm.recv(&mut pong, 0, 0)?;
        let t3 = now_ns();
        let half = (t3 - t1) / 2;
        if half < best.error_ns {
            let mid = t1 + half;
            best = Sync { at_ns: mid, offset_ns: pong[0] as i64 - mid as i64, error_ns: half };
        }
    }
    Ok(best)
}

/// A rank's local time to rank 0's: offsets at the start and the end, linear between
/// them (drift).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Conv {
    start: Sync,
    end: Sync,
}

impl Conv {
    pub fn new(start: Sync, end: Sync) -> Self {
        Conv { start, end }
    }

    #[inline]
    pub fn global(&self, t: u64) -> u64 {
        let (s, e) = (self.start, self.end);
        let off = if e.at_ns > s.at_ns && e.offset_ns != s.offset_ns {
            let f = (t as f64 - s.at_ns as f64) / (e.at_ns - s.at_ns) as f64;
            s.offset_ns as f64 + f * (e.offset_ns - s.offset_ns) as f64
        } else {
            s.offset_ns as f64
        };
        (t as f64 + off).max(0.0) as u64
    }
}
