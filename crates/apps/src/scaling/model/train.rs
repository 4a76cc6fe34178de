//! train's cost on `p` ranks: each step the ranks share the global batch's blocks and
//! sum their gradients with one allreduce (one slot per block with the ordered
//! reduction, so the message is `B / block` gradients long).

use super::machine::{Cost, Machine};
use super::network::Allreduce;
use crate::train::conv::KERNEL;
use crate::train::{Optimizer, Reduction, Train};

/// Bytes of one gradient element (an `f64`).
const ELEM: f64 = 8.0;

/// The trainable parameters of the network (weights and biases of every layer; a CNN's
/// blocks counted on square one-channel images of `layers[0]` pixels, as Fashion-MNIST's).
pub fn train_params(t: &Train) -> usize {
    let dense = |l: &[usize]| l.windows(2).map(|w| w[0] * w[1] + w[1]).sum::<usize>();
    if t.convs.is_empty() {
        return dense(&t.layers);
    }
    let (mut side, mut c_in, mut n) = ((t.layers.first().copied().unwrap_or(0) as f64).sqrt() as usize, 1, 0);
    for &c in &t.convs {
        n += c * KERNEL * KERNEL * c_in + c;
        (side, c_in) = (side / 2, c);
    }
    n + dense(&[&[side * side * c_in][..], t.layers.get(1..).unwrap_or(&[])].concat())
}

/// The cost of `train` on `p` ranks with `algo` for the gradient sums: per step, the
/// slowest rank's blocks (`ceil(blocks / p)` of them) and one allreduce of the exchange
/// buffer. The rate is samples per second, everything included (the per-epoch loss too).
///
/// ```
/// use parsci_apps::train::Train;
/// use parsci_apps::scaling::model::{train_cost, Allreduce, Machine, Network};
/// let t = Train { samples: 1024, epochs: 1, batch: 256, block: 16, ..Train::logreg() }; // 65 parameters
/// let m = Machine { net: Network::new(1e-5, 1e9).unwrap(), rate: 1e6, cores: None, hosts: None, overlap: false };
/// let c = train_cost(&t, 4, Allreduce::Tree, &m).unwrap();
/// // 4 steps; 16 blocks of 16 samples: 4 per rank; 16 slots of 65 gradients in the allreduce.
/// assert!((c.compute_s - 4.0 * 64.0 / 1e6).abs() < 1e-15);
/// let bytes = 16.0 * 65.0 * 8.0;
/// assert!((c.comm_s - 4.0 * 2.0 * 2.0 * (1e-5 + bytes / 1e9)).abs() < 1e-15);
/// ```
pub fn train_cost(t: &Train, p: usize, algo: Allreduce, m: &Machine) -> Option<Cost> {
    if t.batch == 0 || t.block == 0 || t.samples == 0 {
        return None;
    }
    // L-BFGS: one full-batch pass per iteration (its line search rarely needs a second).
    let lbfgs = t.optimizer == Optimizer::Lbfgs;
    let (steps, batch, blocks) = if lbfgs {
        (t.lbfgs.iterations, t.samples, t.samples.div_ceil(t.block))
    } else if t.batch_per_rank {
        (t.samples.div_ceil(p).div_ceil(t.batch), t.batch * p, t.batch.div_ceil(t.block) * p)
    } else {
        (t.samples.div_ceil(t.batch), t.batch, t.batch.div_ceil(t.block))
    };
    let steps = (if lbfgs { steps } else { steps * t.epochs }) as f64;
    let mine = blocks.div_ceil(p) as f64 * (batch as f64 / blocks as f64);
    let slots = match t.reduction {
        Reduction::Ordered => blocks as f64,
        Reduction::Plain => 1.0,
    };
    let bytes = ELEM * slots * train_params(t) as f64;
    let compute_s = steps * mine / m.rate * m.sharing(p);
    let comm_s = steps * m.net.allreduce(algo, p, bytes);
    Some(Cost::new(p, None, compute_s, comm_s, m.overlap))
}

/// The work of `train` on one rank: samples processed, `epochs x samples` (L-BFGS:
/// `iterations x samples`).
pub fn train_work(t: &Train) -> f64 {
    let passes = if t.optimizer == Optimizer::Lbfgs { t.lbfgs.iterations } else { t.epochs };
    passes as f64 * t.samples as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_parameters_are_the_networks() {
        assert_eq!(train_params(&Train::fashion_mnist()), 784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10);
        assert_eq!(train_params(&Train::fashion_mnist_cnn()), 206_922);
    }
}
