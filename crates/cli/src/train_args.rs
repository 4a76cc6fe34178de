//! The arguments of `train logreg`, `train mlp` and `train fashion-mnist` and their
//! conversion to the library's parameters (defaults: the workshop's).

use clap::{Args, Subcommand, ValueEnum};
use parsci_apps::train::{lbfgs, Optimizer, Reduction, Train};

use crate::programs::{parse_count, parse_number};

/// `train MODEL [options]`.
#[derive(Debug, Clone, Subcommand)]
pub enum TrainModel {
    /// Logistic regression on 200,000 x 64 synthetic samples (15 epochs, lr 0.05, SGD)
    Logreg(TrainArgs),
    /// A 16-32-16-1 tanh MLP fitted to a teacher network of its shape (10,000 samples,
    /// full-batch L-BFGS; --optimizer adam for mini-batch Adam)
    Mlp(TrainArgs),
    /// A 784-256-128-10 ReLU MLP (or with --model cnn a small CNN) on Fashion-MNIST's 60,000
    /// images (Adam, 10 epochs); reads the IDX files of Debian's package dataset-fashion-mnist,
    /// or of --data DIR
    FashionMnist(TrainArgs),
}

/// Options of both models; left out, the model's default.
#[derive(Debug, Clone, Args)]
pub struct TrainArgs {
    /// Samples [logreg: 200000, mlp: 10000, fashion-mnist: 60000 (the first N images)]
    #[arg(long, value_name = "N", value_parser = parse_count)]
    pub samples: Option<usize>,
    /// Features (logreg) [default: 64]
    #[arg(long, value_name = "D", value_parser = parse_count)]
    pub features: Option<usize>,
    /// Passes over the data [logreg: 15, mlp: 100, fashion-mnist: 10]
    #[arg(long, value_parser = parse_count)]
    pub epochs: Option<usize>,
    /// Learning rate [logreg: 0.05, mlp: 0.003, fashion-mnist: 0.001]
    #[arg(long, value_parser = parse_number)]
    pub lr: Option<f64>,
    /// Optimizer [logreg: sgd, mlp: lbfgs, fashion-mnist: adam]
    #[arg(long, value_enum)]
    pub optimizer: Option<OptimizerArg>,
    /// The global batch, split across the ranks [logreg: 256, mlp and fashion-mnist: 128]
    #[arg(long, value_name = "B", value_parser = parse_count)]
    pub batch: Option<usize>,
    /// The workshop's semantics: each rank takes B samples per step, so the batch grows
    /// with the rank count and the result changes with it (not rank-count invariant)
    #[arg(long)]
    pub batch_per_rank: bool,
    /// Samples per block of a global batch: each block's gradient has its own slot in
    /// the exchange, and the slots are added in block order [fashion-mnist: 32, else 16]
    #[arg(long, value_name = "K", value_parser = parse_count)]
    pub block: Option<usize>,
    /// How gradients are summed: ordered (identical at any rank count) or plain (one
    /// partial sum per rank and a plain allreduce: faster, last bits vary with the ranks)
    #[arg(long, value_enum, default_value_t = ReductionArg::Ordered)]
    pub reduction: ReductionArg,
    /// Gradients travel in buckets of at least this many MB, filled from the output layer
    /// back [0.001: each layer of the small models a bucket; fashion-mnist: 1]
    #[arg(long, value_name = "MB", value_parser = parse_number)]
    pub bucket_mb: Option<f64>,
    /// Sum all gradients after the backward pass instead of overlapping
    #[arg(long)]
    pub no_overlap: bool,
    /// Standard deviation of the noise in the logistic teacher's score
    #[arg(long, default_value_t = 1.0, value_parser = parse_number)]
    pub noise: f64,
    /// Seed of the data, the teacher and the initial weights
    #[arg(long, default_value_t = 2024)]
    pub seed: u64,
    /// Fashion-MNIST's directory, with the four IDX files (.gz or not)
    /// [default: /usr/share/datasets/fashion-mnist]
    #[arg(long, value_name = "DIR")]
    pub data: Option<std::path::PathBuf>,
    /// The network (fashion-mnist only): a dense MLP, or a CNN of two blocks of 3x3
    /// convolution, ReLU and 2x2 max-pool (16, then 32 channels) before dense 1568-128-10
    #[arg(long, value_enum)]
    pub model: Option<ModelArg>,
    /// Hidden layer widths (fashion-mnist) [mlp: 256,128; cnn: 128, after the convolutions]
    #[arg(long, value_name = "W,W", value_delimiter = ',', value_parser = parse_count)]
    pub hidden: Option<Vec<usize>>,
    /// Visit the samples in the same order every epoch (fashion-mnist reshuffles by default)
    #[arg(long)]
    pub no_shuffle: bool,
    /// Save the weights, the optimizer's state and the epoch to FILE after every epoch
    /// (durably, checksummed; not with L-BFGS)
    #[arg(long, value_name = "FILE")]
    pub checkpoint: Option<std::path::PathBuf>,
    /// Resume from a checkpoint, at any rank count: the same result as without the stop
    #[arg(long, value_name = "FILE")]
    pub restart: Option<std::path::PathBuf>,
    /// Draw the training (and test) loss and accuracy per epoch into FILE (.png or .svg);
    /// L-BFGS: the loss and gradient norm per iteration, on log axes
    #[arg(long, value_name = "FILE")]
    pub plot: Option<std::path::PathBuf>,
    /// L-BFGS: iterations at most [default: 500]
    #[arg(long, value_name = "N", value_parser = parse_count)]
    pub iterations: Option<usize>,
    /// L-BFGS: update pairs kept (the history's length) [default: 10]
    #[arg(long, value_name = "M", value_parser = parse_count)]
    pub memory: Option<usize>,
    /// L-BFGS: stop once the gradient's norm is below this [default: 1e-10]
    #[arg(long, value_name = "TOL", value_parser = parse_number)]
    pub tolerance: Option<f64>,
    /// For tests: rank R fails at the start of epoch E (L-BFGS: at its E-th evaluation of
    /// the loss)
    #[arg(long, hide = true, value_name = "R:E", value_parser = parse_fail_at)]
    pub fail_at: Option<(usize, usize)>,
}

/// The optimizers, as on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OptimizerArg {
    /// Mini-batch gradient descent
    Sgd,
    /// Gradient descent with momentum 0.9
    Momentum,
    /// Adam
    Adam,
    /// Full-batch L-BFGS (More-Thuente line search)
    Lbfgs,
}

/// Fashion-MNIST's networks, as on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModelArg {
    /// A dense ReLU network
    Mlp,
    /// A small convolutional network
    Cnn,
}

/// The reductions, as on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReductionArg {
    /// One slot per block, added in block order
    Ordered,
    /// A plain allreduce of each rank's partial sum
    Plain,
}

impl TrainModel {
    /// The library's parameters; an error for options of the other kind of optimizer
    /// (mini-batch options with L-BFGS, L-BFGS's with a mini-batch optimizer).
    pub fn params(&self) -> Result<Train, String> {
        let (base, a) = match self {
            TrainModel::Logreg(a) => {
                let mut base = Train::logreg();
                if let Some(d) = a.features {
                    base.layers = vec![d, 1];
                }
                (base, a)
            }
            TrainModel::Mlp(a) => (Train::mlp(), a),
            TrainModel::FashionMnist(a) => {
                let mut base =
                    if a.model == Some(ModelArg::Cnn) { Train::fashion_mnist_cnn() } else { Train::fashion_mnist() };
                if let Some(h) = &a.hidden {
                    base.layers = [&[784][..], h, &[10]].concat();
                }
                base.shuffle = !a.no_shuffle;
                (base, a)
            }
        };
        let optimizer = a.optimizer.map_or(base.optimizer, |o| match o {
            OptimizerArg::Sgd => Optimizer::Sgd,
            OptimizerArg::Momentum => Optimizer::Momentum,
            OptimizerArg::Adam => Optimizer::Adam,
            OptimizerArg::Lbfgs => Optimizer::Lbfgs,
        });
        a.check_optimizer_options(optimizer)?;
        let lbfgs = lbfgs::Settings {
            iterations: a.iterations.unwrap_or(base.lbfgs.iterations),
            memory: a.memory.unwrap_or(base.lbfgs.memory),
            tolerance: a.tolerance.unwrap_or(base.lbfgs.tolerance),
        };
        // --model cnn on logreg or mlp keeps its blocks, for validation to refuse clearly.
        let convs = if a.model == Some(ModelArg::Cnn) { Train::fashion_mnist_cnn().convs } else { base.convs.clone() };
        Ok(Train {
            convs,
            samples: a.samples.unwrap_or(base.samples),
            epochs: a.epochs.unwrap_or(base.epochs),
            lr: a.lr.unwrap_or(base.lr),
            optimizer,
            batch: a.batch.unwrap_or(base.batch),
            batch_per_rank: a.batch_per_rank,
            block: a.block.unwrap_or(base.block),
            reduction: match a.reduction {
                ReductionArg::Ordered => Reduction::Ordered,
                ReductionArg::Plain => Reduction::Plain,
            },
            bucket_mb: a.bucket_mb.unwrap_or(base.bucket_mb),
            overlap: !a.no_overlap,
            noise: a.noise,
            seed: a.seed,
            fail_at: a.fail_at,
            data: a.data.as_ref().map(|d| d.display().to_string()).or(base.data),
            checkpoint: a.checkpoint.as_ref().map(|d| d.display().to_string()),
            restart: a.restart.as_ref().map(|d| d.display().to_string()),
            plot: a.plot.as_ref().map(|d| d.display().to_string()),
            lbfgs,
            ..base
        })
    }
}

impl TrainArgs {
    /// Refuses the options that the chosen optimizer would silently ignore.
    fn check_optimizer_options(&self, optimizer: Optimizer) -> Result<(), String> {
        let given = |pairs: &[(&'static str, bool)]| -> Vec<&'static str> {
            pairs.iter().filter(|(_, g)| *g).map(|(n, _)| *n).collect()
        };
        if optimizer == Optimizer::Lbfgs {
            let mini = given(&[
                ("--epochs", self.epochs.is_some()),
                ("--lr", self.lr.is_some()),
                ("--batch", self.batch.is_some()),
                ("--batch-per-rank", self.batch_per_rank),
                ("--checkpoint", self.checkpoint.is_some()),
                ("--restart", self.restart.is_some()),
            ]);
            if !mini.is_empty() {
                return Err(format!(
                    "{} {} for the mini-batch optimizers; L-BFGS trains on the full batch and takes --iterations, \
                     --memory, --tolerance (or choose --optimizer adam)",
                    mini.join(", "),
                    if mini.len() == 1 { "is" } else { "are" }
                ));
            }
        } else {
            let lb = given(&[
                ("--iterations", self.iterations.is_some()),
                ("--memory", self.memory.is_some()),
                ("--tolerance", self.tolerance.is_some()),
            ]);
            if !lb.is_empty() {
                return Err(format!(
                    "{} {} for --optimizer lbfgs",
                    lb.join(", "),
                    if lb.len() == 1 { "is" } else { "are" }
                ));
            }
        }
        Ok(())
    }
}

/// `R:E`, two whole numbers.
fn parse_fail_at(s: &str) -> Result<(usize, usize), String> {
    let bad = || format!("expected RANK:EPOCH, got '{s}'");
    let (r, e) = s.split_once(':').ok_or_else(bad)?;
    Ok((r.trim().parse().map_err(|_| bad())?, e.trim().parse().map_err(|_| bad())?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::{Cli, Command};
    use clap::Parser;

    fn parse(argv: &[&str]) -> Train {
        let Command::Train(m) = Cli::try_parse_from(argv).unwrap().command else { panic!("not train") };
        m.params().unwrap()
    }

    #[test]
    fn defaults_are_the_workshops() {
        assert_eq!(parse(&["parsci", "train", "logreg"]), Train::logreg());
        assert_eq!(parse(&["parsci", "train", "mlp"]), Train::mlp());
        assert_eq!(parse(&["parsci", "train", "fashion-mnist"]), Train::fashion_mnist());
        assert_eq!(parse(&["parsci", "train", "fashion-mnist", "--model", "cnn"]), Train::fashion_mnist_cnn());
        let c = parse(&["parsci", "train", "fashion-mnist", "--model", "cnn", "--hidden", "64"]);
        assert_eq!((c.layers, c.convs), (vec![784, 64, 10], vec![16, 32]));
        assert_eq!(parse(&["parsci", "train", "mlp", "--model", "cnn"]).convs, vec![16, 32]); // refused by validate
        let f = parse(&["parsci", "train", "fashion-mnist", "--hidden", "32", "--data", "d", "--no-shuffle"]);
        assert_eq!((f.layers, f.data.as_deref(), f.shuffle), (vec![784, 32, 10], Some("d"), false));
        let r =
            parse(&["parsci", "train", "mlp", "--optimizer", "adam", "--checkpoint", "a.ckpt", "--restart", "b.ckpt"]);
        assert_eq!((r.checkpoint.as_deref(), r.restart.as_deref()), (Some("a.ckpt"), Some("b.ckpt")));
        let p = parse(&["parsci", "train", "logreg", "--features", "8", "--batch-per-rank", "--no-overlap"]);
        assert_eq!((p.layers, p.batch_per_rank, p.overlap), (vec![8, 1], true, false));
        assert_eq!(parse(&["parsci", "train", "mlp", "--fail-at", "1:3"]).fail_at, Some((1, 3)));
        assert!(parse_fail_at("1-3").is_err());
    }

    #[test]
    fn mlp_defaults_to_lbfgs_and_each_optimizer_refuses_the_others_options() {
        let l = parse(&["parsci", "train", "mlp", "--iterations", "40", "--memory", "5", "--tolerance", "1e-6"]);
        assert_eq!(
            (l.optimizer, l.lbfgs),
            (Optimizer::Lbfgs, lbfgs::Settings { iterations: 40, memory: 5, tolerance: 1e-6 })
        );
        let a = parse(&["parsci", "train", "mlp", "--optimizer", "adam", "--epochs", "3"]);
        assert_eq!((a.optimizer, a.epochs), (Optimizer::Adam, 3));
        let g = parse(&["parsci", "train", "logreg", "--optimizer", "lbfgs", "--iterations", "5"]);
        assert_eq!((g.optimizer, g.lbfgs.iterations), (Optimizer::Lbfgs, 5));
        let err = |argv: &[&str]| {
            let Command::Train(m) = Cli::try_parse_from(argv).unwrap().command else { panic!("not train") };
            m.params().unwrap_err()
        };
        let e = err(&["parsci", "train", "mlp", "--epochs", "3", "--lr", "0.1"]);
        assert!(e.starts_with("--epochs, --lr are for the mini-batch optimizers") && e.contains("--iterations"), "{e}");
        let e = err(&["parsci", "train", "mlp", "--optimizer", "adam", "--memory", "3"]);
        assert_eq!(e, "--memory is for --optimizer lbfgs");
        assert!(err(&["parsci", "train", "logreg", "--tolerance", "1e-3"]).contains("--tolerance"));
    }
}
