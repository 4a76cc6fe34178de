//! Axis scales: mapping data to pixels and choosing ticks.

/// A linear or base-2 logarithmic mapping of `[lo, hi]` onto `[p0, p1]` pixels.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scale {
    pub lo: f64,
    pub hi: f64,
    pub log: bool,
    pub p0: f64,
    pub p1: f64,
}

impl Scale {
    /// A scale covering `values` (and `extra`), padded a little, in `[p0, p1]`.
    pub fn covering(values: &[f64], extra: Option<(f64, f64)>, log: bool, p0: f64, p1: f64) -> Scale {
        let ok = |v: &&f64| v.is_finite() && (!log || **v > 0.0);
        let mut lo = values.iter().filter(ok).copied().fold(f64::INFINITY, f64::min);
        let mut hi = values.iter().filter(ok).copied().fold(f64::NEG_INFINITY, f64::max);
        if let Some((a, b)) = extra {
            lo = lo.min(a);
            hi = hi.max(b);
        }
        if !lo.is_finite() || !hi.is_finite() {
            (lo, hi) = (if log { 1.0 } else { 0.0 }, if log { 2.0 } else { 1.0 });
        }
        if log {
            lo = 2f64.powf(lo.log2().floor());
            hi = 2f64.powf(hi.log2().ceil().max(lo.log2() + 1.0));
        } else {
            if hi - lo < 1e-12 {
                hi = lo + 1.0;
            }
            let step = nice_step((hi - lo) / 6.0);
            lo = (lo / step).floor() * step;
            hi = (hi / step).ceil() * step;
        }
        Scale { lo, hi, log, p0, p1 }
    }

    /// The pixel of data value `v` (values outside the range map outside `[p0, p1]`).
    pub fn px(&self, v: f64) -> f64 {
        let t = if self.log {
            (v.max(1e-300).log2() - self.lo.log2()) / (self.hi.log2() - self.lo.log2())
        } else {
            (v - self.lo) / (self.hi - self.lo)
        };
        self.p0 + t * (self.p1 - self.p0)
    }

    /// Whether `v` lies in the range (with a small tolerance).
    pub fn contains(&self, v: f64) -> bool {
        let eps = 1e-9 * (self.hi - self.lo).abs();
        v.is_finite() && v >= self.lo - eps && v <= self.hi + eps
    }

    /// Tick values: powers of two (log, at most about 11) or multiples of a nice step.
    pub fn ticks(&self) -> Vec<f64> {
        if self.log {
            let (a, b) = (self.lo.log2().round() as i32, self.hi.log2().round() as i32);
            let every = ((b - a) / 10 + 1).max(1);
            (a..=b).filter(|k| (k - a) % every == 0).map(|k| 2f64.powi(k)).collect()
        } else {
            let step = nice_step((self.hi - self.lo) / 6.0);
            let n = ((self.hi - self.lo) / step).round() as i64;
            (0..=n).map(|i| self.lo + i as f64 * step).collect()
        }
    }
}

/// 1, 2 or 5 times a power of ten, at least `raw`.
fn nice_step(raw: f64) -> f64 {
    let raw = if raw > 0.0 && raw.is_finite() { raw } else { 1.0 };
    let mag = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * mag).find(|s| *s >= raw * (1.0 - 1e-9)).unwrap_or(10.0 * mag)
}

/// A tick's label: an integer when it is one, else up to 3 significant decimals.
pub(crate) fn tick_label(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 * v.abs().max(1.0) {
        format!("{}", v.round() as i64)
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_numbers() {
        let s = Scale::covering(&[0.0, 1.03], None, false, 0.0, 100.0);
        assert_eq!(
            s.ticks().iter().map(|&t| tick_label(t)).collect::<Vec<_>>(),
            ["0", "0.2", "0.4", "0.6", "0.8", "1", "1.2"]
        );
        let s = Scale::covering(&[1.0, 3.0], None, true, 0.0, 100.0);
        assert_eq!(s.ticks(), [1.0, 2.0, 4.0]);
        assert_eq!((s.px(1.0), s.px(4.0)), (0.0, 100.0));
    }
}
