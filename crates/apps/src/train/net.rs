//! A small dense network with hand-written backpropagation: `tanh` or ReLU hidden layers
//! and a linear output, trained for binary cross-entropy on one logit (logistic
//! regression is the network without hidden layers), for squared error, or for softmax
//! cross-entropy over several classes.
//!
//! A network may start with convolution blocks ([`conv`](super::conv): 3x3 convolution,
//! 2x2 max-pool, ReLU) before its dense layers (`train fashion-mnist --model cnn`).
//!
//! The products go through faer's GEMM, sequential (`Par::Seq`: one core per rank).
//! Every quantity is computed per *unit* (a block of samples) in a fixed order, so a
//! unit's gradient does not depend on which rank computes it.

use std::ops::Range;

use faer::linalg::matmul::matmul;
use faer::{Accum, MatMut, MatRef, Par};

use super::conv::{self, Conv};

/// What the network is trained for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Loss {
    /// Binary cross-entropy of the logit against a 0/1 label; accuracy: the sign of the
    /// logit predicts the label.
    Logistic,
    /// Squared error `(z - y)^2`; accuracy: the sign of `z` agrees with the sign of `y`.
    Squared,
    /// Softmax cross-entropy over the outputs against a class index `y`; accuracy: the
    /// largest output is the class.
    Softmax,
}

/// The hidden layers' nonlinearity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Activation {
    /// `tanh` (the workshop's MLP).
    Tanh,
    /// `max(0, z)`.
    Relu,
}

/// What a layer computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `x W^T + b`, weights `outputs x inputs`, row-major.
    Dense,
    /// A convolution block (channel-last images): weights `c_out x 9 c_in`, a bias per
    /// output channel.
    Conv(Conv),
}

/// One layer's place in the parameter vector: its weights, then its biases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layer {
    /// What it computes.
    pub kind: Kind,
    /// Inputs per sample (the previous layer's width).
    pub inputs: usize,
    /// Outputs per sample.
    pub outputs: usize,
    /// Where the weights are.
    pub weights: Range<usize>,
    /// Where the biases are (right after the weights).
    pub bias: Range<usize>,
}

impl Layer {
    /// The weights and biases together.
    pub fn params(&self) -> Range<usize> {
        self.weights.start..self.bias.end
    }

    /// Inputs of one output value (what the initial weights are scaled by).
    pub fn fan_in(&self) -> usize {
        match self.kind {
            Kind::Dense => self.inputs,
            Kind::Conv(c) => c.fan_in(),
        }
    }
}

/// A dense network: `sizes[0]` inputs, hidden layers, a linear output layer.
#[derive(Debug, Clone, PartialEq)]
pub struct Net {
    layers: Vec<Layer>,
    loss: Loss,
    activation: Activation,
}

/// The activations and the back-propagated error of one unit of `m` samples.
#[derive(Debug, Clone, Default)]
pub struct Trace {
    m: usize,
    /// `acts[l]`: layer `l`'s output (`m x outputs`, row-major); the last is the logit.
    acts: Vec<Vec<f64>>,
    /// The loss's derivative with respect to the current layer's pre-activation.
    delta: Vec<f64>,
    spare: Vec<f64>,
    /// `conv[l]`: convolution layer `l`'s patches and pool winners (empty for dense layers).
    conv: Vec<conv::Cache>,
}

impl Net {
    /// A `tanh` network of the given widths (`[64, 1]`: logistic regression; `[16, 32, 16, 1]`).
    ///
    /// # Panics
    /// If there are fewer than two widths, a width is zero or the last is not 1.
    #[track_caller]
    pub fn new(sizes: &[usize], loss: Loss) -> Net {
        Net::with_activation(sizes, loss, Activation::Tanh)
    }

    /// A network of the given widths and hidden nonlinearity (`[784, 256, 128, 10]`, ReLU,
    /// softmax).
    ///
    /// # Panics
    /// If there are fewer than two widths, a width is zero, or the last is not 1 (at
    /// least 2 for [`Loss::Softmax`]).
    #[track_caller]
    pub fn with_activation(sizes: &[usize], loss: Loss, activation: Activation) -> Net {
        let out_ok = |&o: &usize| if loss == Loss::Softmax { o >= 2 } else { o == 1 };
        assert!(
            sizes.len() >= 2 && sizes.iter().all(|&s| s > 0) && sizes.last().is_some_and(out_ok),
            "bad widths {sizes:?}"
        );
        let mut net = Net { layers: Vec::new(), loss, activation };
        for w in sizes.windows(2) {
            net.push(Kind::Dense, w[0], w[1], w[0] * w[1], w[1]);
        }
        net
    }

    /// A ReLU network of convolution blocks on `height x width` images of `channels[0]`
    /// channels, block `i` making `channels[i + 1]`, then dense layers of the given
    /// widths (`widths[0]`: the first hidden layer's, the last: the classes).
    ///
    /// # Panics
    /// If there is no block or no width, a channel count or a width is zero, the last
    /// width is not 1 (at least 2 for [`Loss::Softmax`]), or the pools leave no pixel.
    #[track_caller]
    pub fn cnn(height: usize, width: usize, channels: &[usize], widths: &[usize], loss: Loss) -> Net {
        let ok = channels.len() >= 2
            && channels.iter().chain(widths).all(|&c| c > 0)
            && widths.last().is_some_and(|&o| if loss == Loss::Softmax { o >= 2 } else { o == 1 })
            && (1..channels.len()).fold(height.min(width), |s, _| s / 2) > 0;
        assert!(ok, "bad network: {height}x{width} images, channels {channels:?}, widths {widths:?}");
        let mut net = Net { layers: Vec::new(), loss, activation: Activation::Relu };
        let (mut h, mut w) = (height, width);
        for c in channels.windows(2) {
            let block = Conv { height: h, width: w, c_in: c[0], c_out: c[1] };
            net.push(Kind::Conv(block), block.inputs(), block.outputs(), block.weights(), c[1]);
            (h, w) = block.pooled();
        }
        let mut inputs = h * w * channels[channels.len() - 1];
        for &outputs in widths {
            net.push(Kind::Dense, inputs, outputs, inputs * outputs, outputs);
            inputs = outputs;
        }
        net
    }

    /// Appends a layer's parameters.
    fn push(&mut self, kind: Kind, inputs: usize, outputs: usize, weights: usize, biases: usize) {
        let at = self.n_params();
        let weights = at..at + weights;
        let bias = weights.end..weights.end + biases;
        self.layers.push(Layer { kind, inputs, outputs, weights, bias });
    }

    /// The hidden layers' nonlinearity.
    pub fn activation(&self) -> Activation {
        self.activation
    }

    /// The number of outputs (1, or the classes).
    pub fn outputs_per_sample(&self) -> usize {
        self.layers[self.layers.len() - 1].outputs
    }

    /// The layers, input first.
    pub fn layers(&self) -> &[Layer] {
        &self.layers
    }

    /// The number of inputs.
    pub fn inputs(&self) -> usize {
        self.layers[0].inputs
    }

    /// The length of the parameter vector.
    pub fn n_params(&self) -> usize {
        self.layers.last().map_or(0, |l| l.bias.end)
    }

    /// The loss it is trained for.
    pub fn loss(&self) -> Loss {
        self.loss
    }

    /// The forward pass of the `m` samples `x` (`m x inputs`, row-major).
    pub fn forward(&self, p: &[f64], x: &[f64], m: usize, t: &mut Trace) {
        t.m = m;
        t.acts.resize(self.layers.len(), Vec::new());
        t.conv.resize_with(self.layers.len(), conv::Cache::default);
        let last = self.layers.len() - 1;
        for (l, layer) in self.layers.iter().enumerate() {
            let (done, rest) = t.acts.split_at_mut(l);
            let input: &[f64] = if l == 0 { x } else { &done[l - 1] };
            let out = &mut rest[0];
            let weights = &p[layer.weights.clone()];
            match layer.kind {
                Kind::Dense => {
                    out.resize(m * layer.outputs, 0.0);
                    let a = MatRef::from_row_major_slice(input, m, layer.inputs);
                    let w = MatRef::from_row_major_slice(weights, layer.outputs, layer.inputs);
                    let z = MatMut::from_row_major_slice_mut(out, m, layer.outputs);
                    matmul(z, Accum::Replace, a, w.transpose(), 1.0, Par::Seq);
                }
                Kind::Conv(c) => c.forward(weights, input, m, &mut t.conv[l], out),
            }
            // A bias per output (dense) or per channel (a convolution's channel-last pixels).
            let b = &p[layer.bias.clone()];
            let act = if l < last { Some(self.activation) } else { None };
            for row in out.chunks_exact_mut(b.len()) {
                for (v, bj) in row.iter_mut().zip(b) {
                    *v += bj;
                    match act {
                        Some(Activation::Tanh) => *v = v.tanh(),
                        Some(Activation::Relu) => *v = v.max(0.0),
                        None => {}
                    }
                }
            }
        }
    }

    /// The outputs of the last [`forward`](Net::forward) pass (row-major, one row per sample).
    pub fn outputs<'t>(&self, t: &'t Trace) -> &'t [f64] {
        &t.acts[self.layers.len() - 1]
    }

    /// After a forward pass: the sum of the losses of the unit's samples against `y`, in
    /// sample order, and how many samples are predicted right; also seeds the backward
    /// pass with the loss's derivative.
    pub fn loss_and_seed(&self, t: &mut Trace, y: &[f64]) -> (f64, u64) {
        let (mut sum, mut right) = (0.0, 0);
        t.delta.clear();
        if self.loss == Loss::Softmax {
            let k = self.outputs_per_sample();
            for (z, &y) in t.acts[self.layers.len() - 1].chunks_exact(k).zip(y) {
                let c = y as usize; // a class index below k (checked when the data are read)
                let (mut best, mut max) = (0, f64::NEG_INFINITY);
                for (j, &v) in z.iter().enumerate() {
                    if v > max {
                        (best, max) = (j, v);
                    }
                }
                let s: f64 = z.iter().map(|&v| (v - max).exp()).sum();
                sum += max + s.ln() - z[c];
                right += u64::from(best == c);
                t.delta.extend(z.iter().enumerate().map(|(j, &v)| (v - max).exp() / s - f64::from(j == c)));
            }
            return (sum, right);
        }
        for (&z, &y) in t.acts[self.layers.len() - 1].iter().zip(y) {
            let (loss, dz, ok) = match self.loss {
                Loss::Logistic => {
                    let softplus = z.max(0.0) + (-z.abs()).exp().ln_1p();
                    (softplus - y * z, 1.0 / (1.0 + (-z).exp()) - y, (z > 0.0) == (y > 0.5))
                }
                // Softmax returned above.
                Loss::Squared | Loss::Softmax => ((z - y) * (z - y), 2.0 * (z - y), (z > 0.0) == (y > 0.0)),
            };
            sum += loss;
            right += u64::from(ok);
            t.delta.push(dz);
        }
        (sum, right)
    }

    /// The backward step through layer `l` (call for the last layer first): writes the
    /// gradient of the unit's summed loss with respect to the layer's weights and biases
    /// into `grad` (the layer's [`params`](Layer::params) length), and moves the error
    /// to the layer's input.
    pub fn backward_layer(&self, p: &[f64], l: usize, x: &[f64], t: &mut Trace, grad: &mut [f64]) {
        let layer = &self.layers[l];
        let m = t.m;
        let input: &[f64] = if l == 0 { x } else { &t.acts[l - 1] };
        let (gw, gb) = grad.split_at_mut(layer.weights.len());
        gb.fill(0.0);
        for row in t.delta.chunks_exact(gb.len()) {
            gb.iter_mut().zip(row).for_each(|(g, d)| *g += d);
        }
        let weights = &p[layer.weights.clone()];
        if let Kind::Conv(c) = layer.kind {
            let dx = (l > 0).then_some(&mut t.spare);
            c.backward(weights, m, &mut t.conv[l], &t.delta, gw, dx);
        } else {
            let delta = MatRef::from_row_major_slice(&t.delta, m, layer.outputs);
            let a = MatRef::from_row_major_slice(input, m, layer.inputs);
            let gw = MatMut::from_row_major_slice_mut(gw, layer.outputs, layer.inputs);
            matmul(gw, Accum::Replace, delta.transpose(), a, 1.0, Par::Seq);
            if l > 0 {
                t.spare.resize(m * layer.inputs, 0.0);
                let w = MatRef::from_row_major_slice(weights, layer.outputs, layer.inputs);
                let back = MatMut::from_row_major_slice_mut(&mut t.spare, m, layer.inputs);
                matmul(back, Accum::Replace, delta, w, 1.0, Par::Seq);
            }
        }
        if l == 0 {
            return;
        }
        // delta <- (delta W) * f'(z): tanh' = 1 - a^2; relu' = [a > 0].
        match self.activation {
            Activation::Tanh => t.spare.iter_mut().zip(input).for_each(|(d, a)| *d *= 1.0 - a * a),
            Activation::Relu => t.spare.iter_mut().zip(input).for_each(|(d, &a)| {
                if a <= 0.0 {
                    *d = 0.0;
                }
            }),
        }
        std::mem::swap(&mut t.delta, &mut t.spare);
    }

    /// The summed loss and gradient of `m` samples, layer by layer (a reference, and what
    /// the gradient check uses).
    pub fn loss_and_gradient(&self, p: &[f64], x: &[f64], y: &[f64]) -> (f64, Vec<f64>) {
        let mut t = Trace::default();
        self.forward(p, x, y.len(), &mut t);
        let (loss, _) = self.loss_and_seed(&mut t, y);
        let mut g = vec![0.0; self.n_params()];
        for l in (0..self.layers.len()).rev() {
            self.backward_layer(p, l, x, &mut t, &mut g[self.layers[l].params()]);
        }
        (loss, g)
    }

    /// Forward only: the summed loss of `m` samples and how many are predicted right.
    pub fn evaluate(&self, p: &[f64], x: &[f64], y: &[f64], t: &mut Trace) -> (f64, u64) {
        self.forward(p, x, y.len(), t);
        self.loss_and_seed(t, y)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::data;

    /// Central differences against the backward pass, for every parameter.
    fn check_gradient(net: &Net, m: usize, seed: u64) {
        let mut p = data::net_params(net, seed, false);
        let d = net.inputs();
        let mut x = vec![0.0; m * d];
        for (i, row) in x.chunks_exact_mut(d).enumerate() {
            data::features(seed, i as u64, row);
        }
        let y: Vec<f64> = match net.loss() {
            Loss::Logistic => (0..m).map(|i| (i % 2) as f64).collect(),
            Loss::Squared => (0..m).map(|i| (i as f64 * 0.37).sin()).collect(),
            Loss::Softmax => (0..m).map(|i| (i * 7 % net.outputs_per_sample()) as f64).collect(),
        };
        let (_, g) = net.loss_and_gradient(&p, &x, &y);
        let h = 1e-6;
        for k in 0..p.len() {
            let keep = p[k];
            p[k] = keep + h;
            let up = net.loss_and_gradient(&p, &x, &y).0;
            p[k] = keep - h;
            let down = net.loss_and_gradient(&p, &x, &y).0;
            p[k] = keep;
            let fd = (up - down) / (2.0 * h);
            let err = (fd - g[k]).abs() / fd.abs().max(g[k].abs()).max(1e-3);
            assert!(err < 1e-6, "parameter {k}: backprop {} vs finite differences {fd}", g[k]);
        }
    }

    #[test]
    fn the_mlp_gradient_matches_finite_differences() {
        check_gradient(&Net::new(&[16, 32, 16, 1], Loss::Squared), 5, 11);
        check_gradient(&Net::new(&[3, 4, 2, 1], Loss::Logistic), 7, 12);
    }

    #[test]
    fn the_relu_softmax_gradient_matches_finite_differences() {
        // Kinks of ReLU are met with probability zero at these random points.
        check_gradient(&Net::with_activation(&[12, 9, 7, 5], Loss::Softmax, Activation::Relu), 6, 14);
    }

    #[test]
    fn the_cnn_gradient_matches_finite_differences() {
        // Two convolution blocks (odd sizes: the pools drop a row and a column), a hidden
        // dense layer; ReLU's kinks and the pools' ties are met with probability zero.
        check_gradient(&Net::cnn(7, 9, &[2, 3, 4], &[6, 5], Loss::Softmax), 3, 15);
        check_gradient(&Net::cnn(4, 4, &[1, 2], &[3], Loss::Softmax), 2, 16);
    }

    #[test]
    fn a_cnn_lays_out_its_blocks_then_its_dense_layers() {
        let net = Net::cnn(28, 28, &[1, 16, 32], &[128, 10], Loss::Softmax);
        let sizes: Vec<_> = net.layers().iter().map(|l| (l.inputs, l.outputs, l.params().len())).collect();
        let want =
            [(784, 14 * 14 * 16, 16 * 9 + 16), (14 * 14 * 16, 1568, 32 * 144 + 32), (1568, 128, 1568 * 128 + 128)];
        assert_eq!(sizes[..3], want);
        assert_eq!(net.n_params(), 160 + 4640 + 200_832 + 1290);
        assert_eq!(net.layers()[1].fan_in(), 144);
    }

    #[test]
    fn the_logreg_gradient_matches_finite_differences() {
        check_gradient(&Net::new(&[64, 1], Loss::Logistic), 9, 13);
    }

    #[test]
    fn parameters_are_laid_out_layer_by_layer() {
        let net = Net::new(&[16, 32, 16, 1], Loss::Squared);
        assert_eq!(net.n_params(), 16 * 32 + 32 + 32 * 16 + 16 + 16 + 1);
        assert_eq!(net.layers()[1].params(), 544..1072);
    }
}
