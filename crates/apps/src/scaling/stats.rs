//! The summary of repeated timings: median, minimum, maximum.

use serde::{Deserialize, Serialize};

/// Median, minimum and maximum of a set of samples (seconds).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// The median (the mean of the two middle samples for an even count).
    pub median: f64,
    /// The smallest sample.
    pub min: f64,
    /// The largest sample.
    pub max: f64,
    /// The number of samples.
    pub n: usize,
}

impl Summary {
    /// The summary of `samples`, or `None` if there are none or one is not finite.
    ///
    /// ```
    /// use parsci_apps::scaling::Summary;
    /// let s = Summary::of(&[3.0, 1.0, 2.0, 10.0]).unwrap();
    /// assert_eq!((s.median, s.min, s.max, s.n), (2.5, 1.0, 10.0, 4));
    /// assert!(Summary::of(&[]).is_none());
    /// ```
    pub fn of(samples: &[f64]) -> Option<Summary> {
        if samples.is_empty() || samples.iter().any(|x| !x.is_finite()) {
            return None;
        }
        let mut v = samples.to_vec();
        v.sort_by(f64::total_cmp);
        let n = v.len();
        let median = if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 };
        Some(Summary { median, min: v[0], max: v[n - 1], n })
    }
}
