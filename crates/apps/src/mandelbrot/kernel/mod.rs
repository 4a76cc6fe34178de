//! The fast kernels: escape counts and set membership for a row of pixels, several
//! pixels at a time.
//!
//! Each path computes exactly the serial reference's arithmetic (no FMA; the same
//! operations in the same order), so every path gives the same counts, bit for bit:
//! per iteration `zi = (zr + zr) * zi + ci`, `zr = (zr*zr - zi*zi) + cr`, and the
//! escape test `zr*zr + zi*zi > 4`. Lane groups run until all their lanes have escaped
//! (checked every [`CHECK`] iterations), then the next group starts.
//!
//! # How the counts stay exact without a per-lane "escaped" flag
//!
//! Only `zr` and `zi` live across iterations. Iteration `k` first tests `z_(k-1)` (the
//! squares it needs anyway) and adds 1 to the lane's count if `|z_(k-1)|^2 <= 4`. Once
//! `|z| > 2` with `|c| < 1.975`, `|z|` grows at every later iteration (`|z|^2 - |c| > |z|`,
//! with a margin far above rounding) until it overflows to infinity or NaN, which fail
//! the `<= 4` test too; with `|c| > 2.025` the orbit escapes at the first iteration and
//! grows from there. So the count is the first escape iteration, as in the reference.
//! Blocks of pixels with some `|c|^2` in `[3.9, 4.1]`, where that argument has no
//! margin, are computed by the scalar reference itself.
//!
//! The paths: AVX-512 (8 lanes of `f64`, 4 vectors per group: 32 pixels), AVX2
//! (4 lanes, 4 vectors: 16 pixels) and portable Rust (8 lanes), chosen at run time. The
//! same argument lets the AVX2 path run blocks of iterations without the test (and so
//! without counting) where no lane escapes, going back when one does (see its module).

mod portable;
mod scalar;

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;

pub use scalar::escape;

use serde::{Deserialize, Serialize};

/// Pixels per block: rows are padded to a multiple of it, and each block is computed
/// either by the vector path or (near `|c| = 2`) by the scalar reference.
pub const BLOCK: usize = 32;
/// Iterations between two checks of "have all lanes of the group escaped?".
pub const CHECK: u32 = 4;
/// The real part given to the padding pixels: they escape at the first iteration.
pub(crate) const PAD_C: f64 = 8.0;

/// A code path of the kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KernelPath {
    /// 8 lanes of `f64` per vector (x86-64 with AVX-512F).
    Avx512,
    /// 4 lanes of `f64` per vector (x86-64 with AVX2).
    Avx2,
    /// Plain Rust, vectorized by the compiler for the baseline target.
    Portable,
}

impl KernelPath {
    /// The fastest path this CPU runs.
    pub fn detect() -> KernelPath {
        Self::available()[0]
    }

    /// Every path this CPU runs, fastest first (`Portable` always).
    pub fn available() -> Vec<KernelPath> {
        let mut paths = Vec::new();
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx512f") {
            paths.push(KernelPath::Avx512);
        }
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            paths.push(KernelPath::Avx2);
        }
        paths.push(KernelPath::Portable);
        paths
    }

    /// `"avx512"`, `"avx2"` or `"portable"`.
    pub fn name(self) -> &'static str {
        match self {
            KernelPath::Avx512 => "avx512",
            KernelPath::Avx2 => "avx2",
            KernelPath::Portable => "portable",
        }
    }
}

/// Where a kernel writes one run of pixels (all slices cover the same pixels; the
/// lengths are multiples of [`BLOCK`], `members` has one bit per pixel).
pub struct Lanes<'a> {
    /// The escape counts.
    pub counts: &'a mut [u32],
    /// Set membership, 8 pixels per byte, the first pixel in the high bit (as PBM):
    /// a pixel is in the set if `|z| <= 2` after each of the `imax` iterations.
    pub members: &'a mut [u8],
    /// For smooth colouring: `|z|^2` after the iterations the lane's group ran, and
    /// how many those were (at least [`CHECK`] more than the count for an escaped
    /// lane, unless `imax` came first). `None` skips this.
    pub smooth: Option<(&'a mut [f64], &'a mut [u32])>,
}

/// Sums over the pixels of one kernel call, kept by the kernel as it goes (cheaper
/// than reading the counts and the membership bits again).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    /// The sum of the escape counts.
    pub checksum: u64,
    /// The pixels in the set.
    pub in_set: u64,
}

impl std::ops::AddAssign for Totals {
    fn add_assign(&mut self, other: Totals) {
        self.checksum += other.checksum;
        self.in_set += other.in_set;
    }
}

/// Computes the pixels `c = cr[j] + i ci` on `path` and returns their [`Totals`]. No
/// `cr[j]` may make `|c|^2` fall in `[3.9, 4.1]` (see [`is_safe`]; there the counts may
/// differ from the reference), and `path` should be one of [`KernelPath::available`]
/// (else the portable path runs).
///
/// # Panics
/// If `cr.len()` is not a multiple of [`BLOCK`] or the output slices do not cover the
/// same pixels.
#[track_caller]
pub fn compute(path: KernelPath, cr: &[f64], ci: f64, imax: u32, out: Lanes<'_>) -> Totals {
    check_lengths(cr, &out);
    match path {
        #[cfg(target_arch = "x86_64")]
        KernelPath::Avx512 if std::arch::is_x86_feature_detected!("avx512f") => avx512::compute(cr, ci, imax, out),
        #[cfg(target_arch = "x86_64")]
        KernelPath::Avx2 if std::arch::is_x86_feature_detected!("avx2") => avx2::compute(cr, ci, imax, out),
        _ => portable::compute(cr, ci, imax, out),
    }
}

/// Computes the pixels with the scalar reference, one at a time (any `c`), and returns
/// their [`Totals`].
///
/// # Panics
/// As [`compute`].
#[track_caller]
pub fn compute_scalar(cr: &[f64], ci: f64, imax: u32, out: Lanes<'_>) -> Totals {
    check_lengths(cr, &out);
    scalar::compute(cr, ci, imax, out)
}

#[track_caller]
fn check_lengths(cr: &[f64], out: &Lanes<'_>) {
    let n = cr.len();
    let smooth_ok = out.smooth.as_ref().is_none_or(|(m, e)| m.len() == n && e.len() == n);
    assert!(
        n.is_multiple_of(BLOCK) && out.counts.len() == n && out.members.len() * 8 == n && smooth_ok,
        "kernel: {n} pixels (a multiple of {BLOCK} needed) with {} counts and {} membership bytes",
        out.counts.len(),
        out.members.len()
    );
}

/// Whether the kernels' exact-count argument holds for every `|c|^2` in `[lo, hi]`.
#[inline]
pub fn is_safe(lo: f64, hi: f64) -> bool {
    hi < 3.9 || lo > 4.1
}

/// Packs 8 membership flags (bit `l` = lane `l`) into a PBM byte (lane 0 in the high bit).
#[inline(always)]
pub(crate) fn pbm_byte(lane_bits: u8) -> u8 {
    lane_bits.reverse_bits()
}

#[cfg(test)]
mod tests;
