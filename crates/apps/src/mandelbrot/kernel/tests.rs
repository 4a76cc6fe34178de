//! Every available path against the scalar reference, bit for bit.

use super::*;
use crate::mandelbrot::grid::{Grid, RowScratch};
use crate::mandelbrot::Mandelbrot;
use crate::taskfarm::SplitMix64;

/// Runs `path` on the pixels `cr + i ci` (padded to whole blocks) with or without smooth
/// data; checks the totals it returns against its counts and membership bits.
fn run(path: KernelPath, cr: &[f64], ci: f64, imax: u32, smooth: bool) -> (Vec<u32>, Vec<u8>) {
    let n = cr.len().div_ceil(BLOCK) * BLOCK;
    let mut c = cr.to_vec();
    c.resize(n, PAD_C);
    let (mut counts, mut members) = (vec![0; n], vec![0; n / 8]);
    let (mut mag, mut executed) = (vec![0.0; n], vec![0; n]);
    let smooth = smooth.then_some((&mut mag[..], &mut executed[..]));
    let with_smooth = smooth.is_some();
    let totals = compute(path, &c, ci, imax, Lanes { counts: &mut counts, members: &mut members, smooth });
    assert_eq!(totals, totals_of(&counts, &members), "{path:?} (smooth {with_smooth}) totals");
    (counts, members)
}

/// The reference for the same pixels.
fn reference(cr: &[f64], ci: f64, imax: u32) -> (Vec<u32>, Vec<u8>) {
    let n = cr.len().div_ceil(BLOCK) * BLOCK;
    let mut c = cr.to_vec();
    c.resize(n, PAD_C);
    let (mut counts, mut members) = (vec![0; n], vec![0; n / 8]);
    let totals = compute_scalar(&c, ci, imax, Lanes { counts: &mut counts, members: &mut members, smooth: None });
    assert_eq!(totals, totals_of(&counts, &members), "scalar totals");
    (counts, members)
}

fn totals_of(counts: &[u32], members: &[u8]) -> Totals {
    Totals {
        checksum: counts.iter().map(|&c| u64::from(c)).sum(),
        in_set: members.iter().map(|m| u64::from(m.count_ones())).sum(),
    }
}

fn check_all_paths(cr: &[f64], ci: f64, imax: u32) {
    let want = reference(cr, ci, imax);
    for path in KernelPath::available() {
        for smooth in [false, true] {
            let got = run(path, cr, ci, imax, smooth);
            if let Some(j) = (0..cr.len()).find(|&j| got.0[j] != want.0[j]) {
                panic!(
                    "{path:?} (smooth {smooth}), c = {} + {ci}i, imax {imax}: count {} vs {}",
                    cr[j], got.0[j], want.0[j]
                );
            }
            assert_eq!(got.1, want.1, "{path:?} (smooth {smooth}) membership, ci {ci}, imax {imax}");
        }
    }
}

#[test]
fn the_portable_path_is_always_there() {
    assert_eq!(*KernelPath::available().last().unwrap(), KernelPath::Portable);
    assert!(KernelPath::available().contains(&KernelPath::detect()));
}

#[test]
fn rows_of_the_lessons_region_match_the_reference() {
    let cr: Vec<f64> = (0..70).map(|ir| -1.5 + ir as f64 * 2.0 / 70.0).collect();
    for ii in [0, 9, 17, 25, 30, 35] {
        let ci = -1.0 + ii as f64 * 2.0 / 35.0;
        for imax in [1, 2, 3, 4, 5, 7, 50, 203] {
            check_all_paths(&cr, ci, imax);
        }
    }
}

#[test]
fn random_points_near_the_boundary_match_the_reference() {
    let mut rng = SplitMix64::new(11);
    for _ in 0..40 {
        // Points in [-1.9, 0.6] x [-1.2, 1.2], much of it close to the set's edge.
        let cr: Vec<f64> = (0..45).map(|_| -1.9 + 2.5 * rng.next_f64()).collect();
        let ci = -1.2 + 2.4 * rng.next_f64();
        check_all_paths(&cr, ci, 1 + (rng.next_u64() % 300) as u32);
    }
}

#[test]
fn late_escapes_among_points_of_the_set_match_the_reference() {
    // Near the cusp at 1/4, orbits escape after about pi / sqrt(c - 1/4) iterations (here
    // from about 50 to 3000), among points of the set: groups whose lanes escape at
    // very different iterations.
    let cr: Vec<f64> =
        (0..64).map(|j| if j % 5 == 0 { 0.25 + 1e-6 * (1 + j * j) as f64 } else { -0.1 - 0.01 * j as f64 }).collect();
    for imax in [50, 333, 1000, 4001] {
        check_all_paths(&cr, 0.0, imax);
        check_all_paths(&cr, 1e-4, imax);
    }
}

#[test]
fn points_far_outside_escape_at_once() {
    let cr = [3.0, -3.0, 1e10, -1e300, 2.5, 100.0, 1e154, 7.0];
    for ci in [0.0, 2.5, -1e200, 1e-300] {
        check_all_paths(&cr, ci, 60);
    }
}

#[test]
fn every_path_gives_the_reference_image_through_the_grid() {
    // A region across |c| = 2, where some blocks take the scalar path.
    let params = Mandelbrot {
        nr: 75,
        ni: 41,
        re_min: -2.3,
        re_max: 2.1,
        im_min: -2.2,
        im_max: 2.2,
        imax: 90,
        ..Mandelbrot::default()
    };
    let want = crate::mandelbrot::serial::image(&params);
    for path in KernelPath::available() {
        let grid = Grid::new(&params, path);
        let mut scratch = RowScratch::new(&grid, false);
        for ii in 0..params.ni {
            let totals = scratch.compute(&grid, ii);
            let row = &want.counts[ii * params.nr..(ii + 1) * params.nr];
            assert_eq!(&scratch.counts[..params.nr], row, "{path:?} row {ii}");
            assert_eq!(totals.checksum, row.iter().map(|&c| u64::from(c)).sum::<u64>());
            let bytes = params.nr.div_ceil(8);
            let in_set =
                want.members[ii * bytes..(ii + 1) * bytes].iter().map(|m| u64::from(m.count_ones())).sum::<u64>();
            assert_eq!(totals.in_set, in_set, "{path:?} row {ii}");
            assert_eq!(&scratch.members[..bytes], &want.members[ii * bytes..(ii + 1) * bytes], "{path:?} row {ii}");
        }
    }
}

#[test]
fn safety_bounds() {
    assert!(is_safe(0.0, 3.89));
    assert!(is_safe(4.11, 1e300));
    assert!(!is_safe(3.0, 3.95));
    assert!(!is_safe(3.0, 5.0), "a block across the annulus is not safe");
    assert!(!is_safe(4.0, 4.0));
}
