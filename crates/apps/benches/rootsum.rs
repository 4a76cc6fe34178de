//! `cargo bench -p parsci-apps --bench rootsum [-- M RUNS]`: the workshop's sum of square
//! roots, parsci on 2 thread ranks (the whole `execute`: launch, broadcast, kernels,
//! reduce) against a plain rayon sum and a scalar loop, measured in the same run.

use std::hint::black_box;
use std::time::Instant;

use parsci_apps::{execute, rootsum::RootSum};
use parsci_comm::Backend;
use rayon::prelude::*;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn time(runs: usize, mut f: impl FnMut() -> f64) -> (f64, f64) {
    let mut value = 0.0;
    let times = (0..runs)
        .map(|_| {
            let t = Instant::now();
            value = black_box(f());
            t.elapsed().as_secs_f64()
        })
        .collect();
    (median(times), value)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let m: u64 = args.first().and_then(|a| a.parse().ok()).unwrap_or(400_000_000);
    let runs: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(7);
    let (parsci, total) =
        time(runs, || execute(&RootSum { m }, Backend::Threads(2)).expect("rootsum runs").result.total);
    // Built after parsci's runs: idle pool threads would otherwise compete for the cores.
    let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().expect("a rayon pool");
    let (rayon, rayon_total) =
        time(runs, || pool.install(|| (1..=m).into_par_iter().map(|i| (i as f64).sqrt()).sum::<f64>()));
    let (scalar, scalar_total) = time(runs.min(3), || (1..=m).map(|i| (i as f64).sqrt()).sum::<f64>());

    println!("rootsum M = {m}, median of {runs} runs, 2 ranks / 2 threads");
    println!("{:<34} {:>10} {:>22} {:>12}", "", "time (s)", "sum", "vs parsci");
    println!("{:<34} {:>10.4} {:>22.3} {:>12}", "parsci rootsum (2 thread ranks)", parsci, total, "1.00x");
    println!(
        "{:<34} {:>10.4} {:>22.3} {:>11.2}x",
        "rayon par_iter sum (2 threads)",
        rayon,
        rayon_total,
        rayon / parsci
    );
    println!("{:<34} {:>10.4} {:>22.3} {:>11.2}x", "scalar loop (1 thread)", scalar, scalar_total, scalar / parsci);
}
