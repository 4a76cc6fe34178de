//! The full-batch loss and gradient that L-BFGS minimizes, data-parallel: the whole data
//! set is one global batch, cut into the usual blocks ([`Schedule`] with `batch = n`);
//! each rank computes the loss and gradient of its blocks, each block's in a slot of its
//! own, the slots are summed across the ranks (the gradient through the bucketed in-place
//! exchange of [`parallel`](super::parallel), the losses through one small allreduce),
//! and every rank adds them in block order. Every rank so gets the same bits, at any rank
//! count, and the serial reference ([`Serial`]) the same again.

use parsci_comm::{Comm, Op};

use super::net::{Net, Trace};
use super::parallel::{buckets, exchange, fold_slots, Bucket};
use super::schedule::Schedule;
use super::shard::{Shard, Teacher};
use super::Train;
use crate::error::{Error, Result};

/// A loss to minimize: the mean loss over all samples and its gradient.
pub trait Objective {
    /// The mean loss and gradient at `p`; every rank calls it with the same `p`.
    fn eval(&mut self, p: &[f64]) -> Result<(f64, Vec<f64>)>;
}

/// The plan of the full batch: one step holding every block.
pub fn schedule(params: &Train, ranks: usize) -> Schedule {
    Schedule { batch: params.samples, per_rank: false, ..params.schedule(ranks) }
}

/// Bytes of the gradient exchange of one evaluation (its slots times the parameters), the
/// same on every rank.
pub fn exchange_bytes(params: &Train, n_params: usize) -> f64 {
    schedule(params, 1).step(0, 0).slots as f64 * n_params as f64 * 8.0
}

/// Rank `comm.rank()`'s part of the full-batch loss, summed over the ranks.
pub struct Parallel<'a> {
    comm: &'a Comm,
    net: &'a Net,
    shard: Shard,
    buckets: Vec<Bucket>,
    overlap: bool,
    traces: Vec<Trace>,
    bufs: Vec<Vec<f64>>,
    scratch: Vec<f64>,
    fail_at: Option<usize>,
    passes: usize,
}

impl<'a> Parallel<'a> {
    /// Makes this rank's shard of the full batch (`fail_at`: for tests, this rank fails at
    /// that evaluation, counted from 1).
    pub fn new(comm: &'a Comm, params: &Train, net: &'a Net, teacher: &Teacher) -> Parallel<'a> {
        let s = schedule(params, comm.size());
        let shard = Shard::new(&s, comm.rank(), teacher, net.inputs(), params.seed, None);
        let fail_at = params.fail_at.filter(|&(r, _)| r == comm.rank()).map(|(_, e)| e);
        let buckets = buckets(net, params.bucket_mb * 1e6);
        let bufs = vec![Vec::new(); buckets.len()];
        let (traces, scratch) = (Vec::new(), Vec::new());
        Parallel { comm, net, shard, buckets, overlap: params.overlap, traces, bufs, scratch, fail_at, passes: 0 }
    }

    /// The shard (for the final evaluation).
    pub fn shard(&self) -> &Shard {
        &self.shard
    }
}

impl Objective for Parallel<'_> {
    fn eval(&mut self, p: &[f64]) -> Result<(f64, Vec<f64>)> {
        self.passes += 1;
        if self.fail_at == Some(self.passes) {
            let msg = format!("failure injected at evaluation {} of the loss (--fail-at)", self.passes);
            return Err(Error::Protocol { program: "train", rank: self.comm.rank(), msg });
        }
        let (net, comm) = (self.net, self.comm);
        let (step, rows) = (&self.shard.steps[0], &self.shard.rows[0]);
        let units: Vec<(&[f64], &[f64])> = rows.iter().map(|r| self.shard.unit(r)).collect();
        self.traces.resize_with(units.len().max(self.traces.len()), Trace::default);
        let mut losses = vec![0.0; step.slots];
        {
            let _phase = comm.span("forward");
            for ((unit, (x, y)), t) in step.units.iter().zip(&units).zip(self.traces.iter_mut()) {
                net.forward(p, x, y.len(), t);
                losses[unit.slot] += net.loss_and_seed(t, y).0;
            }
        }
        for (buf, b) in self.bufs.iter_mut().zip(&self.buckets) {
            buf.clear();
            buf.resize(step.slots * b.params.len(), 0.0);
        }
        let (traces, bufs, scratch) = (&mut self.traces, &mut self.bufs, &mut self.scratch);
        exchange(comm, self.overlap, net, p, step, &units, traces, &self.buckets, bufs, scratch)?;
        comm.allreduce_in_place(&mut losses, &Op::sum())?;
        let mut g = vec![0.0; p.len()];
        for (buf, b) in self.bufs.iter().zip(&self.buckets) {
            fold_slots(buf, step.slots, &mut g[b.params.clone()]);
        }
        let mut loss = [0.0];
        fold_slots(&losses, step.slots, &mut loss);
        Ok(mean(loss[0], g, step.count))
    }
}

/// The serial reference: every block in order, no communication.
pub struct Serial<'a> {
    net: &'a Net,
    shard: Shard,
}

impl<'a> Serial<'a> {
    /// The whole data set on one rank.
    pub fn new(params: &Train, net: &'a Net, teacher: &Teacher) -> Serial<'a> {
        let shard = Shard::new(&schedule(params, 1), 0, teacher, net.inputs(), params.seed, None);
        Serial { net, shard }
    }
}

impl Objective for Serial<'_> {
    fn eval(&mut self, p: &[f64]) -> Result<(f64, Vec<f64>)> {
        let (mut loss, mut sum) = (None::<f64>, None::<Vec<f64>>);
        for r in &self.shard.rows[0] {
            let (x, y) = self.shard.unit(r);
            let (l, g) = self.net.loss_and_gradient(p, x, y);
            loss = Some(loss.map_or(l, |s| s + l));
            match &mut sum {
                None => sum = Some(g),
                Some(s) => s.iter_mut().zip(&g).for_each(|(s, v)| *s += v),
            }
        }
        let g = sum.unwrap_or_else(|| vec![0.0; p.len()]);
        Ok(mean(loss.unwrap_or(0.0), g, self.shard.steps[0].count))
    }
}

/// The sums divided by the sample count, as the mini-batch steps do.
fn mean(loss: f64, mut g: Vec<f64>, count: usize) -> (f64, Vec<f64>) {
    let scale = 1.0 / count as f64;
    g.iter_mut().for_each(|v| *v *= scale);
    (loss / count as f64, g)
}
