//! What a run reports about `A`, `B` and `C` without gathering them: the norms, the
//! sum of `C`, and `u^T C v` for two fixed pseudo-random vectors, which the check
//! compares with the serial product's (a block of `C` misplaced or wrong changes it).
//! Each rank sums over the pieces it holds; one reduce adds the ranks' sums.

use std::ops::Range;

use parsci_comm::{Comm, Op};

use super::gen::{self, Which};
use super::Matmul;
use crate::error::Result;

/// The seed of the probe vectors (fixed: the same for every run and every input).
const PROBE_SEED: u64 = 0x5EED_0FC0_FFEE;

/// Norms, sum and probe of the whole matrices.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Totals {
    /// `||A||_F`.
    pub norm_a: f64,
    /// `||B||_F`.
    pub norm_b: f64,
    /// `||C||_F`.
    pub norm_c: f64,
    /// The sum of `C`'s elements.
    pub sum_c: f64,
    /// `u^T C v`.
    pub probe: f64,
    /// The smallest element of `C`.
    pub min_c: f64,
    /// The largest element of `C`.
    pub max_c: f64,
}

/// One rank's sums over its pieces: squares of `A`, `B`, `C`, the sum of `C`, the probe;
/// and the extremes of its pieces of `C`.
#[derive(Debug, Clone, Copy)]
pub struct Partial([f64; 5], [f64; 2]);

impl Default for Partial {
    fn default() -> Self {
        Partial([0.0; 5], [f64::INFINITY, f64::NEG_INFINITY])
    }
}

/// `u_i` for row `i` of `C`.
fn u(i: usize) -> f64 {
    gen::element(PROBE_SEED, Which::U, 0, i)
}

/// `v_j` for column `j` of `C`.
fn v(j: usize) -> f64 {
    gen::element(PROBE_SEED, Which::V, 0, j)
}

fn squares(x: &[f64]) -> f64 {
    x.iter().map(|v| v * v).sum()
}

impl Partial {
    /// Adds a piece of `A` (any shape: only its squares count).
    pub fn add_a(&mut self, a: &[f64]) {
        self.0[0] += squares(a);
    }

    /// Adds a piece of `B`.
    pub fn add_b(&mut self, b: &[f64]) {
        self.0[1] += squares(b);
    }

    /// Adds the block `rows x cols` of `C`, row by row in `c`.
    pub fn add_c(&mut self, c: &[f64], rows: Range<usize>, cols: Range<usize>) {
        let vs: Vec<f64> = cols.clone().map(v).collect();
        for (row, i) in c.chunks_exact(cols.len().max(1)).zip(rows) {
            let (mut dot, mut sum) = (0.0, 0.0);
            for (x, w) in row.iter().zip(&vs) {
                dot += x * w;
                sum += x;
            }
            self.0[2] += squares(row);
            self.1[0] = row.iter().copied().fold(self.1[0], f64::min);
            self.1[1] = row.iter().copied().fold(self.1[1], f64::max);
            self.0[3] += sum;
            self.0[4] += u(i) * dot;
        }
    }

    /// Adds every rank's sums on rank 0, which gets `Some(totals)` (collective).
    pub fn reduce(&self, comm: &Comm) -> Result<Option<Totals>> {
        let root = comm.rank() == 0;
        let (mut all, mut lo, mut hi) = ([0.0; 5], [0.0], [0.0]);
        comm.reduce(&self.0, root.then_some(&mut all[..]), &Op::sum(), 0)?;
        comm.reduce(&self.1[..1], root.then_some(&mut lo[..]), &Op::min(), 0)?;
        comm.reduce(&self.1[1..], root.then_some(&mut hi[..]), &Op::max(), 0)?;
        Ok(root.then(|| totals(Partial(all, [lo[0], hi[0]]))))
    }
}

fn totals(Partial([a, b, c, sum_c, probe], [min_c, max_c]): Partial) -> Totals {
    Totals { norm_a: a.sqrt(), norm_b: b.sqrt(), norm_c: c.sqrt(), sum_c, probe, min_c, max_c }
}

/// The totals of whole matrices.
pub fn of_whole(p: &Matmul, a: &[f64], b: &[f64], c: &[f64]) -> Totals {
    let mut s = Partial::default();
    s.add_a(a);
    s.add_b(b);
    s.add_c(c, 0..p.m, 0..p.n);
    totals(s)
}

/// `||u|| ||v||`, the scale of the probe's rounding error (with `||A|| ||B||`).
pub fn weight_norms(p: &Matmul) -> f64 {
    ((0..p.m).map(|i| u(i) * u(i)).sum::<f64>() * (0..p.n).map(|j| v(j) * v(j)).sum::<f64>()).sqrt()
}
