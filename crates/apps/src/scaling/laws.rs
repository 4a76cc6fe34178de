//! The laws of scaling: Amdahl's and Gustafson's speedups, the Karp-Flatt metric, and
//! the workshop's rule of thumb.

/// Amdahl's speedup on `p` ranks of a program whose serial fraction (of the one-rank
/// time) is `f`: `1 / (f + (1 - f) / p)`.
///
/// ```
/// use parsci_apps::scaling::amdahl_speedup;
/// assert!((amdahl_speedup(0.05, 1.0) - 1.0).abs() < 1e-12);
/// assert!((amdahl_speedup(0.05, 1e12) - 20.0).abs() < 1e-6); // the limit 1/f
/// assert!((amdahl_speedup(0.0, 8.0) - 8.0).abs() < 1e-12);
/// ```
pub fn amdahl_speedup(f: f64, p: f64) -> f64 {
    1.0 / (f + (1.0 - f) / p)
}

/// Gustafson's scaled speedup on `p` ranks when the problem grows with `p` and the
/// serial part is a fraction `s` of the time of the run on `p` ranks: `p - s (p - 1)`.
///
/// ```
/// use parsci_apps::scaling::gustafson_speedup;
/// assert!((gustafson_speedup(0.05, 1024.0) - 972.85).abs() < 1e-9);
/// ```
pub fn gustafson_speedup(s: f64, p: f64) -> f64 {
    p - s * (p - 1.0)
}

/// The Karp-Flatt experimentally determined serial fraction of a measured speedup `s`
/// on `p` ranks: `e = (1/s - 1/p) / (1 - 1/p)`; `None` for `p = 1`, where it is
/// undefined. A serial fraction that grows with `p` points at overhead (communication,
/// imbalance) rather than at serial code.
///
/// ```
/// use parsci_apps::scaling::{amdahl_speedup, karp_flatt};
/// // A speedup that follows Amdahl's law exactly gives back its serial fraction.
/// let e = karp_flatt(amdahl_speedup(0.1, 4.0), 4).unwrap();
/// assert!((e - 0.1).abs() < 1e-12);
/// assert!((karp_flatt(3.0, 4).unwrap() - 1.0 / 9.0).abs() < 1e-12);
/// assert_eq!(karp_flatt(1.0, 1), None);
/// ```
pub fn karp_flatt(s: f64, p: usize) -> Option<f64> {
    if p < 2 {
        return None;
    }
    let p = p as f64;
    Some((1.0 / s - 1.0 / p) / (1.0 - 1.0 / p))
}

/// The workshop's rule of thumb: with a serial fraction `f`, no more than `1/f` ranks
/// pay off (infinite for `f = 0`).
///
/// ```
/// assert_eq!(parsci_apps::scaling::useful_ranks(0.05), 20.0);
/// ```
pub fn useful_ranks(f: f64) -> f64 {
    if f <= 0.0 {
        f64::INFINITY
    } else {
        1.0 / f
    }
}
