//! `train` at several rank counts: the same loss history and weights bit for bit with a
//! fixed global batch, the serial reference's; the workshop's per-rank batches train too;
//! a failing rank stops the job with its rank named.

use parsci_apps::train::{Optimizer, Reduction, Train, TrainResult};
use parsci_apps::{execute, Program};
use parsci_comm::Backend;

const SIZES: [usize; 5] = [1, 2, 3, 4, 7];

fn run(p: &Train, n: usize) -> TrainResult {
    execute(p, Backend::Threads(n)).unwrap_or_else(|e| panic!("train on {n} ranks: {e}")).result
}

fn history(r: &TrainResult) -> Vec<(u64, u64)> {
    r.epochs.iter().map(|e| (e.loss.to_bits(), e.accuracy.to_bits())).collect()
}

fn small_logreg() -> Train {
    Train { samples: 3001, epochs: 3, batch: 100, block: 8, ..Train::logreg() }
}

fn small_mlp() -> Train {
    Train { samples: 1000, epochs: 4, batch: 64, optimizer: Optimizer::Adam, ..Train::mlp() }
}

#[test]
fn a_fixed_global_batch_gives_the_same_training_at_any_rank_count() {
    for p in [small_logreg(), small_mlp()] {
        let one = run(&p, 1);
        p.check(&one, 1).unwrap(); // equal to the serial reference, bit for bit
        for n in SIZES {
            let r = run(&p, n);
            assert_eq!(history(&r), history(&one), "{:?} on {n} ranks", p.model);
            assert_eq!(r.weights, one.weights, "{:?} on {n} ranks", p.model);
            assert!(r.rank_invariant);
        }
    }
}

#[test]
fn overlap_and_bucket_size_do_not_change_the_result() {
    let p = small_mlp();
    let want = run(&p, 3);
    for (overlap, bucket_mb) in [(false, 0.001), (true, 0.0), (true, 100.0), (false, 100.0)] {
        let r = run(&Train { overlap, bucket_mb, ..p.clone() }, 3);
        assert_eq!(r.weights, want.weights, "overlap {overlap}, buckets of {bucket_mb} MB");
    }
}

#[test]
fn logistic_regression_approaches_the_teacher() {
    let p = Train { samples: 20_000, epochs: 5, ..Train::logreg() };
    let r = run(&p, 2);
    let (teacher, got) = (r.teacher_accuracy.unwrap(), r.epochs.last().unwrap().accuracy);
    assert!(got > teacher - 0.03 && got <= teacher + 0.02, "accuracy {got}, teacher {teacher}");
    assert!(r.final_loss() < 0.5 * r.initial_loss);
}

#[test]
fn the_mlp_loss_falls_by_orders_of_magnitude() {
    let p = Train { samples: 2000, epochs: 60, optimizer: Optimizer::Adam, ..Train::mlp() }; // the full-size run falls further
    let r = run(&p, 2);
    assert!(r.final_loss() < r.initial_loss / 50.0, "{} -> {}", r.initial_loss, r.final_loss());
}

#[test]
fn per_rank_batches_and_plain_sums_train_but_are_not_invariant() {
    for p in [
        Train { batch_per_rank: true, batch: 50, ..small_logreg() },
        Train { reduction: Reduction::Plain, ..small_logreg() },
    ] {
        for n in [1, 3] {
            let r = run(&p, n);
            assert!(!r.rank_invariant);
            p.check(&r, n).unwrap();
        }
    }
    let per_rank = Train { batch_per_rank: true, batch: 50, ..small_logreg() };
    assert_eq!(run(&per_rank, 3).global_batch, 150);
    assert_eq!(run(&per_rank, 3).steps_per_epoch, 3001_usize.div_ceil(3).div_ceil(50));
}

#[test]
fn a_failing_rank_stops_the_job_with_its_rank_named() {
    let p = Train { fail_at: Some((2, 2)), ..small_mlp() };
    let err = execute(&p, Backend::Threads(4)).unwrap_err().to_string();
    assert!(err.contains("rank 2") && err.contains("epoch 2"), "{err}");
}

#[test]
fn bad_parameters_are_refused_before_any_work() {
    for bad in [
        Train { batch: 0, ..Train::logreg() },
        Train { lr: -1.0, ..Train::logreg() },
        Train { layers: vec![4, 3], ..Train::mlp() },
        Train { layers: vec![4, 3, 1], ..Train::logreg() },
        Train { block: 0, ..Train::logreg() },
    ] {
        let err = execute(&bad, Backend::Threads(2)).unwrap_err().to_string();
        assert!(err.starts_with("train: "), "{err}");
    }
}

mod fashion {
    use super::*;
    use parsci_apps::train::idx::{self, Dataset};
    use std::path::{Path, PathBuf};

    /// A small Fashion-MNIST of 6x6 images in a directory of its own, removed on drop.
    struct Files(PathBuf);

    impl Files {
        fn new(name: &str, train: usize, test: usize) -> Files {
            Files::sized(name, train, test, 6)
        }

        /// Images of `side x side` pixels.
        fn sized(name: &str, train: usize, test: usize, side: usize) -> Files {
            let dir = std::env::temp_dir().join(format!("parsci-train-{name}-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            let data =
                Dataset { train: idx::synthetic(train, side, side, 1), test: idx::synthetic(test, side, side, 2) };
            idx::write(&dir, &data).unwrap();
            Files(dir)
        }
    }

    impl Drop for Files {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn small(files: &Files) -> Train {
        Train {
            samples: 700,
            layers: vec![36, 16, 12, 10],
            epochs: 3,
            lr: 0.01,
            batch: 32,
            block: 4,
            bucket_mb: 0.0005,
            data: Some(files.0.display().to_string()),
            ..Train::fashion_mnist()
        }
    }

    #[test]
    fn a_small_idx_data_set_trains_identically_at_any_rank_count() {
        let files = Files::new("invariant", 700, 150);
        for p in [small(&files), Train { optimizer: Optimizer::Momentum, lr: 0.05, ..small(&files) }] {
            let one = run(&p, 1);
            p.check(&one, 1).unwrap(); // the serial reference's history and weights, bit for bit
            let test: Vec<f64> = one.epochs.iter().map(|e| e.test_accuracy.unwrap()).collect();
            assert!(test[2] > 0.8, "test accuracy per epoch {test:?}");
            for n in SIZES {
                let r = run(&p, n);
                assert_eq!(history(&r), history(&one), "{n} ranks");
                let t: Vec<f64> = r.epochs.iter().map(|e| e.test_accuracy.unwrap()).collect();
                assert_eq!(t, test, "{n} ranks");
                assert_eq!(r.weights, one.weights, "{n} ranks");
            }
        }
    }

    /// A CNN on 8x8 images: blocks of 3 and 4 channels (8x8 -> 4x4 -> 2x2), dense 16-8-10.
    fn small_cnn(files: &Files) -> Train {
        Train { samples: 400, layers: vec![64, 8, 10], convs: vec![3, 4], epochs: 3, ..small(files) }
    }

    #[test]
    fn a_small_cnn_trains_identically_at_any_rank_count() {
        let files = Files::sized("cnn", 400, 100, 8);
        let p = small_cnn(&files);
        let one = run(&p, 1);
        p.check(&one, 1).unwrap(); // the serial reference's history and weights, bit for bit
        assert_eq!(one.params, 3 * 9 + 3 + 4 * 27 + 4 + 16 * 8 + 8 + 8 * 10 + 10);
        let test: Vec<f64> = one.epochs.iter().map(|e| e.test_accuracy.unwrap()).collect();
        assert!(test[2] > 0.5, "test accuracy per epoch {test:?}");
        for n in SIZES {
            let r = run(&p, n);
            assert_eq!(history(&r), history(&one), "{n} ranks");
            assert_eq!(r.weights, one.weights, "{n} ranks");
        }
        // Without overlap, in one bucket or one per layer: the same weights.
        for (overlap, bucket_mb) in [(false, 100.0), (true, 0.0)] {
            assert_eq!(run(&Train { overlap, bucket_mb, ..p.clone() }, 3).weights, one.weights);
        }
    }

    #[test]
    fn a_cnn_resumes_from_its_checkpoint_identically_at_any_rank_count() {
        let files = Files::sized("cnn-resume", 200, 40, 8);
        let ck = std::env::temp_dir().join(format!("parsci-train-cnn-{}.ckpt", std::process::id()));
        let ck = ck.display().to_string();
        let p = Train { samples: 200, epochs: 3, ..small_cnn(&files) };
        let whole = run(&p, 2);
        let stopped = Train { checkpoint: Some(ck.clone()), fail_at: Some((1, 3)), ..p.clone() };
        assert!(execute(&stopped, Backend::Threads(3)).is_err());
        for n in [1, 4, 7] {
            let r = run(&Train { restart: Some(ck.clone()), ..p.clone() }, n);
            assert_eq!(history(&r), history(&whole), "resumed on {n} ranks");
            assert_eq!(r.weights, whole.weights, "resumed on {n} ranks");
        }
        // The MLP's checkpoint does not continue the CNN.
        let mlp = Train { convs: vec![], restart: Some(ck.clone()), ..p.clone() };
        assert!(execute(&mlp, Backend::Threads(1)).unwrap_err().to_string().contains("another run"));
        std::fs::remove_file(&ck).unwrap();
    }

    #[test]
    fn a_cnn_is_refused_without_images_or_on_images_too_small() {
        let err = execute(&Train { convs: vec![16, 32], ..small_mlp() }, Backend::Threads(2)).unwrap_err();
        assert!(err.to_string().contains("only fashion-mnist"), "{err}");
        let files = Files::new("cnn-small", 100, 20);
        let deep = Train { samples: 100, layers: vec![36, 10], convs: vec![2, 2, 2], ..small(&files) };
        let err = execute(&deep, Backend::Threads(1)).unwrap_err().to_string();
        assert!(err.contains("6x6 images are too small for 3 2x2 pools"), "{err}");
        let zero = Train { convs: vec![4, 0], ..small(&files) };
        assert!(execute(&zero, Backend::Threads(1)).unwrap_err().to_string().contains("channels must be positive"));
    }

    #[test]
    fn reshuffling_and_overlap_keep_the_result_invariant() {
        let files = Files::new("shuffle", 300, 40);
        let p = Train { samples: 300, epochs: 2, ..small(&files) };
        let shuffled = run(&p, 3);
        let fixed = run(&Train { shuffle: false, ..p.clone() }, 3);
        assert_ne!(shuffled.weights, fixed.weights, "the order changes the steps");
        let off = run(&Train { overlap: false, bucket_mb: 100.0, ..p.clone() }, 2);
        assert_eq!(off.weights, shuffled.weights);
    }

    #[test]
    fn missing_or_damaged_data_are_clear_errors() {
        let p = Train { data: Some("/nonexistent/fashion".into()), ..Train::fashion_mnist() };
        let err = execute(&p, Backend::Threads(2)).unwrap_err().to_string();
        assert!(err.contains("dataset-fashion-mnist") && err.contains("/nonexistent/fashion"), "{err}");
        let files = Files::new("damaged", 100, 20);
        let too_many = Train { samples: 101, ..small(&files) };
        assert!(execute(&too_many, Backend::Threads(1)).unwrap_err().to_string().contains("holds 100 training"));
        let wrong = Train { layers: vec![784, 16, 10], samples: 100, ..small(&files) };
        assert!(execute(&wrong, Backend::Threads(1)).unwrap_err().to_string().contains("36 pixels"));
        let labels = files.0.join("train-labels-idx1-ubyte.gz");
        std::fs::write(&labels, b"\x1f\x8b not gzip").unwrap();
        let err = execute(&Train { samples: 100, ..small(&files) }, Backend::Threads(2)).unwrap_err().to_string();
        assert!(err.contains("train-labels-idx1-ubyte.gz") && err.contains("damaged"), "{err}");
    }

    /// On the real data where Debian's package is installed (CI installs it); short.
    #[test]
    fn real_fashion_mnist_learns_where_installed() {
        if !Path::new(idx::DEFAULT_DIR).join("train-images-idx3-ubyte.gz").exists() {
            eprintln!("skipped: dataset-fashion-mnist is not installed");
            return;
        }
        let p = Train { samples: 4000, epochs: 2, layers: vec![784, 32, 10], ..Train::fashion_mnist() };
        let r = run(&p, 2);
        let acc = r.epochs.last().unwrap().test_accuracy.unwrap();
        assert!(acc > 0.7, "test accuracy {acc} after 2 epochs on 4000 images");
        assert_eq!(run(&p, 3).weights, r.weights);
    }
}

mod resume {
    use super::*;

    fn temp(name: &str) -> String {
        std::env::temp_dir().join(format!("parsci-train-{name}-{}.ckpt", std::process::id())).display().to_string()
    }

    #[test]
    fn a_resumed_run_is_identical_to_an_uninterrupted_one_at_any_rank_count() {
        let ck = temp("resume");
        for p in [Train { epochs: 4, ..small_mlp() }, Train { epochs: 4, shuffle: true, ..small_logreg() }] {
            let whole = run(&p, 2);
            // Stopped by a failing rank at the start of epoch 3: the file holds epoch 2.
            let stopped = Train { checkpoint: Some(ck.clone()), fail_at: Some((1, 3)), ..p.clone() };
            assert!(execute(&stopped, Backend::Threads(3)).is_err());
            for n in [1, 4, 7] {
                let r = run(&Train { restart: Some(ck.clone()), ..p.clone() }, n);
                assert_eq!(history(&r), history(&whole), "{:?} resumed on {n} ranks", p.model);
                assert_eq!((r.initial_loss, &r.weights), (whole.initial_loss, &whole.weights), "{n} ranks");
            }
        }
        std::fs::remove_file(&ck).unwrap();
    }

    #[test]
    fn damaged_or_foreign_checkpoints_are_refused() {
        let ck = temp("bad");
        let p = Train { epochs: 2, checkpoint: Some(ck.clone()), ..small_mlp() };
        run(&p, 2);
        let good = std::fs::read(&ck).unwrap();
        let resume = Train { restart: Some(ck.clone()), checkpoint: None, epochs: 3, ..small_mlp() };
        assert_eq!(run(&resume, 3).epochs.len(), 3);
        let refused = |p: &Train| execute(p, Backend::Threads(2)).unwrap_err().to_string();
        std::fs::write(&ck, &good[..good.len() - 100]).unwrap();
        assert!(refused(&resume).contains("truncated"));
        std::fs::write(&ck, &good[..10]).unwrap();
        assert!(refused(&resume).contains("not a parsci train checkpoint"));
        let mut flipped = good.clone();
        let at = good.len() - 200;
        flipped[at] ^= 0x10;
        std::fs::write(&ck, &flipped).unwrap();
        assert!(refused(&resume).contains("checksum"));
        std::fs::write(&ck, &good).unwrap();
        assert!(refused(&Train { lr: 0.1, ..resume.clone() }).contains("another run"));
        assert!(refused(&Train { epochs: 1, ..resume.clone() }).contains("past the 1 epochs"));
        std::fs::remove_file(&ck).unwrap();
        assert!(refused(&resume).contains("cannot open"));
    }
}
