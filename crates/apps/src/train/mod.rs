//! `train`: data-parallel training, the workshop's second golden example.
//!
//! - `train logreg`: logistic regression on 200,000 synthetic samples of 64 features,
//!   labelled by the sign of a seeded teacher's noisy score; 15 epochs of mini-batch
//!   gradient descent at learning rate 0.05. It reports the loss and accuracy per epoch
//!   and the teacher's own accuracy, the bound.
//! - `train mlp`: a 16-32-16-1 `tanh` network fitted to 10,000 samples labelled by a
//!   seeded teacher network of the same shape, by full-batch L-BFGS ([`lbfgs`], over the
//!   data-parallel loss of [`full_batch`]; the loss falls by orders of magnitude) or, with
//!   `optimizer: Adam`, by mini-batch Adam.
//! - `train fashion-mnist`: a 784-256-128-10 ReLU network with softmax cross-entropy,
//!   trained by Adam on the 60,000 images of Fashion-MNIST (read from their gzip IDX
//!   files, see [`idx`]), reshuffled every epoch, with the test accuracy per epoch.
//!   With `--model cnn` ([`Train::fashion_mnist_cnn`]) the network is convolutional:
//!   two blocks of 3x3 convolution, ReLU and 2x2 max-pool (16 then 32 channels, see
//!   [`conv`]), then dense 1568-128-10; every layer fits the same parameter vector,
//!   buckets, schedule and checkpoints, so it too is the same at any rank count.
//!
//! Every rank makes only its shard of the data (from the seed and the samples' global
//! indices), computes the gradients of its blocks, and the gradients are summed across
//! the ranks with nonblocking in-place allreduces, bucket by bucket from the output
//! layer while the backward pass of earlier layers goes on (PyTorch DDP's design).
//! With the default fixed global batch, training at any rank count gives the same
//! loss history and the same final weights, bit for bit (see [`schedule`]).
//!
//! ```
//! use parsci_apps::{execute, train::Train, Program};
//! use parsci_comm::Backend;
//! let small = Train { samples: 2000, epochs: 3, ..Train::logreg() };
//! let one = execute(&small, Backend::Threads(1)).unwrap().result;
//! let three = execute(&small, Backend::Threads(3)).unwrap().result;
//! assert_eq!(one.weights_fingerprint, three.weights_fingerprint);
//! assert!(small.check(&three, 3).is_ok());
//! ```

pub mod checkpoint;
pub mod conv;
pub mod data;
pub mod full_batch;
pub mod idx;
pub mod lbfgs;
pub mod lbfgs_run;
pub mod net;
pub mod optim;
pub mod parallel;
pub mod plot;
pub mod schedule;
pub mod serial;
pub mod shard;

use std::path::Path;
use std::sync::Arc;

use parsci_comm::Comm;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::heat::fingerprint;
use crate::program::{Output, Program};
use net::{Activation, Loss, Net};
pub use optim::Optimizer;
pub use schedule::{Reduction, Schedule};
use shard::Teacher;

/// Which model to train.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Model {
    /// Logistic regression (a linear teacher with a noisy score).
    Logreg,
    /// A `tanh` MLP fitted to a teacher network of its own shape.
    Mlp,
    /// A ReLU MLP classifying the images of Fashion-MNIST (softmax cross-entropy).
    FashionMnist,
}

impl Model {
    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Model::Logreg => "logreg",
            Model::Mlp => "mlp",
            Model::FashionMnist => "fashion-mnist",
        }
    }
}

/// The parameters of `train`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Train {
    /// The model.
    pub model: Model,
    /// Samples in all (Fashion-MNIST: the first this many training images).
    pub samples: usize,
    /// The layer widths, inputs first, ending with 1 (`[64, 1]`, `[16, 32, 16, 1]`) or
    /// the classes (`[784, 256, 128, 10]`; with `convs`, the dense layers come after the
    /// convolution blocks: `[784, 128, 10]`).
    pub layers: Vec<usize>,
    /// The output channels of the convolution blocks before the dense layers
    /// (Fashion-MNIST's `--model cnn`: `[16, 32]`); empty: a dense network.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub convs: Vec<usize>,
    /// Passes over the data.
    pub epochs: usize,
    /// The learning rate.
    pub lr: f64,
    /// The optimizer.
    pub optimizer: Optimizer,
    /// The global batch (or each rank's, with `batch_per_rank`).
    pub batch: usize,
    /// The workshop's semantics: each rank takes `batch` samples per step (the global
    /// batch grows with the rank count; results change with it).
    pub batch_per_rank: bool,
    /// Samples per block of a global batch: the unit of work whose gradient has its own
    /// slot in the exchange.
    pub block: usize,
    /// How a step's gradients are summed.
    pub reduction: Reduction,
    /// Gradients travel in buckets of about this many megabytes (per block slot),
    /// filled from the output layer back.
    pub bucket_mb: f64,
    /// Sum a bucket while the backward pass of earlier layers runs (else after it).
    pub overlap: bool,
    /// The standard deviation of the noise in the logistic teacher's score.
    pub noise: f64,
    /// The seed of the data, the teacher and the initial weights.
    pub seed: u64,
    /// For tests: rank `.0` fails at the start of epoch `.1`.
    pub fail_at: Option<(usize, usize)>,
    /// Fashion-MNIST's directory (default: [`idx::DEFAULT_DIR`], Debian's package).
    pub data: Option<String>,
    /// Visit the samples in a new order every epoch (drawn from the seed and the epoch).
    pub shuffle: bool,
    /// Save the run's state to this file after every epoch (see [`checkpoint`]).
    pub checkpoint: Option<String>,
    /// Resume from this checkpoint.
    pub restart: Option<String>,
    /// Draw the loss and accuracy curves into this file (`.png` or `.svg`).
    pub plot: Option<String>,
    /// L-BFGS's settings (with [`Optimizer::Lbfgs`]; the mini-batch settings are unused).
    pub lbfgs: lbfgs::Settings,
}

impl Train {
    /// The workshop's logistic regression: 200,000 x 64, 15 epochs, lr 0.05.
    pub fn logreg() -> Train {
        Train {
            model: Model::Logreg,
            samples: 200_000,
            layers: vec![64, 1],
            convs: Vec::new(),
            epochs: 15,
            lr: 0.05,
            optimizer: Optimizer::Sgd,
            batch: 256,
            batch_per_rank: false,
            block: 16,
            reduction: Reduction::Ordered,
            bucket_mb: 0.001,
            overlap: true,
            noise: 1.0,
            seed: 2024,
            fail_at: None,
            data: None,
            shuffle: false,
            checkpoint: None,
            restart: None,
            plot: None,
            lbfgs: lbfgs::Settings::default(),
        }
    }

    /// Fashion-MNIST: 784-256-128-10 ReLU, softmax, Adam at 0.001, global batch 128,
    /// 10 epochs, reshuffled every epoch.
    pub fn fashion_mnist() -> Train {
        Train {
            model: Model::FashionMnist,
            samples: 60_000,
            layers: vec![784, 256, 128, 10],
            epochs: 10,
            lr: 0.001,
            optimizer: Optimizer::Adam,
            batch: 128,
            block: 32,
            bucket_mb: 1.0,
            shuffle: true,
            ..Train::logreg()
        }
    }

    /// Fashion-MNIST's small CNN (`--model cnn`): 3x3 convolutions of 16 and 32 channels,
    /// each with ReLU and a 2x2 max-pool, then dense 1568-128-10; otherwise as
    /// [`fashion_mnist`](Train::fashion_mnist).
    pub fn fashion_mnist_cnn() -> Train {
        Train { layers: vec![784, 128, 10], convs: vec![16, 32], ..Train::fashion_mnist() }
    }

    /// The workshop's small deep network: 16-32-16-1, 10,000 samples, full-batch L-BFGS
    /// (with `optimizer: Adam`: 100 epochs of mini-batch Adam at 0.003, batch 128).
    pub fn mlp() -> Train {
        Train {
            model: Model::Mlp,
            samples: 10_000,
            layers: vec![16, 32, 16, 1],
            epochs: 100,
            lr: 0.003,
            optimizer: Optimizer::Lbfgs,
            batch: 128,
            ..Train::logreg()
        }
    }

    /// The plan of an epoch on `ranks` ranks.
    pub fn schedule(&self, ranks: usize) -> Schedule {
        Schedule {
            n: self.samples,
            batch: self.batch,
            block: self.block,
            per_rank: self.batch_per_rank,
            reduction: self.reduction,
            ranks,
        }
    }

    /// The network, its teacher (or data set) and its initial weights; reads
    /// Fashion-MNIST's files.
    pub fn setup(&self) -> Result<Setup> {
        let d = self.layers[0];
        Ok(match self.model {
            Model::Logreg => {
                let net = Net::new(&self.layers, Loss::Logistic);
                let teacher = Teacher::Linear { w: data::logreg_teacher(self.seed, d), noise: self.noise };
                let initial = vec![0.0; net.n_params()];
                Setup { net, teacher, initial, test: None }
            }
            Model::Mlp => {
                let net = Net::new(&self.layers, Loss::Squared);
                let teacher = Teacher::Net { net: net.clone(), params: data::net_params(&net, self.seed, true) };
                let initial = data::net_params(&net, self.seed, false);
                Setup { net, teacher, initial, test: None }
            }
            Model::FashionMnist => {
                let dir = self.data.as_deref().unwrap_or(idx::DEFAULT_DIR);
                let set = idx::load(Path::new(dir))?;
                let pixels = set.train.pixels_per_image();
                if pixels != d || set.test.pixels_per_image() != d {
                    let msg = format!(
                        "the images in {dir} have {pixels} pixels (test: {}) but the network takes {d} inputs",
                        set.test.pixels_per_image()
                    );
                    return Err(Train::invalid(msg));
                }
                if self.samples > set.train.len() || set.test.is_empty() {
                    let msg = format!(
                        "--samples {} but {dir} holds {} training and {} test images",
                        self.samples,
                        set.train.len(),
                        set.test.len()
                    );
                    return Err(Train::invalid(msg));
                }
                let net = self.image_net(&set)?;
                let initial = data::net_params(&net, self.seed, false);
                let test = Teacher::Images(Arc::new(set.test));
                Setup { net, teacher: Teacher::Images(Arc::new(set.train)), initial, test: Some(test) }
            }
        })
    }

    /// The order of epoch `epoch`'s samples (`None`: in index order).
    pub fn order(&self, epoch: usize) -> Option<Vec<usize>> {
        self.shuffle.then(|| data::permutation(self.seed, epoch, self.samples))
    }

    /// The plan of the test set's evaluation on `ranks` ranks (fixed blocks, in order).
    pub fn test_schedule(&self, ranks: usize, n: usize) -> Schedule {
        Schedule { n, per_rank: false, reduction: Reduction::Ordered, ..self.schedule(ranks) }
    }

    /// Fashion-MNIST's network: dense, or convolutional on the images' rows and columns.
    fn image_net(&self, set: &idx::Dataset) -> Result<Net> {
        if self.convs.is_empty() {
            return Ok(Net::with_activation(&self.layers, Loss::Softmax, Activation::Relu));
        }
        let (rows, cols) = (set.train.rows, set.train.cols);
        if (set.test.rows, set.test.cols) != (rows, cols) {
            let msg =
                format!("the training images are {rows}x{cols}, the test images {}x{}", set.test.rows, set.test.cols);
            return Err(Train::invalid(msg));
        }
        if (0..self.convs.len()).fold(rows.min(cols), |s, _| s / 2) == 0 {
            let msg = format!("{rows}x{cols} images are too small for {} 2x2 pools", self.convs.len());
            return Err(Train::invalid(msg));
        }
        let channels = [&[1][..], &self.convs].concat();
        Ok(Net::cnn(rows, cols, &channels, &self.layers[1..], Loss::Softmax))
    }

    fn invalid(msg: String) -> Error {
        Error::InvalidInput { program: "train", msg }
    }
}

/// What training starts from.
#[derive(Debug, Clone)]
pub struct Setup {
    /// The model.
    pub net: Net,
    /// Who labels the data.
    pub teacher: Teacher,
    /// The initial parameters (zeros for logistic regression).
    pub initial: Vec<f64>,
    /// The test set, if the model has one (Fashion-MNIST).
    pub test: Option<Teacher>,
}

impl Setup {
    /// The test set's size.
    pub fn test_samples(&self) -> usize {
        match &self.test {
            Some(Teacher::Images(set)) => set.len(),
            _ => 0,
        }
    }
}

/// One epoch's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochStats {
    /// The epoch, from 1.
    pub epoch: usize,
    /// The mean loss over all samples after the epoch.
    pub loss: f64,
    /// The fraction predicted right (the sign of the output, or the largest class).
    pub accuracy: f64,
    /// The mean loss over the test set (Fashion-MNIST).
    pub test_loss: Option<f64>,
    /// The fraction of the test set predicted right (Fashion-MNIST).
    pub test_accuracy: Option<f64>,
    /// Rank 0's time in the epoch's steps, in seconds.
    pub train_time_s: f64,
    /// Samples per second of the epoch's steps.
    pub samples_per_s: f64,
}

/// What `train` computes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainResult {
    /// The model.
    pub model: Model,
    /// The layer widths.
    pub layers: Vec<usize>,
    /// The convolution blocks' channels (a CNN).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub convs: Vec<usize>,
    /// Trainable parameters.
    pub params: usize,
    /// Samples.
    pub samples: usize,
    /// Samples per step over all ranks.
    pub global_batch: usize,
    /// Steps per epoch.
    pub steps_per_epoch: usize,
    /// Whether the result is the same at any rank count.
    pub rank_invariant: bool,
    /// Loss before training.
    pub initial_loss: f64,
    /// Accuracy before training.
    pub initial_accuracy: f64,
    /// Per epoch.
    pub epochs: Vec<EpochStats>,
    /// The logistic teacher's accuracy on its own noisy labels: the bound.
    pub teacher_accuracy: Option<f64>,
    /// A digest of the final weights' bits (equal digests: equal weights).
    pub weights_fingerprint: String,
    /// Rank 0's time per phase over all epochs.
    pub phases: Phases,
    /// The final weights.
    pub weights: Vec<f64>,
    /// L-BFGS's iterations (`epochs` is then empty).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lbfgs: Option<lbfgs::History>,
}

/// Where rank 0's time went, in seconds, over all epochs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Phases {
    /// Forward passes and the loss (training steps only).
    pub forward_s: f64,
    /// Backward passes (with the posting of the overlapped sums).
    pub backward_s: f64,
    /// Waiting for the gradient sums after the backward pass (all of the sums without
    /// overlap).
    pub allreduce_wait_s: f64,
    /// Adding the block slots, scaling, and the optimizer's step.
    pub optimizer_s: f64,
    /// The loss and accuracy after each epoch (training and test sets), and reshuffling.
    pub evaluate_s: f64,
}

impl TrainResult {
    /// The loss after the last epoch.
    pub fn final_loss(&self) -> f64 {
        if let Some(h) = &self.lbfgs {
            return h.iterations.last().map_or(self.initial_loss, |i| i.loss);
        }
        self.epochs.last().map_or(self.initial_loss, |e| e.loss)
    }

    /// The accuracy at the end.
    pub fn final_accuracy(&self) -> f64 {
        if let Some(h) = &self.lbfgs {
            return h.accuracy;
        }
        self.epochs.last().map_or(self.initial_accuracy, |e| e.accuracy)
    }
}

impl Program for Train {
    type Result = TrainResult;
    const NAME: &'static str = "train";

    fn validate(&self) -> Result<()> {
        let l = &self.layers;
        let classes = if self.model == Model::FashionMnist { idx::CLASSES } else { 1 };
        if l.len() < 2 || l.contains(&0) || l.last() != Some(&classes) {
            let msg = format!("the layer widths must be positive and end with {classes}, got {l:?}");
            return Err(Train::invalid(msg));
        }
        if !self.convs.is_empty() && self.model != Model::FashionMnist {
            let msg = "a convolutional network (--model cnn) needs images: only fashion-mnist has them";
            return Err(Train::invalid(msg.into()));
        }
        if self.convs.contains(&0) {
            return Err(Train::invalid(format!("the convolutions' channels must be positive, got {:?}", self.convs)));
        }
        if self.model == Model::Logreg && l.len() != 2 {
            return Err(Train::invalid(format!("logistic regression has one layer (features, 1), got {l:?}")));
        }
        for (what, v) in [("--samples", self.samples), ("--epochs", self.epochs), ("--batch", self.batch)] {
            if v == 0 {
                return Err(Train::invalid(format!("{what} must be at least 1")));
            }
        }
        if self.block == 0 {
            return Err(Train::invalid("--block must be at least 1".into()));
        }
        if !(self.lr > 0.0 && self.lr.is_finite()) {
            return Err(Train::invalid(format!("the learning rate must be a positive number, got {}", self.lr)));
        }
        if self.optimizer == Optimizer::Lbfgs {
            self.validate_lbfgs()?;
        }
        let finite = |v: f64| v >= 0.0 && v.is_finite();
        if !(finite(self.bucket_mb) && finite(self.noise)) {
            return Err(Train::invalid("--bucket-mb and --noise must be finite and not negative".into()));
        }
        Ok(())
    }

    fn validate_ranks(&self, ranks: usize) -> Result<()> {
        if self.batch_per_rank && self.samples < ranks {
            let msg = format!("{} samples cannot be shared by {ranks} ranks", self.samples);
            return Err(Train::invalid(msg));
        }
        Ok(())
    }

    fn run(&self, comm: &Comm) -> Result<Option<Output<TrainResult>>> {
        self.validate()?;
        self.validate_ranks(comm.size())?;
        let setup = self.setup()?;
        let trained = if self.optimizer == Optimizer::Lbfgs {
            lbfgs_run::train(comm, self, &setup)?
        } else {
            parallel::train(comm, self, &setup)?
        };
        if comm.rank() != 0 {
            return Ok(None);
        }
        let schedule = match &trained.lbfgs {
            Some(_) => full_batch::schedule(self, comm.size()),
            None => self.schedule(comm.size()),
        };
        let n = self.samples as f64;
        let result = TrainResult {
            model: self.model,
            layers: self.layers.clone(),
            convs: self.convs.clone(),
            params: setup.net.n_params(),
            samples: self.samples,
            global_batch: schedule.global_batch(),
            steps_per_epoch: schedule.steps(),
            rank_invariant: schedule.invariant(),
            initial_loss: trained.initial.0,
            initial_accuracy: trained.initial.1,
            epochs: trained.epochs,
            teacher_accuracy: (self.model == Model::Logreg).then(|| trained.teacher_right as f64 / n),
            weights_fingerprint: fingerprint::hex(fingerprint::of(&trained.params)),
            phases: trained.phases,
            weights: trained.params,
            lbfgs: trained.lbfgs,
        };
        let mut lines = match &result.lbfgs {
            Some(h) => lbfgs_run::lines(self, &result, h, comm.size()),
            None => self.lines(&result, comm.size()),
        };
        if let Some(path) = &self.plot {
            let fig = match &result.lbfgs {
                Some(h) => lbfgs_run::figure(&result, h),
                None => plot::figure(&result),
            };
            crate::scaling::plot::write_plot(Path::new(path), &fig).map_err(|msg| Error::Output {
                program: "train",
                path: path.clone(),
                msg,
            })?;
            lines.push(format!("loss and accuracy curves written to {path}"));
        }
        Ok(Some(Output { lines, result }))
    }

    fn check(&self, result: &TrainResult, _ranks: usize) -> Result<(), String> {
        let (first, last) = (result.initial_loss, result.final_loss());
        if !(last.is_finite() && last < first) {
            return Err(format!("the loss did not fall: {first} before training, {last} after"));
        }
        if !(result.rank_invariant && self.fail_at.is_none()) {
            return Ok(());
        }
        let setup = self.setup().map_err(|e| e.to_string())?;
        if let Some(h) = &result.lbfgs {
            return lbfgs_run::check(self, &setup, result, h);
        }
        let (history, weights) = serial::train(self, &setup);
        let got: Vec<(f64, f64)> = std::iter::once((result.initial_loss, result.initial_accuracy))
            .chain(result.epochs.iter().map(|e| (e.loss, e.accuracy)))
            .collect();
        if got != history || weights != result.weights {
            return Err(format!(
                "differs from the serial reference: loss history {got:?} vs {history:?}, weights {} vs {}",
                result.weights_fingerprint,
                fingerprint::hex(fingerprint::of(&weights))
            ));
        }
        Ok(())
    }

    fn summary(&self, r: &TrainResult) -> String {
        format!(
            "{:?}: loss {:.4} -> {:.4}, accuracy {:.4}, weights {}",
            r.model,
            r.initial_loss,
            r.final_loss(),
            r.final_accuracy(),
            r.weights_fingerprint
        )
    }
}

impl Train {
    /// L-BFGS's own checks: its settings, full batches only, no checkpoints, an exchange
    /// that fits in memory.
    fn validate_lbfgs(&self) -> Result<()> {
        if let Some(msg) = self.lbfgs.invalid() {
            return Err(Train::invalid(msg));
        }
        if self.batch_per_rank {
            return Err(Train::invalid(
                "L-BFGS trains on the full batch: --batch-per-rank is for the mini-batch \
                                       optimizers"
                    .into(),
            ));
        }
        if self.checkpoint.is_some() || self.restart.is_some() {
            return Err(Train::invalid(
                "--checkpoint and --restart are not supported with L-BFGS (its history \
                                       pairs are not saved); use --optimizer adam, or rerun: L-BFGS runs are short"
                    .into(),
            ));
        }
        let params = crate::scaling::model::train_params(self);
        let bytes = full_batch::exchange_bytes(self, params);
        if bytes > 1e9 {
            return Err(Train::invalid(format!(
                "L-BFGS's full-batch exchange would be {:.1} GB ({} blocks of {} samples, one gradient slot \
                 each): use a larger --block, --reduction plain, or --optimizer adam",
                bytes / 1e9,
                self.samples.div_ceil(self.block),
                self.block
            )));
        }
        Ok(())
    }

    /// The text rank 0 prints: the setup, one progress line per epoch, the bound.
    fn lines(&self, r: &TrainResult, ranks: usize) -> Vec<String> {
        // A CNN's blocks come between the inputs and the dense layers: 784-conv16-conv32-128-10.
        let convs = r.convs.iter().map(|c| format!("conv{c}"));
        let widths: Vec<String> = r.layers[..1]
            .iter()
            .map(usize::to_string)
            .chain(convs)
            .chain(r.layers[1..].iter().map(usize::to_string))
            .collect();
        let batch = if self.batch_per_rank {
            format!("{} per rank ({} per step; not rank-count invariant)", self.batch, r.global_batch)
        } else {
            format!("{} global, blocks of {} ({:?} sums)", self.batch, self.block, self.reduction).to_lowercase()
        };
        let mut lines = vec![
            format!(
                "train {}: {} samples, layers {} ({} parameters), {:?} lr {}, batch {batch}, {ranks} ranks",
                self.model.name(),
                r.samples,
                widths.join("-"),
                r.params,
                self.optimizer,
                self.lr
            ),
            format!("epoch {:>3}  loss {:.6e}  accuracy {:.4}", 0, r.initial_loss, r.initial_accuracy),
        ];
        for e in &r.epochs {
            let test = e.test_accuracy.map_or(String::new(), |a| format!("  test accuracy {a:.4}"));
            lines.push(format!(
                "epoch {:>3}  loss {:.6e}  accuracy {:.4}{test}  {:.3e} samples/s",
                e.epoch, e.loss, e.accuracy, e.samples_per_s
            ));
        }
        if let Some(t) = r.teacher_accuracy {
            lines.push(format!("teacher accuracy {t:.4} (the bound: the labels are noisy)"));
        }
        let fell = r.initial_loss / r.final_loss();
        let ph = &r.phases;
        lines.push(format!(
            "time on rank 0: forward {:.3} s, backward {:.3} s, allreduce wait {:.3} s, optimizer {:.3} s, \
             evaluation {:.3} s",
            ph.forward_s, ph.backward_s, ph.allreduce_wait_s, ph.optimizer_s, ph.evaluate_s
        ));
        // Orders of magnitude (the MLP) in powers of ten; a few times (logreg) plainly.
        let fell = if fell >= 1000.0 { format!("{fell:.2e}") } else { format!("{fell:.2}") };
        lines.push(format!("loss fell {fell} times; weights {}", r.weights_fingerprint));
        lines
    }
}
