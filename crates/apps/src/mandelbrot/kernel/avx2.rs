//! The AVX2 path: groups of 16 pixels as 4 vectors of 4 lanes, interleaved so that
//! the four dependency chains hide each other's latency.
//!
//! Every helper is `#[inline(always)]` and only ever inlined into [`compute_avx2`],
//! which is compiled with AVX2 enabled: that is what makes their intrinsics sound.

use std::arch::x86_64::*;

use super::{pbm_byte, Lanes, Totals, CHECK};

/// Lanes per vector.
const W: usize = 4;
/// Pixels per group (4 vectors).
const G: usize = 4 * W;

/// Runs [`compute_avx2`] (the caller checked that the CPU has AVX2).
pub(super) fn compute(cr: &[f64], ci: f64, imax: u32, out: Lanes<'_>) -> Totals {
    assert!(std::arch::is_x86_feature_detected!("avx2"), "the AVX2 kernel needs AVX2");
    // SAFETY: the CPU supports AVX2 (checked above), all `compute_avx2` needs.
    unsafe { compute_avx2(cr, ci, imax, out) }
}

/// One group's state: 4 vectors of `z`, and the counts packed two vectors per register
/// (32-bit lanes: the even ones count the first vector, the odd ones the second).
#[derive(Clone, Copy)]
struct State {
    zr: [__m256d; 4],
    zi: [__m256d; 4],
    c01: __m256i,
    c23: __m256i,
}

/// # Safety
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
unsafe fn compute_avx2(cr: &[f64], ci: f64, imax: u32, out: Lanes<'_>) -> Totals {
    let Lanes { counts, members, mut smooth } = out;
    // The sum of the counts so far, in 4 lanes of 64 bits.
    let mut sum = _mm256_setzero_si256();
    let mut in_set = 0u64;
    for (g, c) in cr.chunks_exact(G).enumerate() {
        let c: &[f64; G] = c.try_into().expect("chunks of G");
        let (state, executed, all_out) =
            if smooth.is_some() { group::<true>(c, ci, imax) } else { group::<false>(c, ci, imax) };
        let out: &mut [u32; G] = (&mut counts[g * G..(g + 1) * G]).try_into().expect("G counts");
        sum = _mm256_add_epi64(sum, store_counts(&state, out));
        let mag = magnitudes(&state);
        let mut bits = 0u16;
        if !all_out {
            for (v, m) in mag.iter().enumerate() {
                bits |= (_mm256_movemask_pd(_mm256_cmp_pd::<_CMP_LE_OQ>(*m, _mm256_set1_pd(4.0))) as u16) << (W * v);
            }
            in_set += u64::from(bits.count_ones());
        }
        members[2 * g] = pbm_byte(bits as u8);
        members[2 * g + 1] = pbm_byte((bits >> 8) as u8);
        if let Some((m, e)) = smooth.as_mut() {
            let m: &mut [f64; G] = (&mut m[g * G..(g + 1) * G]).try_into().expect("G magnitudes");
            for (v, mv) in mag.iter().enumerate() {
                // SAFETY: `m[4v..4v + 4]` holds 4 f64, and unaligned stores are allowed.
                unsafe { _mm256_storeu_pd(m.as_mut_ptr().add(v * W), *mv) };
            }
            e[g * G..(g + 1) * G].fill(executed);
        }
    }
    let mut lanes = [0u64; 4];
    // SAFETY: `lanes` holds 256 bits, and unaligned stores are allowed.
    unsafe { _mm256_storeu_si256(lanes.as_mut_ptr().cast(), sum) };
    Totals { checksum: lanes.iter().sum(), in_set }
}

/// Runs one group to the end: its state, the iterations run, and whether every lane
/// had escaped before `imax`.
#[inline(always)]
fn group<const SMOOTH: bool>(cr: &[f64; G], ci: f64, imax: u32) -> (State, u32, bool) {
    // SAFETY: only inlined into `compute_avx2` (AVX2 enabled); `cr` holds 16 f64 and
    // unaligned loads are allowed.
    let (crv, civ, mut s) = unsafe {
        let p = cr.as_ptr();
        let crv = [
            _mm256_loadu_pd(p),
            _mm256_loadu_pd(p.add(W)),
            _mm256_loadu_pd(p.add(2 * W)),
            _mm256_loadu_pd(p.add(3 * W)),
        ];
        let zero = _mm256_setzero_pd();
        let s = State { zr: [zero; 4], zi: [zero; 4], c01: _mm256_setzero_si256(), c23: _mm256_setzero_si256() };
        (crv, _mm256_set1_pd(ci), s)
    };
    let rem = imax % CHECK;
    for _ in 0..rem {
        block::<1>(&mut s, &crv, civ);
    }
    let mut executed = rem;
    let mut all_out = false;
    for _ in 0..imax / CHECK {
        let any = block::<CHECK>(&mut s, &crv, civ);
        executed += CHECK;
        // SAFETY: only inlined into `compute_avx2` (AVX2 enabled).
        if unsafe { _mm256_movemask_pd(any) } == 0 {
            all_out = true;
            break;
        }
    }
    if SMOOTH && all_out {
        // Every lane is out: a few more iterations make |z| large for the smooth
        // colouring (the counts cannot change any more).
        block::<CHECK>(&mut s, &crv, civ);
        executed += CHECK;
    }
    (s, executed, all_out)
}

/// `K` iterations of the 4 vectors; the "still inside" masks of the last one, OR-ed.
#[inline(always)]
fn block<const K: u32>(s: &mut State, cr: &[__m256d; 4], ci: __m256d) -> __m256d {
    // SAFETY: only inlined into `compute_avx2` (AVX2 enabled).
    unsafe {
        let four = _mm256_set1_pd(4.0);
        let [mut zr0, mut zr1, mut zr2, mut zr3] = s.zr;
        let [mut zi0, mut zi1, mut zi2, mut zi3] = s.zi;
        let (mut c01, mut c23) = (s.c01, s.c23);
        let mut any = _mm256_setzero_pd();
        for _ in 0..K {
            let m0 = step(&mut zr0, &mut zi0, cr[0], ci, four);
            let m1 = step(&mut zr1, &mut zi1, cr[1], ci, four);
            let m2 = step(&mut zr2, &mut zi2, cr[2], ci, four);
            let m3 = step(&mut zr3, &mut zi3, cr[3], ci, four);
            // A true mask is -1 in both 32-bit halves: subtracting it counts one.
            c01 = _mm256_sub_epi32(c01, pack(m0, m1));
            c23 = _mm256_sub_epi32(c23, pack(m2, m3));
            any = _mm256_or_pd(_mm256_or_pd(m0, m1), _mm256_or_pd(m2, m3));
        }
        *s = State { zr: [zr0, zr1, zr2, zr3], zi: [zi0, zi1, zi2, zi3], c01, c23 };
        any
    }
}

/// One iteration of one vector; the mask of the lanes that were inside (`|z|^2 <= 4`) before it.
#[inline(always)]
fn step(zr: &mut __m256d, zi: &mut __m256d, cr: __m256d, ci: __m256d, four: __m256d) -> __m256d {
    // SAFETY: only inlined into `compute_avx2` (AVX2 enabled).
    unsafe {
        let tr = _mm256_mul_pd(*zr, *zr);
        let ti = _mm256_mul_pd(*zi, *zi);
        let inside = _mm256_cmp_pd::<_CMP_LE_OQ>(_mm256_add_pd(tr, ti), four);
        *zi = _mm256_add_pd(_mm256_mul_pd(_mm256_add_pd(*zr, *zr), *zi), ci);
        *zr = _mm256_add_pd(_mm256_sub_pd(tr, ti), cr);
        inside
    }
}

/// Two masks of 64-bit lanes into one register of 32-bit lanes (even from `a`, odd from `b`).
#[inline(always)]
fn pack(a: __m256d, b: __m256d) -> __m256i {
    // SAFETY: only inlined into `compute_avx2` (AVX2 enabled).
    unsafe { _mm256_castps_si256(_mm256_blend_ps::<0b1010_1010>(_mm256_castpd_ps(a), _mm256_castpd_ps(b))) }
}

/// Stores the group's counts in pixel order; their sums in 4 lanes of 64 bits.
#[inline(always)]
fn store_counts(s: &State, out: &mut [u32; G]) -> __m256i {
    // SAFETY: only inlined into `compute_avx2` (AVX2 enabled); `out[8k..8k + 8]` holds 256
    // bits, and unaligned stores are allowed.
    unsafe {
        // The even 32-bit lanes (first vector) to the low half, the odd ones to the high.
        let order = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
        _mm256_storeu_si256(out.as_mut_ptr().cast(), _mm256_permutevar8x32_epi32(s.c01, order));
        _mm256_storeu_si256(out.as_mut_ptr().add(2 * W).cast(), _mm256_permutevar8x32_epi32(s.c23, order));
        let low = _mm256_set1_epi64x(0xffff_ffff);
        let even = _mm256_add_epi64(_mm256_and_si256(s.c01, low), _mm256_and_si256(s.c23, low));
        let odd = _mm256_add_epi64(_mm256_srli_epi64::<32>(s.c01), _mm256_srli_epi64::<32>(s.c23));
        _mm256_add_epi64(even, odd)
    }
}

/// `|z|^2` of every lane.
#[inline(always)]
fn magnitudes(s: &State) -> [__m256d; 4] {
    // SAFETY: only inlined into `compute_avx2` (AVX2 enabled).
    std::array::from_fn(|v| unsafe { _mm256_add_pd(_mm256_mul_pd(s.zr[v], s.zr[v]), _mm256_mul_pd(s.zi[v], s.zi[v])) })
}
