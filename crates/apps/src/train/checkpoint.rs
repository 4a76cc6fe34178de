//! `train --checkpoint FILE` and `--restart FILE`: after every epoch rank 0 saves the
//! weights, the optimizer's state, the epoch and the history so far in the project's
//! checkpoint file ([`crate::files::checkpoint`]: durable, checksummed). The data order
//! is a function of the seed and the epoch, so the epoch restores it. The file does not
//! depend on the rank count: a run resumed at any rank count (fixed global batch) ends
//! with the weights of the uninterrupted run, bit for bit.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{EpochStats, Model, Optimizer, Reduction, Train};
use crate::error::{Error, Result};
use crate::files::checkpoint::{self, Kind};

const KIND: Kind = Kind { magic: b"PARSCI-TRAIN-CHECKPOINT\n", program: "train" };
const VERSION: u32 = 1;

/// What must be equal for a checkpoint to continue a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunKey {
    model: Model,
    layers: Vec<usize>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    convs: Vec<usize>,
    samples: usize,
    optimizer: Optimizer,
    lr: f64,
    batch: usize,
    batch_per_rank: bool,
    block: usize,
    reduction: Reduction,
    noise: f64,
    seed: u64,
    shuffle: bool,
}

impl RunKey {
    fn of(p: &Train) -> RunKey {
        RunKey {
            model: p.model,
            layers: p.layers.clone(),
            convs: p.convs.clone(),
            samples: p.samples,
            optimizer: p.optimizer,
            lr: p.lr,
            batch: p.batch,
            batch_per_rank: p.batch_per_rank,
            block: p.block,
            reduction: p.reduction,
            noise: p.noise,
            seed: p.seed,
            shuffle: p.shuffle,
        }
    }
}

/// A checkpoint's header.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Header {
    version: u32,
    run: RunKey,
    epoch: usize,
    params: usize,
    moments: usize,
    optimizer_steps: i32,
    initial: (f64, f64),
    epochs: Vec<EpochStats>,
}

/// A run's state after an epoch.
#[derive(Debug, Clone, PartialEq)]
pub struct Saved {
    /// Epochs done.
    pub epoch: usize,
    /// Loss and accuracy before training.
    pub initial: (f64, f64),
    /// The epochs' figures so far.
    pub epochs: Vec<EpochStats>,
    /// The weights.
    pub params: Vec<f64>,
    /// The optimizer's step count.
    pub optimizer_steps: i32,
    /// The optimizer's moments.
    pub moments: Vec<f64>,
}

/// Writes `saved` for the run `p` (durably: the old file stays whole until the new one is).
pub fn write(path: &Path, p: &Train, saved: &Saved) -> Result<()> {
    let header = Header {
        version: VERSION,
        run: RunKey::of(p),
        epoch: saved.epoch,
        params: saved.params.len(),
        moments: saved.moments.len(),
        optimizer_steps: saved.optimizer_steps,
        initial: saved.initial,
        epochs: saved.epochs.clone(),
    };
    let values = [&saved.params[..], &saved.moments[..]].concat();
    checkpoint::write(path, &KIND, &header, &values).map_err(|e| Error::Output {
        program: "train",
        path: path.display().to_string(),
        msg: e.to_string(),
    })
}

/// Reads a checkpoint for the run `p`: an error if it is damaged, was written by another
/// run (another model, data, batch, optimizer or seed), or is past `p`'s epochs.
pub fn read(path: &Path, p: &Train) -> Result<Saved> {
    let count = |h: &Header| {
        if h.version != VERSION {
            return Err(format!("it has format version {}, this parsci reads {VERSION}", h.version));
        }
        h.params.checked_add(h.moments).filter(|&n| n < 1 << 34).ok_or_else(|| "its sizes are corrupted".to_string())
    };
    let (h, values) = checkpoint::read(path, &KIND, count)?;
    let invalid = |msg: String| Error::InvalidInput { program: "train", msg: format!("{}: {msg}", path.display()) };
    let want = RunKey::of(p);
    if h.run != want {
        return Err(invalid(format!(
            "written by another run ({:?}); this run is {want:?}: restart with that run's parameters",
            h.run
        )));
    }
    if h.epoch > p.epochs {
        return Err(invalid(format!("at epoch {}, past the {} epochs asked", h.epoch, p.epochs)));
    }
    let (params, moments) = values.split_at(h.params);
    Ok(Saved {
        epoch: h.epoch,
        initial: h.initial,
        epochs: h.epochs,
        params: params.to_vec(),
        optimizer_steps: h.optimizer_steps,
        moments: moments.to_vec(),
    })
}
