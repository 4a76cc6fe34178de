//! Records to Chrome trace-event JSON, one event per line.

use std::io::Write;

use super::clock::Conv;
use super::comm_info::mix;
use super::record::{what, Rec, ANY_RANK, NO_RANK};

/// The category of a call's kind (`timing::Kind` as u8).
fn category(kind: u8) -> &'static str {
    match kind {
        0 => "p2p",
        1 => "collective",
        _ => "wait",
    }
}

/// The flow id of a message, the same on its send and its receive (53 bits).
pub(crate) fn flow_id(r: &Rec) -> u64 {
    let pair = (u64::from(r.src) << 32) | u64::from(r.dst);
    mix(mix(mix(r.comm) ^ pair) ^ (u64::from(r.tag as u32) << 40) ^ r.seq) & ((1 << 53) - 1)
}

/// Writes `ns` as microseconds with three decimals.
fn ts(out: &mut Vec<u8>, ns: u64) {
    let _ = write!(out, "{}.{:03}", ns / 1000, ns % 1000);
}

fn rank(r: u32) -> i64 {
    match r {
        NO_RANK => -2,
        ANY_RANK => -1,
        r => i64::from(r),
    }
}

/// Appends one line (`,\n{...}`) per record; `names` are JSON strings (quoted).
pub(crate) fn write(recs: &[Rec], pid: u32, names: &[String], conv: &Conv, out: &mut Vec<u8>) {
    for r in recs {
        let name = names.get(usize::from(r.name)).map_or("\"?\"", String::as_str);
        let _ = write!(out, ",\n{{\"pid\":{pid},\"tid\":0,\"ts\":");
        ts(out, conv.global(r.ts));
        let _ = match r.what {
            what::CALL_BEGIN => write!(out, ",\"ph\":\"B\",\"name\":{name},\"cat\":\"{}\"}}", category(r.kind)),
            what::CALL_END => write!(
                out,
                ",\"ph\":\"E\",\"name\":{name},\"cat\":\"{}\",\"args\":{{\"peer\":{},\"tag\":{},\"bytes\":{},\"comm\":{},\"seq\":{}}}}}",
                category(r.kind),
                rank(r.src),
                r.tag,
                r.bytes,
                r.comm,
                r.seq
            ),
            what::SPAN_BEGIN => write!(out, ",\"ph\":\"B\",\"name\":{name},\"cat\":\"phase\"}}"),
            what::SPAN_END => write!(out, ",\"ph\":\"E\",\"name\":{name},\"cat\":\"phase\"}}"),
            w => write!(
                out,
                ",\"ph\":{},\"id\":{},\"name\":\"msg\",\"cat\":\"msg\",\"args\":{{\"src\":{},\"dst\":{},\"tag\":{},\"bytes\":{},\"comm\":{},\"seq\":{}}}}}",
                if w == what::SEND { "\"s\"" } else { "\"f\",\"bp\":\"e\"" },
                flow_id(r),
                r.src,
                r.dst,
                r.tag,
                r.bytes,
                r.comm,
                r.seq
            ),
        };
    }
}
