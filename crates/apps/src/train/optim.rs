//! The optimizers: plain (mini-batch) gradient descent, with momentum, and Adam. Every rank holds the
//! same parameters and applies the same summed gradient, so they stay equal.

/// Which optimizer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Optimizer {
    /// `w -= lr g`.
    Sgd,
    /// Heavy-ball momentum: `v = 0.9 v + g`, `w -= lr v` (PyTorch's `SGD(momentum=0.9)`).
    Momentum,
    /// Adam (Kingma and Ba, 2015) with `beta1 = 0.9`, `beta2 = 0.999`, `eps = 1e-8`.
    Adam,
    /// Full-batch L-BFGS ([`lbfgs`](super::lbfgs)): no mini-batch steps, so no state here.
    Lbfgs,
}

/// An optimizer with its state.
#[derive(Debug, Clone)]
pub struct State {
    kind: Optimizer,
    lr: f64,
    m: Vec<f64>,
    v: Vec<f64>,
    t: i32,
}

impl State {
    /// A fresh optimizer for `n` parameters.
    pub fn new(kind: Optimizer, lr: f64, n: usize) -> State {
        let (m, v) = match kind {
            Optimizer::Sgd | Optimizer::Lbfgs => (0, 0),
            Optimizer::Momentum => (n, 0),
            Optimizer::Adam => (n, n),
        };
        State { kind, lr, m: vec![0.0; m], v: vec![0.0; v], t: 0 }
    }

    /// One step along the mean gradient `g`.
    pub fn step(&mut self, p: &mut [f64], g: &[f64]) {
        match self.kind {
            Optimizer::Sgd => p.iter_mut().zip(g).for_each(|(w, g)| *w -= self.lr * g),
            Optimizer::Lbfgs => {} // never stepped: `train` runs L-BFGS on the full batch instead
            Optimizer::Momentum => {
                for ((w, g), v) in p.iter_mut().zip(g).zip(&mut self.m) {
                    *v = 0.9 * *v + g;
                    *w -= self.lr * *v;
                }
            }
            Optimizer::Adam => {
                let (b1, b2, eps) = (0.9, 0.999, 1e-8);
                self.t += 1;
                let (c1, c2) = (1.0 - f64::powi(b1, self.t), 1.0 - f64::powi(b2, self.t));
                for (((w, g), m), v) in p.iter_mut().zip(g).zip(&mut self.m).zip(&mut self.v) {
                    *m = b1 * *m + (1.0 - b1) * g;
                    *v = b2 * *v + (1.0 - b2) * g * g;
                    *w -= self.lr * (*m / c1) / ((*v / c2).sqrt() + eps);
                }
            }
        }
    }
}

impl State {
    /// The state to save: the step count and the moments (`m`, then `v`).
    pub fn export(&self) -> (i32, Vec<f64>) {
        (self.t, [&self.m[..], &self.v[..]].concat())
    }

    /// Takes back a saved state; `None` if `moments` does not fit this optimizer.
    pub fn restore(&mut self, t: i32, moments: &[f64]) -> Option<()> {
        let (m, v) = (self.m.len(), self.v.len());
        if moments.len() != m + v {
            return None;
        }
        self.t = t;
        self.m.copy_from_slice(&moments[..m]);
        self.v.copy_from_slice(&moments[m..]);
        Some(())
    }

    /// The number of values [`export`](State::export) gives.
    pub fn moments(&self) -> usize {
        self.m.len() + self.v.len()
    }
}
