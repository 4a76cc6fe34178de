//! Starting a rank's trace, and at the end writing the job's file: rank 0 writes, every
//! other rank streams its events to it in turn, one megabyte at a time.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use serde::{Deserialize, Serialize};

use super::clock::{self, Conv, Sync};
use super::record::{self, Recorder};
use super::{json, CommTrace, TraceOptions};
use crate::comm::{BackendKind, Comm};
use crate::error::{Error, Result};
use crate::timing;

/// The size of the pieces ranks send to rank 0.
const CHUNK: usize = 1 << 20;
const TAG_GO: i32 = 1;
const TAG_DATA: i32 = 2;

/// A rank's trace in progress.
pub(crate) struct Tracing {
    /// A private duplicate of the world, for the clocks and the final write.
    world: Comm,
    start: Sync,
}

/// What rank 0 needs to know of each rank before writing.
#[derive(Serialize, Deserialize)]
struct RankMeta {
    rank: u32,
    host: String,
    names: Vec<String>,
    events: u64,
    start: Sync,
    end: Sync,
}

fn one_clock(comm: &Comm) -> bool {
    comm.backend() == BackendKind::Threads
}

/// Starts tracing on this rank of the job's world communicator `comm` (collective).
pub(crate) fn start(comm: &Comm) -> Result<Tracing> {
    record::epoch();
    let world = comm.dup()?;
    let start = clock::sync(&world, one_clock(comm))?;
    // Rank 0 synchronises with one rank after another: start the program together.
    world.barrier()?;
    let _ = comm.trace.set(Rc::new(CommTrace::new(0, (0..comm.size() as u32).collect())));
    record::install(Some(Box::new(Recorder::new(comm.rank() as u32))));
    timing::set_tracing(true);
    Ok(Tracing { world, start })
}

/// Stops tracing, and writes the job's trace to `options.path` (collective on the
/// world; rank 0 writes). Returns the number of events written (on rank 0; 0 elsewhere).
pub(crate) fn finish(comm: &Comm, tracing: Tracing, options: &TraceOptions) -> Result<u64> {
    timing::set_tracing(false);
    let mut rec = record::install(None).ok_or_else(|| Error::Trace("this rank was not tracing".into()))?;
    let world = &tracing.world;
    let end = clock::sync(world, one_clock(comm))?;
    let names = rec.names.iter().map(|n| json_string(n)).collect::<Vec<_>>();
    let meta = RankMeta {
        rank: rec.rank,
        host: comm.processor_name(),
        names: names.clone(),
        events: rec.len(),
        start: tracing.start,
        end,
    };
    let metas = world.gather_obj(&meta, 0)?;
    let conv = Conv::new(tracing.start, end);
    match metas {
        Some(metas) => write_file(world, &mut rec, &metas, &conv, &options.path, comm.backend()),
        None => {
            stream_to_root(world, &mut rec, &names, &conv)?;
            Ok(0)
        }
    }
}

/// Another rank's part: its events as JSON, a chunk each time rank 0 asks.
fn stream_to_root(world: &Comm, rec: &mut Recorder, names: &[String], conv: &Conv) -> Result<()> {
    let mut go = [0u8];
    world.recv(&mut go, 0, TAG_GO)?;
    let mut out = Vec::with_capacity(CHUNK + 4096);
    let pid = rec.rank;
    rec.drain(|recs| {
        for part in recs.chunks(4096) {
            json::write(part, pid, names, conv, &mut out);
            if out.len() >= CHUNK {
                world.send_vec(std::mem::replace(&mut out, Vec::with_capacity(CHUNK + 4096)), 0, TAG_DATA)?;
                world.recv(&mut go, 0, TAG_GO)?;
            }
        }
        Ok(())
    })?;
    if !out.is_empty() {
        world.send_vec(out, 0, TAG_DATA)?;
        world.recv(&mut go, 0, TAG_GO)?;
    }
    world.send_vec(Vec::<u8>::new(), 0, TAG_DATA)
}

fn write_file(
    world: &Comm,
    rec: &mut Recorder,
    metas: &[RankMeta],
    conv: &Conv,
    path: &Path,
    backend: BackendKind,
) -> Result<u64> {
    let tmp = PathBuf::from(format!("{}.partial-{}", path.display(), std::process::id()));
    let io = |e: std::io::Error| Error::Trace(format!("could not write {}: {e}", path.display()));
    let mut file = BufWriter::with_capacity(CHUNK, File::create(&tmp).map_err(io)?);
    let written = (|| -> Result<u64> {
        file.write_all(b"{\"traceEvents\":[\n").map_err(io)?;
        let mut head = String::new();
        for (i, m) in metas.iter().enumerate() {
            let label = json_string(&format!("rank {} ({})", m.rank, m.host));
            head += &format!(
                "{}{{\"ph\":\"M\",\"pid\":{r},\"name\":\"process_name\",\"args\":{{\"name\":{label}}}}},\n\
                 {{\"ph\":\"M\",\"pid\":{r},\"name\":\"process_sort_index\",\"args\":{{\"sort_index\":{r}}}}},\n\
                 {{\"ph\":\"M\",\"pid\":{r},\"tid\":0,\"name\":\"thread_name\",\"args\":{{\"name\":\"calls and phases\"}}}}",
                if i > 0 { ",\n" } else { "" },
                r = m.rank
            );
        }
        file.write_all(head.as_bytes()).map_err(io)?;
        let mut out = Vec::with_capacity(CHUNK + 4096);
        rec.drain(|recs| {
            for part in recs.chunks(4096) {
                json::write(part, rec_rank(metas), &metas[0].names, conv, &mut out);
                file.write_all(&out).map_err(io)?;
                out.clear();
            }
            Ok(())
        })?;
        for r in 1..world.size() {
            loop {
                world.send(&[1u8], r, TAG_GO)?;
                let (bytes, _) = world.recv_vec::<u8>(r, TAG_DATA)?;
                if bytes.is_empty() {
                    break;
                }
                file.write_all(&bytes).map_err(io)?;
            }
        }
        let events: u64 = metas.iter().map(|m| m.events).sum();
        let err_max = metas.iter().map(|m| m.start.error_ns.max(m.end.error_ns)).max().unwrap_or(0);
        let per_rank: Vec<String> = metas
            .iter()
            .map(|m| {
                format!(
                    "{{\"rank\":{},\"offset_start_us\":{:.3},\"offset_end_us\":{:.3},\"error_us\":{:.3}}}",
                    m.rank,
                    m.start.offset_ns as f64 / 1e3,
                    m.end.offset_ns as f64 / 1e3,
                    m.start.error_ns.max(m.end.error_ns) as f64 / 1e3
                )
            })
            .collect();
        let method = match backend {
            BackendKind::Threads => "one clock (thread backend)",
            _ => "ping-pong with rank 0 at start and end, best of 16 round trips, linear drift",
        };
        write!(
            file,
            "\n],\n\"displayTimeUnit\":\"ns\",\n\"otherData\":{{\"producer\":\"parsci {}\",\"backend\":\"{}\",\"ranks\":{},\"events\":{events},\
             \"clock\":{{\"method\":\"{method}\",\"error_us\":{:.3},\"ranks\":[{}]}}}}}}\n",
            env!("CARGO_PKG_VERSION"),
            backend.name(),
            metas.len(),
            err_max as f64 / 1e3,
            per_rank.join(",")
        )
        .map_err(io)?;
        file.flush().map_err(io)?;
        Ok(events)
    })();
    drop(file);
    match written {
        Ok(n) => {
            std::fs::rename(&tmp, path).map_err(io)?;
            Ok(n)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// Rank 0's own pid.
fn rec_rank(metas: &[RankMeta]) -> u32 {
    metas[0].rank
}

/// `s` as a JSON string literal.
pub(crate) fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
