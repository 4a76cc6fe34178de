//! The portable path: groups of 8 lanes in plain Rust (the compiler vectorizes the
//! lane loops for whatever the target offers).

use super::{pbm_byte, Lanes, Totals, CHECK};

/// Lanes per group: one PBM byte.
const W: usize = 8;

/// One group's results.
struct Group {
    counts: [u32; W],
    /// Bit `l` set: lane `l` is in the set.
    members: u8,
    mag: [f64; W],
    executed: u32,
}

pub(super) fn compute(cr: &[f64], ci: f64, imax: u32, out: Lanes<'_>) -> Totals {
    let Lanes { counts, members, mut smooth } = out;
    let mut totals = Totals::default();
    for (g, c) in cr.chunks_exact(W).enumerate() {
        let c: &[f64; W] = c.try_into().expect("chunks of W");
        let r = if smooth.is_some() { group::<true>(c, ci, imax) } else { group::<false>(c, ci, imax) };
        counts[g * W..(g + 1) * W].copy_from_slice(&r.counts);
        members[g] = pbm_byte(r.members);
        totals.checksum += r.counts.iter().map(|&c| u64::from(c)).sum::<u64>();
        totals.in_set += u64::from(r.members.count_ones());
        if let Some((mag, executed)) = smooth.as_mut() {
            mag[g * W..(g + 1) * W].copy_from_slice(&r.mag);
            executed[g * W..(g + 1) * W].fill(r.executed);
        }
    }
    totals
}

/// One iteration of every lane; whether any lane was still inside (`|z| <= 2`) before it.
#[inline(always)]
fn step(zr: &mut [f64; W], zi: &mut [f64; W], cr: &[f64; W], ci: f64, count: &mut [u32; W]) -> bool {
    let mut any = false;
    for l in 0..W {
        let tr = zr[l] * zr[l];
        let ti = zi[l] * zi[l];
        let inside = tr + ti <= 4.0;
        count[l] += u32::from(inside);
        any |= inside;
        zi[l] = (zr[l] + zr[l]) * zi[l] + ci;
        zr[l] = (tr - ti) + cr[l];
    }
    any
}

#[inline(always)]
fn group<const SMOOTH: bool>(cr: &[f64; W], ci: f64, imax: u32) -> Group {
    let (mut zr, mut zi) = ([0.0; W], [0.0; W]);
    let mut counts = [0u32; W];
    let rem = imax % CHECK;
    for _ in 0..rem {
        step(&mut zr, &mut zi, cr, ci, &mut counts);
    }
    let mut executed = rem;
    let mut all_out = false;
    for _ in 0..imax / CHECK {
        let mut any = false;
        for _ in 0..CHECK {
            any = step(&mut zr, &mut zi, cr, ci, &mut counts);
        }
        executed += CHECK;
        if !any {
            all_out = true;
            break;
        }
    }
    if SMOOTH && all_out {
        // Every lane is out: a few more iterations make |z| large for the smooth
        // colouring (the counts cannot change any more).
        for _ in 0..CHECK {
            step(&mut zr, &mut zi, cr, ci, &mut counts);
        }
        executed += CHECK;
    }
    let mag: [f64; W] = std::array::from_fn(|l| zr[l] * zr[l] + zi[l] * zi[l]);
    let members = if all_out { 0 } else { (0..W).fold(0u8, |m, l| m | (u8::from(mag[l] <= 4.0) << l)) };
    Group { counts, members, mag, executed }
}
