//! Copying message data.
//!
//! glibc's `memcpy` uses `rep movsb` for mid-sized copies, which on AMD Zen runs at
//! ~3 GB/s instead of ~80 GB/s when source and destination share their offset within
//! a page (measured here for 8 KiB to 256 KiB by `parsci bench`'s memcpy reference).
//! Message buffers often do, so large copies go through explicit vector loads and stores.

use bytemuck::Pod;

/// Below this, `memcpy` is fast whatever the alignment.
const SMALL: usize = 2048;

/// `dst.copy_from_slice(src)` for plain data, fast for every size and alignment.
///
/// # Panics
/// If the lengths differ.
#[inline]
#[track_caller]
pub(crate) fn copy<T: Pod>(dst: &mut [T], src: &[T]) {
    assert_eq!(dst.len(), src.len(), "copy: lengths differ");
    let d: &mut [u8] = bytemuck::cast_slice_mut(dst);
    let s: &[u8] = bytemuck::cast_slice(src);
    if s.len() <= 16 {
        copy_tiny(d, s);
    } else if s.len() < SMALL {
        d.copy_from_slice(s);
    } else {
        copy_large(d, s);
    }
}

/// Up to 16 bytes (a small collective's usual payload) with at most two overlapping
/// loads and stores of a fixed width: no call to `memcpy`, whose dispatch costs more
/// than the copy.
#[inline(always)]
fn copy_tiny(d: &mut [u8], s: &[u8]) {
    let n = s.len();
    if n >= 8 {
        d[..8].copy_from_slice(&s[..8]);
        d[n - 8..n].copy_from_slice(&s[n - 8..]);
    } else if n >= 4 {
        d[..4].copy_from_slice(&s[..4]);
        d[n - 4..n].copy_from_slice(&s[n - 4..]);
    } else if n > 0 {
        d[0] = s[0];
        d[n / 2] = s[n / 2];
        d[n - 1] = s[n - 1];
    }
}

/// `fast_copy_from`: [`copy`] as a method on slices.
pub(crate) trait FastCopy<T> {
    /// Copies `src` into `self` (same length).
    fn fast_copy_from(&mut self, src: &[T]);
}

impl<T: Pod> FastCopy<T> for [T] {
    #[inline]
    #[track_caller]
    fn fast_copy_from(&mut self, src: &[T]) {
        copy(self, src);
    }
}

/// A fresh `Vec` holding a copy of `src`.
pub(crate) fn to_vec<T: Pod>(src: &[T]) -> Vec<T> {
    let mut v = vec![T::zeroed(); src.len()];
    copy(&mut v, src);
    v
}

#[cfg(target_arch = "x86_64")]
fn copy_large(d: &mut [u8], s: &[u8]) {
    if std::arch::is_x86_feature_detected!("avx") {
        // SAFETY: AVX is available; lengths are equal (checked by the caller).
        unsafe { copy_avx(d, s) }
    } else {
        // SAFETY: SSE2 is part of x86_64; lengths are equal.
        unsafe { copy_sse2(d, s) }
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn copy_large(d: &mut [u8], s: &[u8]) {
    d.copy_from_slice(s);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
unsafe fn copy_avx(d: &mut [u8], s: &[u8]) {
    use std::arch::x86_64::*;
    let n = s.len();
    let (sp, dp) = (s.as_ptr(), d.as_mut_ptr());
    let mut i = 0;
    // SAFETY: every access is within `0..n` of both slices.
    unsafe {
        while i + 128 <= n {
            let a = _mm256_loadu_si256(sp.add(i).cast());
            let b = _mm256_loadu_si256(sp.add(i + 32).cast());
            let c = _mm256_loadu_si256(sp.add(i + 64).cast());
            let e = _mm256_loadu_si256(sp.add(i + 96).cast());
            _mm256_storeu_si256(dp.add(i).cast(), a);
            _mm256_storeu_si256(dp.add(i + 32).cast(), b);
            _mm256_storeu_si256(dp.add(i + 64).cast(), c);
            _mm256_storeu_si256(dp.add(i + 96).cast(), e);
            i += 128;
        }
        std::ptr::copy_nonoverlapping(sp.add(i), dp.add(i), n - i);
    }
}

#[cfg(target_arch = "x86_64")]
unsafe fn copy_sse2(d: &mut [u8], s: &[u8]) {
    use std::arch::x86_64::*;
    let n = s.len();
    let (sp, dp) = (s.as_ptr(), d.as_mut_ptr());
    let mut i = 0;
    // SAFETY: every access is within `0..n` of both slices.
    unsafe {
        while i + 64 <= n {
            let a = _mm_loadu_si128(sp.add(i).cast());
            let b = _mm_loadu_si128(sp.add(i + 16).cast());
            let c = _mm_loadu_si128(sp.add(i + 32).cast());
            let e = _mm_loadu_si128(sp.add(i + 48).cast());
            _mm_storeu_si128(dp.add(i).cast(), a);
            _mm_storeu_si128(dp.add(i + 16).cast(), b);
            _mm_storeu_si128(dp.add(i + 32).cast(), c);
            _mm_storeu_si128(dp.add(i + 48).cast(), e);
            i += 64;
        }
        std::ptr::copy_nonoverlapping(sp.add(i), dp.add(i), n - i);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_every_length_and_offset() {
        let src: Vec<u8> = (0..10_000u32).map(|i| (i * 7 + 3) as u8).collect();
        for len in [0, 1, 63, 64, 127, 128, 2047, 2048, 2049, 4096, 5000, 9000] {
            for off in [0, 1, 7, 31] {
                let mut dst = vec![0u8; len];
                copy(&mut dst, &src[off..off + len]);
                assert_eq!(dst, &src[off..off + len], "len {len} offset {off}");
            }
        }
        let f: Vec<f64> = (0..3000).map(f64::from).collect();
        assert_eq!(to_vec(&f), f);
    }
}
