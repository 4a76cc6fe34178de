//! The data-parallel training loop: every rank computes the gradients of its units,
//! the gradients are summed across the ranks in buckets (nonblocking, in place, while
//! the backward pass of earlier layers goes on), and every rank takes the same step.

use std::ops::Range;
use std::path::Path;
use std::time::Instant;

use parsci_comm::{wait_all, Comm, Op};

use super::checkpoint;
use super::net::{Net, Trace};
use super::optim::State;
use super::schedule::Step;
use super::shard::Shard;
use super::{EpochStats, Phases, Setup, Train};
use crate::error::{Error, Result};

/// Consecutive layers whose gradients travel together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bucket {
    /// The layers.
    pub layers: Range<usize>,
    /// Their parameters.
    pub params: Range<usize>,
}

/// The buckets, input side first: filled from the last layer backwards (the order the
/// backward pass produces gradients), a bucket closing once its gradients reach `bytes`.
pub fn buckets(net: &Net, bytes: f64) -> Vec<Bucket> {
    let layers = net.layers();
    let mut out = Vec::new();
    let mut hi = layers.len();
    for l in (0..layers.len()).rev() {
        let size = (layers[l].params().start..layers[hi - 1].params().end).len() * 8;
        if size as f64 >= bytes || l == 0 {
            out.push(Bucket { layers: l..hi, params: layers[l].params().start..layers[hi - 1].params().end });
            hi = l;
        }
    }
    out.reverse();
    out
}

/// What the loop measured.
#[derive(Debug, Clone, Default)]
pub struct Trained {
    /// The final parameters.
    pub params: Vec<f64>,
    /// Loss and accuracy before training.
    pub initial: (f64, f64),
    /// One entry per epoch.
    pub epochs: Vec<EpochStats>,
    /// Samples the teacher gets right, over all ranks.
    pub teacher_right: u64,
    /// This rank's time per phase.
    pub phases: Phases,
    /// L-BFGS's iterations (full batch; no epochs).
    pub lbfgs: Option<super::lbfgs::History>,
}

/// Trains on every rank; every rank returns the same parameters and statistics.
pub fn train(comm: &Comm, params: &Train, setup: &Setup) -> Result<Trained> {
    let (rank, size) = (comm.rank(), comm.size());
    let schedule = params.schedule(size);
    let net = &setup.net;
    let make = |order: Option<Vec<usize>>| {
        Shard::new(&schedule, rank, &setup.teacher, net.inputs(), params.seed, order.as_deref())
    };
    let mut shard = make(None);
    let test = setup.test.as_ref().map(|t| {
        let s = params.test_schedule(size, setup.test_samples());
        Shard::new(&s, rank, t, net.inputs(), params.seed, None)
    });
    let mut right = [shard.teacher_right];
    comm.allreduce_in_place(&mut right, &Op::sum())?;
    let mut p = setup.initial.clone();
    let mut opt = State::new(params.optimizer, params.lr, p.len());
    let buckets = buckets(net, params.bucket_mb * 1e6);
    let mut traces: Vec<Trace> = Vec::new();
    let mut bufs: Vec<Vec<f64>> = vec![Vec::new(); buckets.len()];
    let mut g = vec![0.0; p.len()];
    let mut scratch = Vec::new();
    let saved = params.restart.as_deref().map(|f| checkpoint::read(Path::new(f), params)).transpose()?;
    let mut out = Trained { teacher_right: right[0], ..Trained::default() };
    let first = match saved {
        Some(saved) => {
            let fits = saved.params.len() == p.len() && opt.restore(saved.optimizer_steps, &saved.moments).is_some();
            if !fits {
                let msg = format!("{}: its weights do not fit this network", params.restart.as_deref().unwrap_or(""));
                return Err(Error::InvalidInput { program: "train", msg });
            }
            p = saved.params;
            (out.initial, out.epochs) = (saved.initial, saved.epochs);
            saved.epoch + 1
        }
        None => {
            out.initial = evaluate(comm, net, &p, &shard, &mut traces)?;
            1
        }
    };
    let ph = &mut out.phases;
    // On a terminal, rank 0 shows the steps and each finished epoch's figures as it goes.
    let left = (params.epochs + 1 - first) * schedule.steps();
    let bar = crate::progress::Bar::new(rank, left as u64, "train steps");
    for epoch in first..=params.epochs {
        if params.fail_at == Some((rank, epoch)) {
            let msg = format!("failure injected at the start of epoch {epoch} (--fail-at)");
            return Err(Error::Protocol { program: "train", rank, msg });
        }
        if params.shuffle {
            let start = Instant::now();
            shard = make(params.order(epoch));
            ph.evaluate_s += start.elapsed().as_secs_f64();
        }
        let start = Instant::now();
        for (step, rows) in shard.steps.iter().zip(&shard.rows) {
            let t0 = Instant::now();
            let units: Vec<(&[f64], &[f64])> = rows.iter().map(|r| shard.unit(r)).collect();
            traces.resize_with(units.len().max(traces.len()), Trace::default);
            let phase = comm.span("forward");
            for ((x, y), t) in units.iter().zip(traces.iter_mut()) {
                net.forward(&p, x, y.len(), t);
                net.loss_and_seed(t, y);
            }
            drop(phase);
            let t1 = Instant::now();
            ph.forward_s += (t1 - t0).as_secs_f64();
            for (buf, b) in bufs.iter_mut().zip(&buckets) {
                buf.clear();
                buf.resize(step.slots * b.params.len(), 0.0);
            }
            let waited =
                exchange(comm, params.overlap, net, &p, step, &units, &mut traces, &buckets, &mut bufs, &mut scratch)?;
            let t2 = Instant::now();
            ph.allreduce_wait_s += waited;
            ph.backward_s += (t2 - t1).as_secs_f64() - waited;
            for (buf, b) in bufs.iter().zip(&buckets) {
                fold_slots(buf, step.slots, &mut g[b.params.clone()]);
            }
            let scale = 1.0 / step.count as f64;
            g.iter_mut().for_each(|v| *v *= scale);
            opt.step(&mut p, &g);
            ph.optimizer_s += t2.elapsed().as_secs_f64();
            bar.inc(1);
        }
        let seconds = start.elapsed().as_secs_f64();
        let start = Instant::now();
        let (loss, accuracy) = evaluate(comm, net, &p, &shard, &mut traces)?;
        let tested = test.as_ref().map(|t| evaluate(comm, net, &p, t, &mut traces)).transpose()?;
        ph.evaluate_s += start.elapsed().as_secs_f64();
        let samples_per_s = schedule.n as f64 / seconds;
        let test_text = tested.map_or(String::new(), |t| format!(", test accuracy {:.4}", t.1));
        bar.message(format!(
            "epoch {epoch}: loss {loss:.4e}, accuracy {accuracy:.4}{test_text}, {samples_per_s:.3e} samples/s"
        ));
        out.epochs.push(EpochStats {
            epoch,
            loss,
            accuracy,
            test_loss: tested.map(|t| t.0),
            test_accuracy: tested.map(|t| t.1),
            train_time_s: seconds,
            samples_per_s,
        });
        if let (Some(path), 0) = (&params.checkpoint, rank) {
            let (optimizer_steps, moments) = opt.export();
            let saved = checkpoint::Saved {
                epoch,
                initial: out.initial,
                epochs: out.epochs.clone(),
                params: p.clone(),
                optimizer_steps,
                moments,
            };
            checkpoint::write(Path::new(path), params, &saved)?;
        }
    }
    out.params = p;
    Ok(out)
}

/// The backward pass of this rank's units, layer by layer from the output, each unit's
/// gradient written to its slot; each bucket's sum over the ranks starts as soon as its
/// layers are done (`overlap`), or all of them after the backward pass. Returns the time
/// spent waiting for the sums after the backward pass.
#[allow(clippy::too_many_arguments)]
pub(super) fn exchange(
    comm: &Comm,
    overlap: bool,
    net: &Net,
    p: &[f64],
    step: &Step,
    units: &[(&[f64], &[f64])],
    traces: &mut [Trace],
    buckets: &[Bucket],
    bufs: &mut [Vec<f64>],
    scratch: &mut Vec<f64>,
) -> Result<f64> {
    let sum = Op::sum();
    let backward = |b: &Bucket, buf: &mut [f64], traces: &mut [Trace], scratch: &mut Vec<f64>| {
        let _phase = comm.span("backward");
        let len = b.params.len();
        for l in b.layers.clone().rev() {
            let range = net.layers()[l].params();
            let at = range.start - b.params.start;
            for ((unit, (x, _)), t) in step.units.iter().zip(units).zip(traces.iter_mut()) {
                let slot = &mut buf[unit.slot * len..(unit.slot + 1) * len][at..at + range.len()];
                if step.slots == 1 && step.units.len() > 1 {
                    // Plain sums: this rank's units add up in one slot.
                    scratch.resize(range.len(), 0.0);
                    net.backward_layer(p, l, x, t, scratch);
                    slot.iter_mut().zip(scratch.iter()).for_each(|(s, v)| *s += v);
                } else {
                    net.backward_layer(p, l, x, t, slot);
                }
            }
        }
    };
    if !overlap {
        for (b, buf) in buckets.iter().zip(bufs.iter_mut()).rev() {
            backward(b, buf, traces, scratch);
        }
        let start = Instant::now();
        let _phase = comm.span("allreduce");
        for buf in bufs.iter_mut().rev() {
            comm.allreduce_in_place(buf, &sum)?;
        }
        return Ok(start.elapsed().as_secs_f64());
    }
    comm.scope(|s| {
        let mut pending = Vec::with_capacity(bufs.len());
        for (b, buf) in buckets.iter().zip(bufs.iter_mut()).rev() {
            backward(b, buf, traces, scratch);
            pending.push(s.iallreduce_in_place(buf, &sum)?); // travels during the next bucket's layers
        }
        let start = Instant::now();
        let _phase = comm.span("allreduce");
        wait_all(pending)?;
        Ok(start.elapsed().as_secs_f64())
    })
}

/// Adds the slots of `buf` (`slots` blocks of `out.len()` values) in slot order.
pub(super) fn fold_slots(buf: &[f64], slots: usize, out: &mut [f64]) {
    let len = out.len();
    out.copy_from_slice(&buf[..len]);
    for s in 1..slots {
        out.iter_mut().zip(&buf[s * len..(s + 1) * len]).for_each(|(o, v)| *o += v);
    }
}

/// The mean loss and the accuracy over all samples: each unit's loss in a slot of its
/// own (block order over the whole epoch), summed over the ranks, added in order.
pub(super) fn evaluate(
    comm: &Comm,
    net: &Net,
    p: &[f64],
    shard: &Shard,
    traces: &mut Vec<Trace>,
) -> Result<(f64, f64)> {
    let slots: usize = shard.steps.iter().map(|s| s.slots).sum();
    let mut sums = vec![0.0; 2 * slots];
    let mut first = 0;
    traces.resize_with(traces.len().max(1), Trace::default);
    let mut total = 0;
    for (step, rows) in shard.steps.iter().zip(&shard.rows) {
        for (unit, r) in step.units.iter().zip(rows) {
            let (x, y) = shard.unit(r);
            let (loss, right) = net.evaluate(p, x, y, &mut traces[0]);
            let slot = &mut sums[2 * (first + unit.slot)..][..2];
            slot[0] += loss;
            slot[1] += right as f64;
        }
        first += step.slots;
        total += step.count;
    }
    comm.allreduce_in_place(&mut sums, &Op::sum())?;
    let mut both = [0.0; 2];
    fold_slots(&sums, slots, &mut both);
    Ok((both[0] / total as f64, both[1] / total as f64))
}
