//! Predicting scale with the Hockney (alpha-beta) model: a message of `n` bytes costs
//! `alpha + n beta`, a collective its algorithm's known cost, and a rank's computation
//! its share of the work at the rate measured on one rank. From these, the time of heat
//! (halo exchange), matmul (SUMMA's panel broadcasts) and training (an allreduce of the
//! gradients, ring or tree) on any rank count, strong or weak, and the model's error
//! where measurements exist.
//!
//! ```
//! use parsci_apps::heat::Heat;
//! use parsci_apps::scaling::model::{predict, Machine, Network, Workload};
//! let heat = Workload::Heat(Heat { nx: 2000, ny: 2000, steps: 100, ..Heat::default() });
//! let machine = Machine { net: Network::new(1.5e-6, 12e9).unwrap(), rate: 1e9, cores: None, hosts: None, overlap: true };
//! let report = predict(&heat, &machine, false, &[1, 2, 4, 4096], &[(1, 0.4), (2, 0.21)]);
//! let curve = &report.curves[0];
//! assert_eq!(curve.points.len(), 4);
//! assert!((curve.points[0].time_s - 0.4).abs() < 1e-12); // 4e8 updates at 1e9/s
//! assert!(curve.points[1].speedup > 1.9 && curve.points[3].efficiency < 1.0);
//! // at 2 ranks: half the updates, plus the 15 rows of each pass that temporal blocking redoes
//! assert!((report.checks[1].error - (0.2015 / 0.21 - 1.0)).abs() < 1e-3);
//! ```

mod figure;
mod heat;
mod machine;
mod matmul;
mod network;
mod report;
mod train;

pub use figure::model_figure;
pub use heat::{heat_cost, heat_work};
pub use machine::{Cost, Machine};
pub use matmul::{matmul_cost, matmul_work};
pub use network::{parse_bandwidth, parse_latency, Allreduce, Network};
pub use report::{predict, Check, Curve, Point, Report};
pub use train::{train_cost, train_params, train_work};

use super::Scalable;
use crate::heat::Heat;
use crate::matmul::Matmul;
use crate::train::Train;

/// A program the model predicts.
#[derive(Debug, Clone, PartialEq)]
pub enum Workload {
    /// `heat`: cell updates and halo exchanges.
    Heat(Heat),
    /// `matmul`: flops, and SUMMA's panel broadcasts or the lesson strategies' collectives.
    Matmul(Matmul),
    /// `train`: samples and gradient allreduces.
    Train(Train),
}

impl Workload {
    /// The program's name.
    pub fn name(&self) -> &'static str {
        match self {
            Workload::Heat(_) => "heat",
            Workload::Matmul(_) => "matmul",
            Workload::Train(_) => "train",
        }
    }

    /// The problem in words.
    pub fn problem(&self) -> String {
        match self {
            Workload::Heat(h) => format!("heat {} x {}, {} steps", h.nx, h.ny, h.steps),
            Workload::Matmul(m) => format!("matmul {} x {} x {} ({})", m.m, m.k, m.n, m.strategy.name()),
            Workload::Train(t) if t.optimizer == crate::train::Optimizer::Lbfgs => format!(
                "train {}: {} samples, full-batch L-BFGS, {} iterations (one pass each), {} parameters",
                t.model.name(),
                t.samples,
                t.lbfgs.iterations,
                train_params(t)
            ),
            Workload::Train(t) => format!(
                "train {}: {} samples x {} epochs, batch {}, {} parameters",
                format!("{:?}", t.model).to_lowercase(),
                t.samples,
                t.epochs,
                t.batch,
                train_params(t)
            ),
        }
    }

    /// The unit of the compute rate.
    pub fn rate_unit(&self) -> &'static str {
        match self {
            Workload::Heat(_) => "cell updates/s",
            Workload::Matmul(_) => "flop/s",
            Workload::Train(_) => "samples/s",
        }
    }

    /// The work of one run, in the rate's units.
    pub fn work(&self) -> f64 {
        match self {
            Workload::Heat(h) => heat_work(h),
            Workload::Matmul(m) => matmul_work(m),
            Workload::Train(t) => train_work(t),
        }
    }

    /// The problem of a weak-scaling run on `p` ranks (heat: NY grows as p NY; matmul: M
    /// as p M; train: the samples and the global batch as p times theirs).
    pub fn weak(&self, p: usize) -> Workload {
        match self {
            Workload::Heat(h) => Workload::Heat(h.weak(p)),
            Workload::Matmul(m) => Workload::Matmul(m.weak(p)),
            Workload::Train(t) => Workload::Train(Train {
                samples: t.samples.saturating_mul(p),
                batch: if t.batch_per_rank { t.batch } else { t.batch.saturating_mul(p) },
                ..t.clone()
            }),
        }
    }

    /// The variants predicted: one, or for training one per allreduce algorithm.
    pub fn variants(&self) -> Vec<Option<Allreduce>> {
        match self {
            Workload::Train(_) => Allreduce::ALL.map(Some).to_vec(),
            _ => vec![None],
        }
    }

    /// The cost on `p` ranks (`algo`: training's allreduce); `None` where the problem
    /// cannot be decomposed for `p` ranks.
    pub fn cost(&self, p: usize, algo: Option<Allreduce>, m: &Machine) -> Option<Cost> {
        match self {
            Workload::Heat(h) => heat_cost(h, p, m),
            Workload::Matmul(mm) => matmul_cost(mm, p, m),
            Workload::Train(t) => train_cost(t, p, algo.unwrap_or(Allreduce::Ring), m),
        }
    }
}
