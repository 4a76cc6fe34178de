//! The local product: faer's GEMM on row-major blocks, on one core unless asked.
//!
//! ```
//! use parsci_apps::matmul::gemm::{multiply_add, Rect};
//! // [1 2; 3 4] [5; 6] added to [1; 1]
//! let (a, b, mut c) = ([1.0, 2.0, 3.0, 4.0], [5.0, 6.0], [1.0, 1.0]);
//! multiply_add(Rect::whole(&mut c, 2, 1), Rect::whole(&a, 2, 2), Rect::whole(&b, 2, 1), faer::Par::Seq);
//! assert_eq!(c, [18.0, 40.0]);
//! ```

use faer::linalg::matmul::matmul;
use faer::{Accum, MatMut, MatRef, Par};

/// A row-major `rows x cols` view of `data`, rows `stride` elements apart.
#[derive(Debug)]
pub struct Rect<S> {
    /// The elements; row `i` starts at `i * stride`.
    pub data: S,
    /// Rows.
    pub rows: usize,
    /// Columns.
    pub cols: usize,
    /// Elements from one row's start to the next's.
    pub stride: usize,
}

impl<S> Rect<S> {
    /// A view of a whole row-major matrix (`stride = cols`).
    pub fn whole(data: S, rows: usize, cols: usize) -> Self {
        Rect { data, rows, cols, stride: cols }
    }
}

/// `c += a b`, with faer's GEMM and parallelism `par` (`Par::Seq`: this thread only).
///
/// # Panics
/// If the shapes do not match or a view's data is too short for its shape.
#[track_caller]
pub fn multiply_add(c: Rect<&mut [f64]>, a: Rect<&[f64]>, b: Rect<&[f64]>, par: Par) {
    assert!(a.cols == b.rows && c.rows == a.rows && c.cols == b.cols, "shapes do not match");
    if c.rows == 0 || c.cols == 0 || a.cols == 0 {
        return;
    }
    // Row-major C = A B is column-major C^T = B^T A^T: faer sees column-major matrices.
    // (faer 0.24's kernels corrupt memory with transposed, i.e. row-major, operands
    // of some shapes, e.g. 30 x 40 times 40 x 50.)
    let at = MatRef::from_column_major_slice_with_stride(a.data, a.cols, a.rows, a.stride);
    let bt = MatRef::from_column_major_slice_with_stride(b.data, b.cols, b.rows, b.stride);
    let ct = MatMut::from_column_major_slice_with_stride_mut(c.data, c.cols, c.rows, c.stride);
    matmul(ct, Accum::Add, bt, at, 1.0, par);
}

/// `a b` as a new row-major `m x n` matrix.
pub fn product(a: &[f64], b: &[f64], [m, k, n]: [usize; 3], par: Par) -> Vec<f64> {
    let mut c = super::memory::zeroed(m * n);
    multiply_add(Rect::whole(&mut c, m, n), Rect::whole(a, m, k), Rect::whole(b, k, n), par);
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Strided views of odd shapes, against sums of integers (exact in any order); the
    /// shapes where faer's row-major path corrupted memory are among them.
    #[test]
    fn strided_products_are_exact_on_integers() {
        for (m, k, n) in [(3, 4, 5), (30, 40, 50), (120, 130, 70), (1, 7, 301), (301, 1, 7), (64, 513, 3)] {
            let a: Vec<f64> = (0..m * (k + 3)).map(|i| ((i * 7) % 11) as f64 - 5.0).collect();
            let b: Vec<f64> = (0..k * (n + 2)).map(|i| ((i * 5) % 13) as f64 - 6.0).collect();
            let mut c = vec![1.0; m * (n + 1)];
            multiply_add(
                Rect { data: &mut c, rows: m, cols: n, stride: n + 1 },
                Rect { data: &a, rows: m, cols: k, stride: k + 3 },
                Rect { data: &b, rows: k, cols: n, stride: n + 2 },
                Par::Seq,
            );
            for i in 0..m {
                for j in 0..n {
                    let want: f64 = 1.0 + (0..k).map(|l| a[i * (k + 3) + l] * b[l * (n + 2) + j]).sum::<f64>();
                    assert_eq!(c[i * (n + 1) + j], want, "{m} x {k} x {n} at ({i}, {j})");
                }
                assert_eq!(c[i * (n + 1) + n], 1.0, "the gap between rows is left alone");
            }
        }
    }
}
