//! The serial reference of the fixed-global-batch training: one loop over the batches,
//! each batch's blocks in order, no communication. The parallel version at any rank
//! count gives its loss history and final weights bit for bit.

use super::net::{Net, Trace};
use super::optim::State;
use super::shard::Shard;
use super::{Setup, Train};

/// The loss history (initial, then one per epoch) and the final weights.
pub fn train(params: &Train, setup: &Setup) -> (Vec<(f64, f64)>, Vec<f64>) {
    let schedule = params.schedule(1);
    let net = &setup.net;
    let make = |order: Option<Vec<usize>>| {
        Shard::new(&schedule, 0, &setup.teacher, net.inputs(), params.seed, order.as_deref())
    };
    let mut shard = make(None);
    let mut p = setup.initial.clone();
    let mut opt = State::new(params.optimizer, params.lr, p.len());
    let mut history = vec![evaluate(net, &p, &shard)];
    for epoch in 1..=params.epochs {
        if params.shuffle {
            shard = make(params.order(epoch));
        }
        for (step, rows) in shard.steps.iter().zip(&shard.rows) {
            let mut sum: Option<Vec<f64>> = None;
            for r in rows {
                let (x, y) = shard.unit(r);
                let (_, g) = net.loss_and_gradient(&p, x, y);
                match &mut sum {
                    None => sum = Some(g),
                    Some(s) => s.iter_mut().zip(&g).for_each(|(s, v)| *s += v),
                }
            }
            let mut g = sum.unwrap_or_else(|| vec![0.0; p.len()]);
            g.iter_mut().for_each(|v| *v *= 1.0 / step.count as f64);
            opt.step(&mut p, &g);
        }
        history.push(evaluate(net, &p, &shard));
    }
    (history, p)
}

/// Mean loss and accuracy, the blocks' sums added in order.
fn evaluate(net: &Net, p: &[f64], shard: &Shard) -> (f64, f64) {
    let mut t = Trace::default();
    let (mut loss, mut right, mut n) = (None::<f64>, 0.0, 0);
    for rows in &shard.rows {
        for r in rows {
            let (x, y) = shard.unit(r);
            let (l, k) = net.evaluate(p, x, y, &mut t);
            loss = Some(loss.map_or(l, |s| s + l));
            right += k as f64;
            n += y.len();
        }
    }
    (loss.unwrap_or(0.0) / n as f64, right / n as f64)
}
