//! Records to Chrome trace-event JSON, one event per line. Written by hand, integers
//! with `itoa`: a million events take well under a second to format.

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

struct Out<'a> {
    buf: &'a mut Vec<u8>,
    num: itoa::Buffer,
}

impl Out<'_> {
    #[inline]
    fn s(&mut self, s: &str) -> &mut Self {
        self.buf.extend_from_slice(s.as_bytes());
        self
    }
    #[inline]
    fn n(&mut self, n: impl itoa::Integer) -> &mut Self {
        let s = self.num.format(n);
        self.buf.extend_from_slice(s.as_bytes());
        self
    }
    /// `ns` as microseconds with three decimals.
    fn ts(&mut self, ns: u64) -> &mut Self {
        self.n(ns / 1000);
        let frac = ns % 1000;
        self.buf.extend_from_slice(&[
            b'.',
            b'0' + (frac / 100) as u8,
            b'0' + (frac / 10 % 10) as u8,
            b'0' + (frac % 10) as u8,
        ]);
        self
    }
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
    let mut o = Out { buf: out, num: itoa::Buffer::new() };
    for r in recs {
        let name = names.get(usize::from(r.name)).map_or("\"?\"", String::as_str);
        o.s(",\n{\"pid\":").n(pid).s(",\"tid\":0,\"ts\":").ts(conv.global(r.ts));
        match r.what {
            what::CALL_BEGIN => {
                o.s(",\"ph\":\"B\",\"name\":").s(name).s(",\"cat\":\"").s(category(r.kind)).s("\"}");
            }
            what::CALL_END => {
                o.s(",\"ph\":\"E\",\"name\":").s(name).s(",\"cat\":\"").s(category(r.kind));
                o.s("\",\"args\":{\"peer\":").n(rank(r.src)).s(",\"tag\":").n(r.tag).s(",\"bytes\":").n(r.bytes);
                o.s(",\"comm\":").n(r.comm).s(",\"seq\":").n(r.seq).s("}}");
            }
            what::SPAN_BEGIN => {
                o.s(",\"ph\":\"B\",\"name\":").s(name).s(",\"cat\":\"phase\"}");
            }
            what::SPAN_END => {
                o.s(",\"ph\":\"E\",\"name\":").s(name).s(",\"cat\":\"phase\"}");
            }
            w => {
                o.s(if w == what::SEND { ",\"ph\":\"s\"" } else { ",\"ph\":\"f\",\"bp\":\"e\"" });
                o.s(",\"id\":").n(flow_id(r)).s(",\"name\":\"msg\",\"cat\":\"msg\",\"args\":{\"src\":").n(r.src);
                o.s(",\"dst\":").n(r.dst).s(",\"tag\":").n(r.tag).s(",\"bytes\":").n(r.bytes);
                o.s(",\"comm\":").n(r.comm).s(",\"seq\":").n(r.seq).s("}}");
            }
        }
    }
}
