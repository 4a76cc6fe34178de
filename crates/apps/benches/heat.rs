//! `cargo bench -p parsci-apps --bench heat [-- NX NY STEPS RUNS]`: the heat benchmark of
//! BENCHMARKS.md. `parsci heat NX NY --steps STEPS` (4000 x 4000, 100 steps by default)
//! on 1 rank and on 2 ranks, with temporal blocking (the default halo depth, 16) and without
//! (depth 1: one exchange per step, overlapped with the interior; as 1 x 2 and 2 x 1
//! process grids), the runs interleaved. Each figure is the median over RUNS of the step
//! loop's rate in billions of lattice updates per second (GLUP/s), with the halo exchange's
//! share of the step time; efficiency is against 1 rank at the same depth.
//!
//! The reference, measured in the same run: a plain Jacobi sweep (`0.25 * (n + s + e + w)`,
//! two arrays, the loop a C programmer writes) on 1 and on 2 plain threads sharing the
//! rows with a barrier per step. It shows what the memory system gives at that moment.

use std::sync::Barrier;
use std::time::Instant;

use parsci_apps::execute;
use parsci_apps::heat::Heat;
use parsci_comm::Backend;

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// A raw pointer that threads may share: each writes only its own rows.
#[derive(Clone, Copy)]
struct Shared(*mut f64);
// SAFETY: the threads write disjoint rows and meet at a barrier between steps.
unsafe impl Send for Shared {}
// SAFETY: as above.
unsafe impl Sync for Shared {}

/// The plain Jacobi sweep on `threads` threads: GLUP/s.
fn jacobi(nx: usize, ny: usize, steps: usize, threads: usize) -> f64 {
    let w = nx + 2;
    let mut a = vec![0.0f64; (ny + 2) * w];
    for (k, v) in a.iter_mut().enumerate() {
        *v = (k % 7) as f64;
    }
    let mut b = a.clone();
    let (pa, pb) = (Shared(a.as_mut_ptr()), Shared(b.as_mut_ptr()));
    let barrier = Barrier::new(threads);
    let start = Instant::now();
    std::thread::scope(|s| {
        for t in 0..threads {
            let barrier = &barrier;
            s.spawn(move || {
                let (rows_lo, rows_hi) = (1 + t * ny / threads, 1 + (t + 1) * ny / threads);
                let (mut src, mut dst) = (pa, pb);
                for _ in 0..steps {
                    for j in rows_lo..rows_hi {
                        // SAFETY: rows j-1..=j+1 exist in both arrays; this thread alone
                        // writes row j of `dst` in this step.
                        unsafe {
                            let (up, mid, down) = (src.0.add((j - 1) * w), src.0.add(j * w), src.0.add((j + 1) * w));
                            let out = dst.0.add(j * w);
                            for i in 1..=nx {
                                *out.add(i) = 0.25 * (*up.add(i) + *down.add(i) + *mid.add(i - 1) + *mid.add(i + 1));
                            }
                        }
                    }
                    std::mem::swap(&mut src, &mut dst);
                    barrier.wait();
                }
            });
        }
    });
    (nx * ny * steps) as f64 / start.elapsed().as_secs_f64() / 1e9
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let arg = |i: usize, default: usize| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(default);
    let (nx, ny, steps, runs) = (arg(0, 4000), arg(1, 4000), arg(2, 100), arg(3, 5));
    let base = Heat { nx, ny, steps, ..Heat::default() };
    let depth1 = Heat { halo_depth: Some(1), ..base.clone() };
    // (label, ranks, params, the row of the 1-rank run it is compared with)
    let configs: Vec<(&str, usize, Heat, usize)> = vec![
        ("1 rank, default halo depth", 1, base.clone(), 0),
        ("2 ranks, 1 x 2, default depth", 2, Heat { procs: Some([1, 2]), ..base.clone() }, 0),
        ("1 rank, halo depth 1", 1, depth1.clone(), 2),
        ("2 ranks, 1 x 2, halo depth 1", 2, Heat { procs: Some([1, 2]), ..depth1.clone() }, 2),
        ("2 ranks, 2 x 1, halo depth 1", 2, Heat { procs: Some([2, 1]), ..depth1.clone() }, 2),
    ];
    let mut rates = vec![vec![]; configs.len()];
    let mut exchange = vec![vec![]; configs.len()];
    let (mut ref1, mut ref2) = (vec![], vec![]);
    let mut fingerprint = None;
    for _ in 0..runs {
        ref1.push(jacobi(nx, ny, steps, 1));
        ref2.push(jacobi(nx, ny, steps, 2));
        for (k, (label, ranks, p, _)) in configs.iter().enumerate() {
            let r = execute(p, Backend::Threads(*ranks)).expect("heat runs").result;
            assert_eq!(fingerprint.get_or_insert(r.fingerprint.clone()), &r.fingerprint, "{label}");
            rates[k].push(r.glups);
            exchange[k].push(r.exchange_time_s / r.step_time_s);
        }
    }
    let (r1, r2) = (median(&ref1), median(&ref2));
    println!("heat {nx} x {ny}, {steps} steps; median of {runs} runs; {} cores", parsci_comm::available_cores());
    println!(
        "reference: plain Jacobi sweep {r1:.3} GLUP/s on 1 thread, {r2:.3} on 2 ({:.1}% efficiency)",
        50.0 * r2 / r1
    );
    println!(
        "{:<32} {:>9} {:>11} {:>13} {:>15}",
        "parsci heat", "GLUP/s", "efficiency", "vs reference", "halo exchange"
    );
    for (k, (label, ranks, _, base_row)) in configs.iter().enumerate() {
        let g = median(&rates[k]);
        let one = median(&rates[*base_row]);
        let reference = if *ranks == 1 { r1 } else { r2 };
        println!(
            "{label:<32} {g:>9.3} {:>10.1}% {:>12.2}x {:>14.1}%",
            100.0 * g / (*ranks as f64 * one),
            g / reference,
            100.0 * median(&exchange[k])
        );
    }
    println!("the same runs from the command line: parsci --ranks 2 heat {nx} {ny} --steps {steps} [--procs 1x2] [--halo-depth 1]");
}
