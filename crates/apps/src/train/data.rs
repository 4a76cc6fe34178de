//! Synthetic data from seeds and global sample indices: any rank can make any sample,
//! so a rank makes only the samples of its shard, and the data never depend on the
//! rank count.

use crate::taskfarm::SplitMix64;

use super::net::{Activation, Net};

/// Streams of the generator, so that features, noise and teachers never share numbers.
#[derive(Debug, Clone, Copy)]
#[repr(u64)]
enum Stream {
    Features = 1,
    Noise = 2,
    Teacher = 3,
    Student = 4,
    Order = 5,
}

/// A generator for one purpose and one index (a sample, a layer).
fn rng(seed: u64, stream: Stream, index: u64) -> SplitMix64 {
    let mut g = SplitMix64::new(seed ^ (stream as u64).wrapping_mul(0xA076_1D64_78BD_642F));
    let salt = g.next_u64();
    SplitMix64::new(salt ^ index.wrapping_mul(0xE703_7ED1_A0B4_28DB))
}

/// Fills `out` with standard normal numbers (Box-Muller, in pairs).
fn normals(g: &mut SplitMix64, out: &mut [f64]) {
    for pair in out.chunks_mut(2) {
        let u1 = 1.0 - g.next_f64(); // in (0, 1]: ln is finite
        let u2 = g.next_f64();
        let r = (-2.0 * u1.ln()).sqrt();
        let t = std::f64::consts::TAU * u2;
        pair[0] = r * t.cos();
        if let Some(second) = pair.get_mut(1) {
            *second = r * t.sin();
        }
    }
}

/// The features of sample `i`: `d` standard normal numbers.
pub fn features(seed: u64, i: u64, out: &mut [f64]) {
    normals(&mut rng(seed, Stream::Features, i), out);
}

/// One standard normal number of sample `i`'s label noise.
fn noise(seed: u64, i: u64) -> f64 {
    let mut z = [0.0];
    normals(&mut rng(seed, Stream::Noise, i), &mut z);
    z[0]
}

/// The logistic-regression teacher: `d` standard normal weights.
pub fn logreg_teacher(seed: u64, d: usize) -> Vec<f64> {
    let mut w = vec![0.0; d];
    normals(&mut rng(seed, Stream::Teacher, 0), &mut w);
    w
}

/// The teacher's score of `x` (no noise): `x . w`, added in index order.
pub fn score(x: &[f64], w: &[f64]) -> f64 {
    x.iter().zip(w).fold(0.0, |s, (a, b)| s + a * b)
}

/// The label of sample `i` with features `x`: 1 if its noisy score `x . w + noise * z`
/// is positive, else 0.
pub fn logreg_label(seed: u64, i: u64, x: &[f64], w: &[f64], noise_std: f64) -> f64 {
    f64::from(score(x, w) + noise_std * noise(seed, i) > 0.0)
}

/// The order of epoch `epoch`'s `n` samples: a permutation drawn from the seed and the
/// epoch alone (Fisher-Yates), so that every rank, at any rank count, agrees on it.
pub fn permutation(seed: u64, epoch: usize, n: usize) -> Vec<usize> {
    let mut g = rng(seed, Stream::Order, epoch as u64);
    let mut order: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = (g.next_u64() % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
    order
}

/// Initial parameters of `net`: weights `N(0, 1/fan_in)` (LeCun's scaling, right for
/// tanh) and biases `N(0, 0.1^2)`, or for ReLU `N(0, 2/fan_in)` (He's) and zero biases;
/// `teacher` picks the teacher's stream, else the student's.
pub fn net_params(net: &Net, seed: u64, teacher: bool) -> Vec<f64> {
    let relu = net.activation() == Activation::Relu;
    let stream = if teacher { Stream::Teacher } else { Stream::Student };
    let mut p = vec![0.0; net.n_params()];
    for (l, layer) in net.layers().iter().enumerate() {
        let g = &mut rng(seed, stream, 1 + l as u64);
        let (w, b) = (layer.weights.clone(), layer.bias.clone());
        normals(g, &mut p[w.clone()]);
        let scale = (if relu { 2.0 } else { 1.0 } / layer.fan_in() as f64).sqrt();
        p[w].iter_mut().for_each(|v| *v *= scale);
        normals(g, &mut p[b.clone()]);
        p[b].iter_mut().for_each(|v| *v *= if relu { 0.0 } else { 0.1 });
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_depend_only_on_seed_and_index() {
        let (mut a, mut b) = (vec![0.0; 7], vec![0.0; 7]);
        features(3, 12, &mut a);
        features(3, 12, &mut b);
        assert_eq!(a, b);
        features(3, 13, &mut b);
        assert_ne!(a, b);
        features(4, 12, &mut b);
        assert_ne!(a, b);
    }

    #[test]
    fn an_epochs_order_is_a_permutation_of_its_seed_and_epoch() {
        let a = permutation(7, 1, 1000);
        let mut sorted = a.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..1000).collect::<Vec<_>>());
        assert_eq!(a, permutation(7, 1, 1000));
        assert_ne!(a, permutation(7, 2, 1000));
    }

    #[test]
    fn normals_have_mean_zero_and_variance_one() {
        let mut z = vec![0.0; 100_001];
        features(1, 0, &mut z);
        let n = z.len() as f64;
        let mean = z.iter().sum::<f64>() / n;
        let var = z.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
        assert!(mean.abs() < 0.01 && (var - 1.0).abs() < 0.02, "mean {mean} variance {var}");
    }
}
