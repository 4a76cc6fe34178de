//! `train` with full-batch L-BFGS (`train mlp`'s default): the same iterates, losses and
//! weights bit for bit at any rank count and as the serial reference; the loss falls by
//! orders of magnitude; bad settings are refused before any work; a failing rank stops
//! the job with its rank named.

use parsci_apps::train::lbfgs::{History, Settings};
use parsci_apps::train::{Model, Optimizer, Reduction, Train, TrainResult};
use parsci_apps::{execute, Program};
use parsci_comm::Backend;

fn run(p: &Train, n: usize) -> TrainResult {
    execute(p, Backend::Threads(n)).unwrap_or_else(|e| panic!("train on {n} ranks: {e}")).result
}

fn small(iterations: usize) -> Train {
    Train { samples: 400, lbfgs: Settings { iterations, ..Settings::default() }, ..Train::mlp() }
}

fn history(r: &TrainResult) -> &History {
    r.lbfgs.as_ref().expect("an L-BFGS history")
}

/// Every iteration's loss, gradient norm and evaluation count, as bits.
fn bits(r: &TrainResult) -> Vec<(u64, u64, u64)> {
    let h = history(r);
    h.iterations.iter().map(|i| (i.loss.to_bits(), i.gradient_norm.to_bits(), i.evaluations)).collect()
}

#[test]
fn the_mlp_defaults_to_full_batch_lbfgs() {
    let p = Train::mlp();
    assert_eq!((p.optimizer, p.lbfgs), (Optimizer::Lbfgs, Settings::default()));
    let r = run(&small(3), 2);
    assert_eq!((r.global_batch, r.steps_per_epoch, r.epochs.len()), (400, 1, 0));
    assert_eq!(history(&r).iterations.len(), 3);
}

#[test]
fn lbfgs_gives_the_same_iterates_at_any_rank_count() {
    let p = small(25);
    let one = run(&p, 1);
    p.check(&one, 1).unwrap(); // the serial reference's history and weights, bit for bit
    assert_eq!(history(&one).iterations.len(), 25);
    for n in [2, 3, 4, 7] {
        let r = run(&p, n);
        assert_eq!(bits(&r), bits(&one), "{n} ranks");
        assert_eq!((r.initial_loss, &r.weights), (one.initial_loss, &one.weights), "{n} ranks");
        assert!(r.rank_invariant);
        p.check(&r, n).unwrap();
    }
}

#[test]
fn overlap_and_buckets_do_not_change_the_iterates() {
    let p = small(10);
    let want = run(&p, 3);
    for (overlap, bucket_mb) in [(false, 0.001), (true, 100.0)] {
        let r = run(&Train { overlap, bucket_mb, ..p.clone() }, 3);
        assert_eq!((bits(&r), &r.weights), (bits(&want), &want.weights), "overlap {overlap}, {bucket_mb} MB");
    }
}

#[test]
fn the_mlp_loss_falls_a_hundredfold() {
    let p = small(150);
    let r = run(&p, 2);
    let h = history(&r);
    assert!(r.final_loss() < r.initial_loss / 100.0, "{} -> {} in {:?}", r.initial_loss, r.final_loss(), h.stopped);
    // Every iteration lowers the loss (the line search's sufficient decrease).
    let losses: Vec<f64> = h.iterations.iter().map(|i| i.loss).collect();
    assert!(losses.windows(2).all(|w| w[1] < w[0]) && losses[0] < r.initial_loss);
    assert!(h.evaluations > h.iterations.len() as u64); // the first point, then at least one per iteration
    let text = p.summary(&r);
    assert!(text.contains("Mlp: loss"), "{text}");
}

#[test]
fn plain_sums_and_logistic_regression_work_too() {
    let plain = Train { reduction: Reduction::Plain, ..small(10) };
    let r = run(&plain, 3);
    assert!(!r.rank_invariant && r.final_loss() < r.initial_loss);
    plain.check(&r, 3).unwrap();
    let logreg = Train {
        samples: 2000,
        optimizer: Optimizer::Lbfgs,
        lbfgs: Settings { iterations: 20, ..Settings::default() },
        ..Train::logreg()
    };
    let one = run(&logreg, 1);
    let four = run(&logreg, 4);
    assert_eq!((bits(&four), &four.weights), (bits(&one), &one.weights));
    logreg.check(&four, 4).unwrap();
    assert!(history(&one).accuracy > 0.7 && one.teacher_accuracy.is_some());
}

#[test]
fn a_failing_rank_stops_the_job_with_its_rank_named() {
    // Evaluation 1 is before argmin starts; 4 and 9 inside its iterations and line searches.
    for (rank, at) in [(2, 1), (0, 4), (3, 9)] {
        let p = Train { fail_at: Some((rank, at)), ..small(20) };
        let err = execute(&p, Backend::Threads(4)).unwrap_err().to_string();
        assert!(err.contains(&format!("rank {rank}")) && err.contains(&format!("evaluation {at}")), "{err}");
    }
}

#[test]
fn bad_settings_are_refused_before_any_work() {
    let with = |s: Settings| Train { lbfgs: s, ..Train::mlp() };
    let d = Settings::default();
    for (bad, want) in [
        (with(Settings { iterations: 0, ..d }), "--iterations"),
        (with(Settings { memory: 0, ..d }), "--memory"),
        (with(Settings { tolerance: -1.0, ..d }), "--tolerance"),
        (with(Settings { tolerance: f64::NAN, ..d }), "--tolerance"),
        (Train { batch_per_rank: true, ..Train::mlp() }, "full batch"),
        (Train { checkpoint: Some("x.ckpt".into()), ..Train::mlp() }, "not supported with L-BFGS"),
        (Train { restart: Some("x.ckpt".into()), ..Train::mlp() }, "not supported with L-BFGS"),
        (Train { optimizer: Optimizer::Lbfgs, ..Train::fashion_mnist() }, "GB"),
    ] {
        let err = execute(&bad, Backend::Threads(2)).unwrap_err().to_string();
        assert!(err.starts_with("train: ") && err.contains(want), "{err}");
    }
    assert_eq!(Train::fashion_mnist().model, Model::FashionMnist);
}

#[test]
fn the_plot_shows_loss_and_gradient_on_log_axes() {
    let path = std::env::temp_dir().join(format!("parsci-lbfgs-{}.png", std::process::id()));
    let p = Train { plot: Some(path.display().to_string()), ..small(5) };
    let out = execute(&p, Backend::Threads(2)).unwrap();
    assert!(out.lines.iter().any(|l| l.contains("written to")), "{:?}", out.lines);
    assert!(out.lines.iter().any(|l| l.starts_with("iteration    5  loss")), "{:?}", out.lines);
    assert!(std::fs::read(&path).unwrap().starts_with(b"\x89PNG"));
    std::fs::remove_file(&path).unwrap();
    let fig = parsci_apps::train::lbfgs_run::figure(&out.result, history(&out.result));
    assert!(fig.panels.iter().all(|panel| panel.y_log) && fig.panels[0].series[0].points.len() == 6);
}

#[test]
fn the_performance_model_counts_one_full_batch_pass_per_iteration() {
    use parsci_apps::scaling::model::{train_cost, train_work, Allreduce, Machine, Network};
    let m = Machine { net: Network::new(1e-5, 1e9).unwrap(), rate: 1e5, cores: None, hosts: None, overlap: false };
    let t = Train::mlp(); // 10,000 samples in 625 blocks of 16, 500 iterations
    let c = train_cost(&t, 4, Allreduce::Ring, &m).unwrap();
    // 157 blocks of 16 samples on the slowest of 4 ranks, per iteration.
    assert!((c.compute_s - 500.0 * 157.0 * 16.0 / 1e5).abs() < 1e-9, "{}", c.compute_s);
    assert_eq!(train_work(&t), 500.0 * 10_000.0);
}
