//! Whether the ranks' published calls agree: the same collective, root, element type
//! and reduction, and no rank that rejected its own arguments.

use super::super::comm::ThreadComm;
use super::area::{Call, Calls};
use crate::collective::Caller;
use crate::data::short_name;
use crate::error::Error;

impl ThreadComm {
    /// Differences every collective checks: the operation, an argument error, the root, the type.
    pub(super) fn disagreement(&self, s: &Calls) -> Option<String> {
        let n = self.size();
        let first = s.get(0);
        let agree = |x: &Call| {
            x.err.is_null()
                && (std::ptr::eq(x.op, first.op) || x.op == first.op)
                && x.root == first.root
                && x.op_kind == first.op_kind
                && (std::ptr::fn_addr_eq(x.ty, first.ty) || (x.ty)().0 == (first.ty)().0)
        };
        if (0..n).all(|r| agree(&s.get(r))) {
            return None; // the usual case, checked without allocating
        }
        let all: Vec<Call> = (0..n).map(|r| s.get(r)).collect();
        if let Some(r) = (0..n).find(|&r| !all[r].err.is_null()) {
            // SAFETY: the error text lives until that rank's closing barrier.
            let text = unsafe { &*all[r].err };
            return Some(format!("rank {r} rejected its arguments to {}: {text}", all[r].op));
        }
        if all.iter().any(|x| x.op != all[0].op) {
            let calls: Vec<String> = all.iter().enumerate().map(|(r, x)| format!("rank {r} called {}", x.op)).collect();
            return Some(calls.join(", "));
        }
        let op = all[0].op;
        if all.iter().any(|x| x.root != all[0].root) {
            let roots: Vec<String> = all.iter().enumerate().map(|(r, x)| format!("rank {r}: {}", x.root)).collect();
            return Some(format!("{op} with different roots ({})", roots.join(", ")));
        }
        if all.iter().any(|x| (x.ty)().0 != (all[0].ty)().0) {
            let tys: Vec<String> =
                all.iter().enumerate().map(|(r, x)| format!("rank {r}: {}", short_name((x.ty)().1))).collect();
            return Some(format!("{op} with different element types ({})", tys.join(", ")));
        }
        if all.iter().any(|x| x.op_kind != all[0].op_kind) {
            let ks: Vec<String> = all.iter().enumerate().map(|(r, x)| format!("rank {r}: {:?}", x.op_kind)).collect();
            return Some(format!("{op} with different operations ({})", ks.join(", ")));
        }
        None
    }

    /// How this rank's call differs from rank `r`'s (both published), when this rank
    /// reads only `r`'s slot.
    pub(super) fn pair_mismatch(&self, s: &Calls, r: usize) -> Error {
        let describe = |rank: usize| {
            let x = s.get(rank);
            if !x.err.is_null() {
                // SAFETY: the error text lives in the slot until that rank reuses the slot.
                return format!("rank {rank} rejected its arguments to {}: {}", x.op, unsafe { &*x.err });
            }
            let kind = x.op_kind.map(|k| format!(", {k:?}")).unwrap_or_default();
            format!(
                "rank {rank} called {} (root {}, {} elements of {}{kind})",
                x.op,
                x.root,
                x.count,
                short_name((x.ty)().1)
            )
        };
        let (a, b) = (self.rank.min(r), self.rank.max(r));
        Error::CollectiveMismatch { caller: self.rank, details: format!("{}, {}", describe(a), describe(b)) }
    }

    /// This rank, for the argument checks shared with the other backends.
    pub(super) fn caller(&self) -> Caller {
        Caller { rank: self.rank, size: self.size() }
    }
}

/// Agreement check for collectives where every rank passes the same element count.
pub(super) fn counts_equal(op: &'static str) -> impl FnOnce(&Calls) -> Option<String> {
    move |s: &Calls| {
        let n = s.area.n;
        (1..n)
            .find(|&r| s.get(r).count != s.get(0).count)
            .map(|r| format!("{op}: rank 0 passes {} elements but rank {r} passes {}", s.get(0).count, s.get(r).count))
    }
}
