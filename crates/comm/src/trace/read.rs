//! Reading a trace back: the calls, phases and messages of every rank, with the file's
//! consistency checked (every slice closed, every flow paired, time ordered per track).

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;

use crate::error::{Error, Result};

/// One communication call of one rank (times in microseconds).
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// The operation (`send`, `recv`, `wait`, `allreduce`, ...).
    pub op: String,
    /// `p2p`, `collective` or `wait`.
    pub cat: String,
    /// When it was entered.
    pub start: f64,
    /// When it returned.
    pub end: f64,
    /// Its peer or root (world rank): -1 any source, -2 none.
    pub peer: i64,
    /// Its tag (-1 where none).
    pub tag: i32,
    /// The bytes this rank gave it.
    pub bytes: u64,
    /// The communicator's trace id (0: the job's world).
    pub comm: u64,
    /// A collective's instance number on its communicator (0 for others).
    pub seq: u64,
    /// The innermost program phase it happened in.
    pub phase: Option<String>,
}

/// A program phase of one rank ([`Comm::span`](crate::Comm::span)).
#[derive(Debug, Clone, PartialEq)]
pub struct Phase {
    /// Its name.
    pub name: String,
    /// Start (us).
    pub start: f64,
    /// End (us).
    pub end: f64,
    /// How many phases enclose it.
    pub depth: usize,
}

/// One message: its send and its receive.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// Sending world rank.
    pub src: usize,
    /// Receiving world rank.
    pub dst: usize,
    /// Tag.
    pub tag: i32,
    /// Length in bytes.
    pub bytes: u64,
    /// Communicator id.
    pub comm: u64,
    /// Its number among the messages of (comm, src, dst, tag).
    pub seq: u64,
    /// Index of the call that sent it in `ranks[src].calls`.
    pub send_call: Option<usize>,
    /// Index of the call that received it (a receive, `wait` or `test`) in `ranks[dst].calls`.
    pub recv_call: Option<usize>,
}

/// One rank's part of a trace.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RankTrace {
    /// Its world rank.
    pub rank: usize,
    /// Its label (`rank 0 (host)`).
    pub name: String,
    /// Its calls, in order.
    pub calls: Vec<Call>,
    /// Its phases, in order of their start.
    pub phases: Vec<Phase>,
    /// Its first event (us).
    pub first: f64,
    /// Its last event (us).
    pub last: f64,
}

/// A whole trace, read back.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Trace {
    /// Every rank, by world rank.
    pub ranks: Vec<RankTrace>,
    /// Every message whose send or receive is in the file.
    pub messages: Vec<Message>,
    /// `threads` or `mpi`.
    pub backend: String,
    /// The clock alignment's estimated error (us; 0 on one clock).
    pub clock_error_us: f64,
    /// What is wrong with the file (empty for a well-formed trace).
    pub problems: Vec<String>,
}

#[derive(Deserialize)]
struct FileJson {
    #[serde(rename = "traceEvents")]
    events: Vec<EventJson>,
    #[serde(rename = "otherData", default)]
    other: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct EventJson {
    ph: String,
    #[serde(default)]
    pid: u64,
    #[serde(default)]
    tid: u64,
    #[serde(default)]
    ts: f64,
    #[serde(default)]
    name: String,
    #[serde(default)]
    cat: String,
    #[serde(default)]
    id: Option<u64>,
    #[serde(default)]
    args: Option<ArgsJson>,
}

#[derive(Deserialize, Default)]
struct ArgsJson {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    peer: Option<i64>,
    #[serde(default)]
    tag: Option<i32>,
    #[serde(default)]
    bytes: Option<u64>,
    #[serde(default)]
    comm: Option<u64>,
    #[serde(default)]
    seq: Option<u64>,
    #[serde(default)]
    src: Option<usize>,
    #[serde(default)]
    dst: Option<usize>,
}

/// One end of a flow: its rank and the call it lies in.
type End = Option<(usize, Option<usize>)>;

/// A slice still open on a track: a call (index) or a phase (index).
enum Open {
    Call(usize, String),
    Phase(usize, String),
}

impl Trace {
    /// Reads a trace written by parsci (or any Chrome trace whose events parsci knows).
    pub fn read(path: &Path) -> Result<Trace> {
        let file =
            std::fs::File::open(path).map_err(|e| Error::Trace(format!("could not open {}: {e}", path.display())))?;
        let json: FileJson = serde_json::from_reader(std::io::BufReader::with_capacity(1 << 20, file))
            .map_err(|e| Error::Trace(format!("{} is not a Chrome trace-event JSON file: {e}", path.display())))?;
        Ok(Trace::from_json(json))
    }

    fn from_json(json: FileJson) -> Trace {
        let mut t = Trace::default();
        if let Some(o) = &json.other {
            t.backend = o["backend"].as_str().unwrap_or("").to_string();
            t.clock_error_us = o["clock"]["error_us"].as_f64().unwrap_or(0.0);
        }
        let rank_of = |t: &mut Trace, pid: u64| -> usize {
            let r = pid as usize;
            while t.ranks.len() <= r {
                let rank = t.ranks.len();
                t.ranks.push(RankTrace {
                    rank,
                    name: format!("rank {rank}"),
                    first: f64::INFINITY,
                    ..Default::default()
                });
            }
            r
        };
        let mut open: HashMap<(u64, u64), Vec<Open>> = HashMap::new();
        let mut last_ts: HashMap<(u64, u64), f64> = HashMap::new();
        // Flow id -> (send: (rank, call), recv: (rank, call), message fields).
        let mut flows: HashMap<u64, (End, End, Message)> = HashMap::new();
        for e in json.events {
            if e.ph == "M" {
                if e.name == "process_name" {
                    let r = rank_of(&mut t, e.pid);
                    if let Some(n) = e.args.and_then(|a| a.name) {
                        t.ranks[r].name = n;
                    }
                }
                continue;
            }
            let r = rank_of(&mut t, e.pid);
            let track = (e.pid, e.tid);
            let prev = last_ts.insert(track, e.ts).unwrap_or(f64::NEG_INFINITY);
            if e.ts < prev {
                t.problems.push(format!("rank {r}: time goes back from {prev} to {} us", e.ts));
            }
            let rt = &mut t.ranks[r];
            rt.first = rt.first.min(e.ts);
            rt.last = rt.last.max(e.ts);
            let stack = open.entry(track).or_default();
            let args = e.args.unwrap_or_default();
            match e.ph.as_str() {
                "B" if e.cat == "phase" => {
                    rt.phases.push(Phase { name: e.name.clone(), start: e.ts, end: f64::NAN, depth: stack.len() });
                    stack.push(Open::Phase(rt.phases.len() - 1, e.name));
                }
                "B" => {
                    let phase = stack.iter().rev().find_map(|o| match o {
                        Open::Phase(i, _) => Some(rt.phases[*i].name.clone()),
                        Open::Call(..) => None,
                    });
                    rt.calls.push(Call {
                        op: e.name.clone(),
                        cat: e.cat,
                        start: e.ts,
                        end: f64::NAN,
                        peer: -2,
                        tag: -1,
                        bytes: 0,
                        comm: 0,
                        seq: 0,
                        phase,
                    });
                    stack.push(Open::Call(rt.calls.len() - 1, e.name));
                }
                "E" => match stack.pop() {
                    Some(Open::Call(i, name)) if name == e.name || e.name.is_empty() => {
                        let c = &mut rt.calls[i];
                        c.end = e.ts;
                        c.peer = args.peer.unwrap_or(-2);
                        c.tag = args.tag.unwrap_or(-1);
                        c.bytes = args.bytes.unwrap_or(0);
                        c.comm = args.comm.unwrap_or(0);
                        c.seq = args.seq.unwrap_or(0);
                    }
                    Some(Open::Phase(i, name)) if name == e.name || e.name.is_empty() => rt.phases[i].end = e.ts,
                    Some(Open::Call(_, name) | Open::Phase(_, name)) => {
                        t.problems.push(format!("rank {r}: '{}' ends at {} us while '{name}' is open", e.name, e.ts))
                    }
                    None => t.problems.push(format!("rank {r}: '{}' ends at {} us but never began", e.name, e.ts)),
                },
                "s" | "f" => {
                    let call = stack.iter().rev().find_map(|o| match o {
                        Open::Call(i, _) => Some(*i),
                        Open::Phase(..) => None,
                    });
                    let Some(id) = e.id else {
                        t.problems.push(format!("rank {r}: a flow event without an id at {} us", e.ts));
                        continue;
                    };
                    let msg = Message {
                        src: args.src.unwrap_or(0),
                        dst: args.dst.unwrap_or(0),
                        tag: args.tag.unwrap_or(-1),
                        bytes: args.bytes.unwrap_or(0),
                        comm: args.comm.unwrap_or(0),
                        seq: args.seq.unwrap_or(0),
                        send_call: None,
                        recv_call: None,
                    };
                    let entry = flows.entry(id).or_insert((None, None, msg));
                    let slot = if e.ph == "s" { &mut entry.0 } else { &mut entry.1 };
                    if slot.is_some() {
                        t.problems.push(format!("rank {r}: flow {id} has two {} events", e.ph));
                    }
                    *slot = Some((r, call));
                }
                _ => {}
            }
        }
        for ((pid, tid), stack) in open {
            for o in stack {
                let name = match o {
                    Open::Call(_, n) | Open::Phase(_, n) => n,
                };
                t.problems.push(format!("rank {pid} (track {tid}): '{name}' never ends"));
            }
        }
        let mut msgs: Vec<_> = flows.into_iter().collect();
        msgs.sort_by_key(|(id, _)| *id);
        for (id, (send, recv, mut m)) in msgs {
            match (send, recv) {
                (Some((_, s)), Some((_, r))) => {
                    m.send_call = s;
                    m.recv_call = r;
                }
                (Some(_), None) => t.problems.push(format!(
                    "flow {id}: message {}->{} (tag {}, #{}) was sent but never received",
                    m.src, m.dst, m.tag, m.seq
                )),
                (None, _) => t.problems.push(format!(
                    "flow {id}: message {}->{} (tag {}, #{}) was received but never sent",
                    m.src, m.dst, m.tag, m.seq
                )),
            }
            t.messages.push(m);
        }
        t.messages.sort_by_key(|m| (m.src, m.dst, m.comm, m.tag, m.seq));
        for rt in &mut t.ranks {
            if rt.first.is_infinite() {
                rt.first = 0.0;
            }
        }
        t
    }

    /// The job's time span (us): from the first event of any rank to the last.
    pub fn span(&self) -> (f64, f64) {
        let first = self.ranks.iter().map(|r| r.first).fold(f64::INFINITY, f64::min);
        let last = self.ranks.iter().map(|r| r.last).fold(f64::NEG_INFINITY, f64::max);
        if first.is_finite() {
            (first, last)
        } else {
            (0.0, 0.0)
        }
    }

    /// Each rank's operations in order, with their peer, tag and communicator: what two
    /// runs of one program share whatever the timing (for comparing backends).
    pub fn structure(&self) -> Vec<Vec<String>> {
        self.ranks
            .iter()
            .map(|r| {
                r.calls.iter().map(|c| format!("{}(peer {}, tag {}, comm {})", c.op, c.peer, c.tag, c.comm)).collect()
            })
            .collect()
    }
}
