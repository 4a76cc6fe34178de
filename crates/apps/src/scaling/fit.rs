//! Least-squares fits of measured timings to Amdahl's law and of scaled speedups to
//! Gustafson's.

use serde::{Deserialize, Serialize};

use super::laws::{amdahl_speedup, useful_ranks};

/// Amdahl's law `T(p) = Ts + Tp / p` fitted to measured times by least squares.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AmdahlFit {
    /// The serial time `Ts`, in seconds.
    pub serial_s: f64,
    /// The parallelizable time `Tp` (on one rank), in seconds.
    pub parallel_s: f64,
    /// The serial fraction `f = Ts / (Ts + Tp)`.
    pub serial_fraction: f64,
    /// The speedup limit `1 / f` (infinite when `f = 0`).
    pub speedup_limit: f64,
    /// The fraction of the times' variance the fit explains (1 is a perfect fit).
    pub r_squared: f64,
    /// The number of (ranks, time) points fitted.
    pub points: usize,
}

impl AmdahlFit {
    /// Fits `T(p) = Ts + Tp / p` to `(p, T)` points by least squares, with `Ts` and `Tp`
    /// kept non-negative (noise can otherwise give a negative serial time). Needs at least
    /// two distinct rank counts and positive, finite times.
    ///
    /// ```
    /// use parsci_apps::scaling::AmdahlFit;
    /// let points: Vec<(usize, f64)> = [1, 2, 4, 8].iter().map(|&p| (p, 1.0 + 9.0 / p as f64)).collect();
    /// let fit = AmdahlFit::fit(&points).unwrap();
    /// assert!((fit.serial_s - 1.0).abs() < 1e-12 && (fit.parallel_s - 9.0).abs() < 1e-12);
    /// assert!((fit.serial_fraction - 0.1).abs() < 1e-12);
    /// assert!((fit.speedup_limit - 10.0).abs() < 1e-9);
    /// assert!(AmdahlFit::fit(&[(2, 1.0), (2, 1.1)]).is_err());
    /// ```
    pub fn fit(points: &[(usize, f64)]) -> Result<AmdahlFit, String> {
        check_points(points)?;
        let xy: Vec<(f64, f64)> = points.iter().map(|&(p, t)| (1.0 / p as f64, t)).collect();
        let (ts, tp) = nonneg_line(&xy);
        let f = if ts + tp > 0.0 { ts / (ts + tp) } else { 0.0 };
        let r_squared = r_squared(&xy, |x| ts + tp * x);
        Ok(AmdahlFit {
            serial_s: ts,
            parallel_s: tp,
            serial_fraction: f,
            speedup_limit: useful_ranks(f),
            r_squared,
            points: points.len(),
        })
    }

    /// The fitted time on `p` ranks.
    pub fn time(&self, p: f64) -> f64 {
        self.serial_s + self.parallel_s / p
    }

    /// The predicted speedup on `p` ranks over one rank.
    pub fn speedup(&self, p: f64) -> f64 {
        amdahl_speedup(self.serial_fraction, p)
    }
}

/// Gustafson's law `S(p) = p - s (p - 1)` fitted to measured scaled speedups.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GustafsonFit {
    /// The serial fraction `s` of the scaled run's time, in `[0, 1]`.
    pub serial_fraction: f64,
    /// The number of points fitted.
    pub points: usize,
}

impl GustafsonFit {
    /// Fits `s` to `(p, scaled speedup)` points by least squares (points at `p = 1` carry
    /// no information); needs a point at more than one rank.
    ///
    /// ```
    /// use parsci_apps::scaling::{gustafson_speedup, GustafsonFit};
    /// let pts: Vec<(usize, f64)> = [1, 2, 4].iter().map(|&p| (p, gustafson_speedup(0.2, p as f64))).collect();
    /// assert!((GustafsonFit::fit(&pts).unwrap().serial_fraction - 0.2).abs() < 1e-12);
    /// ```
    pub fn fit(points: &[(usize, f64)]) -> Result<GustafsonFit, String> {
        let (mut num, mut den) = (0.0, 0.0);
        for &(p, s) in points.iter().filter(|(p, _)| *p > 1) {
            let q = p as f64 - 1.0;
            num += (p as f64 - s) * q;
            den += q * q;
        }
        if den == 0.0 || !num.is_finite() {
            return Err("Gustafson's law needs a measurement at more than one rank".into());
        }
        Ok(GustafsonFit { serial_fraction: (num / den).clamp(0.0, 1.0), points: points.len() })
    }
}

/// An error unless the points have two distinct rank counts and positive finite times.
fn check_points(points: &[(usize, f64)]) -> Result<(), String> {
    if let Some((p, t)) = points.iter().find(|(p, t)| *p == 0 || !t.is_finite() || *t <= 0.0) {
        return Err(format!("cannot fit a time of {t} s at {p} ranks: times must be positive at 1 or more ranks"));
    }
    let first = points.first().map(|p| p.0);
    if !points.iter().any(|&(p, _)| Some(p) != first) {
        return Err("fitting Amdahl's law needs times at two or more different rank counts".into());
    }
    Ok(())
}

/// The least-squares line `y = a + b x` with `a, b >= 0`.
fn nonneg_line(xy: &[(f64, f64)]) -> (f64, f64) {
    let n = xy.len() as f64;
    let mx = xy.iter().map(|p| p.0).sum::<f64>() / n;
    let my = xy.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = xy.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = xy.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let b = sxy / sxx;
    let a = my - b * mx;
    if a >= 0.0 && b >= 0.0 {
        (a, b)
    } else if b < 0.0 {
        (my, 0.0) // times grow with p: all serial
    } else {
        // The best line through the origin.
        let sx2: f64 = xy.iter().map(|p| p.0 * p.0).sum();
        (0.0, xy.iter().map(|p| p.0 * p.1).sum::<f64>() / sx2)
    }
}

/// The coefficient of determination of `model` on the points.
fn r_squared(xy: &[(f64, f64)], model: impl Fn(f64) -> f64) -> f64 {
    let my = xy.iter().map(|p| p.1).sum::<f64>() / xy.len() as f64;
    let tot: f64 = xy.iter().map(|p| (p.1 - my).powi(2)).sum();
    let res: f64 = xy.iter().map(|p| (p.1 - model(p.0)).powi(2)).sum();
    if tot == 0.0 {
        1.0
    } else {
        1.0 - res / tot
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator of noise in [-1, 1].
    fn noise(seed: &mut u64) -> f64 {
        *seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((*seed >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    }

    #[test]
    fn the_fit_recovers_known_times_from_noisy_timings() {
        let (ts, tp) = (0.3, 12.0);
        let mut seed = 42;
        let mut points = Vec::new();
        for p in [1, 2, 3, 4, 6, 8, 12, 16] {
            for _ in 0..7 {
                let t = ts + tp / p as f64;
                points.push((p, t * (1.0 + 0.02 * noise(&mut seed)))); // 2% noise
            }
        }
        let fit = AmdahlFit::fit(&points).unwrap();
        assert!((fit.serial_s - ts).abs() < 0.03, "{fit:?}");
        assert!((fit.parallel_s - tp).abs() < 0.15, "{fit:?}");
        assert!((fit.serial_fraction - ts / (ts + tp)).abs() < 0.003, "{fit:?}");
        assert!(fit.r_squared > 0.99, "{fit:?}");
        assert_eq!(fit.points, 56);
    }

    #[test]
    fn the_fit_is_exact_without_noise_and_predicts_speedups() {
        let points: Vec<(usize, f64)> = [1, 2, 4].iter().map(|&p| (p, 2.0 + 8.0 / p as f64)).collect();
        let fit = AmdahlFit::fit(&points).unwrap();
        assert!((fit.serial_fraction - 0.2).abs() < 1e-12);
        assert!((fit.speedup(16.0) - 1.0 / (0.2 + 0.8 / 16.0)).abs() < 1e-9);
        assert!((fit.time(4.0) - 4.0).abs() < 1e-12);
        assert!((fit.r_squared - 1.0).abs() < 1e-12);
    }

    #[test]
    fn noise_never_gives_negative_times() {
        // Perfect scaling plus noise: the unconstrained serial time would be negative.
        let fit = AmdahlFit::fit(&[(1, 10.0), (2, 4.9), (4, 2.4)]).unwrap();
        assert_eq!(fit.serial_s, 0.0);
        assert!(fit.speedup_limit.is_infinite());
        // Slower with more ranks: everything is serial.
        let fit = AmdahlFit::fit(&[(1, 1.0), (2, 1.5)]).unwrap();
        assert_eq!((fit.parallel_s, fit.serial_fraction, fit.speedup_limit), (0.0, 1.0, 1.0));
    }

    #[test]
    fn bad_points_are_refused() {
        assert!(AmdahlFit::fit(&[]).unwrap_err().contains("two or more"));
        assert!(AmdahlFit::fit(&[(1, 1.0), (2, -1.0)]).unwrap_err().contains("positive"));
        assert!(AmdahlFit::fit(&[(0, 1.0), (2, 1.0)]).unwrap_err().contains("at 0 ranks"));
        assert!(GustafsonFit::fit(&[(1, 1.0)]).is_err());
    }
}
