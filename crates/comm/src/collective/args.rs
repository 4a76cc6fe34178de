//! The local argument checks of the typed collectives, written once for every backend.
//!
//! Each function looks at one rank's own arguments (lengths, the root, layouts) and
//! returns the error of the first one that can never be right, with the same variant
//! and message on every backend. What only a comparison across ranks can show (counts
//! that differ between ranks) is not here: the thread backend compares the calls it
//! publishes, the MPI backend relies on MPI and on the optional agreement check (see
//! [`super::agree`]).

use super::Layout;
use crate::error::Error;

/// The caller's place: its rank and the communicator's size.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Caller {
    pub rank: usize,
    pub size: usize,
}

impl Caller {
    #[cold]
    fn invalid(self, op: &'static str, msg: String) -> Option<Error> {
        Some(Error::InvalidArgument { op, caller: self.rank, msg })
    }

    #[cold]
    fn missing(self, op: &'static str, what: &str) -> Option<Error> {
        self.invalid(op, format!("the root must pass Some({what})"))
    }

    /// A root outside the communicator.
    pub fn root(self, op: &'static str, root: usize) -> Option<Error> {
        (root >= self.size).then_some(Error::RootOutOfRange { op, caller: self.rank, root, size: self.size })
    }

    /// `bcast`: only the root can be wrong.
    pub fn bcast(self, root: usize) -> Option<Error> {
        self.root("bcast", root)
    }

    /// `scatter`: the root's `send` (its length, `None` if absent; ignored elsewhere)
    /// holds one block of `recv` elements per rank.
    #[inline]
    pub fn scatter(self, root: usize, send: Option<usize>, recv: usize) -> Option<Error> {
        let p = self.size;
        self.root("scatter", root).or_else(|| match send {
            _ if self.rank != root => None,
            None => self.missing("scatter", "send buffer"),
            Some(s) if Some(s) == recv.checked_mul(p) => None,
            Some(s) => {
                self.invalid("scatter", format!("the root sends {s} elements but {p} ranks receive {recv} each"))
            }
        })
    }

    /// `scatterv`: the root's layout fits its `send` buffer (of this length) and the ranks.
    pub fn scatterv(self, root: usize, send: Option<(usize, &Layout)>) -> Option<Error> {
        self.root("scatterv", root).or_else(|| match send {
            _ if self.rank != root => None,
            None => self.missing("scatterv", "(send buffer, layout)"),
            Some((len, l)) => check_layout("scatterv", self.rank, l, self.size, len, "send"),
        })
    }

    /// `gather`: the root's `recv` holds one block of `send` elements per rank.
    #[inline]
    pub fn gather(self, root: usize, send: usize, recv: Option<usize>) -> Option<Error> {
        let p = self.size;
        self.root("gather", root).or_else(|| match recv {
            _ if self.rank != root => None,
            None => self.missing("gather", "receive buffer"),
            Some(r) if send.checked_mul(p).is_some_and(|need| r >= need) => None,
            Some(r) => {
                self.invalid("gather", format!("the root's buffer holds {r} elements but {p} ranks send {send} each"))
            }
        })
    }

    /// `gatherv`: the root's layout fits its `recv` buffer (of this length) and the ranks.
    /// (A block whose count differs from what its rank sends is a mismatch, not an
    /// argument error: the root cannot know what the others send.)
    pub fn gatherv(self, root: usize, recv: Option<(usize, &Layout)>) -> Option<Error> {
        self.root("gatherv", root).or_else(|| match recv {
            _ if self.rank != root => None,
            None => self.missing("gatherv", "(receive buffer, layout)"),
            Some((len, l)) => check_layout("gatherv", self.rank, l, self.size, len, "receive"),
        })
    }

    /// `allgather`: `recv` holds one block of `send` elements per rank.
    #[inline]
    pub fn allgather(self, send: usize, recv: usize) -> Option<Error> {
        let p = self.size;
        if send.checked_mul(p).is_some_and(|need| recv >= need) {
            return None;
        }
        self.invalid("allgather", format!("the receive buffer holds {recv} elements but {p} ranks send {send} each"))
    }

    /// `allgatherv`: the layout fits `recv` and gives this rank as many elements as it sends.
    pub fn allgatherv(self, send: usize, recv: usize, layout: &Layout) -> Option<Error> {
        check_layout("allgatherv", self.rank, layout, self.size, recv, "receive").or_else(|| {
            let mine = layout.counts()[self.rank];
            (mine != send).then(|| {
                self.invalid("allgatherv", format!("sends {send} elements but the layout gives this rank {mine}"))
            })?
        })
    }

    /// `reduce`: the root passes a receive buffer that holds the `send` results.
    #[inline]
    pub fn reduce(self, root: usize, send: usize, recv: Option<usize>) -> Option<Error> {
        self.root("reduce", root).or_else(|| match recv {
            _ if self.rank != root => None,
            None => self.missing("reduce", "receive buffer"),
            Some(r) => self.reduced("reduce", send, r),
        })
    }

    /// `allreduce`, `scan`, `exscan`: `recv` holds the `send` results.
    pub fn reduced(self, op: &'static str, send: usize, recv: usize) -> Option<Error> {
        (recv < send)
            .then(|| self.invalid(op, format!("the receive buffer holds {recv} elements but {send} are reduced")))?
    }

    /// `reduce_scatter_block`: `send` holds one block of `recv` elements per rank.
    pub fn reduce_scatter_block(self, send: usize, recv: usize) -> Option<Error> {
        let p = self.size;
        if recv.checked_mul(p) == Some(send) {
            return None;
        }
        let msg = format!("the send buffer holds {send} elements but {p} ranks receive {recv} each");
        self.invalid("reduce_scatter_block", msg)
    }

    /// `reduce_scatter`: one count per rank, `send` holds their sum and `recv` this rank's.
    pub fn reduce_scatter(self, send: usize, recv: usize, counts: &[usize]) -> Option<Error> {
        let (p, op) = (self.size, "reduce_scatter");
        if counts.len() != p {
            return self.invalid(op, format!("{} counts for {p} ranks", counts.len()));
        }
        let total = counts.iter().try_fold(0usize, |a, &c| a.checked_add(c));
        if total != Some(send) {
            let sum = total.map_or("more than usize::MAX".to_string(), |t| t.to_string());
            return self.invalid(op, format!("the send buffer holds {send} elements but the counts add up to {sum}"));
        }
        let mine = counts[self.rank];
        (recv < mine).then(|| {
            self.invalid(op, format!("the receive buffer holds {recv} elements but this rank's count is {mine}"))
        })?
    }

    /// `alltoall`: `send` splits into one equal block per rank and `recv` holds as much.
    pub fn alltoall(self, send: usize, recv: usize) -> Option<Error> {
        let p = self.size;
        if !send.is_multiple_of(p) {
            self.invalid("alltoall", format!("the send buffer's {send} elements do not split into {p} equal blocks"))
        } else if recv < send {
            self.invalid("alltoall", format!("the receive buffer holds {recv} elements but {send} arrive"))
        } else {
            None
        }
    }

    /// `alltoallv`: both layouts fit their buffers and the ranks.
    pub fn alltoallv(self, send: usize, sl: &Layout, recv: usize, rl: &Layout) -> Option<Error> {
        check_layout("alltoallv", self.rank, sl, self.size, send, "send")
            .or_else(|| check_layout("alltoallv", self.rank, rl, self.size, recv, "receive"))
    }
}

/// The error of a `v` collective's layout that does not fit `p` ranks and a buffer of `len`.
fn check_layout(op: &'static str, caller: usize, l: &Layout, p: usize, len: usize, what: &str) -> Option<Error> {
    let msg = if l.counts().len() != p {
        format!("the {what} layout has {} blocks for {p} ranks", l.counts().len())
    } else if l.extent() > len {
        format!("the {what} layout reaches element {} but the buffer holds {len}", l.extent())
    } else if what == "receive" && l.overlaps() {
        format!("the {what} layout has overlapping blocks (counts {:?}, displacements {:?})", l.counts(), l.displs())
    } else {
        return None;
    };
    Some(Error::InvalidArgument { op, caller, msg })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ME: Caller = Caller { rank: 1, size: 3 };
    const ROOT: Caller = Caller { rank: 0, size: 3 };

    fn msg(e: Option<Error>) -> String {
        match e {
            Some(Error::InvalidArgument { msg, .. }) => msg,
            other => panic!("expected InvalidArgument, got {other:?}"),
        }
    }

    #[test]
    fn roots() {
        assert!(ME.bcast(2).is_none());
        assert!(matches!(ME.bcast(3), Some(Error::RootOutOfRange { op: "bcast", caller: 1, root: 3, size: 3 })));
        // A root out of range is reported before anything else, on every rank.
        for e in [ME.scatter(5, None, 1), ME.gather(5, 1, None), ME.reduce(5, 1, None), ME.scatterv(5, None)] {
            assert!(matches!(e, Some(Error::RootOutOfRange { root: 5, .. })), "{e:?}");
        }
        assert!(ME.gatherv(7, None).is_some());
    }

    #[test]
    fn root_only_buffers_are_checked_at_the_root() {
        // Elsewhere they are ignored.
        assert!(ME.scatter(0, None, 2).is_none());
        assert!(ME.gather(0, 2, Some(1)).is_none());
        assert!(ME.reduce(0, 2, Some(1)).is_none());
        assert!(ME.scatterv(0, None).is_none());
        assert!(ME.gatherv(0, None).is_none());
        // At the root.
        assert_eq!(msg(ROOT.scatter(0, None, 2)), "the root must pass Some(send buffer)");
        assert_eq!(msg(ROOT.scatter(0, Some(5), 2)), "the root sends 5 elements but 3 ranks receive 2 each");
        assert!(ROOT.scatter(0, Some(6), 2).is_none());
        assert_eq!(msg(ROOT.gather(0, 2, None)), "the root must pass Some(receive buffer)");
        assert_eq!(msg(ROOT.gather(0, 2, Some(5))), "the root's buffer holds 5 elements but 3 ranks send 2 each");
        assert!(ROOT.gather(0, 2, Some(7)).is_none());
        assert_eq!(msg(ROOT.reduce(0, 2, None)), "the root must pass Some(receive buffer)");
        assert_eq!(msg(ROOT.reduce(0, 2, Some(1))), "the receive buffer holds 1 elements but 2 are reduced");
        assert_eq!(msg(ROOT.scatterv(0, None)), "the root must pass Some((send buffer, layout))");
        assert_eq!(msg(ROOT.gatherv(0, None)), "the root must pass Some((receive buffer, layout))");
    }

    #[test]
    fn huge_counts_do_not_overflow() {
        assert!(ROOT.scatter(0, Some(usize::MAX), usize::MAX / 2).is_some());
        assert!(ROOT.gather(0, usize::MAX / 2, Some(usize::MAX)).is_some());
        assert!(ME.allgather(usize::MAX / 2, usize::MAX).is_some());
    }

    #[test]
    fn layouts() {
        let l = Layout::from_counts(&[1, 2, 3]);
        assert!(ROOT.scatterv(0, Some((6, &l))).is_none());
        assert_eq!(msg(ROOT.scatterv(0, Some((5, &l)))), "the send layout reaches element 6 but the buffer holds 5");
        let two = Layout::from_counts(&[1, 2]);
        assert_eq!(msg(ROOT.gatherv(0, Some((9, &two)))), "the receive layout has 2 blocks for 3 ranks");
        let overlapping = Layout::new(&[2, 2, 2], &[0, 1, 4]).unwrap();
        assert!(msg(ROOT.gatherv(0, Some((9, &overlapping)))).contains("overlapping blocks"));
        // Overlapping blocks are fine to read from.
        assert!(ROOT.scatterv(0, Some((9, &overlapping))).is_none());
        assert!(ME.allgatherv(2, 6, &l).is_none());
        assert_eq!(msg(ME.allgatherv(3, 6, &l)), "sends 3 elements but the layout gives this rank 2");
        assert!(ME.alltoallv(6, &l, 6, &l).is_none());
        assert!(msg(ME.alltoallv(6, &l, 5, &l)).starts_with("the receive layout"));
        assert!(msg(ME.alltoallv(5, &l, 6, &l)).starts_with("the send layout"));
    }

    #[test]
    fn equal_blocks_and_reductions() {
        assert!(ME.allgather(2, 6).is_none());
        assert_eq!(msg(ME.allgather(2, 5)), "the receive buffer holds 5 elements but 3 ranks send 2 each");
        assert!(ME.alltoall(6, 6).is_none());
        assert_eq!(msg(ME.alltoall(5, 6)), "the send buffer's 5 elements do not split into 3 equal blocks");
        assert_eq!(msg(ME.alltoall(6, 5)), "the receive buffer holds 5 elements but 6 arrive");
        assert!(ME.reduced("scan", 3, 3).is_none());
        let e = ME.reduced("exscan", 3, 2);
        assert!(matches!(&e, Some(Error::InvalidArgument { op: "exscan", caller: 1, .. })), "{e:?}");
    }

    #[test]
    fn reduce_scatters() {
        assert!(ME.reduce_scatter_block(6, 2).is_none());
        assert!(ME.reduce_scatter_block(0, 0).is_none());
        assert_eq!(msg(ME.reduce_scatter_block(5, 2)), "the send buffer holds 5 elements but 3 ranks receive 2 each");
        assert!(ME.reduce_scatter_block(usize::MAX, usize::MAX / 2).is_some());
        assert!(ME.reduce_scatter(6, 2, &[1, 2, 3]).is_none());
        assert!(ME.reduce_scatter(6, 9, &[1, 2, 3]).is_none());
        assert_eq!(msg(ME.reduce_scatter(6, 2, &[1, 5])), "2 counts for 3 ranks");
        assert_eq!(
            msg(ME.reduce_scatter(7, 2, &[1, 2, 3])),
            "the send buffer holds 7 elements but the counts add up to 6"
        );
        assert_eq!(
            msg(ME.reduce_scatter(6, 1, &[1, 2, 3])),
            "the receive buffer holds 1 elements but this rank's count is 2"
        );
        assert!(msg(ME.reduce_scatter(6, 2, &[usize::MAX, 2, 3])).contains("more than usize::MAX"));
    }
}
