//! Deterministic matrices: each element is a function of the seed, the matrix and its
//! global index only, so any rank can make any block, and the result does not depend on
//! the rank count or the process grid.
//!
//! ```
//! use parsci_apps::matmul::gen::{block, element, Which};
//! let b = block(7, Which::A, 1..3, 2..4);
//! assert_eq!(b, vec![element(7, Which::A, 1, 2), element(7, Which::A, 1, 3),
//!                    element(7, Which::A, 2, 2), element(7, Which::A, 2, 3)]);
//! assert!(b.iter().all(|x| (-1.0..1.0).contains(x)));
//! ```

use std::ops::Range;

/// Which matrix an element belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    /// The left factor, `M x K`.
    A,
    /// The right factor, `K x N`.
    B,
    /// The probe vector `u` (length `M`, as a 1-row matrix).
    U,
    /// The probe vector `v` (length `N`).
    V,
}

/// SplitMix64's finaliser: a bijection of `u64` that mixes every bit.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Element `(i, j)` of matrix `which` for `seed`: uniform in `[-1, 1)`.
pub fn element(seed: u64, which: Which, i: usize, j: usize) -> f64 {
    let h = mix(mix(mix(seed ^ (which as u64).wrapping_mul(0xA24B_AED4_963E_E407)) ^ i as u64) ^ j as u64);
    (h >> 11) as f64 * (2.0 / (1u64 << 53) as f64) - 1.0
}

/// The block `rows x cols` of matrix `which`, row by row.
pub fn block(seed: u64, which: Which, rows: Range<usize>, cols: Range<usize>) -> Vec<f64> {
    let mut out = Vec::with_capacity(rows.len() * cols.len());
    for i in rows {
        out.extend(cols.clone().map(|j| element(seed, which, i, j)));
    }
    out
}
