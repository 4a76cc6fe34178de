//! Which samples go into which step, and which rank computes them.
//!
//! With a fixed global batch (the default) every batch of `B` samples is cut into
//! blocks of `block` samples (the last ones shorter) that do not depend on the rank
//! count; rank `r` of `P` computes blocks `r nb / P .. (r+1) nb / P` of every batch,
//! and each block's gradient has a slot of its own in the exchange, so that the ranks'
//! sum adds exactly one non-zero term per slot and every rank then adds the slots in
//! block order: the same sum at any `P`. With `--batch-per-rank` (the workshop's way)
//! each rank takes `B` samples of its own contiguous shard per step, and the batch
//! grows with `P`.

use std::ops::Range;

/// How a step's gradients are combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reduction {
    /// One slot per block, added in block order: identical at any rank count.
    Ordered,
    /// Each rank adds its blocks, then one plain allreduce: the sum's order, and so its
    /// last bits, change with the rank count (what the ordered exchange is measured against).
    Plain,
}

/// A unit of work: consecutive samples whose gradient goes to one slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    /// Global sample indices.
    pub samples: Range<usize>,
    /// The exchange slot it adds to.
    pub slot: usize,
}

/// One rank's part of one step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// This rank's units, in slot order.
    pub units: Vec<Unit>,
    /// Slots of the exchange (the same on every rank).
    pub slots: usize,
    /// Samples in the step over all ranks (the gradient is their mean).
    pub count: usize,
}

/// The plan of an epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    /// Samples in all.
    pub n: usize,
    /// The batch: global, or per rank with `per_rank`.
    pub batch: usize,
    /// Samples per block (fixed global batch only).
    pub block: usize,
    /// Each rank takes `batch` samples of its own shard per step.
    pub per_rank: bool,
    /// How the step's gradients are combined.
    pub reduction: Reduction,
    /// The rank count.
    pub ranks: usize,
}

/// Part `r` of `0..n` cut into `p` near-equal contiguous parts.
fn part(n: usize, p: usize, r: usize) -> Range<usize> {
    n * r / p..n * (r + 1) / p
}

impl Schedule {
    /// Steps per epoch.
    pub fn steps(&self) -> usize {
        if self.per_rank {
            part(self.n, self.ranks, 0).len().max(part(self.n, self.ranks, self.ranks - 1).len()).div_ceil(self.batch)
        } else {
            self.n.div_ceil(self.batch)
        }
    }

    /// Whether the result is the same at any rank count.
    pub fn invariant(&self) -> bool {
        !self.per_rank && self.reduction == Reduction::Ordered
    }

    /// Rank `rank`'s part of step `t`.
    pub fn step(&self, t: usize, rank: usize) -> Step {
        if self.per_rank {
            let shard = |r| part(self.n, self.ranks, r);
            let take = |r| {
                let s: Range<usize> = shard(r);
                let lo = (s.start + t * self.batch).min(s.end);
                lo..(lo + self.batch).min(s.end)
            };
            let count = (0..self.ranks).map(|r| take(r).len()).sum();
            let mine = take(rank);
            let units = if mine.is_empty() { vec![] } else { vec![Unit { samples: mine, slot: 0 }] };
            return Step { units, slots: 1, count };
        }
        let batch = t * self.batch..((t + 1) * self.batch).min(self.n);
        let nb = batch.len().div_ceil(self.block);
        let blocks = part(nb, self.ranks, rank);
        let units = blocks
            .map(|j| {
                let lo = batch.start + j * self.block;
                let slot = if self.reduction == Reduction::Ordered { j } else { 0 };
                Unit { samples: lo..(lo + self.block).min(batch.end), slot }
            })
            .collect();
        let slots = if self.reduction == Reduction::Ordered { nb } else { 1 };
        Step { units, slots, count: batch.len() }
    }

    /// Samples in one step over all ranks, at most (the global batch).
    pub fn global_batch(&self) -> usize {
        if self.per_rank {
            self.batch * self.ranks
        } else {
            self.batch
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(n: usize, batch: usize, block: usize, per_rank: bool, ranks: usize) -> Schedule {
        Schedule { n, batch, block, per_rank, reduction: Reduction::Ordered, ranks }
    }

    #[test]
    fn every_sample_is_in_exactly_one_unit_per_epoch() {
        for (per_rank, ranks) in [(false, 1), (false, 3), (false, 7), (true, 1), (true, 4), (true, 7)] {
            let s = plan(1001, 64, 10, per_rank, ranks);
            let mut seen = vec![0; 1001];
            for t in 0..s.steps() {
                for r in 0..ranks {
                    for u in s.step(t, r).units {
                        u.samples.for_each(|i| seen[i] += 1);
                    }
                }
            }
            assert!(seen.iter().all(|&c| c == 1), "per_rank {per_rank}, {ranks} ranks");
        }
    }

    #[test]
    fn blocks_and_slots_do_not_depend_on_the_rank_count() {
        let all = |ranks| -> Vec<Unit> {
            let s = plan(1001, 64, 10, false, ranks);
            (0..s.steps()).flat_map(|t| (0..ranks).flat_map(move |r| s.step(t, r).units)).collect()
        };
        for ranks in [2, 3, 4, 7, 9] {
            assert_eq!(all(ranks), all(1));
        }
        assert_eq!(plan(1001, 64, 10, false, 3).step(15, 2).count, 1001 - 15 * 64);
    }
}
