//! The Hockney (alpha-beta) model of a network: a message of `n` bytes takes
//! `alpha + n beta`, and the known costs of the collective algorithms built on it.

use serde::{Deserialize, Serialize};

/// A network as the Hockney model sees it: latency `alpha` and inverse bandwidth `beta`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Network {
    /// Seconds per message (the one-way latency of a small message).
    pub alpha_s: f64,
    /// Seconds per byte (one over the bandwidth).
    pub beta_s_per_byte: f64,
}

/// How an allreduce is carried out, each with its textbook cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Allreduce {
    /// Reduce-scatter then allgather around a ring: `2 (p-1) alpha + 2 (p-1)/p n beta`.
    Ring,
    /// A binomial-tree reduce then a binomial-tree broadcast: `2 ceil(log2 p) (alpha + n beta)`.
    Tree,
}

impl Allreduce {
    /// Both, in the order of the reports.
    pub const ALL: [Allreduce; 2] = [Allreduce::Ring, Allreduce::Tree];

    /// The name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Allreduce::Ring => "ring",
            Allreduce::Tree => "tree",
        }
    }
}

impl Network {
    /// From a latency in seconds and a bandwidth in bytes per second; an error unless both
    /// are positive and finite.
    pub fn new(latency_s: f64, bandwidth_bytes_per_s: f64) -> Result<Network, String> {
        if !(latency_s.is_finite() && latency_s >= 0.0) {
            return Err(format!("the latency must be a finite number of seconds >= 0, got {latency_s}"));
        }
        if !(bandwidth_bytes_per_s.is_finite() && bandwidth_bytes_per_s > 0.0) {
            return Err(format!("the bandwidth must be a finite number of bytes/s > 0, got {bandwidth_bytes_per_s}"));
        }
        Ok(Network { alpha_s: latency_s, beta_s_per_byte: 1.0 / bandwidth_bytes_per_s })
    }

    /// The bandwidth in bytes per second.
    pub fn bandwidth(&self) -> f64 {
        1.0 / self.beta_s_per_byte
    }

    /// One message of `bytes`: `alpha + bytes beta`.
    ///
    /// ```
    /// use parsci_apps::scaling::model::Network;
    /// let net = Network::new(2e-6, 1e9).unwrap();
    /// assert!((net.message(1000.0) - 3e-6).abs() < 1e-15);
    /// ```
    pub fn message(&self, bytes: f64) -> f64 {
        self.alpha_s + bytes * self.beta_s_per_byte
    }

    /// A binomial-tree broadcast of `bytes` to `p` ranks: `ceil(log2 p) (alpha + bytes beta)`.
    pub fn bcast(&self, p: usize, bytes: f64) -> f64 {
        rounds(p) * self.message(bytes)
    }

    /// A binomial-tree reduce of `bytes` to one rank of `p`: `ceil(log2 p) (alpha + bytes
    /// beta)`, the arithmetic left out.
    pub fn reduce(&self, p: usize, bytes: f64) -> f64 {
        self.bcast(p, bytes)
    }

    /// A binomial-tree scatter of `total` bytes from one rank to `p` (each gets `total /
    /// p`): `ceil(log2 p) alpha + (p-1)/p total beta`; a gather costs the same.
    ///
    /// ```
    /// use parsci_apps::scaling::model::Network;
    /// let net = Network::new(1e-6, 1e9).unwrap();
    /// // 4 ranks: 2 rounds; 3/4 of the data leaves the root.
    /// assert!((net.scatter(4, 4e6) - (2e-6 + 3e-3)).abs() < 1e-12);
    /// assert_eq!(net.gather(4, 4e6), net.scatter(4, 4e6));
    /// assert_eq!(net.scatter(1, 4e6), 0.0);
    /// ```
    pub fn scatter(&self, p: usize, total: f64) -> f64 {
        if p <= 1 {
            return 0.0;
        }
        let q = p as f64;
        rounds(p) * self.alpha_s + (q - 1.0) / q * total * self.beta_s_per_byte
    }

    /// A binomial-tree gather of `total` bytes (`total / p` from each of `p` ranks) to one.
    pub fn gather(&self, p: usize, total: f64) -> f64 {
        self.scatter(p, total)
    }

    /// An allreduce of `bytes` on `p` ranks by `algo` (0 on one rank).
    ///
    /// ```
    /// use parsci_apps::scaling::model::{Allreduce, Network};
    /// let net = Network::new(1e-6, 1e9).unwrap();
    /// // Ring on 4 ranks: 6 alpha + 1.5 n beta; tree: 4 (alpha + n beta).
    /// assert!((net.allreduce(Allreduce::Ring, 4, 1e6) - (6e-6 + 1.5e-3)).abs() < 1e-12);
    /// assert!((net.allreduce(Allreduce::Tree, 4, 1e6) - 4.0 * (1e-6 + 1e-3)).abs() < 1e-12);
    /// assert_eq!(net.allreduce(Allreduce::Ring, 1, 1e6), 0.0);
    /// ```
    pub fn allreduce(&self, algo: Allreduce, p: usize, bytes: f64) -> f64 {
        if p <= 1 {
            return 0.0;
        }
        let q = p as f64;
        match algo {
            Allreduce::Ring => 2.0 * (q - 1.0) * self.alpha_s + 2.0 * (q - 1.0) / q * bytes * self.beta_s_per_byte,
            Allreduce::Tree => 2.0 * rounds(p) * self.message(bytes),
        }
    }

    /// Fits the model to ping-pong times: `(bytes, one-way seconds)` points. `alpha` is the
    /// time of the smallest message, `beta` the slope between the smallest and the largest
    /// (which the bandwidth dominates); an error with fewer than two sizes.
    ///
    /// ```
    /// use parsci_apps::scaling::model::Network;
    /// let pts = [(1.0, 10e-6), (1024.0, 11e-6), (1048576.0, 10e-6 + 1048575.0 / 1e9)];
    /// let net = Network::fit_pingpong(&pts).unwrap();
    /// assert!((net.alpha_s - 10e-6).abs() < 1e-12 && (net.bandwidth() / 1e9 - 1.0).abs() < 1e-9);
    /// ```
    pub fn fit_pingpong(points: &[(f64, f64)]) -> Result<Network, String> {
        let mut pts: Vec<(f64, f64)> = points.iter().copied().filter(|(b, t)| *b > 0.0 && *t > 0.0).collect();
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
        let (Some(&(b0, t0)), Some(&(b1, t1))) = (pts.first(), pts.last()) else {
            return Err("no ping-pong times to fit the latency and bandwidth to".into());
        };
        if b1 <= b0 {
            return Err("fitting a bandwidth needs ping-pong times at two message sizes or more".into());
        }
        let slope = (t1 - t0) / (b1 - b0);
        if slope <= 0.0 {
            return Err(format!("the ping-pong times do not grow with the size ({t0} s at {b0} B, {t1} s at {b1} B)"));
        }
        Ok(Network { alpha_s: t0, beta_s_per_byte: slope })
    }
}

/// The rounds of a binomial tree over `p` ranks: `ceil(log2 p)`.
pub(crate) fn rounds(p: usize) -> f64 {
    f64::from(p.max(1).next_power_of_two().trailing_zeros())
}

/// Parses a latency: a number with `s`, `ms`, `us` (or `µs`) or `ns` (`1.5us`).
///
/// ```
/// use parsci_apps::scaling::model::parse_latency;
/// assert!((parse_latency("1.5us").unwrap() - 1.5e-6).abs() < 1e-18);
/// assert!((parse_latency("20 ms").unwrap() - 0.02).abs() < 1e-15);
/// assert!(parse_latency("fast").is_err() && parse_latency("-1us").is_err() && parse_latency("5").is_err());
/// ```
pub fn parse_latency(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let units = [("ns", 1e-9), ("us", 1e-6), ("µs", 1e-6), ("ms", 1e-3), ("s", 1.0)];
    number_with_unit(t, &units)
        .ok_or_else(|| format!("latency '{s}': give a non-negative number with a unit: s, ms, us or ns (e.g. 1.5us)"))
}

/// Parses a bandwidth: a number with `B/s`, `KB/s`, `MB/s`, `GB/s` (powers of 1000),
/// `KiB/s`, `MiB/s`, `GiB/s`, or bits: `Mbit/s`, `Gbit/s` (`12GB/s`, `10Gbit/s`).
///
/// ```
/// use parsci_apps::scaling::model::parse_bandwidth;
/// assert_eq!(parse_bandwidth("12GB/s").unwrap(), 12e9);
/// assert_eq!(parse_bandwidth("10Gbit/s").unwrap(), 1.25e9);
/// assert_eq!(parse_bandwidth("1 MiB/s").unwrap(), 1048576.0);
/// assert!(parse_bandwidth("0GB/s").is_err() && parse_bandwidth("12").is_err());
/// ```
pub fn parse_bandwidth(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let units = [
        ("GiB/s", 1073741824.0),
        ("MiB/s", 1048576.0),
        ("KiB/s", 1024.0),
        ("Gbit/s", 1.25e8),
        ("Mbit/s", 1.25e5),
        ("GB/s", 1e9),
        ("MB/s", 1e6),
        ("KB/s", 1e3),
        ("kB/s", 1e3),
        ("B/s", 1.0),
    ];
    match number_with_unit(t, &units) {
        Some(v) if v > 0.0 => Ok(v),
        _ => Err(format!(
            "bandwidth '{s}': give a positive number with a unit: GB/s, MB/s, GiB/s, Gbit/s ... (e.g. 12GB/s)"
        )),
    }
}

/// `NUMBER UNIT` with one of `units` (longest listed first where one ends another).
fn number_with_unit(t: &str, units: &[(&str, f64)]) -> Option<f64> {
    let (unit, scale) = units.iter().find(|(u, _)| t.ends_with(u))?;
    let v: f64 = t[..t.len() - unit.len()].trim().parse().ok()?;
    (v.is_finite() && v >= 0.0).then_some(v * scale)
}
