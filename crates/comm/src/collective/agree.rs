//! What the ranks of a collective must agree on, and how a disagreement is described.
//!
//! A [`Call`] is one rank's call of a typed collective as the others need to see it
//! (operation, root, element type, reduction, counts, layouts). The thread backend
//! compares the calls its ranks publish in shared memory. The MPI backend, when asked
//! to check (`JobOptions::check_collectives`), packs a call into a few integers that one
//! `MPI_Allreduce` (`MPI_MIN`) compares across processes ([`Call::header`],
//! [`Call::per_rank`], [`pack`], [`agreed`]); only when they disagree do the ranks
//! exchange their whole calls ([`CallRecord`]) and describe the disagreement with
//! [`disagreement`], in the same words as the thread backend.

use serde::{Deserialize, Serialize};

use super::Layout;
use crate::data::{short_name, OpKind};
use crate::error::Error;

/// One rank's call of a typed collective.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Call<'a> {
    pub op: &'static str,
    /// The root (0 for collectives without one).
    pub root: usize,
    pub type_name: &'static str,
    /// Bytes per element.
    pub elem_size: usize,
    pub op_kind: Option<OpKind>,
    /// The element count every rank must pass alike (where there is one).
    pub count: usize,
    /// `scatterv`: the capacity of the receive buffer.
    pub recv_len: usize,
    /// `scatterv`, `gatherv` (at the root), `allgatherv`: the layout; `alltoallv`: the send layout.
    pub layout: Option<&'a Layout>,
    /// `alltoallv`: the receive layout.
    pub layout2: Option<&'a Layout>,
}

impl Call<'_> {
    /// A call of `op` on elements of `T`, with every other field empty.
    pub fn new<T: 'static>(op: &'static str) -> Self {
        Call {
            op,
            root: 0,
            type_name: std::any::type_name::<T>(),
            elem_size: std::mem::size_of::<T>(),
            op_kind: None,
            count: 0,
            recv_len: 0,
            layout: None,
            layout2: None,
        }
    }
}

/// Messages of at least this many bytes are agreed on before they are sent, check or no
/// check (see [`Call::needs_agreement`]). Below every MPI transport's eager limit (Open MPI's
/// shared memory sends up to 4 KiB eagerly, TCP 64 KiB).
pub(crate) const AGREE_FROM_BYTES: usize = 2048;

/// A field of a call's signature: the ranks agree if the largest `a` is at most the
/// smallest `b`. A value every rank must share is `(x, x)`.
pub(crate) type Field = (i64, i64);

/// A field a rank does not constrain.
pub(crate) const FREE: Field = (i64::MIN + 1, i64::MAX);

/// Fields in [`Call::header`].
pub(crate) const HEADER: usize = 6;

/// The collectives where every rank passes the same element count.
/// (`reduce_scatter_block` counts its send buffer, `p` blocks, as that is what it moves.)
const SAME_COUNT: &[&str] = &[
    "bcast",
    "scatter",
    "gather",
    "allgather",
    "reduce",
    "allreduce",
    "scan",
    "exscan",
    "alltoall",
    "allreduce_in_place",
    "reduce_in_place",
    "scan_in_place",
    "exscan_in_place",
    "reduce_scatter_block",
];

impl Call<'_> {
    /// True if this call must be agreed on even without the check, because a mismatch
    /// could make MPI write past a receive buffer. Open MPI 4.1 receives a large message
    /// (above the eager limit; its shared memory reads it with one `process_vm_readv`)
    /// with the sender's length, not the receiver's count: a rank that passes a longer
    /// count than the others overflows their buffers. So a rank that would send
    /// `AGREE_FROM_BYTES` or more agrees first; in a correct program every rank passes
    /// the same count and decides alike, and in a mismatched one the large sender waits
    /// in the agreement instead of sending (an error, or a hang the watchdog reports;
    /// never an overflow). The `v` collectives, whose counts differ between ranks, always
    /// agree (`scatterv` tells each rank its count first and needs no agreement), and so
    /// does `reduce_scatter`, whose counts, if they differ, differ in the messages' lengths.
    pub fn needs_agreement(&self) -> bool {
        match self.op {
            "gatherv" | "allgatherv" | "alltoallv" | "reduce_scatter" => true,
            op if SAME_COUNT.contains(&op) => self.count.saturating_mul(self.elem_size) >= AGREE_FROM_BYTES,
            _ => false,
        }
    }

    /// What every call must agree on: the operation, root, element type, reduction and
    /// (where every rank passes the same one) count, and that no rank rejected its arguments.
    pub fn header(&self, err: bool) -> [Field; HEADER] {
        let eq = |x: i64| (x, x);
        let count = if SAME_COUNT.contains(&self.op) {
            eq(self.count as i64)
        } else if self.op == "allgatherv" || self.op == "reduce_scatter" {
            eq(self.layout.map_or(0, |l| hash_counts(l.counts())))
        } else {
            FREE
        };
        let kind = match &self.op_kind {
            None => 0,
            Some(k) => {
                let mut h = Fnv::default();
                let _ = std::fmt::Write::write_fmt(&mut h, format_args!("{k:?}"));
                h.value()
            }
        };
        [
            eq(hash(self.op.as_bytes())),
            eq(self.root as i64),
            eq(hash(self.type_name.as_bytes())),
            eq(kind),
            count,
            (i64::from(err), 0),
        ]
    }

    /// For `gatherv` and `scatterv`, once the header agrees: one field per rank that
    /// compares what the root's layout gives rank `r` with what rank `r` passed
    /// (`gatherv`: the same count; `scatterv`: a count its buffer holds).
    pub fn per_rank(&self, me: usize, p: usize) -> Option<Vec<Field>> {
        let root = self.root;
        let mut f = vec![FREE; p];
        match self.op {
            "gatherv" => {
                if me == root {
                    let l = self.layout?;
                    f.iter_mut().zip(l.counts()).for_each(|(f, &c)| *f = (c as i64, c as i64));
                    f[me] = if l.counts()[me] == self.count { f[me] } else { (1, 0) };
                } else {
                    f[me] = (self.count as i64, self.count as i64);
                }
            }
            "scatterv" => {
                if me == root {
                    let l = self.layout?;
                    f.iter_mut().zip(l.counts()).for_each(|(f, &c)| f.0 = c as i64);
                }
                f[me].1 = self.recv_len as i64;
            }
            _ => return None,
        }
        Some(f)
    }

    /// The whole call, to send to the others when the signatures disagree.
    pub fn record(&self, err: Option<&Error>) -> CallRecord {
        CallRecord {
            op: self.op.to_string(),
            root: self.root,
            type_name: self.type_name.to_string(),
            op_kind: format!("{:?}", self.op_kind),
            count: self.count,
            recv_len: self.recv_len,
            layout: self.layout.map(|l| l.counts().to_vec()),
            layout2: self.layout2.map(|l| l.counts().to_vec()),
            err: err.map(Error::to_string),
        }
    }
}

/// The fields in the form one `MPI_MIN` reduction compares: `-a` then `b` of each.
pub(crate) fn pack(fields: &[Field], out: &mut Vec<i64>) {
    out.clear();
    out.extend(fields.iter().map(|f| -f.0));
    out.extend(fields.iter().map(|f| f.1));
}

/// True if the elementwise minimum over the ranks of [`pack`]ed fields says they agree.
pub(crate) fn agreed(min: &[i64]) -> bool {
    let k = min.len() / 2;
    (0..k).all(|i| -min[i] <= min[k + i])
}

/// A call as sent to the other ranks when the signatures disagree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct CallRecord {
    pub op: String,
    pub root: usize,
    pub type_name: String,
    /// `Debug` of the `Option<OpKind>`.
    pub op_kind: String,
    pub count: usize,
    pub recv_len: usize,
    pub layout: Option<Vec<usize>>,
    pub layout2: Option<Vec<usize>>,
    /// The rank's own argument error, as text.
    pub err: Option<String>,
}

/// The disagreement between the ranks' calls (`all[r]` is rank `r`'s), in the words of
/// the thread backend's `CollectiveMismatch`; `None` if they agree.
pub(crate) fn disagreement(all: &[CallRecord]) -> Option<String> {
    let first = all.first()?;
    if let Some((r, c)) = all.iter().enumerate().find(|(_, c)| c.err.is_some()) {
        return Some(format!("rank {r} rejected its arguments to {}: {}", c.op, c.err.as_deref().unwrap_or("")));
    }
    if all.iter().any(|c| c.op != first.op) {
        let calls: Vec<String> = all.iter().enumerate().map(|(r, c)| format!("rank {r} called {}", c.op)).collect();
        return Some(calls.join(", "));
    }
    let op = &first.op;
    if all.iter().any(|c| c.root != first.root) {
        let roots: Vec<String> = all.iter().enumerate().map(|(r, c)| format!("rank {r}: {}", c.root)).collect();
        return Some(format!("{op} with different roots ({})", roots.join(", ")));
    }
    if all.iter().any(|c| c.type_name != first.type_name) {
        let tys: Vec<String> =
            all.iter().enumerate().map(|(r, c)| format!("rank {r}: {}", short_name(&c.type_name))).collect();
        return Some(format!("{op} with different element types ({})", tys.join(", ")));
    }
    if all.iter().any(|c| c.op_kind != first.op_kind) {
        let ks: Vec<String> = all.iter().enumerate().map(|(r, c)| format!("rank {r}: {}", c.op_kind)).collect();
        return Some(format!("{op} with different operations ({})", ks.join(", ")));
    }
    let root = &all[first.root.min(all.len() - 1)];
    let block = |l: &Option<Vec<usize>>, i: usize| l.as_ref().and_then(|l| l.get(i).copied());
    match op.as_str() {
        o if SAME_COUNT.contains(&o) => all
            .iter()
            .enumerate()
            .find(|(_, c)| c.count != first.count)
            .map(|(r, c)| format!("{op}: rank 0 passes {} elements but rank {r} passes {}", first.count, c.count)),
        "scatterv" => all.iter().enumerate().find_map(|(r, c)| {
            let sent = block(&root.layout, r)?;
            (c.recv_len < sent).then(|| {
                format!("scatterv: the root sends {sent} elements to rank {r}, whose buffer holds {}", c.recv_len)
            })
        }),
        "gatherv" => all.iter().enumerate().find_map(|(r, c)| {
            let expected = block(&root.layout, r)?;
            (c.count != expected).then(|| {
                format!("gatherv: rank {r} sends {} elements but the root's layout expects {expected}", c.count)
            })
        }),
        "allgatherv" => (1..all.len())
            .find(|&r| all[r].layout != first.layout)
            .map(|r| format!("allgatherv: ranks 0 and {r} pass different layouts")),
        "reduce_scatter" => (1..all.len())
            .find(|&r| all[r].layout != first.layout)
            .map(|r| format!("reduce_scatter: ranks 0 and {r} pass different counts")),
        "alltoallv" => (0..all.len()).find_map(|i| {
            (0..all.len()).find_map(|j| {
                let sent = block(&all[i].layout, j)?;
                let expected = block(&all[j].layout2, i)?;
                (sent != expected)
                    .then(|| format!("alltoallv: rank {i} sends {sent} elements to rank {j}, which expects {expected}"))
            })
        }),
        _ => None,
    }
}

/// FNV-1a, cut to 62 bits so that a field and its negation are never out of range.
#[derive(Default)]
struct Fnv(Option<u64>);

impl Fnv {
    fn write(&mut self, bytes: &[u8]) {
        let mut h = self.0.unwrap_or(0xcbf2_9ce4_8422_2325);
        for &b in bytes {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = Some(h);
    }
    fn value(&self) -> i64 {
        (self.0.unwrap_or(0) >> 2) as i64
    }
}

impl std::fmt::Write for Fnv {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.write(s.as_bytes());
        Ok(())
    }
}

fn hash(bytes: &[u8]) -> i64 {
    let mut h = Fnv::default();
    h.write(bytes);
    h.value()
}

fn hash_counts(counts: &[usize]) -> i64 {
    let mut h = Fnv::default();
    for &c in counts {
        h.write(&(c as u64).to_le_bytes());
    }
    h.value()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The elementwise minimum of the packed signatures, as `MPI_MIN` computes it.
    fn reduce(sigs: &[Vec<Field>]) -> Vec<i64> {
        let mut out = Vec::new();
        let mut buf = Vec::new();
        for s in sigs {
            pack(s, &mut buf);
            if out.is_empty() {
                out = buf.clone();
            } else {
                out.iter_mut().zip(&buf).for_each(|(o, &x)| *o = (*o).min(x));
            }
        }
        out
    }

    fn headers(calls: &[Call], errs: &[bool]) -> bool {
        agreed(&reduce(&calls.iter().zip(errs).map(|(c, &e)| c.header(e).to_vec()).collect::<Vec<_>>()))
    }

    #[test]
    fn headers_agree_only_on_equal_calls() {
        let c = Call { root: 1, count: 8, ..Call::new::<f64>("bcast") };
        assert!(headers(&[c, c, c], &[false; 3]));
        assert!(!headers(&[c, c, c], &[false, true, false]), "an argument error");
        assert!(!headers(&[c, Call { count: 9, ..c }], &[false; 2]), "a count");
        assert!(!headers(&[c, Call { root: 0, ..c }], &[false; 2]), "a root");
        assert!(!headers(&[c, Call { op: "reduce", ..c }], &[false; 2]), "an operation");
        assert!(!headers(&[c, Call::new::<i64>("bcast")], &[false; 2]));
        assert!(!headers(&[c, Call { type_name: "i64", ..c }], &[false; 2]), "a type of the same size");
        let s = Call { op_kind: Some(OpKind::Sum), ..Call::new::<u8>("allreduce") };
        assert!(headers(&[s, s], &[false; 2]));
        assert!(!headers(&[s, Call { op_kind: Some(OpKind::Max), ..s }], &[false; 2]), "a reduction");
        // The v collectives' counts are compared per rank, not in the header; allgatherv's
        // layouts must be equal.
        let (l1, l2) = (Layout::from_counts(&[1, 2]), Layout::from_counts(&[1, 3]));
        let g = Call { layout: Some(&l1), count: 1, ..Call::new::<u8>("gatherv") };
        assert!(headers(&[g, Call { layout: None, count: 5, ..g }], &[false; 2]));
        let a = Call { layout: Some(&l1), ..Call::new::<u8>("allgatherv") };
        assert!(!headers(&[a, Call { layout: Some(&l2), ..a }], &[false; 2]));
        assert!(headers(&[a, Call { layout: Some(&Layout::new(&[1, 2], &[5, 0]).unwrap()), ..a }], &[false; 2]));
    }

    #[test]
    fn large_messages_and_v_collectives_are_always_agreed_on() {
        let small = Call { count: 255, ..Call::new::<f64>("allreduce") };
        assert!(!small.needs_agreement());
        assert!(Call { count: 256, ..small }.needs_agreement());
        assert!(Call { count: 2048, ..Call::new::<u8>("bcast") }.needs_agreement());
        assert!(!Call { count: 2047, ..Call::new::<u8>("bcast") }.needs_agreement());
        for op in ["gatherv", "allgatherv", "alltoallv"] {
            assert!(Call::new::<u8>(op).needs_agreement(), "{op}");
        }
        assert!(!Call::new::<u8>("scatterv").needs_agreement());
        assert!(Call::new::<u8>("reduce_scatter").needs_agreement());
        let block = Call { count: 2047, ..Call::new::<u8>("reduce_scatter_block") };
        assert!(!block.needs_agreement());
        assert!(Call { count: 2048, ..block }.needs_agreement());
        for op in ["allreduce_in_place", "reduce_in_place", "scan_in_place", "exscan_in_place"] {
            assert!(Call { count: 256, ..Call::new::<f64>(op) }.needs_agreement(), "{op}");
            assert!(!Call { count: 255, ..Call::new::<f64>(op) }.needs_agreement(), "{op}");
        }
        assert!(!Call::new::<u8>("barrier").needs_agreement());
    }

    #[test]
    fn per_rank_fields() {
        let l = Layout::from_counts(&[1, 2, 3]);
        let at = |me: usize, count: usize, recv_len: usize, op: &'static str| {
            let layout = (me == 0).then_some(&l);
            Call { count, recv_len, layout, ..Call::new::<u8>(op) }.per_rank(me, 3).unwrap()
        };
        let ok = |v: Vec<Vec<Field>>| agreed(&reduce(&v));
        assert!(ok(vec![at(0, 1, 0, "gatherv"), at(1, 2, 0, "gatherv"), at(2, 3, 0, "gatherv")]));
        assert!(!ok(vec![at(0, 1, 0, "gatherv"), at(1, 2, 0, "gatherv"), at(2, 4, 0, "gatherv")]));
        assert!(!ok(vec![at(0, 2, 0, "gatherv"), at(1, 2, 0, "gatherv"), at(2, 3, 0, "gatherv")]), "the root's own");
        assert!(ok(vec![at(0, 0, 1, "scatterv"), at(1, 0, 2, "scatterv"), at(2, 0, 9, "scatterv")]));
        assert!(!ok(vec![at(0, 0, 1, "scatterv"), at(1, 0, 1, "scatterv"), at(2, 0, 9, "scatterv")]));
        assert!(!ok(vec![at(0, 0, 0, "scatterv"), at(1, 0, 2, "scatterv"), at(2, 0, 3, "scatterv")]), "the root's own");
        assert!(Call::new::<u8>("bcast").per_rank(0, 3).is_none());
    }

    fn records(calls: &[Call]) -> Vec<CallRecord> {
        calls.iter().map(|c| c.record(None)).collect()
    }

    /// The same words as the thread backend (see tests/failures.rs and the MPI scenarios,
    /// which compare the two backends' messages).
    #[test]
    fn descriptions() {
        let b = Call { count: 3, ..Call::new::<u8>("bcast") };
        assert_eq!(disagreement(&records(&[b, b])), None);
        assert_eq!(
            disagreement(&records(&[b, Call { count: 4, ..b }])).unwrap(),
            "bcast: rank 0 passes 3 elements but rank 1 passes 4"
        );
        assert_eq!(
            disagreement(&records(&[b, Call::new::<f64>("reduce"), b])).unwrap(),
            "rank 0 called bcast, rank 1 called reduce, rank 2 called bcast"
        );
        assert_eq!(
            disagreement(&records(&[b, Call { root: 1, ..b }])).unwrap(),
            "bcast with different roots (rank 0: 0, rank 1: 1)"
        );
        assert_eq!(
            disagreement(&records(&[Call::new::<f64>("bcast"), Call::new::<i64>("bcast")])).unwrap(),
            "bcast with different element types (rank 0: f64, rank 1: i64)"
        );
        let s = Call { op_kind: Some(OpKind::Sum), ..Call::new::<i32>("allreduce") };
        assert_eq!(
            disagreement(&records(&[s, Call { op_kind: Some(OpKind::Max), ..s }])).unwrap(),
            "allreduce with different operations (rank 0: Some(Sum), rank 1: Some(Max))"
        );
        let e = Error::RootOutOfRange { op: "bcast", caller: 1, root: 9, size: 3 };
        let recs = vec![b.record(None), Call { root: 9, ..b }.record(Some(&e)), b.record(None)];
        assert_eq!(disagreement(&recs).unwrap(), format!("rank 1 rejected its arguments to bcast: {e}"));
    }

    #[test]
    fn descriptions_of_v_collectives() {
        let l = Layout::from_counts(&[1, 2]);
        let g0 = Call { count: 1, layout: Some(&l), ..Call::new::<u8>("gatherv") };
        let g1 = Call { count: 3, ..Call::new::<u8>("gatherv") };
        assert_eq!(
            disagreement(&records(&[g0, g1])).unwrap(),
            "gatherv: rank 1 sends 3 elements but the root's layout expects 2"
        );
        let l = Layout::from_counts(&[1, 4]);
        let s0 = Call { recv_len: 2, layout: Some(&l), ..Call::new::<u8>("scatterv") };
        let s1 = Call { recv_len: 2, ..Call::new::<u8>("scatterv") };
        assert_eq!(
            disagreement(&records(&[s0, s1])).unwrap(),
            "scatterv: the root sends 4 elements to rank 1, whose buffer holds 2"
        );
        let (a, b) = (Layout::from_counts(&[1, 2]), Layout::from_counts(&[1, 3]));
        let v = Call { layout: Some(&a), ..Call::new::<u8>("allgatherv") };
        assert_eq!(
            disagreement(&records(&[v, Call { layout: Some(&b), ..v }])).unwrap(),
            "allgatherv: ranks 0 and 1 pass different layouts"
        );
        let rs = Call { layout: Some(&a), ..Call::new::<u8>("reduce_scatter") };
        assert!(!headers(&[rs, Call { layout: Some(&b), ..rs }], &[false; 2]));
        assert_eq!(
            disagreement(&records(&[rs, Call { layout: Some(&b), ..rs }])).unwrap(),
            "reduce_scatter: ranks 0 and 1 pass different counts"
        );
        let (s0, s1, r) = (Layout::from_counts(&[1, 2]), Layout::from_counts(&[1, 1]), Layout::from_counts(&[1, 1]));
        let t0 = Call { layout: Some(&s0), layout2: Some(&r), ..Call::new::<u8>("alltoallv") };
        let t1 = Call { layout: Some(&s1), ..t0 };
        assert_eq!(
            disagreement(&records(&[t0, t1])).unwrap(),
            "alltoallv: rank 0 sends 2 elements to rank 1, which expects 1"
        );
    }
}
