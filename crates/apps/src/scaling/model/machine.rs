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
    /// Cores of each host; `None`: a core per rank, whatever the rank count.
    pub cores: Option<usize>,
    /// Hosts the ranks are spread over, evenly; `None`: as many as give each rank a core
    /// (a cluster grown with the job). `Some(1)`: every rank on one machine, as in a
    /// scaling study on one machine or the namespaces of `scripts/cluster`.
    #[serde(default)]
    pub hosts: Option<usize>,
    /// Whether communication overlaps computation (the programs post their messages,
    /// compute, then wait): a rank's time is then the larger of the two, else their sum.
    pub overlap: bool,
}

impl Machine {
    /// How much slower a rank computes when the ranks of a host outnumber its cores: the
    /// ranks per host (`ceil(p / hosts)`) over the cores, at least 1. A rank then gets
    /// `cores / ranks per host` of a core.
    ///
    /// ```
    /// use parsci_apps::scaling::model::{Machine, Network};
    /// let m = Machine { net: Network::new(1e-6, 1e9).unwrap(), rate: 1e9, cores: Some(2), hosts: Some(1), overlap: true };
    /// assert_eq!((m.sharing(1), m.sharing(2), m.sharing(4)), (1.0, 1.0, 2.0));
    /// let cluster = Machine { hosts: Some(4), ..m }; // 6 ranks on 4 hosts: 2 on the fullest
    /// assert_eq!((cluster.sharing(6), cluster.sharing(12)), (1.0, 1.5));
    /// assert_eq!(Machine { hosts: None, ..m }.sharing(4096), 1.0);
    /// ```
    pub fn sharing(&self, p: usize) -> f64 {
        match (self.cores, self.hosts) {
            (Some(c), Some(h)) if c > 0 && h > 0 => (p.div_ceil(h) as f64 / c as f64).max(1.0),
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
