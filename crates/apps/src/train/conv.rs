//! A convolution block for `train fashion-mnist --model cnn`: a 3x3 convolution with
//! zero padding of one (the image keeps its size), then a 2x2 max-pool of stride 2 (odd
//! last rows and columns dropped, as PyTorch's default). The network adds the bias
//! and the ReLU after the pool: the bias is the same across a channel's window and
//! ReLU is monotone, so that is the usual conv, ReLU, pool, at a quarter of the cost.
//!
//! Images are channel-last (`height x width x channels` per sample, row-major), so the
//! convolution of `m` samples is one GEMM through faer (sequential): the patches
//! (im2col, `m h w x 9 c_in`) times the weights' transpose (`c_out x 9 c_in`, row-major,
//! the columns in patch order: row, column, channel). The arithmetic of a unit depends
//! only on its samples, never on the rank that computes it.

use faer::linalg::matmul::matmul;
use faer::{Accum, MatMut, MatRef, Par};

/// The kernel's side.
pub const KERNEL: usize = 3;

/// A block's shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conv {
    /// Input rows.
    pub height: usize,
    /// Input columns.
    pub width: usize,
    /// Input channels.
    pub c_in: usize,
    /// Output channels (filters).
    pub c_out: usize,
}

/// What the backward pass needs from the forward pass of one unit.
#[derive(Debug, Clone, Default)]
pub struct Cache {
    /// The shape the buffers were made for.
    shape: Option<Conv>,
    /// The patches, `m h w x 9 c_in` (and zeros after them).
    col: Vec<f64>,
    /// The convolution's outputs, `m h w x c_out`; in the backward pass, their gradient.
    z: Vec<f64>,
    /// For each pooled output, the index in `z` of its window's largest value.
    argmax: Vec<usize>,
    /// The patches' gradient.
    dcol: Vec<f64>,
}

impl Conv {
    /// Values per input sample.
    pub fn inputs(&self) -> usize {
        self.height * self.width * self.c_in
    }

    /// The pooled image's rows and columns.
    pub fn pooled(&self) -> (usize, usize) {
        (self.height / 2, self.width / 2)
    }

    /// Values per output sample (pooled, channel-last).
    pub fn outputs(&self) -> usize {
        let (h, w) = self.pooled();
        h * w * self.c_out
    }

    /// Inputs of one output value: the He initialisation's fan-in.
    pub fn fan_in(&self) -> usize {
        KERNEL * KERNEL * self.c_in
    }

    /// The number of weights (the biases, `c_out`, come after them).
    pub fn weights(&self) -> usize {
        self.c_out * self.fan_in()
    }

    /// The forward pass of `m` samples `x`: writes the pooled convolution (without bias)
    /// to `out` (`m x outputs`) and keeps in `cache` what the backward pass needs.
    pub fn forward(&self, w: &[f64], x: &[f64], m: usize, cache: &mut Cache, out: &mut Vec<f64>) {
        let (hw, k) = (self.height * self.width, self.fan_in());
        if cache.shape != Some(*self) {
            *cache = Cache { shape: Some(*self), ..Cache::default() };
        }
        self.im2col(x, m, &mut cache.col);
        cache.z.resize(m * hw * self.c_out, 0.0);
        let col = MatRef::from_row_major_slice(&cache.col[..m * hw * k], m * hw, k);
        let wt = MatRef::from_row_major_slice(w, self.c_out, k);
        let z = MatMut::from_row_major_slice_mut(&mut cache.z, m * hw, self.c_out);
        matmul(z, Accum::Replace, col, wt.transpose(), 1.0, Par::Seq);
        self.pool(m, cache, out);
    }

    /// The backward pass: from `delta`, the gradient of the loss with respect to the
    /// pooled outputs (`m x outputs`), writes the weights' gradient to `gw` and, if asked,
    /// the gradient with respect to the inputs to `dx` (`m x inputs`).
    pub fn backward(
        &self,
        w: &[f64],
        m: usize,
        cache: &mut Cache,
        delta: &[f64],
        gw: &mut [f64],
        dx: Option<&mut Vec<f64>>,
    ) {
        let (hw, k) = (self.height * self.width, self.fan_in());
        // The pool passes each gradient to its window's largest value only.
        cache.z.fill(0.0);
        for (&d, &at) in delta.iter().zip(&cache.argmax) {
            cache.z[at] = d;
        }
        let dz = MatRef::from_row_major_slice(&cache.z, m * hw, self.c_out);
        let col = MatRef::from_row_major_slice(&cache.col[..m * hw * k], m * hw, k);
        let gw = MatMut::from_row_major_slice_mut(gw, self.c_out, k);
        matmul(gw, Accum::Replace, dz.transpose(), col, 1.0, Par::Seq);
        let Some(dx) = dx else { return };
        cache.dcol.resize(m * hw * k, 0.0);
        let wt = MatRef::from_row_major_slice(w, self.c_out, k);
        let dcol = MatMut::from_row_major_slice_mut(&mut cache.dcol, m * hw, k);
        matmul(dcol, Accum::Replace, dz, wt, 1.0, Par::Seq);
        self.col2im(&cache.dcol, m, dx);
    }

    /// For output column `x`: the input columns its kernel covers (clipped to the image)
    /// and the first one's place in the kernel's row.
    fn span(&self, x: usize) -> (std::ops::Range<usize>, usize) {
        let lo = x.saturating_sub(1);
        (lo..(x + 2).min(self.width), lo + 1 - x)
    }

    /// The patches of `m` samples: row `(s, y, x)` holds the `3 x 3 x c_in` values around
    /// pixel `(y, x)` of sample `s` (zeros outside the image). A kernel row's pixels are
    /// consecutive in a channel-last image: one copy each.
    fn im2col(&self, x: &[f64], m: usize, col: &mut Vec<f64>) {
        let (c, k) = (self.c_in, self.fan_in());
        let n = m * self.height * self.width * k;
        // Values outside the image are never written: a buffer made for this shape keeps
        // its zeros there (the pattern is the same for every sample).
        if col.len() < n {
            col.resize(n, 0.0);
        }
        let mut rows = col[..n].chunks_exact_mut(k);
        for image in x.chunks_exact(self.inputs()).take(m) {
            for y in 0..self.height {
                for xp in 0..self.width {
                    let row = rows.next().expect("col has a row per pixel");
                    let (cols, first) = self.span(xp);
                    for dy in 0..KERNEL {
                        let Some(yy) = (y + dy).checked_sub(1).filter(|&yy| yy < self.height) else { continue };
                        let from = &image[(yy * self.width + cols.start) * c..(yy * self.width + cols.end) * c];
                        let at = (dy * KERNEL + first) * c;
                        copy(&mut row[at..at + from.len()], from);
                    }
                }
            }
        }
    }

    /// The adjoint of [`im2col`](Conv::im2col): adds each patch value's gradient to its
    /// pixel, in a fixed order.
    fn col2im(&self, dcol: &[f64], m: usize, dx: &mut Vec<f64>) {
        let (c, k) = (self.c_in, self.fan_in());
        dx.clear();
        dx.resize(m * self.inputs(), 0.0);
        let mut rows = dcol.chunks_exact(k);
        for image in dx.chunks_exact_mut(self.inputs()) {
            for y in 0..self.height {
                for xp in 0..self.width {
                    let row = rows.next().expect("dcol has a row per pixel");
                    let (cols, first) = self.span(xp);
                    for dy in 0..KERNEL {
                        let Some(yy) = (y + dy).checked_sub(1).filter(|&yy| yy < self.height) else { continue };
                        let to = &mut image[(yy * self.width + cols.start) * c..(yy * self.width + cols.end) * c];
                        let at = (dy * KERNEL + first) * c;
                        let from = &row[at..at + to.len()];
                        to.iter_mut().zip(from).for_each(|(d, v)| *d += v);
                    }
                }
            }
        }
    }

    /// The 2x2 max-pool of `cache.z` into `out`, remembering each window's winner (the
    /// first of equals).
    fn pool(&self, m: usize, cache: &mut Cache, out: &mut Vec<f64>) {
        let (ph, pw) = self.pooled();
        let (c, row) = (self.c_out, self.width * self.c_out);
        out.clear();
        cache.argmax.clear();
        for s in 0..m {
            for y in 0..ph {
                let top = (s * self.height + 2 * y) * row;
                for x in 0..pw {
                    let at = top + 2 * x * c;
                    let corner = |i: usize| &cache.z[i..i + c];
                    let (a, b, d, e) = (corner(at), corner(at + c), corner(at + row), corner(at + row + c));
                    // Branch-free (the winners are random): selects, not jumps.
                    for (ch, (((&a, &b), &d), &e)) in a.iter().zip(b).zip(d).zip(e).enumerate() {
                        let (mut v, mut i) = (a, at + ch);
                        for (w, j) in [(b, at + c + ch), (d, at + row + ch), (e, at + row + c + ch)] {
                            let more = w > v;
                            v = if more { w } else { v };
                            i = if more { j } else { i };
                        }
                        out.push(v);
                        cache.argmax.push(i);
                    }
                }
            }
        }
    }
}

/// `to.copy_from_slice(from)`, without a call to `memcpy` for the runs of one to three
/// values of a one-channel image (a tenth of the time otherwise).
fn copy(to: &mut [f64], from: &[f64]) {
    match (to, from) {
        ([t0], [f0]) => *t0 = *f0,
        ([t0, t1], [f0, f1]) => (*t0, *t1) = (*f0, *f1),
        ([t0, t1, t2], [f0, f1, f2]) => (*t0, *t1, *t2) = (*f0, *f1, *f2),
        (to, from) => to.copy_from_slice(from),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The convolution and pool by their definitions, one output at a time.
    fn direct(c: &Conv, w: &[f64], x: &[f64], m: usize) -> Vec<f64> {
        let (h, wd, k) = (c.height as isize, c.width as isize, c.fan_in());
        let z = |s: usize, y: isize, xp: isize, o: usize| -> f64 {
            let mut sum = 0.0;
            for dy in -1..=1 {
                for dx in -1..=1 {
                    let (yy, xx) = (y + dy, xp + dx);
                    if yy < 0 || xx < 0 || yy >= h || xx >= wd {
                        continue;
                    }
                    for ch in 0..c.c_in {
                        let t = ((dy + 1) * 3 + dx + 1) as usize;
                        sum += w[o * k + t * c.c_in + ch] * x[s * c.inputs() + ((yy * wd + xx) as usize) * c.c_in + ch];
                    }
                }
            }
            sum
        };
        let (ph, pw) = c.pooled();
        let mut out = Vec::new();
        for s in 0..m {
            for y in 0..ph as isize {
                for xp in 0..pw as isize {
                    for o in 0..c.c_out {
                        let v = [(0, 0), (0, 1), (1, 0), (1, 1)].map(|(a, b)| z(s, 2 * y + a, 2 * xp + b, o));
                        out.push(v.into_iter().fold(f64::NEG_INFINITY, f64::max));
                    }
                }
            }
        }
        out
    }

    #[test]
    fn the_forward_pass_is_the_convolution_and_pool_by_definition() {
        for c in [Conv { height: 5, width: 7, c_in: 3, c_out: 4 }, Conv { height: 6, width: 6, c_in: 1, c_out: 2 }] {
            let m = 3;
            let x: Vec<f64> = (0..m * c.inputs()).map(|i| ((i * 37 % 101) as f64 / 50.0 - 1.0).sin()).collect();
            let w: Vec<f64> = (0..c.weights()).map(|i| ((i * 13 % 29) as f64 / 14.0 - 1.0).cos()).collect();
            let (mut cache, mut out) = (Cache::default(), Vec::new());
            c.forward(&w, &x, m, &mut cache, &mut out);
            let want = direct(&c, &w, &x, m);
            assert_eq!(out.len(), m * c.outputs());
            for (i, (a, b)) in out.iter().zip(&want).enumerate() {
                assert!((a - b).abs() < 1e-12, "{c:?} output {i}: {a} vs {b}");
            }
        }
    }
}
