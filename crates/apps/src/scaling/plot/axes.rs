//! Axes: the range an axis shows and its ticks. A logarithmic axis is base 2 (ranks
//! double), and the chart is drawn in axis units (the value, or its log2).

use std::ops::Range;

use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, Ranged, ValueFormatter};

/// One axis of a panel.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Axis {
    lo: f64,
    hi: f64,
    log: bool,
    /// Every value shown is an integer (rank counts): ticks only at integers.
    integers: bool,
}

impl Axis {
    /// An axis covering `values` (and `extra`), rounded out to its ticks. A log axis
    /// ignores values that are not positive.
    pub fn covering(values: &[f64], extra: Option<(f64, f64)>, log: bool) -> Axis {
        let shown: Vec<f64> = values.iter().copied().filter(|v| v.is_finite() && (!log || *v > 0.0)).collect();
        let integers = !shown.is_empty() && shown.iter().all(|v| v.fract() == 0.0);
        let mut lo = shown.iter().copied().fold(f64::INFINITY, f64::min);
        let mut hi = shown.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if let Some((a, b)) = extra {
            lo = lo.min(a);
            hi = hi.max(b);
        }
        if !lo.is_finite() || !hi.is_finite() {
            (lo, hi) = (if log { 1.0 } else { 0.0 }, if log { 2.0 } else { 1.0 });
        }
        let mut axis = Axis { lo, hi, log, integers };
        if log {
            axis.lo = 2f64.powf(lo.log2().floor());
            axis.hi = 2f64.powf(hi.log2().ceil().max(axis.lo.log2() + 1.0));
        } else {
            if hi - lo < 1e-12 {
                axis.hi = lo + 1.0;
            }
            let step = axis.step();
            axis.lo = (axis.lo / step).floor() * step;
            axis.hi = (axis.hi / step).ceil() * step;
        }
        axis
    }

    /// The distance between ticks of a linear axis: 1, 2 or 5 times a power of ten,
    /// at least 1 on an integer axis (no tick at 1.5 ranks).
    fn step(&self) -> f64 {
        let step = nice_step((self.hi - self.lo) / 6.0);
        if self.integers {
            step.max(1.0)
        } else {
            step
        }
    }

    /// Where value `v` lies in axis units.
    pub fn pos(&self, v: f64) -> f64 {
        if self.log {
            v.log2()
        } else {
            v
        }
    }

    /// The value at axis position `x`.
    pub fn value(&self, x: f64) -> f64 {
        if self.log {
            x.exp2()
        } else {
            x
        }
    }

    /// Whether value `v` can be drawn on this axis.
    pub fn shows(&self, v: f64) -> bool {
        v.is_finite() && (!self.log || v > 0.0)
    }

    /// The range drawn, in axis units: the ticks' range and a margin of 3%, so that
    /// markers at the ends stay whole.
    pub fn drawn(&self) -> Range<f64> {
        let (a, b) = (self.pos(self.lo), self.pos(self.hi));
        let pad = 0.03 * (b - a);
        a - pad..b + pad
    }

    /// The ticks, in axis units: powers of two on a log axis (at most about 11), else
    /// multiples of the step.
    pub fn ticks(&self) -> Vec<f64> {
        if self.log {
            let (a, b) = (self.lo.log2().round() as i32, self.hi.log2().round() as i32);
            let every = (b - a) / 11 + 1;
            (a..=b).filter(|k| (k - a) % every == 0).map(f64::from).collect()
        } else {
            let step = self.step();
            let n = ((self.hi - self.lo) / step).round() as i64;
            (0..=n).map(|i| self.lo + i as f64 * step).collect()
        }
    }
}

/// The axis as a plotters coordinate: positions in axis units, grid lines and labels
/// only at the ticks, labels in data units.
impl Ranged for Axis {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        let r = self.drawn();
        let t = (v - r.start) / (r.end - r.start);
        limit.0 + (t * f64::from(limit.1 - limit.0)).round() as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        // Bold lines at the ticks; no light lines between them.
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks()
        }
    }

    fn range(&self) -> Range<f64> {
        self.drawn()
    }
}

impl ValueFormatter<f64> for Axis {
    fn format_ext(&self, x: &f64) -> String {
        tick_label(self.value(*x))
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

    fn labels(a: &Axis) -> Vec<String> {
        a.ticks().iter().map(|&t| tick_label(a.value(t))).collect()
    }

    #[test]
    fn ticks_are_round_numbers() {
        let a = Axis::covering(&[0.0, 1.03], None, false);
        assert_eq!(labels(&a), ["0", "0.2", "0.4", "0.6", "0.8", "1", "1.2"]);
        let a = Axis::covering(&[1.0, 3.0], None, true);
        assert_eq!(labels(&a), ["1", "2", "4"]);
    }

    #[test]
    fn rank_axes_have_no_half_ranks() {
        let a = Axis::covering(&[1.0, 2.0, 3.0, 4.0], None, false);
        assert_eq!(labels(&a), ["1", "2", "3", "4"]);
        let a = Axis::covering(&[1.0, 1024.0], None, true);
        assert_eq!(labels(&a), ["1", "2", "4", "8", "16", "32", "64", "128", "256", "512", "1024"]);
        let a = Axis::covering(&[1.0, (1u64 << 20) as f64], None, true);
        assert!(labels(&a).iter().all(|l| l.parse::<u64>().unwrap().is_power_of_two()));
        assert!(a.ticks().len() <= 11);
    }
}
