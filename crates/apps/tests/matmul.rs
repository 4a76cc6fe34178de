//! `matmul`: every strategy equals the serial product at several rank counts and process
//! grids (element by element, through `--output`), odd shapes, `.npy` input read by
//! blocks, the memory each strategy holds, and every refusal.

use std::path::{Path, PathBuf};

use parsci_apps::matmul::{serial, Matmul, MatmulResult, Strategy, TOLERANCE};
use parsci_apps::{execute, Program};
use parsci_comm::Backend;

const SIZES: [usize; 5] = [1, 2, 3, 4, 7];

/// A file in the temporary directory, unique to this test process and `name`.
fn temp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("parsci-matmul-test-{}-{name}", std::process::id()))
}

fn read_npy(path: &Path) -> (Vec<u64>, Vec<f64>) {
    let npy = npyz::NpyFile::new(std::fs::File::open(path).unwrap()).unwrap();
    let shape = npy.shape().to_vec();
    (shape, npy.into_vec::<f64>().unwrap())
}

fn write_npy(path: &Path, rows: usize, cols: usize, values: &[f64], fortran: bool) {
    use npyz::WriterBuilder;
    let mut f = std::fs::File::create(path).unwrap();
    let order = if fortran { npyz::Order::Fortran } else { npyz::Order::C };
    let mut w = npyz::WriteOptions::new()
        .default_dtype()
        .order(order)
        .shape(&[rows as u64, cols as u64])
        .writer(&mut f)
        .begin_nd()
        .unwrap();
    if fortran {
        w.extend((0..rows * cols).map(|x| values[(x % rows) * cols + x / rows])).unwrap();
    } else {
        w.extend(values.iter().copied()).unwrap();
    }
    w.finish().unwrap();
}

/// Runs `p` on `ranks` ranks with `--output`, checks C element by element against the
/// serial product (max error <= TOLERANCE ||A|| ||B||), and returns the result and C.
fn run_and_compare(p: &Matmul, ranks: usize, what: &str) -> (MatmulResult, Vec<f64>) {
    let out = temp(&format!("{what}.npy"));
    let q = Matmul { output: Some(out.clone()), ..p.clone() };
    let run = execute(&q, Backend::Threads(ranks)).unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_eq!(q.check(&run.result, ranks), Ok(()), "{what}");
    let (shape, c) = read_npy(&out);
    std::fs::remove_file(&out).unwrap();
    assert_eq!(shape, vec![p.m as u64, p.n as u64], "{what}");
    let (a, b, want) = serial::multiply(p).unwrap();
    let norm = |x: &[f64]| x.iter().map(|v| v * v).sum::<f64>().sqrt();
    let bound = TOLERANCE * norm(&a) * norm(&b);
    let err = c.iter().zip(&want).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max);
    assert!(err <= bound, "{what}: max error {err:e} > {bound:e}");
    (run.result, c)
}

#[test]
fn every_strategy_equals_serial_at_every_rank_count() {
    for [m, k, n] in [[31, 17, 23], [1, 7, 301], [7, 1, 1], [301, 7, 1]] {
        for ranks in SIZES {
            let mut by_strategy = Vec::new();
            for strategy in Strategy::ALL {
                let p = Matmul { strategy, panel: 5, ..Matmul::new(m, k, n) };
                let what = format!("{m}x{k}x{n}-{}-{ranks}", strategy.name());
                by_strategy.push(run_and_compare(&p, ranks, &what).1);
            }
            // The same row blocks, the same local products: bcast-reduce adds zeros only.
            assert_eq!(by_strategy[0], by_strategy[1], "{m}x{k}x{n} on {ranks}: bcast-reduce vs scatter-gather");
        }
    }
}

#[test]
fn summa_on_every_grid() {
    let base = Matmul { panel: 3, ..Matmul::new(29, 19, 13) };
    for procs in [[1, 4], [2, 2], [4, 1], [3, 1], [1, 3], [2, 3], [7, 1]] {
        let p = Matmul { procs: Some(procs), ..base.clone() };
        let ranks = procs[0] * procs[1];
        let (r, _) = run_and_compare(&p, ranks, &format!("grid-{}x{}", procs[0], procs[1]));
        assert_eq!(r.procs, procs);
    }
    // Panels as wide as K, and as narrow as 1.
    for panel in [1, 19, 1000] {
        run_and_compare(&Matmul { panel, ..base.clone() }, 4, &format!("panel-{panel}"));
    }
}

#[test]
fn the_lesson_gives_ones() {
    let p = Matmul::default();
    assert_eq!([p.m, p.k, p.n], [300, 400, 500]);
    for strategy in Strategy::ALL {
        let r = execute(&Matmul { strategy, ..p.clone() }, Backend::Threads(3)).unwrap();
        let t = &r.result.totals;
        assert!((t.min_c - 1.0).abs() < 1e-13 && (t.max_c - 1.0).abs() < 1e-13, "{:?}", r.result);
        assert!(r.text().contains("Every element of C should be 1"));
    }
}

#[test]
fn memory_shows_the_lesson() {
    let p = Matmul::new(120, 120, 120);
    let total = 3 * 120 * 120 * 8;
    let peaks = |strategy| {
        let r = execute(&Matmul { strategy, ..p.clone() }, Backend::Threads(4)).unwrap().result;
        assert_eq!(r.total_bytes, total as u64);
        assert!(r.one_process && r.ranks.iter().all(|x| x.process_peak_bytes > 0));
        r.ranks.iter().map(|x| x.matrix_bytes as f64 / total as f64).collect::<Vec<_>>()
    };
    // bcast-reduce: two whole inputs and a whole (partial) result on every rank.
    assert!(peaks(Strategy::BcastReduce).iter().all(|&f| (f - 1.0).abs() < 1e-9));
    // scatter-gather: all of B and a quarter of A and C (rank 0 also holds A and C).
    let sg = peaks(Strategy::ScatterGather);
    assert!(sg[1..].iter().all(|&f| (f - 0.5).abs() < 1e-9), "{sg:?}");
    // summa: a quarter of everything, and the panels.
    let su = peaks(Strategy::Summa);
    assert!(su.iter().all(|&f| f < 0.5), "{su:?}");
}

#[test]
fn input_files_are_read_by_blocks_in_either_order() {
    let p = Matmul::new(13, 9, 11);
    let (a, b, want) = serial::multiply(&p).unwrap();
    for fortran in [false, true] {
        let (fa, fb) = (temp(&format!("a-{fortran}.npy")), temp(&format!("b-{fortran}.npy")));
        write_npy(&fa, 13, 9, &a, fortran);
        write_npy(&fb, 9, 11, &b, false);
        for strategy in Strategy::ALL {
            let q = Matmul { strategy, input: Some([fa.clone(), fb.clone()]), seed: 99, ..p.clone() };
            let (_, c) = run_and_compare(&q, 4, &format!("input-{fortran}-{}", strategy.name()));
            let err = c.iter().zip(&want).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max);
            assert!(err < 1e-13, "the files' product is the seed's product");
        }
        std::fs::remove_file(fa).unwrap();
        std::fs::remove_file(fb).unwrap();
    }
}

fn refused(p: &Matmul, ranks: usize, says: &str) {
    match execute(p, Backend::Threads(ranks)) {
        Err(e) => assert!(e.to_string().contains(says), "{e} lacks {says:?}"),
        Ok(_) => panic!("{p:?} on {ranks} ranks ran"),
    }
}

#[test]
fn bad_input_is_refused() {
    refused(&Matmul::new(0, 3, 3), 1, "M is 0");
    refused(&Matmul::new(3, 3, 0), 2, "N is 0");
    refused(&Matmul { procs: Some([2, 2]), ..Matmul::new(8, 8, 8) }, 3, "the process grid 2x2 has 4 ranks");
    refused(
        &Matmul { procs: Some([1, 2]), strategy: Strategy::ScatterGather, ..Matmul::new(8, 8, 8) },
        2,
        "--procs is for --strategy summa",
    );
    refused(&Matmul { panel: 0, ..Matmul::new(8, 8, 8) }, 1, "panel");
    refused(&Matmul { output: Some("c.txt".into()), ..Matmul::new(8, 8, 8) }, 1, "must end in .npy");
    let (fa, fb) = (temp("bad-a.npy"), temp("bad-b.npy"));
    write_npy(&fa, 3, 4, &[1.0; 12], false);
    write_npy(&fb, 5, 2, &[1.0; 10], false);
    let files = Matmul { input: Some([fa.clone(), fb.clone()]), ..Matmul::new(3, 4, 2) };
    refused(&files, 1, "A's columns must equal B's rows");
    write_npy(&fb, 4, 2, &[1.0; 8], false);
    refused(&Matmul { input: Some([fa.clone(), fb.clone()]), ..Matmul::new(3, 4, 3) }, 1, "not M K N = 3 4 3");
    let bytes = std::fs::read(&fb).unwrap();
    std::fs::write(&fb, &bytes[..bytes.len() - 3]).unwrap();
    refused(&Matmul { input: Some([fa.clone(), fb.clone()]), ..Matmul::new(3, 4, 2) }, 1, "cut short");
    std::fs::write(&fb, b"not numpy at all").unwrap();
    refused(&Matmul { input: Some([fa.clone(), fb.clone()]), ..Matmul::new(3, 4, 2) }, 1, "not a readable .npy");
    refused(&Matmul { input: Some([fa.clone(), temp("missing.npy")]), ..Matmul::new(3, 4, 2) }, 1, "cannot open");
    std::fs::remove_file(fa).unwrap();
    std::fs::remove_file(fb).unwrap();
}
