//! `heat1d` and `heat`: parallel equals serial at several rank counts and process grids,
//! the 1-D error shrinks with the grid, outputs, checkpoints and every refusal.

use std::path::{Path, PathBuf};

use parsci_apps::files::npy;
use parsci_apps::heat::{checkpoint, fingerprint, serial, Boundary, Heat, HeatResult, Init};
use parsci_apps::heat1d::Heat1d;
use parsci_apps::{execute, Error, Program};
use parsci_comm::Backend;

const SIZES: [usize; 5] = [1, 2, 3, 4, 7];

/// A file or directory in the temporary directory, unique to this test process.
fn temp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("parsci-heat-test-{}-{name}", std::process::id()))
}

/// A small grid no rank count divides, with a non-zero wall.
fn small() -> Heat {
    Heat { nx: 23, ny: 17, steps: 40, wall: 0.25, ..Heat::default() }
}

fn run(p: &Heat, ranks: usize) -> HeatResult {
    execute(p, Backend::Threads(ranks)).unwrap_or_else(|e| panic!("{ranks} ranks: {e}")).result
}

fn invalid(p: &Heat, ranks: usize) -> String {
    match execute(p, Backend::Threads(ranks)) {
        Err(e @ Error::InvalidInput { .. }) => e.to_string(),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn read_npy(path: &Path) -> (usize, usize, Vec<f64>) {
    npy::read(&mut std::fs::File::open(path).unwrap()).unwrap()
}

#[test]
fn heat1d_equals_serial_at_every_rank_count() {
    for nx in [21, 8] {
        let p = Heat1d { nx, nt: 300, ..Heat1d::default() };
        for n in SIZES.into_iter().filter(|&n| n <= nx) {
            let r = execute(&p, Backend::Threads(n)).unwrap().result;
            assert_eq!(p.check(&r, n), Ok(()), "nx = {nx} on {n} ranks");
            assert_eq!(r.points_per_rank.iter().sum::<usize>(), nx);
        }
    }
}

#[test]
fn heat1d_error_shrinks_as_the_grid_is_refined() {
    let errors: Vec<f64> = [11, 21, 41]
        .iter()
        .map(|&nx| execute(&Heat1d { nx, ..Heat1d::default() }, Backend::Threads(2)).unwrap().result.max_error)
        .collect();
    // Second order in space: about 4 times smaller per halving of dx.
    assert!(errors[1] < errors[0] / 3.0 && errors[2] < errors[1] / 3.0, "{errors:?}");
    // The workshop's case is close to the exact solution, which is 0 at x = 0.5.
    let r = execute(&Heat1d::default(), Backend::Threads(3)).unwrap().result;
    assert!(r.max_error < 5e-3 && r.u_mid.abs() < 1e-12, "{r:?}");
}

#[test]
fn heat1d_refuses_bad_parameters() {
    let refused = |p: Heat1d, ranks: usize, says: &str| match execute(&p, Backend::Threads(ranks)) {
        Err(e) => assert!(e.to_string().contains(says), "{e}"),
        Ok(_) => panic!("{p:?} on {ranks} ranks ran"),
    };
    refused(Heat1d { dt: 0.2, ..Heat1d::default() }, 1, "unstable");
    refused(Heat1d { nx: 301, ..Heat1d::default() }, 1, "unstable");
    refused(Heat1d { alpha: -0.01, ..Heat1d::default() }, 1, "alpha must be a positive");
    refused(Heat1d { nx: 2, ..Heat1d::default() }, 1, "at least 3");
    refused(Heat1d { nt: 0, ..Heat1d::default() }, 1, "nt must be at least 1");
    refused(Heat1d { nx: 5, ..Heat1d::default() }, 7, "7 ranks for 5 points");
}

#[test]
fn heat_equals_serial_for_every_rank_count_and_boundary() {
    use Boundary::{Dirichlet, Periodic};
    for (bc_x, bc_y) in [(Dirichlet, Dirichlet), (Periodic, Periodic), (Periodic, Dirichlet), (Dirichlet, Periodic)] {
        for init in [Init::Square, Init::Gaussian] {
            let p = Heat { bc_x, bc_y, init: init.clone(), ..small() };
            let want = fingerprint::hex(fingerprint::of(&serial::solve(
                &p,
                &parsci_apps::heat::initial_field(&p).unwrap(),
                p.steps,
            )));
            for n in SIZES {
                let r = run(&p, n);
                assert_eq!(r.fingerprint, want, "{bc_x:?} x, {bc_y:?} y, {init:?}, {n} ranks");
                assert_eq!(r.procs[0] * r.procs[1], n);
            }
        }
    }
}

#[test]
fn heat_equals_serial_on_every_process_grid() {
    let p = Heat { bc_x: Boundary::Periodic, ..small() };
    for procs in [[1, 1], [2, 1], [1, 2], [2, 2], [3, 2], [2, 3], [4, 1], [7, 1], [1, 7], [3, 3]] {
        let q = Heat { procs: Some(procs), ..p.clone() };
        let ranks = procs[0] * procs[1];
        let r = run(&q, ranks);
        assert_eq!(q.check(&r, ranks), Ok(()), "{procs:?}");
        assert_eq!(r.procs, procs);
        // Every cell is owned once.
        assert_eq!(r.ranks.iter().map(|k| (k.rows[1] - k.rows[0]) * (k.cols[1] - k.cols[0])).sum::<usize>(), 23 * 17);
    }
}

#[test]
fn one_cell_wide_blocks_and_single_rows_work() {
    // 7 ranks on 7 columns: blocks one cell wide; 1-row grid; 1 x 1 grid.
    for (nx, ny, procs) in [(7, 5, [7, 1]), (9, 1, [3, 1]), (1, 1, [1, 1]), (2, 3, [2, 3])] {
        for bc in [Boundary::Dirichlet, Boundary::Periodic] {
            let p = Heat { nx, ny, procs: Some(procs), bc_x: bc, bc_y: bc, init: Init::Gaussian, steps: 9, ..small() };
            let r = run(&p, procs[0] * procs[1]);
            assert_eq!(p.check(&r, procs[0] * procs[1]), Ok(()), "{nx} x {ny} on {procs:?}, {bc:?}");
        }
    }
}

#[test]
fn the_npy_output_is_the_serial_field() {
    let path = temp("field.npy");
    let p = Heat { output: Some(path.clone()), init: Init::Gaussian, ..small() };
    let want = serial::solve(&p, &parsci_apps::heat::initial_field(&p).unwrap(), p.steps);
    for n in [1, 3, 4] {
        let r = run(&p, n);
        assert_eq!(r.files, vec![path.display().to_string()]);
        let (rows, cols, got) = read_npy(&path);
        assert_eq!((rows, cols), (17, 23));
        assert!(got.iter().zip(&want).all(|(a, b)| a.to_bits() == b.to_bits()), "{n} ranks");
    }
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn per_rank_output_reassembles_to_the_field() {
    let path = temp("blocks.npy");
    let p = Heat { output: Some(path.clone()), per_rank_output: true, procs: Some([2, 2]), ..small() };
    run(&p, 4);
    let want = serial::solve(&p, &parsci_apps::heat::initial_field(&p).unwrap(), p.steps);
    let index: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path.with_extension("blocks.json")).unwrap()).unwrap();
    assert_eq!(index["shape"], serde_json::json!([17, 23]));
    let mut field = vec![f64::NAN; 17 * 23];
    for b in index["blocks"].as_array().unwrap() {
        let file = path.with_file_name(b["file"].as_str().unwrap());
        let (rows, cols, values) = read_npy(&file);
        let (r0, c0) = (b["rows"][0].as_u64().unwrap() as usize, b["cols"][0].as_u64().unwrap() as usize);
        for j in 0..rows {
            field[(r0 + j) * 23 + c0..(r0 + j) * 23 + c0 + cols].copy_from_slice(&values[j * cols..(j + 1) * cols]);
        }
        std::fs::remove_file(file).unwrap();
    }
    assert!(field.iter().zip(&want).all(|(a, b)| a.to_bits() == b.to_bits()));
    std::fs::remove_file(path.with_extension("blocks.json")).unwrap();
}

#[test]
fn a_field_from_npy_starts_the_run() {
    let path = temp("init.npy");
    let gaussian = Heat { init: Init::Gaussian, ..small() };
    let field = parsci_apps::heat::initial_field(&gaussian).unwrap();
    let mut bytes = Vec::new();
    npy::write(&mut bytes, 17, 23, &field).unwrap();
    std::fs::write(&path, &bytes).unwrap();
    let from_file = Heat { init: Init::File(path.clone()), ..small() };
    for n in [1, 2, 3] {
        assert_eq!(run(&from_file, n).fingerprint, run(&gaussian, 1).fingerprint);
    }
    // The wrong shape, and a damaged file.
    let msg = invalid(&Heat { nx: 17, ny: 23, ..from_file.clone() }, 2);
    assert!(msg.contains("(17, 23)") && msg.contains("23 17"), "{msg}");
    std::fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
    assert!(invalid(&from_file, 2).contains("cut short"));
    let mut nan = field.clone();
    nan[40] = f64::NAN;
    let mut bytes = Vec::new();
    npy::write(&mut bytes, 17, 23, &nan).unwrap();
    std::fs::write(&path, &bytes).unwrap();
    assert!(invalid(&from_file, 2).contains("row 1, column 17 is NaN"));
    std::fs::remove_file(&path).unwrap();
    assert!(invalid(&from_file, 1).contains("cannot open"));
}

#[test]
fn snapshots_are_pngs_with_the_time_in_their_names() {
    let dir = temp("frames");
    let p = Heat { snapshots: Some(dir.clone()), every: 15, ..small() };
    let r = run(&p, 2);
    let mut names: Vec<String> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    assert_eq!(names.len(), 3, "{names:?}"); // steps 0, 15, 30
    assert!(names[1].starts_with("heat-step0000015-t") && names[1].ends_with(".png"), "{names:?}");
    assert_eq!(r.files.len(), 3);
    for n in &names {
        let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(dir.join(n)).unwrap()));
        let info = decoder.read_info().unwrap();
        assert_eq!((info.info().width, info.info().height), (23, 17));
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_run_resumed_from_a_checkpoint_ends_bit_identical() {
    let ck = temp("resume.ckpt");
    let full = Heat { steps: 60, bc_y: Boundary::Periodic, ..small() };
    let want = run(&full, 2);
    // Stopped at step 30, after checkpoints at 10, 20 and 30.
    let first = Heat { steps: 30, checkpoint: Some(ck.clone()), checkpoint_every: 10, ..full.clone() };
    run(&first, 3);
    assert_eq!(checkpoint::read_header(&ck).unwrap().step, 30);
    for n in [1, 4, 7] {
        let resumed = Heat { restart: Some(ck.clone()), ..full.clone() };
        let r = run(&resumed, n);
        assert_eq!((r.start_step, r.steps), (30, 60));
        assert_eq!(r.fingerprint, want.fingerprint, "resumed on {n} ranks");
        assert_eq!(resumed.check(&r, n), Ok(()));
    }
    std::fs::remove_file(&ck).unwrap();
}

#[test]
fn a_run_with_a_checkpoint_file_ends_with_a_checkpoint() {
    // 70 steps, checkpoints every 100: the last step still writes one, and resuming from
    // it with more steps ends as an uninterrupted run.
    let ck = temp("last-step.ckpt");
    let full = Heat { steps: 90, ..small() };
    let want = run(&full, 2);
    let first = Heat { steps: 70, checkpoint: Some(ck.clone()), checkpoint_every: 100, ..full.clone() };
    run(&first, 2);
    assert_eq!(checkpoint::read_header(&ck).unwrap().step, 70);
    let r = run(&Heat { restart: Some(ck.clone()), ..full.clone() }, 3);
    assert_eq!((r.start_step, r.fingerprint), (70, want.fingerprint));
    std::fs::remove_file(&ck).unwrap();
}

#[test]
fn damaged_or_foreign_checkpoints_are_refused() {
    let ck = temp("bad.ckpt");
    let p = Heat { steps: 20, checkpoint: Some(ck.clone()), checkpoint_every: 20, ..small() };
    run(&p, 2);
    let good = std::fs::read(&ck).unwrap();
    let resume = Heat { restart: Some(ck.clone()), checkpoint: None, steps: 30, ..small() };
    assert_eq!(run(&resume, 2).start_step, 20);

    std::fs::write(&ck, &good[..good.len() - 100]).unwrap();
    assert!(invalid(&resume, 2).contains("truncated"));
    std::fs::write(&ck, &good[..10]).unwrap();
    assert!(invalid(&resume, 2).contains("not a parsci heat checkpoint"));
    let mut flipped = good.clone();
    let at = good.len() - 200;
    flipped[at] ^= 0x10;
    std::fs::write(&ck, &flipped).unwrap();
    assert!(invalid(&resume, 3).contains("checksum"));
    let mut header = good.clone();
    let brace = header.iter().position(|&b| b == b'{').unwrap();
    header[brace + 3] ^= 0x01;
    std::fs::write(&ck, &header).unwrap();
    assert!(invalid(&resume, 1).contains("checkpoint"));

    std::fs::write(&ck, &good).unwrap();
    let msg = invalid(&Heat { alpha: 0.5, ..resume.clone() }, 2);
    assert!(msg.contains("another run") && msg.contains("alpha 1 (this run: 0.5)"), "{msg}");
    let msg = invalid(&Heat { nx: 24, ..resume.clone() }, 2);
    assert!(msg.contains("grid 23 x 17 (this run: 24 x 17)"), "{msg}");
    assert!(invalid(&Heat { bc_x: Boundary::Periodic, ..resume.clone() }, 2).contains("x boundary"));
    assert!(invalid(&Heat { steps: 10, ..resume.clone() }, 2).contains("past the 10 steps"));
    std::fs::remove_file(&ck).unwrap();
    assert!(invalid(&resume, 1).contains("cannot open"));
}

#[test]
fn bad_parameters_are_refused_before_any_work() {
    let says = |p: Heat, ranks: usize, what: &str| {
        let msg = invalid(&p, ranks);
        assert!(msg.contains(what), "{msg}");
    };
    says(Heat { nx: 0, ..small() }, 1, "at least 1 x 1");
    says(Heat { ny: 0, ..small() }, 1, "at least 1 x 1");
    says(Heat { alpha: -1.0, ..small() }, 1, "alpha must be a positive");
    says(Heat { dt: Some(1e-3), ..small() }, 1, "unstable");
    says(Heat { dt: Some(0.0), ..small() }, 1, "dt must be a positive");
    says(Heat { nx: 4, ny: 3, ..small() }, 7, "7 ranks along");
    says(Heat { procs: Some([2, 2]), ..small() }, 3, "--procs 2x2 has 4 ranks");
    says(Heat { procs: Some([24, 1]), ..small() }, 24, "24 ranks along x");
    says(Heat { output: Some("f.txt".into()), ..small() }, 1, ".npy");
    says(Heat { per_rank_output: true, ..small() }, 1, "--per-rank needs --output");
    says(Heat { snapshots: Some(temp("never")), every: 0, ..small() }, 1, "--every");
    // A balanced grid that does not fit one way is turned: 2 x 1 rows, 2 ranks.
    assert_eq!(run(&Heat { nx: 5, ny: 1, ..small() }, 2).procs, [2, 1]);
}

#[test]
fn temporal_blocking_equals_serial_at_every_depth() {
    use Boundary::{Dirichlet, Periodic};
    for (bc_x, bc_y) in [(Dirichlet, Dirichlet), (Periodic, Periodic), (Dirichlet, Periodic), (Periodic, Dirichlet)] {
        let p = Heat { bc_x, bc_y, steps: 31, init: Init::Gaussian, ..small() };
        let want = run(&Heat { halo_depth: Some(1), ..p.clone() }, 1).fingerprint;
        for n in [1, 2, 3, 4] {
            for depth in [2, 3, 4] {
                let q = Heat { halo_depth: Some(depth), procs: Some([1, n]), ..p.clone() };
                assert_eq!(run(&q, n).fingerprint, want, "{bc_x:?} x, {bc_y:?} y, {n} ranks, depth {depth}");
            }
        }
    }
    // Passes cut short by the outputs (every 5 steps with a halo 4 deep) and a resume.
    let ck = temp("deep.ckpt");
    let p = Heat { steps: 30, halo_depth: Some(4), procs: Some([1, 3]), ..small() };
    let want = run(&p, 3).fingerprint;
    run(&Heat { steps: 15, checkpoint: Some(ck.clone()), checkpoint_every: 5, ..p.clone() }, 3);
    assert_eq!(run(&Heat { restart: Some(ck.clone()), procs: Some([1, 2]), ..p.clone() }, 2).fingerprint, want);
    std::fs::remove_file(&ck).unwrap();
}

#[test]
fn halo_depths_that_cannot_work_are_refused() {
    let says = |p: Heat, ranks: usize, what: &str| {
        let msg = invalid(&p, ranks);
        assert!(msg.contains(what), "{msg}");
    };
    says(Heat { halo_depth: Some(0), ..small() }, 1, "at least 1");
    says(Heat { halo_depth: Some(3), procs: Some([2, 1]), ..small() }, 2, "one rank along x");
    says(Heat { halo_depth: Some(9), procs: Some([1, 2]), ..small() }, 2, "deeper than the 8 rows");
    // The default is as deep as the smallest block allows.
    assert_eq!(Heat { ny: 5, ..small() }.halo_depth_for([1, 2]).unwrap(), 2);
    assert_eq!(small().halo_depth_for([2, 2]).unwrap(), 1);
}
