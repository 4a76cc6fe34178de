//! `cargo bench -p parsci-apps --bench mandelbrot [-- NR NI IMAX RUNS OUTPUT]`: the
//! Mandelbrot benchmark of BENCHMARKS.md. The image (16000 x 16000, 50 iterations,
//! region [-1.5, 0.5] x [-1, 1] by default) is computed and written as PBM to OUTPUT (a
//! file in the temporary directory by default; `/dev/null` discards it, as the
//! Benchmarks Game does), on 1 rank and with every strategy on 2 ranks, the runs
//! interleaved. Each figure is the median wall time of `execute` (launch to return, the
//! PBM written); the parallel efficiency is `T(1 rank) / (2 * T(2 ranks))`.
//!
//! The reference, measured in the same run: the bare kernel on 1 and on 2 plain
//! threads (cyclic rows, no messages, no image, no file), which shows how much two
//! cores of this shared VM give at that moment.

use std::path::PathBuf;
use std::time::Instant;

use parsci_apps::mandelbrot::{Grid, KernelPath, Mandelbrot, OutputKind, RowMaker, Strategy};
use parsci_apps::{execute, Program};
use parsci_comm::Backend;

/// One measured configuration.
struct Config {
    label: String,
    ranks: usize,
    params: Mandelbrot,
    walls: Vec<f64>,
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// The bare kernel on `threads` plain threads, rows shared cyclically: seconds.
fn bare_kernel(params: &Mandelbrot, threads: usize) -> f64 {
    let grid = Grid::new(params, KernelPath::detect());
    let start = Instant::now();
    std::thread::scope(|s| {
        for t in 0..threads {
            let grid = &grid;
            s.spawn(move || {
                let mut maker = RowMaker::new::<u8>(grid, t);
                let mut row = vec![0u8; maker.row_len::<u8>()];
                for ii in (t..grid.ni).step_by(threads) {
                    maker.row(ii, &mut row);
                }
            });
        }
    });
    start.elapsed().as_secs_f64()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let arg = |i: usize, default: usize| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(default);
    let (nr, ni, imax, runs) = (arg(0, 16000), arg(1, 16000), arg(2, 50) as u32, arg(3, 5));
    let output =
        args.get(4).map(PathBuf::from).unwrap_or_else(|| std::env::temp_dir().join("parsci-bench-mandelbrot.pbm"));
    let base = Mandelbrot {
        nr,
        ni,
        re_min: -1.5,
        re_max: 0.5,
        im_min: -1.0,
        im_max: 1.0,
        imax,
        output: Some(output.clone()),
        format: Some(OutputKind::Pbm),
        ..Mandelbrot::default()
    };
    let config = |label: &str, ranks, strategy, chunk, master_computes| Config {
        label: label.to_string(),
        ranks,
        params: Mandelbrot { strategy, chunk, master_computes, ..base.clone() },
        walls: vec![],
    };
    let mut configs = vec![
        config("1 rank (cyclic)", 1, Strategy::Cyclic, 4, false),
        config("cyclic", 2, Strategy::Cyclic, 4, false),
        config("block", 2, Strategy::Block, 4, false),
        config("dynamic --master-computes", 2, Strategy::Dynamic, 4, true),
        config("dynamic --master-computes --chunk 16", 2, Strategy::Dynamic, 16, true),
        config("reduce", 2, Strategy::Reduce, 4, false),
    ];
    let (mut bare1, mut bare2) = (vec![], vec![]);
    let mut checksum = None;
    for _ in 0..runs {
        bare1.push(bare_kernel(&base, 1));
        bare2.push(bare_kernel(&base, 2));
        for c in &mut configs {
            let run = execute(&c.params, Backend::Threads(c.ranks)).expect("mandelbrot runs");
            c.walls.push(run.wall_time_s);
            assert_eq!(*checksum.get_or_insert(run.result.checksum), run.result.checksum, "{}", c.label);
        }
    }
    if output.is_file() {
        let _ = std::fs::remove_file(&output);
    }
    let t1 = median(&configs[0].walls);
    println!(
        "mandelbrot {nr} x {ni}, IMAX {imax}, [-1.5, 0.5] x [-1, 1], PBM to {}; median of {runs} runs; {} cores; {} kernel",
        output.display(),
        parsci_comm::available_cores(),
        KernelPath::detect().name()
    );
    println!("checksum (sum of iteration counts) {}", checksum.unwrap_or(0));
    let (b1, b2) = (median(&bare1), median(&bare2));
    println!(
        "reference: bare kernel on 1 thread {b1:.3} s, on 2 threads {b2:.3} s: the machine's 2-core efficiency now {:.1}%",
        100.0 * b1 / (2.0 * b2)
    );
    println!("{:<38} {:>5} {:>9} {:>9} {:>11}", "parsci mandelbrot", "ranks", "wall (s)", "min (s)", "efficiency");
    for c in &configs {
        let t = median(&c.walls);
        let min = c.walls.iter().copied().fold(f64::INFINITY, f64::min);
        let eff = t1 / (c.ranks as f64 * t);
        println!("{:<38} {:>5} {:>9.3} {:>9.3} {:>10.1}%", c.label, c.ranks, t, min, 100.0 * eff);
    }
    println!("the same runs from the command line:");
    for c in &configs {
        let p = &c.params;
        let mut extra = String::new();
        if p.strategy == Strategy::Dynamic {
            extra = format!(
                " --master-computes{}",
                if p.chunk == 4 { String::new() } else { format!(" --chunk {}", p.chunk) }
            );
        }
        println!(
            "  parsci --ranks {} {} {nr} {ni} -1.5 0.5 -1 1 {imax} --strategy {}{extra} --output {} --format pbm",
            c.ranks,
            Mandelbrot::NAME,
            p.strategy.name(),
            output.display()
        );
    }
}
