//! The AVX2 path: groups of 16 pixels as 4 vectors of 4 lanes, interleaved so that
//! the four dependency chains hide each other's latency.
//!
//! # Blocks without tests
//!
//! The counts need the test `|z|^2 <= 4` at every iteration: 3 of the 10 operations of
//! an iteration, with the counting. But escape is for good (see the module above): a
//! lane inside at the last test of a run of iterations was inside at every test of the
//! run. So after a block of [`CHECK`] iterations in which no lane escaped, the next
//! `LONG` blocks run untested but for their last iteration, and if the same lanes are
//! still inside, each of them counts all those iterations; if a lane escaped, the group
//! goes back to the run's start and runs it block by block with every test. The
//! arithmetic, and so every count, every `z` and where the group stops, are the same
//! either way. Most of the work (the pixels in the set) runs untested. The first
//! `FIRST` blocks of a group are always tested: most groups outside the set are done
//! by then, and would only pay for going back. If the last of them was quiet, the
//! untested runs start right after it. (On the benchmark of BENCHMARKS.md: with the
//! untested runs, 8-13% less time per iteration in the set and 1-2% less in all;
//! starting them right after the first blocks, instead of after one more tested
//! block, 5% less again in all.)
//!
//! Every helper is `#[inline(always)]` and only ever inlined into [`compute_avx2`],
//! which is compiled with AVX2 enabled: that is what makes their intrinsics sound.

use std::arch::x86_64::*;

use super::{pbm_byte, Lanes, Totals, CHECK};

/// Lanes per vector.
const W: usize = 4;
/// Pixels per group (4 vectors).
const G: usize = 4 * W;
/// Blocks of [`CHECK`] iterations run as one when untested.
const LONG: u32 = 2;
/// Blocks every group runs tested first (tracking their lanes, so that the untested runs can start right after them).
const FIRST: u32 = 2;
/// Every lane of a group, as bits `4v + l` (lane `l` of vector `v`).
const ALL: u32 = (1 << G) - 1;

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
    let Lanes { counts, members, smooth } = out;
    // The sum of the counts so far, in 4 lanes of 64 bits.
    let mut sum = _mm256_setzero_si256();
    let mut in_set = 0u64;
    // Writes group `g`'s counts and membership; its magnitudes.
    let mut put = |g: usize, s: &State, alive: bool| {
        let out: &mut [u32; G] = (&mut counts[g * G..(g + 1) * G]).try_into().expect("G counts");
        sum = _mm256_add_epi64(sum, store_counts(s, out));
        let mag = magnitudes(s);
        let mut bits = 0u16;
        if alive {
            for (v, m) in mag.iter().enumerate() {
                bits |= (_mm256_movemask_pd(_mm256_cmp_pd::<_CMP_LE_OQ>(*m, _mm256_set1_pd(4.0))) as u16) << (W * v);
            }
            in_set += u64::from(bits.count_ones());
        }
        members[2 * g] = pbm_byte(bits as u8);
        members[2 * g + 1] = pbm_byte((bits >> 8) as u8);
        mag
    };
    match smooth {
        None => {
            for (g, c) in cr.chunks_exact(G).enumerate() {
                let c: &[f64; G] = c.try_into().expect("chunks of G");
                let (state, _, all_out) = group::<false>(c, ci, imax);
                put(g, &state, !all_out);
            }
        }
        Some((m, e)) => {
            for (g, c) in cr.chunks_exact(G).enumerate() {
                let c: &[f64; G] = c.try_into().expect("chunks of G");
                let (state, executed, all_out) = group::<true>(c, ci, imax);
                let mag = put(g, &state, !all_out);
                let m: &mut [f64; G] = (&mut m[g * G..(g + 1) * G]).try_into().expect("G magnitudes");
                for (v, mv) in mag.iter().enumerate() {
                    // SAFETY: `m[4v..4v + 4]` holds 4 f64, and unaligned stores are allowed.
                    unsafe { _mm256_storeu_pd(m.as_mut_ptr().add(v * W), *mv) };
                }
                e[g * G..(g + 1) * G].fill(executed);
            }
        }
    }
    let mut lanes = [0u64; 4];
    // SAFETY: `lanes` holds 256 bits, and unaligned stores are allowed.
    unsafe { _mm256_storeu_si256(lanes.as_mut_ptr().cast(), sum) };
    Totals { checksum: lanes.iter().sum(), in_set }
}

/// The real parts of a group, and a zero state.
#[inline(always)]
fn start(cr: &[f64; G]) -> ([__m256d; 4], State) {
    // SAFETY: only inlined into `compute_avx2` (AVX2 enabled); `cr` holds 16 f64 and
    // unaligned loads are allowed.
    unsafe {
        let p = cr.as_ptr();
        let crv = std::array::from_fn(|v| _mm256_loadu_pd(p.add(v * W)));
        let zero = _mm256_setzero_pd();
        (crv, State { zr: [zero; 4], zi: [zero; 4], c01: _mm256_setzero_si256(), c23: _mm256_setzero_si256() })
    }
}

/// Runs a group to the end: its state, the iterations run, and whether every lane had
/// escaped before `imax`.
#[inline(always)]
fn group<const SMOOTH: bool>(cr: &[f64; G], ci: f64, imax: u32) -> (State, u32, bool) {
    let (crv, mut s) = start(cr);
    // SAFETY: only inlined into `compute_avx2` (AVX2 enabled).
    let civ = unsafe { _mm256_set1_pd(ci) };
    let rem = imax % CHECK;
    let mut last = None;
    for _ in 0..rem {
        last = Some(block::<1>(&mut s, &crv, civ));
    }
    let mut executed = rem;
    let mut all_out = false;
    let mut blocks = imax / CHECK;
    // Most groups outside the set are out within a few blocks: those are run as plain
    // tested blocks.
    let mut inside = last.map_or(ALL, lanes);
    let mut quiet = false;
    for _ in 0..FIRST.min(blocks) {
        let before = inside;
        inside = lanes(block::<CHECK>(&mut s, &crv, civ));
        blocks -= 1;
        executed += CHECK;
        quiet = inside == before;
        if inside == 0 {
            all_out = true;
            blocks = 0;
            break;
        }
    }
    // How many blocks must be tested before the next untested one (after one in which
    // a lane escaped); `quiet`: no lane escaped in the last block.
    let mut tested = 0;
    while blocks > 0 {
        let before = inside;
        if quiet && tested == 0 && blocks >= LONG {
            // The block's start, in case a lane escapes in it. (Hidden from the
            // optimizer, which else keeps it in registers, or every square of the
            // untested block in memory to reuse them in the tested one.)
            let saved = std::hint::black_box(s);
            let masks = untested_block(&mut s, &crv, civ);
            if lanes(masks) == before {
                // Every lane inside at the end was inside at the start, so (escape
                // being for good) at every test in between: each counts them all.
                count_all(&mut s, masks);
                blocks -= LONG;
                executed += LONG * CHECK;
                continue;
            }
            // A lane escaped: the same iterations again from the start, tested.
            s = saved;
            tested = LONG;
        }
        inside = lanes(block::<CHECK>(&mut s, &crv, civ));
        blocks -= 1;
        executed += CHECK;
        tested = tested.saturating_sub(1);
        quiet = inside == before;
        if inside == 0 {
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

/// The lanes set in 4 masks, as bits `4v + l`.
#[inline(always)]
fn lanes(m: [__m256d; 4]) -> u32 {
    // SAFETY: only inlined into `compute_avx2` (AVX2 enabled).
    unsafe {
        let b = m.map(|v| _mm256_movemask_pd(v) as u32);
        b[0] | b[1] << W | b[2] << (2 * W) | b[3] << (3 * W)
    }
}

/// `K` iterations of a group, counting; the "still inside" masks of the last one.
#[inline(always)]
fn block<const K: u32>(s: &mut State, cr: &[__m256d; 4], ci: __m256d) -> [__m256d; 4] {
    // SAFETY: only inlined into `compute_avx2` (AVX2 enabled).
    unsafe {
        let four = _mm256_set1_pd(4.0);
        let [mut zr0, mut zr1, mut zr2, mut zr3] = s.zr;
        let [mut zi0, mut zi1, mut zi2, mut zi3] = s.zi;
        let (mut c01, mut c23) = (s.c01, s.c23);
        let mut last = [_mm256_setzero_pd(); 4];
        for _ in 0..K {
            let m0 = step(&mut zr0, &mut zi0, cr[0], ci, four);
            let m1 = step(&mut zr1, &mut zi1, cr[1], ci, four);
            let m2 = step(&mut zr2, &mut zi2, cr[2], ci, four);
            let m3 = step(&mut zr3, &mut zi3, cr[3], ci, four);
            // A true mask is -1 in both 32-bit halves: subtracting it counts one.
            c01 = _mm256_sub_epi32(c01, pack(m0, m1));
            c23 = _mm256_sub_epi32(c23, pack(m2, m3));
            last = [m0, m1, m2, m3];
        }
        *s = State { zr: [zr0, zr1, zr2, zr3], zi: [zi0, zi1, zi2, zi3], c01, c23 };
        last
    }
}

/// `LONG * CHECK` iterations of a group with only the last one tested, nothing counted;
/// its "still inside" masks. (Untested, an iteration is 7 operations instead of 10.)
#[inline(always)]
fn untested_block(s: &mut State, cr: &[__m256d; 4], ci: __m256d) -> [__m256d; 4] {
    let [mut zr0, mut zr1, mut zr2, mut zr3] = s.zr;
    let [mut zi0, mut zi1, mut zi2, mut zi3] = s.zi;
    for _ in 1..LONG * CHECK {
        advance(&mut zr0, &mut zi0, cr[0], ci);
        advance(&mut zr1, &mut zi1, cr[1], ci);
        advance(&mut zr2, &mut zi2, cr[2], ci);
        advance(&mut zr3, &mut zi3, cr[3], ci);
    }
    // SAFETY: only inlined into `compute_avx2` (AVX2 enabled).
    let four = unsafe { _mm256_set1_pd(4.0) };
    let last = [
        step(&mut zr0, &mut zi0, cr[0], ci, four),
        step(&mut zr1, &mut zi1, cr[1], ci, four),
        step(&mut zr2, &mut zi2, cr[2], ci, four),
        step(&mut zr3, &mut zi3, cr[3], ci, four),
    ];
    s.zr = [zr0, zr1, zr2, zr3];
    s.zi = [zi0, zi1, zi2, zi3];
    last
}

/// Counts `LONG * CHECK` iterations for the lanes set in `m`.
#[inline(always)]
fn count_all(s: &mut State, m: [__m256d; 4]) {
    // SAFETY: only inlined into `compute_avx2` (AVX2 enabled).
    unsafe {
        let check = _mm256_set1_epi32((LONG * CHECK) as i32);
        s.c01 = _mm256_add_epi32(s.c01, _mm256_and_si256(pack(m[0], m[1]), check));
        s.c23 = _mm256_add_epi32(s.c23, _mm256_and_si256(pack(m[2], m[3]), check));
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

/// One iteration of one vector, untested: the same arithmetic as [`step`].
#[inline(always)]
fn advance(zr: &mut __m256d, zi: &mut __m256d, cr: __m256d, ci: __m256d) {
    // SAFETY: only inlined into `compute_avx2` (AVX2 enabled).
    unsafe {
        let tr = _mm256_mul_pd(*zr, *zr);
        let ti = _mm256_mul_pd(*zi, *zi);
        *zi = _mm256_add_pd(_mm256_mul_pd(_mm256_add_pd(*zr, *zr), *zi), ci);
        *zr = _mm256_add_pd(_mm256_sub_pd(tr, ti), cr);
    }
}

/// Two masks of 64-bit lanes into one register of 32-bit lanes (even from `a`, odd from `b`).
#[inline(always)]
fn pack(a: __m256d, b: __m256d) -> __m256i {
    // SAFETY: only inlined into `compute_avx2` (AVX2 enabled).
    unsafe { _mm256_castps_si256(_mm256_blend_ps::<0b1010_1010>(_mm256_castpd_ps(a), _mm256_castpd_ps(b))) }
}

/// Stores a group's counts in pixel order; their sums in 4 lanes of 64 bits.
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

/// `|z|^2` of every lane of a group.
#[inline(always)]
fn magnitudes(s: &State) -> [__m256d; 4] {
    // SAFETY: only inlined into `compute_avx2` (AVX2 enabled).
    std::array::from_fn(|v| unsafe { _mm256_add_pd(_mm256_mul_pd(s.zr[v], s.zr[v]), _mm256_mul_pd(s.zi[v], s.zi[v])) })
}
