//! `cargo bench -p parsci-apps --bench matmul [-- N RUNS [only]]`: the matmul benchmark of
//! BENCHMARKS.md. `parsci matmul N N N` (4000 by default) with `summa` and
//! `scatter-gather` on 1 and 2 ranks of the thread backend, and the reference measured in
//! the same run, interleaved: faer's GEMM multiplying the whole matrices in one process
//! on 1 thread (`Par::Seq`) and on 2 (`Par::rayon(2)`). Each figure is the median over
//! RUNS of GFLOP/s (`2 N^3` over the time from the inputs in place to `C` in place);
//! the ratio is against the reference with as many threads as ranks.
//!
//! `only` as the third argument measures the reference alone and prints one line of
//! JSON (`{"n", "seq", "par2"}`, medians), for comparing MPI runs with it (BENCHMARKS.md).

use std::time::Instant;

use parsci_apps::execute;
use parsci_apps::matmul::gemm::product;
use parsci_apps::matmul::gen::{block, Which};
use parsci_apps::matmul::{Matmul, Strategy};
use parsci_comm::Backend;

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// faer's GEMM on the whole matrices with `par`: GFLOP/s.
fn reference(a: &[f64], b: &[f64], n: usize, par: faer::Par) -> f64 {
    let t = Instant::now();
    let c = product(a, b, [n, n, n], par);
    let s = t.elapsed().as_secs_f64();
    std::hint::black_box(c);
    2.0 * (n as f64).powi(3) / s / 1e9
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let n: usize = args.first().and_then(|s| s.parse().ok()).unwrap_or(4000);
    let runs: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(5);
    let only = args.get(2).is_some_and(|s| s == "only");
    let p = Matmul::new(n, n, n);
    let (a, b) = (block(p.seed, Which::A, 0..n, 0..n), block(p.seed, Which::B, 0..n, 0..n));
    let cases: Vec<(Strategy, usize)> = if only {
        Vec::new()
    } else {
        vec![(Strategy::Summa, 1), (Strategy::ScatterGather, 1), (Strategy::Summa, 2), (Strategy::ScatterGather, 2)]
    };
    let mut seq = Vec::new();
    let mut par2 = Vec::new();
    let mut measured = vec![Vec::new(); cases.len()];
    // One warm-up of each, then RUNS rounds, every case once per round.
    for round in 0..=runs {
        let s = reference(&a, &b, n, faer::Par::Seq);
        let t = reference(&a, &b, n, faer::Par::rayon(2));
        for (i, &(strategy, ranks)) in cases.iter().enumerate() {
            let run = execute(&Matmul { strategy, ..p.clone() }, Backend::Threads(ranks)).expect("matmul runs");
            if round > 0 {
                measured[i].push(run.result.gflops);
            }
        }
        if round > 0 {
            seq.push(s);
            par2.push(t);
        }
    }
    let (seq, par2) = (median(&seq), median(&par2));
    if only {
        println!("{{\"n\": {n}, \"seq\": {seq:.3}, \"par2\": {par2:.3}}}");
        return;
    }
    println!("matmul {n} x {n} x {n}, medians of {runs} runs, GFLOP/s (threads backend)");
    println!("reference: faer on 1 thread {seq:.2}, on 2 threads {par2:.2}");
    println!("{:<16} {:>5} {:>9} {:>14}", "strategy", "ranks", "GFLOP/s", "vs reference");
    for ((strategy, ranks), g) in cases.iter().zip(&measured) {
        let g = median(g);
        let r = if *ranks == 1 { seq } else { par2 };
        println!("{:<16} {:>5} {:>9.2} {:>13.1}%", strategy.name(), ranks, g, 100.0 * g / r);
    }
}
