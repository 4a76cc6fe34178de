//! An mpiP-style profile of a trace: time in communication per rank, per operation,
//! and the communication matrix.

use std::collections::BTreeMap;

use serde::Serialize;

use super::read::Trace;
use super::waits::{wait_states, WaitStates};

/// One rank's time (us).
#[derive(Debug, Clone, Serialize)]
pub struct RankTime {
    /// World rank.
    pub rank: usize,
    /// From its first event to its last.
    pub wall_us: f64,
    /// Inside communication calls.
    pub comm_us: f64,
    /// The rest.
    pub compute_us: f64,
}

/// One operation over all ranks.
#[derive(Debug, Clone, Serialize)]
pub struct OpStats {
    /// The operation.
    pub op: String,
    /// Calls.
    pub count: u64,
    /// Total time in them (us).
    pub total_us: f64,
    /// Mean time per call (us).
    pub mean_us: f64,
    /// Longest call (us).
    pub max_us: f64,
    /// Bytes the calls were given.
    pub bytes: u64,
}

/// What `parsci trace` reports.
#[derive(Debug, Clone, Serialize)]
pub struct Profile {
    /// `threads` or `mpi`.
    pub backend: String,
    /// The clocks' estimated error (us).
    pub clock_error_us: f64,
    /// Per rank.
    pub ranks: Vec<RankTime>,
    /// Per operation, most time first.
    pub ops: Vec<OpStats>,
    /// `bytes[src][dst]`: point-to-point bytes sent.
    pub matrix_bytes: Vec<Vec<u64>>,
    /// `messages[src][dst]`: point-to-point messages sent.
    pub matrix_messages: Vec<Vec<u64>>,
    /// Scalasca's wait states.
    pub waits: WaitStates,
}

impl Profile {
    /// The profile of `trace`.
    pub fn of(trace: &Trace) -> Profile {
        let n = trace.ranks.len();
        let mut ranks = Vec::with_capacity(n);
        let mut ops: BTreeMap<&str, OpStats> = BTreeMap::new();
        for r in &trace.ranks {
            let mut comm = 0.0;
            for c in &r.calls {
                let d = (c.end - c.start).max(0.0);
                comm += d;
                let s = ops.entry(&c.op).or_insert_with(|| OpStats {
                    op: c.op.clone(),
                    count: 0,
                    total_us: 0.0,
                    mean_us: 0.0,
                    max_us: 0.0,
                    bytes: 0,
                });
                s.count += 1;
                s.total_us += d;
                s.max_us = s.max_us.max(d);
                s.bytes += c.bytes;
            }
            let wall = (r.last - r.first).max(0.0);
            ranks.push(RankTime { rank: r.rank, wall_us: wall, comm_us: comm, compute_us: (wall - comm).max(0.0) });
        }
        let mut ops: Vec<OpStats> = ops.into_values().collect();
        for s in &mut ops {
            s.mean_us = s.total_us / s.count.max(1) as f64;
        }
        ops.sort_by(|a, b| b.total_us.total_cmp(&a.total_us));
        let mut matrix_bytes = vec![vec![0; n]; n];
        let mut matrix_messages = vec![vec![0; n]; n];
        for m in &trace.messages {
            if m.src < n && m.dst < n {
                matrix_bytes[m.src][m.dst] += m.bytes;
                matrix_messages[m.src][m.dst] += 1;
            }
        }
        Profile {
            backend: trace.backend.clone(),
            clock_error_us: trace.clock_error_us,
            ranks,
            ops,
            matrix_bytes,
            matrix_messages,
            waits: wait_states(trace),
        }
    }

    /// The report as text; `top` lines of operations, call sites and worst waits.
    pub fn text(&self, top: usize) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let ms = |us: f64| us / 1e3;
        let _ = writeln!(
            s,
            "Time per rank ({} backend{})",
            if self.backend.is_empty() { "?" } else { &self.backend },
            if self.clock_error_us > 0.0 {
                format!(", clocks aligned to +-{:.1} us", self.clock_error_us)
            } else {
                String::new()
            }
        );
        let _ = writeln!(s, "  rank    wall ms    comm ms  compute ms   comm %");
        for r in &self.ranks {
            let pct = if r.wall_us > 0.0 { 100.0 * r.comm_us / r.wall_us } else { 0.0 };
            let _ = writeln!(
                s,
                "  {:>4} {:>10.3} {:>10.3} {:>11.3} {:>7.1}%",
                r.rank,
                ms(r.wall_us),
                ms(r.comm_us),
                ms(r.compute_us),
                pct
            );
        }
        let _ = writeln!(s, "\nOperations (all ranks, most time first)");
        let _ = writeln!(
            s,
            "  {:<16} {:>9} {:>11} {:>10} {:>10} {:>12}",
            "op", "calls", "total ms", "mean us", "max us", "bytes"
        );
        for o in self.ops.iter().take(top) {
            let _ = writeln!(
                s,
                "  {:<16} {:>9} {:>11.3} {:>10.2} {:>10.2} {:>12}",
                o.op,
                o.count,
                ms(o.total_us),
                o.mean_us,
                o.max_us,
                o.bytes
            );
        }
        let n = self.matrix_bytes.len();
        if self.matrix_messages.iter().flatten().any(|&m| m > 0) {
            let _ = writeln!(s, "\nCommunication matrix (point-to-point bytes / messages, row sends to column)");
            let _ = write!(s, "  {:>6}", "");
            for d in 0..n {
                let _ = write!(s, " {:>16}", format!("to {d}"));
            }
            let _ = writeln!(s);
            for src in 0..n {
                let _ = write!(s, "  {:>6}", format!("{src}"));
                for d in 0..n {
                    let _ =
                        write!(s, " {:>16}", format!("{}/{}", self.matrix_bytes[src][d], self.matrix_messages[src][d]));
                }
                let _ = writeln!(s);
            }
        }
        s += &self.waits.text(top);
        s
    }
}
