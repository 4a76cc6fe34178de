//! Neumaier's compensated summation: a running sum and the rounding error it lost.

use bytemuck::{Pod, Zeroable};

/// A sum carried with its compensation term, accurate to about one rounding of the
/// total however many terms are added (Neumaier's variant of Kahan summation).
///
/// ```
/// use parsci_apps::rootsum::Compensated;
/// let mut s = Compensated::default();
/// for x in [1.0, 1e100, 1.0, -1e100] {
///     s.add(x);
/// }
/// assert_eq!(s.value(), 2.0); // a plain sum gives 0
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Pod, Zeroable)]
#[repr(C)]
pub struct Compensated {
    /// The running sum.
    pub sum: f64,
    /// What rounding took from `sum`, to be added at the end.
    pub comp: f64,
}

impl Compensated {
    /// Adds one term.
    #[inline(always)]
    pub fn add(&mut self, x: f64) {
        let t = self.sum + x;
        if self.sum.abs() >= x.abs() {
            self.comp += (self.sum - t) + x;
        } else {
            self.comp += (x - t) + self.sum;
        }
        self.sum = t;
    }

    /// Adds another compensated sum (for combining the partial sums of ranks).
    #[inline]
    pub fn merge(mut self, other: Compensated) -> Compensated {
        self.add(other.sum);
        self.comp += other.comp;
        self
    }

    /// The sum with its compensation applied.
    #[inline]
    pub fn value(&self) -> f64 {
        self.sum + self.comp
    }
}

impl parsci_comm::Data for Compensated {}
