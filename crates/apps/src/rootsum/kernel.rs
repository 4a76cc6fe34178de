//! The fast kernel: `sum of sqrt(first + k * stride) for k in 0..count`.
//!
//! The values are generated as `f64` lanes (exact integers below 2^53), the square
//! roots are taken 16 at a time (4 vectors of 4 lanes with independent accumulators,
//! so the sqrt unit never waits for an add), and each block's plain sum goes into a
//! compensated total. On x86-64 with AVX2 and FMA a copy compiled for those features
//! is chosen at run time; elsewhere the same code is compiled for the baseline target.

use super::compensated::Compensated;

/// `f64` lanes of one vector (AVX2: 256 bits).
const WIDTH: usize = 4;
/// Independent vectors summed side by side.
const VECTORS: usize = 4;
/// Lanes in all.
const LANES: usize = WIDTH * VECTORS;
/// Steps of all lanes per block: a block covers `LANES * STEPS` values. Each lane's
/// plain sum has `STEPS` terms, so a block's relative error stays near `STEPS * eps`
/// at worst, and the compensated total of the blocks near 1e-15 relative.
const STEPS: usize = 64;

/// One vector's lanes.
type Lanes = [f64; WIDTH];

/// `sum of sqrt(first + k * stride) for k in 0..count`, as a compensated sum.
///
/// Every value `first + k * stride` must be below 2^52 (the caller checks), so that
/// the lanes hold them exactly.
pub fn strided_sqrt_sum(first: u64, stride: u64, count: u64) -> Compensated {
    let block = (LANES * STEPS) as u64;
    let blocks = count / block;
    let s = stride as f64;
    // Lane l of vector v starts at first + (v * WIDTH + l) * stride.
    let lane = |v: usize| -> Lanes { std::array::from_fn(|l| first as f64 + s * (v * WIDTH + l) as f64) };
    let mut x = [lane(0), lane(1), lane(2), lane(3)];
    let mut total = blocks_sum(&mut x, s * LANES as f64, blocks);
    let mut i = first + blocks * block * stride;
    for _ in blocks * block..count {
        total.add((i as f64).sqrt());
        i += stride;
    }
    total
}

/// The sum of `blocks` blocks starting at the lanes `x`, on the best code path.
fn blocks_sum(x: &mut [Lanes; VECTORS], step: f64, blocks: u64) -> Compensated {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
            // SAFETY: `blocks_avx2` only needs AVX2 and FMA, which this CPU has (checked above).
            return unsafe { blocks_avx2(x, step, blocks) };
        }
    }
    blocks_portable(x, step, blocks)
}

/// [`blocks_body`] compiled for AVX2 and FMA.
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn blocks_avx2(x: &mut [Lanes; VECTORS], step: f64, blocks: u64) -> Compensated {
    blocks_body(x, step, blocks)
}

/// [`blocks_body`] compiled for the baseline target.
#[inline(never)]
fn blocks_portable(x: &mut [Lanes; VECTORS], step: f64, blocks: u64) -> Compensated {
    blocks_body(x, step, blocks)
}

/// Plain lane code that LLVM vectorizes for whatever features its caller enables.
///
/// The lanes live behind `&mut` on purpose: their final store is what seeds LLVM's
/// SLP vectorizer (with the lanes in local variables only, it kept them scalar or
/// 128 bits wide even with AVX2 enabled).
#[inline(always)]
fn blocks_body(x: &mut [Lanes; VECTORS], step: f64, blocks: u64) -> Compensated {
    let mut total = Compensated::default();
    for _ in 0..blocks {
        total.add(block_sum(x, splat(step)));
    }
    total
}

/// The plain sum of one block: `STEPS` steps of the four vectors `x`, which move on by
/// `step` each step. The vectors are separate variables (not an indexed array) so that
/// LLVM keeps each in one register.
#[inline(always)]
fn block_sum(x: &mut [Lanes; VECTORS], step: Lanes) -> f64 {
    let [mut x0, mut x1, mut x2, mut x3] = *x;
    let (mut a0, mut a1, mut a2, mut a3) = (splat(0.0), splat(0.0), splat(0.0), splat(0.0));
    for _ in 0..STEPS {
        a0 = add(a0, sqrt(x0));
        a1 = add(a1, sqrt(x1));
        a2 = add(a2, sqrt(x2));
        a3 = add(a3, sqrt(x3));
        x0 = add(x0, step);
        x1 = add(x1, step);
        x2 = add(x2, step);
        x3 = add(x3, step);
    }
    *x = [x0, x1, x2, x3];
    let v = add(add(a0, a1), add(a2, a3));
    (v[0] + v[2]) + (v[1] + v[3])
}

#[inline(always)]
fn splat(a: f64) -> Lanes {
    [a; WIDTH]
}

#[inline(always)]
fn add(a: Lanes, b: Lanes) -> Lanes {
    [a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3]]
}

#[inline(always)]
fn sqrt(a: Lanes) -> Lanes {
    [a[0].sqrt(), a[1].sqrt(), a[2].sqrt(), a[3].sqrt()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(first: u64, stride: u64, count: u64) -> f64 {
        let mut s = Compensated::default();
        for k in 0..count {
            s.add(((first + k * stride) as f64).sqrt());
        }
        s.value()
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-13 * a.abs().max(1.0)
    }

    #[test]
    fn matches_a_scalar_loop_at_awkward_counts() {
        let cases = [(1, 1, 0), (1, 1, 1), (3, 7, 1023), (2, 3, 1024), (1, 1, 1025), (5, 2, 5000)];
        for (first, stride, count) in cases {
            let fast = strided_sqrt_sum(first, stride, count).value();
            let slow = naive(first, stride, count);
            assert!(close(fast, slow), "{first} {stride} {count}: {fast} vs {slow}");
        }
    }

    #[test]
    fn portable_path_matches_the_dispatched_one() {
        let start =
            || -> [Lanes; VECTORS] { std::array::from_fn(|v| std::array::from_fn(|l| (1 + v * WIDTH + l) as f64)) };
        let (mut x, mut y) = (start(), start());
        let a = blocks_portable(&mut x, LANES as f64, 10).value();
        let b = blocks_sum(&mut y, LANES as f64, 10).value();
        assert_eq!(x, y);
        assert!(close(a, b), "{a} vs {b}");
        assert!(close(a, naive(1, 1, (10 * LANES * STEPS) as u64)));
    }
}
