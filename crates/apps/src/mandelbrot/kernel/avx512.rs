//! The AVX-512 path: groups of 32 pixels as 4 vectors of 8 lanes, with mask registers
//! for the comparisons. (Compiled with Rust 1.89 or later; run only where the CPU has
//! AVX-512F. The machine this was written on has none, so this path is tested only
//! where one is available.)
//!
//! Every helper is `#[inline(always)]` and only ever inlined into [`compute_avx512`],
//! which is compiled with AVX-512F enabled: that is what makes their intrinsics sound.

use std::arch::x86_64::*;

use super::{pbm_byte, Lanes, Totals, CHECK};

/// Lanes per vector.
const W: usize = 8;
/// Pixels per group (4 vectors).
const G: usize = 4 * W;

/// Runs [`compute_avx512`] (the caller checked that the CPU has AVX-512F).
pub(super) fn compute(cr: &[f64], ci: f64, imax: u32, out: Lanes<'_>) -> Totals {
    assert!(std::arch::is_x86_feature_detected!("avx512f"), "the AVX-512 kernel needs AVX-512F");
    // SAFETY: the CPU supports AVX-512F (checked above), all `compute_avx512` needs.
    unsafe { compute_avx512(cr, ci, imax, out) }
}

/// One group's state: 4 vectors of `z` and of counts (64-bit lanes).
#[derive(Clone, Copy)]
struct State {
    zr: [__m512d; 4],
    zi: [__m512d; 4],
    count: [__m512i; 4],
}

/// # Safety
/// The CPU must support AVX-512F.
#[target_feature(enable = "avx512f")]
unsafe fn compute_avx512(cr: &[f64], ci: f64, imax: u32, out: Lanes<'_>) -> Totals {
    let Lanes { counts, members, mut smooth } = out;
    let mut totals = Totals::default();
    for (g, c) in cr.chunks_exact(G).enumerate() {
        let c: &[f64; G] = c.try_into().expect("chunks of G");
        let (state, executed, all_out) =
            if smooth.is_some() { group::<true>(c, ci, imax) } else { group::<false>(c, ci, imax) };
        let (wide, mag) = finish(&state);
        for (o, w) in counts[g * G..(g + 1) * G].iter_mut().zip(wide) {
            *o = w as u32;
            totals.checksum += w;
        }
        for v in 0..4 {
            let mut bits = 0u8;
            if !all_out {
                for l in 0..W {
                    bits |= u8::from(mag[v * W + l] <= 4.0) << l;
                }
            }
            members[4 * g + v] = pbm_byte(bits);
            totals.in_set += u64::from(bits.count_ones());
        }
        if let Some((m, e)) = smooth.as_mut() {
            m[g * G..(g + 1) * G].copy_from_slice(&mag);
            e[g * G..(g + 1) * G].fill(executed);
        }
    }
    totals
}

/// Runs one group to the end: its state, the iterations run, and whether every lane
/// had escaped before `imax`.
#[inline(always)]
fn group<const SMOOTH: bool>(cr: &[f64; G], ci: f64, imax: u32) -> (State, u32, bool) {
    // SAFETY: only inlined into `compute_avx512` (AVX-512F enabled); `cr` holds 32 f64
    // and unaligned loads are allowed.
    let (crv, civ, mut s) = unsafe {
        let p = cr.as_ptr();
        let crv = [
            _mm512_loadu_pd(p),
            _mm512_loadu_pd(p.add(W)),
            _mm512_loadu_pd(p.add(2 * W)),
            _mm512_loadu_pd(p.add(3 * W)),
        ];
        let zero = _mm512_setzero_pd();
        let s = State { zr: [zero; 4], zi: [zero; 4], count: [_mm512_setzero_si512(); 4] };
        (crv, _mm512_set1_pd(ci), s)
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
        if any == 0 {
            all_out = true;
            break;
        }
    }
    if SMOOTH && all_out {
        block::<CHECK>(&mut s, &crv, civ);
        executed += CHECK;
    }
    (s, executed, all_out)
}

/// `K` iterations of the 4 vectors; the "still inside" masks of the last one, OR-ed.
#[inline(always)]
fn block<const K: u32>(s: &mut State, cr: &[__m512d; 4], ci: __m512d) -> __mmask8 {
    // SAFETY: only inlined into `compute_avx512` (AVX-512F enabled).
    unsafe {
        let four = _mm512_set1_pd(4.0);
        let one = _mm512_set1_epi64(1);
        let [mut zr0, mut zr1, mut zr2, mut zr3] = s.zr;
        let [mut zi0, mut zi1, mut zi2, mut zi3] = s.zi;
        let [mut c0, mut c1, mut c2, mut c3] = s.count;
        let mut any = 0;
        for _ in 0..K {
            let m0 = step(&mut zr0, &mut zi0, cr[0], ci, four);
            let m1 = step(&mut zr1, &mut zi1, cr[1], ci, four);
            let m2 = step(&mut zr2, &mut zi2, cr[2], ci, four);
            let m3 = step(&mut zr3, &mut zi3, cr[3], ci, four);
            c0 = _mm512_mask_add_epi64(c0, m0, c0, one);
            c1 = _mm512_mask_add_epi64(c1, m1, c1, one);
            c2 = _mm512_mask_add_epi64(c2, m2, c2, one);
            c3 = _mm512_mask_add_epi64(c3, m3, c3, one);
            any = m0 | m1 | m2 | m3;
        }
        *s = State { zr: [zr0, zr1, zr2, zr3], zi: [zi0, zi1, zi2, zi3], count: [c0, c1, c2, c3] };
        any
    }
}

/// One iteration of one vector; the lanes that were inside (`|z|^2 <= 4`) before it.
#[inline(always)]
fn step(zr: &mut __m512d, zi: &mut __m512d, cr: __m512d, ci: __m512d, four: __m512d) -> __mmask8 {
    // SAFETY: only inlined into `compute_avx512` (AVX-512F enabled).
    unsafe {
        let tr = _mm512_mul_pd(*zr, *zr);
        let ti = _mm512_mul_pd(*zi, *zi);
        let inside = _mm512_cmp_pd_mask::<_CMP_LE_OQ>(_mm512_add_pd(tr, ti), four);
        *zi = _mm512_add_pd(_mm512_mul_pd(_mm512_add_pd(*zr, *zr), *zi), ci);
        *zr = _mm512_add_pd(_mm512_sub_pd(tr, ti), cr);
        inside
    }
}

/// The counts as 32 numbers, and `|z|^2` of every lane.
#[inline(always)]
fn finish(s: &State) -> ([u64; G], [f64; G]) {
    let mut wide = [0u64; G];
    let mut mag = [0.0f64; G];
    // SAFETY: only inlined into `compute_avx512` (AVX-512F enabled); `wide[8v..8v + 8]`
    // and `mag[8v..8v + 8]` hold 512 bits each, and unaligned stores are allowed.
    unsafe {
        for v in 0..4 {
            _mm512_storeu_si512(wide.as_mut_ptr().add(v * W).cast(), s.count[v]);
            let m = _mm512_add_pd(_mm512_mul_pd(s.zr[v], s.zr[v]), _mm512_mul_pd(s.zi[v], s.zi[v]));
            _mm512_storeu_pd(mag.as_mut_ptr().add(v * W), m);
        }
    }
    (wide, mag)
}
