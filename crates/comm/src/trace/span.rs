//! Phases of a program, marked by a guard.

use bytemuck::Zeroable;

use super::record::{self, what, Rec};
use crate::timing;

/// A phase of the program in the trace, from [`Comm::span`](crate::Comm::span) until
/// this guard is dropped. Does nothing when the rank is not tracing.
#[must_use = "the phase ends when the guard is dropped"]
pub struct Span {
    name: Option<u16>,
}

impl Span {
    #[inline]
    pub(crate) fn begin(name: &'static str) -> Span {
        if !timing::tracing() {
            return Span { name: None };
        }
        Span::begin_slow(name)
    }

    #[cold]
    fn begin_slow(name: &'static str) -> Span {
        let idx = record::with(|r| {
            let idx = r.name(name);
            r.push(Rec { ts: record::now_ns(), name: idx, what: what::SPAN_BEGIN, ..Rec::zeroed() });
            idx
        });
        Span { name: idx }
    }

    /// Ends the phase now (as dropping the guard does).
    pub fn end(self) {}
}

impl Drop for Span {
    fn drop(&mut self) {
        if let Some(name) = self.name {
            record::with(|r| r.push(Rec { ts: record::now_ns(), name, what: what::SPAN_END, ..Rec::zeroed() }));
        }
    }
}
