//! Wait states as Scalasca defines them: a receive waiting for a send that started late
//! (late sender), a send waiting for a receive posted late (late receiver), and ranks
//! waiting in a collective for the last one to arrive (or for the root).

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::read::{Call, Trace};

/// The kinds of wait state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum WaitKind {
    /// A blocking receive (or the wait of a nonblocking one) entered before its send.
    LateSender,
    /// A send blocked until its receive was posted.
    LateReceiver,
    /// Waiting in a collective for the last rank to arrive (the root, for a broadcast
    /// or scatter; the others, for the root of a gather or reduce).
    Collective,
}

impl WaitKind {
    /// The name in reports.
    pub fn name(self) -> &'static str {
        match self {
            WaitKind::LateSender => "late sender",
            WaitKind::LateReceiver => "late receiver",
            WaitKind::Collective => "wait at collective",
        }
    }
}

/// One instance of waiting.
#[derive(Debug, Clone, Serialize)]
pub struct WaitInstance {
    /// What kind.
    pub kind: WaitKind,
    /// The rank that waited.
    pub rank: usize,
    /// The call site: the operation, and the program phase it was in.
    pub site: String,
    /// The rank it waited for.
    pub waited_for: usize,
    /// How long (us).
    pub wait_us: f64,
    /// When the wait began (us).
    pub at_us: f64,
}

/// The total of one kind at one call site of one rank.
#[derive(Debug, Clone, Serialize)]
pub struct SiteWait {
    /// The rank that waited.
    pub rank: usize,
    /// The call site.
    pub site: String,
    /// What kind.
    pub kind: WaitKind,
    /// Instances.
    pub count: u64,
    /// Total (us).
    pub total_us: f64,
}

/// Every wait state of a trace.
#[derive(Debug, Clone, Default, Serialize)]
pub struct WaitStates {
    /// Per rank: late sender, late receiver and collective totals (us).
    pub per_rank: Vec<[f64; 3]>,
    /// Per rank and call site, most first.
    pub sites: Vec<SiteWait>,
    /// The longest instances, longest first.
    pub worst: Vec<WaitInstance>,
}

fn site(c: &Call) -> String {
    match &c.phase {
        Some(p) => format!("{} in {p}", c.op),
        None => c.op.clone(),
    }
}

fn is_blocking_recv(c: &Call) -> bool {
    !c.op.starts_with("test") && !c.op.starts_with("irecv") && !c.op.starts_with("isend")
}

fn is_blocking_send(c: &Call) -> bool {
    matches!(c.op.as_str(), "send" | "send_obj" | "sendrecv" | "sendrecv_obj")
}

/// One to many: the others wait for the root.
fn from_root(op: &str) -> bool {
    matches!(op, "bcast" | "bcast_obj" | "scatter" | "scatterv" | "scatter_obj")
}

/// Many to one: the root waits for the others.
fn to_root(op: &str) -> bool {
    matches!(op, "gather" | "gatherv" | "gather_obj" | "reduce" | "reduce_obj" | "reduce_in_place")
}

/// Finds every wait state of `trace`.
pub fn wait_states(trace: &Trace) -> WaitStates {
    let mut all = Vec::new();
    // Point to point: per receiving (or sending) call, its longest wait.
    let mut recv_waits: HashMap<(usize, usize), WaitInstance> = HashMap::new();
    let mut send_waits: HashMap<(usize, usize), WaitInstance> = HashMap::new();
    for m in &trace.messages {
        let (Some(sc), Some(rc)) = (m.send_call, m.recv_call) else { continue };
        let (Some(s), Some(r)) = (trace.ranks[m.src].calls.get(sc), trace.ranks[m.dst].calls.get(rc)) else {
            continue;
        };
        if s.start > r.start && is_blocking_recv(r) {
            let wait = s.start.min(r.end) - r.start;
            let w = WaitInstance {
                kind: WaitKind::LateSender,
                rank: m.dst,
                site: site(r),
                waited_for: m.src,
                wait_us: wait,
                at_us: r.start,
            };
            let e = recv_waits.entry((m.dst, rc)).or_insert_with(|| w.clone());
            if w.wait_us > e.wait_us {
                *e = w;
            }
        }
        if r.start > s.start && s.end > r.start && is_blocking_send(s) {
            let w = WaitInstance {
                kind: WaitKind::LateReceiver,
                rank: m.src,
                site: site(s),
                waited_for: m.dst,
                wait_us: r.start - s.start,
                at_us: s.start,
            };
            let e = send_waits.entry((m.src, sc)).or_insert_with(|| w.clone());
            if w.wait_us > e.wait_us {
                *e = w;
            }
        }
    }
    all.extend(recv_waits.into_values());
    all.extend(send_waits.into_values());
    // Collectives: the instances by (communicator, number), blocking ones only.
    let mut instances: BTreeMap<(u64, u64), Vec<(usize, &Call)>> = BTreeMap::new();
    for r in &trace.ranks {
        for c in &r.calls {
            if c.cat == "collective" && c.seq > 0 && !c.op.starts_with('i') {
                instances.entry((c.comm, c.seq)).or_default().push((r.rank, c));
            }
        }
    }
    for members in instances.values() {
        let op = members[0].1.op.as_str();
        let root = members.iter().find(|(r, c)| c.peer == *r as i64).map(|(r, c)| (*r, c.start));
        if from_root(op) {
            let Some((root, root_start)) = root else { continue };
            for (r, c) in members.iter().filter(|(r, _)| *r != root) {
                push_wait(&mut all, *r, c, root, root_start);
            }
        } else if to_root(op) {
            let Some((root, _)) = root else { continue };
            let (last, last_start) = latest(members.iter().filter(|(r, _)| *r != root));
            if let Some((_, c)) = members.iter().find(|(r, _)| *r == root) {
                push_wait(&mut all, root, c, last, last_start);
            }
        } else {
            let (last, last_start) = latest(members.iter());
            for (r, c) in members {
                push_wait(&mut all, *r, c, last, last_start);
            }
        }
    }
    summarize(trace.ranks.len(), all)
}

fn latest<'a, 'c: 'a>(members: impl Iterator<Item = &'a (usize, &'c Call)>) -> (usize, f64) {
    members.fold((0, f64::NEG_INFINITY), |acc, (r, c)| if c.start > acc.1 { (*r, c.start) } else { acc })
}

fn push_wait(all: &mut Vec<WaitInstance>, rank: usize, c: &Call, waited_for: usize, until: f64) {
    let wait = until.min(c.end) - c.start;
    if wait > 0.0 && waited_for != rank {
        all.push(WaitInstance {
            kind: WaitKind::Collective,
            rank,
            site: site(c),
            waited_for,
            wait_us: wait,
            at_us: c.start,
        });
    }
}

fn summarize(n: usize, mut all: Vec<WaitInstance>) -> WaitStates {
    let mut per_rank = vec![[0.0; 3]; n];
    let mut sites: BTreeMap<(usize, String, WaitKind), (u64, f64)> = BTreeMap::new();
    for w in &all {
        if w.rank < n {
            per_rank[w.rank][w.kind as usize] += w.wait_us;
        }
        let e = sites.entry((w.rank, w.site.clone(), w.kind)).or_default();
        e.0 += 1;
        e.1 += w.wait_us;
    }
    let mut sites: Vec<SiteWait> = sites
        .into_iter()
        .map(|((rank, site, kind), (count, total_us))| SiteWait { rank, site, kind, count, total_us })
        .collect();
    sites.sort_by(|a, b| b.total_us.total_cmp(&a.total_us));
    all.sort_by(|a, b| b.wait_us.total_cmp(&a.wait_us));
    all.truncate(50);
    WaitStates { per_rank, sites, worst: all }
}

impl WaitStates {
    /// The report as text.
    pub fn text(&self, top: usize) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let _ = writeln!(s, "\nWait states (Scalasca), ms");
        let _ = writeln!(s, "  rank  late sender  late receiver  at collectives");
        for (r, w) in self.per_rank.iter().enumerate() {
            let _ = writeln!(s, "  {r:>4} {:>12.3} {:>14.3} {:>15.3}", w[0] / 1e3, w[1] / 1e3, w[2] / 1e3);
        }
        if !self.sites.is_empty() {
            let _ = writeln!(s, "\nWaiting per call site, most first");
            for w in self.sites.iter().take(top) {
                let _ = writeln!(
                    s,
                    "  rank {:>3}  {:<18} {:<28} {:>6} x {:>11.3} ms",
                    w.rank,
                    w.kind.name(),
                    w.site,
                    w.count,
                    w.total_us / 1e3
                );
            }
            let _ = writeln!(s, "\nWorst instances");
            for w in self.worst.iter().take(top) {
                let _ = writeln!(
                    s,
                    "  {:>10.3} ms  rank {:>3} {:<18} {:<28} waiting for rank {} (at {:.3} ms)",
                    w.wait_us / 1e3,
                    w.rank,
                    w.kind.name(),
                    w.site,
                    w.waited_for,
                    w.at_us / 1e3
                );
            }
        }
        s
    }
}
