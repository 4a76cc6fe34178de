//! What the model knows of the machine: the network, one rank's compute rate, and how
//! many cores the ranks share; and what it predicts for one rank count.

use serde::{Deserialize, Serialize};

use super::network::Network;

/// The machine a prediction is for.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Machine {
    /// The network between the ranks.
    pub net: Network,
    /// One rank's compute rate, in the program's units of work per second (heat: cell
    /// updates, matmul: floating-point operations, train: samples).
    pub rate: f64,
    /// Cores the ranks share, when fewer than the ranks (a test machine); `None`: a core
    /// per rank, as on a cluster.
    pub cores: Option<usize>,
    /// Whether communication overlaps computation (the programs post their messages,
    /// compute, then wait): a rank's time is then the larger of the two, else their sum.
    pub overlap: bool,
}

impl Machine {
    /// How much slower a rank computes when `p` ranks share the cores: `max(1, p / cores)`.
    pub fn sharing(&self, p: usize) -> f64 {
        match self.cores {
            Some(c) if c > 0 && p > c => p as f64 / c as f64,
            _ => 1.0,
        }
    }
}

/// The predicted time of one run on `ranks` ranks.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Cost {
    /// The number of ranks.
    pub ranks: usize,
    /// The process grid, for programs on one.
    pub grid: Option<[usize; 2]>,
    /// The slowest rank's computation, in seconds.
    pub compute_s: f64,
    /// Its communication, in seconds.
    pub comm_s: f64,
    /// The run's time: `max(compute, comm)` with overlap, else `compute + comm`.
    pub time_s: f64,
}

impl Cost {
    /// A cost from its parts.
    pub fn new(ranks: usize, grid: Option<[usize; 2]>, compute_s: f64, comm_s: f64, overlap: bool) -> Cost {
        let time_s = if overlap { compute_s.max(comm_s) } else { compute_s + comm_s };
        Cost { ranks, grid, compute_s, comm_s, time_s }
    }
}
