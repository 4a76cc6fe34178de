//! `train` with L-BFGS: the data-parallel run ([`train`]), its serial reference, the
//! check that they agree bit for bit, the lines printed and the plot.

use parsci_comm::{Comm, Op};

use super::full_batch::{Parallel, Serial};
use super::lbfgs::{minimize, History};
use super::parallel::{evaluate, Trained};
use super::{Setup, Train, TrainResult};
use crate::error::{Error, Result};
use crate::heat::fingerprint;
use crate::scaling::plot::{colors, Figure, Panel, Series, Style};

/// Trains on every rank; every rank returns the same parameters and history.
pub fn train(comm: &Comm, params: &Train, setup: &Setup) -> Result<Trained> {
    let objective = Parallel::new(comm, params, &setup.net, &setup.teacher);
    let mut right = [objective.shard().teacher_right];
    comm.allreduce_in_place(&mut right, &Op::sum())?;
    let shard = objective.shard().clone();
    let mut traces = Vec::new();
    let initial_accuracy = evaluate(comm, &setup.net, &setup.initial, &shard, &mut traces)?.1;
    let start = std::time::Instant::now();
    let done = minimize(objective, setup.initial.clone(), &params.lbfgs, comm.rank())?;
    let seconds = start.elapsed().as_secs_f64();
    // No broadcast keeps the ranks together: equal loss and gradient bits make argmin take
    // equal steps. Checked, cheaply: the smallest and largest weight digests must agree.
    let digest = fingerprint::of(&done.params);
    let mut both = [digest, !digest];
    comm.allreduce_in_place(&mut both, &Op::min())?;
    if both != [digest, !digest] {
        let msg = "the ranks' L-BFGS weights differ at the end (a bug: every rank should see the same \
                   loss and gradient bits)";
        return Err(Error::Protocol { program: "train", rank: comm.rank(), msg: msg.into() });
    }
    let mut history = done.history;
    history.accuracy = evaluate(comm, &setup.net, &done.params, &shard, &mut traces)?.1;
    let mut out = Trained { teacher_right: right[0], params: done.params, ..Trained::default() };
    out.initial = (done.initial_loss, initial_accuracy);
    out.phases.optimizer_s = seconds;
    out.lbfgs = Some(history);
    Ok(out)
}

/// The serial reference: the same minimization on one rank without communication.
pub fn serial(params: &Train, setup: &Setup) -> Result<(f64, History, Vec<f64>)> {
    let done = minimize(Serial::new(params, &setup.net, &setup.teacher), setup.initial.clone(), &params.lbfgs, 1)?;
    Ok((done.initial_loss, done.history, done.params))
}

/// Whether `r` (a rank-count invariant run) has the serial reference's losses, gradient
/// norms and weights, bit for bit.
pub fn check(params: &Train, setup: &Setup, r: &TrainResult, h: &History) -> Result<(), String> {
    let (initial, want, weights) = serial(params, setup).map_err(|e| e.to_string())?;
    let bits = |init: f64, h: &History| -> Vec<(u64, u64, u64)> {
        let first = (init.to_bits(), h.initial_gradient_norm.to_bits(), 1);
        let rest = h.iterations.iter().map(|i| (i.loss.to_bits(), i.gradient_norm.to_bits(), i.evaluations));
        std::iter::once(first).chain(rest).collect()
    };
    if bits(r.initial_loss, h) != bits(initial, &want) || weights != r.weights {
        return Err(format!(
            "differs from the serial reference: {} iterations to loss {:e} vs {} to {:e}, weights {} vs {}",
            h.iterations.len(),
            r.final_loss(),
            want.iterations.len(),
            want.iterations.last().map_or(initial, |i| i.loss),
            r.weights_fingerprint,
            fingerprint::hex(fingerprint::of(&weights))
        ));
    }
    Ok(())
}

/// The text rank 0 prints: the setup, the iterations (at most about 50 lines; `--json`
/// has them all), why it stopped, and how far the loss fell.
pub fn lines(params: &Train, r: &TrainResult, h: &History, ranks: usize) -> Vec<String> {
    let widths: Vec<String> = r.layers.iter().map(usize::to_string).collect();
    let s = &h.settings;
    let mut lines = vec![
        format!(
            "train {}: {} samples, layers {} ({} parameters), L-BFGS (memory {}, More-Thuente line search, \
             at most {} iterations, gradient tolerance {:e}), full batch in blocks of {} ({} sums), {ranks} ranks",
            params.model.name(),
            r.samples,
            widths.join("-"),
            r.params,
            s.memory,
            s.iterations,
            s.tolerance,
            params.block,
            format!("{:?}", params.reduction).to_lowercase()
        ),
        format!(
            "iteration {:>4}  loss {:.6e}  gradient {:.3e}  evaluations {:>4}",
            0, r.initial_loss, h.initial_gradient_norm, 1
        ),
    ];
    let every = h.iterations.len().div_ceil(50).max(1);
    for (k, it) in h.iterations.iter().enumerate() {
        if (k + 1) % every == 0 || k + 1 == h.iterations.len() {
            lines.push(format!(
                "iteration {:>4}  loss {:.6e}  gradient {:.3e}  evaluations {:>4}  {:.3} s",
                it.iteration, it.loss, it.gradient_norm, it.evaluations, it.time_s
            ));
        }
    }
    if every > 1 {
        lines.push(format!("(every {every}th iteration shown; --json gives them all)"));
    }
    lines.push(format!(
        "stopped after {} iterations and {} evaluations of the loss and gradient: {}; accuracy {:.4}",
        h.iterations.len(),
        h.evaluations,
        h.stopped,
        h.accuracy
    ));
    if let Some(t) = r.teacher_accuracy {
        lines.push(format!("teacher accuracy {t:.4} (the bound: the labels are noisy)"));
    }
    lines.push(format!("time on rank 0: {:.3} s", r.phases.optimizer_s));
    let fell = r.initial_loss / r.final_loss();
    let fell = if fell >= 1000.0 { format!("{fell:.2e}") } else { format!("{fell:.2}") };
    lines.push(format!(
        "loss fell {fell} times ({:.4e} -> {:.4e}); weights {}",
        r.initial_loss,
        r.final_loss(),
        r.weights_fingerprint
    ));
    lines
}

/// Two panels against the iteration (0: the start): the mean loss and the gradient's norm,
/// both on log axes.
pub fn figure(r: &TrainResult, h: &History) -> Figure {
    let points = |first: f64, f: fn(&super::lbfgs::Iteration) -> f64| -> Vec<(f64, f64)> {
        std::iter::once((0.0, first)).chain(h.iterations.iter().map(|i| (i.iteration as f64, f(i)))).collect()
    };
    let panel = |title: &str, y_label: &str, points| Panel {
        title: title.into(),
        x_label: "L-BFGS iteration".into(),
        y_label: y_label.into(),
        x_log: false,
        y_log: true,
        y_range: None,
        series: vec![Series { label: "full batch".into(), color: colors::BLUE, style: Style::Points, points }],
    };
    Figure {
        title: format!("train {}: {} parameters, L-BFGS, {} evaluations", r.model.name(), r.params, h.evaluations),
        panels: vec![
            panel("mean loss", "loss", points(r.initial_loss, |i| i.loss)),
            panel("gradient", "Euclidean norm", points(h.initial_gradient_norm, |i| i.gradient_norm)),
        ],
    }
}
