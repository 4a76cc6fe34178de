//! The serial reference: the whole of `A` and `B` on one rank, one GEMM call on one core.

use super::gemm;
use super::gen::Which;
use super::Matmul;
use crate::error::Result;

/// The whole of `A` and `B`, row by row.
pub fn inputs(p: &Matmul) -> Result<(Vec<f64>, Vec<f64>)> {
    p.check_params()?;
    Ok((p.whole(Which::A)?, p.whole(Which::B)?))
}

/// `C = A B`, row by row.
pub fn product(p: &Matmul, a: &[f64], b: &[f64]) -> Vec<f64> {
    gemm::product(a, b, [p.m, p.k, p.n], faer::Par::Seq)
}

/// Multiplies `p`'s matrices: `(A, B, C)`.
///
/// ```
/// use parsci_apps::matmul::{serial, Matmul};
/// let (_, _, c) = serial::multiply(&Matmul::default()).unwrap(); // the lesson's
/// assert!(c.iter().all(|x| (x - 1.0).abs() < 1e-13));
/// ```
pub fn multiply(p: &Matmul) -> Result<(Vec<f64>, Vec<f64>, Vec<f64>)> {
    let (a, b) = inputs(p)?;
    let c = product(p, &a, &b);
    Ok((a, b, c))
}
