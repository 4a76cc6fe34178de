//! The `parsci` binary: bad arguments, `--json`, and the tour.

use std::process::{Command, Output};

/// Runs `parsci` with `args`.
fn parsci(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_parsci")).args(args).output().expect("the parsci binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts a clean failure: non-zero exit, `message` on stderr, no panic.
fn fails_with(args: &[&str], message: &str) {
    let o = parsci(args);
    let err = stderr(&o);
    assert!(!o.status.success(), "{args:?} succeeded");
    assert!(err.contains(message), "{args:?}: stderr {err:?} lacks {message:?}");
    assert!(!err.contains("panicked") && !err.contains("RUST_BACKTRACE"), "{args:?} panicked: {err}");
    assert!(o.stdout.is_empty(), "{args:?} printed {:?}", stdout(&o));
}

#[test]
fn bad_arguments_fail_cleanly() {
    fails_with(&["rootsum", "0"], "M must be a positive integer");
    fails_with(&["rootsum", "-5"], "M must be a positive integer");
    fails_with(&["rootsum", "abc"], "M must be a positive integer, got 'abc'");
    fails_with(&["rootsum", "1.5"], "M must be a positive integer");
    fails_with(&["rootsum", "99999999999999999"], "M must be a positive integer from 1 to");
    fails_with(&["rootsum"], "<M>");
    fails_with(&["--ranks", "0", "hello"], "the number of ranks must be at least 1");
    fails_with(&["hello", "--ranks", "0"], "the number of ranks must be at least 1");
    fails_with(&["hello", "--ranks", "x"], "the number of ranks must be a whole number");
    fails_with(&["sendrecv", "--ranks", "1"], "sendrecv needs at least 2 ranks but the job has 1");
    fails_with(&["hello", "--backend", "carrier-pigeon"], "possible values: threads");
    fails_with(&["bench", "--ranks", "1"], "bench needs at least 2 ranks");
    // Without a launcher (and in a build without MPI) the side-by-side run says how to start it.
    fails_with(&["bench", "--compare", "--ranks", "2"], "mpirun -n 2 target/release/parsci bench --compare");
    fails_with(&["no-such-program"], "unrecognized subcommand");
}

/// More thread ranks than the backend runs: a message with the limit and what to do,
/// before any thread starts (it used to abort on a 2.5 TB allocation).
#[test]
fn too_many_thread_ranks_fail_cleanly() {
    let limit = format!("more than the thread backend runs ({})", parsci_comm::MAX_THREAD_RANKS);
    fails_with(&["--ranks", "100000", "hello"], &limit);
    fails_with(&["--ranks", "100000", "hello"], "mpirun -n 100000");
    fails_with(&["rootsum", "1000", "--ranks", &(parsci_comm::MAX_THREAD_RANKS + 1).to_string()], &limit);
}

#[test]
fn scatter_gather_text() {
    let o = parsci(&["scatter-gather", "--ranks", "4"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("[Rank 0/4] Gathered sums: [1, 5, 9, 13]\n[Rank 0/4] Total: 28\n"), "{out}");
    assert!(out.lines().last().unwrap().starts_with("Done in "), "{out}");
}

#[test]
fn squares_and_hello_text() {
    let out = stdout(&parsci(&["--ranks", "3", "squares"]));
    assert!(out.starts_with("Received from process 1 : sq = 1\nReceived from process 2 : sq = 4\nDone in "), "{out}");
    let out = stdout(&parsci(&["hello", "-n", "2"]));
    assert!(out.contains("[Rank 0/2] I am the root process.\n[Rank 1/2] Hello from "), "{out}");
}

#[test]
fn json_has_the_documented_fields() {
    let o = parsci(&["scatter-gather", "--ranks", "4", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("stdout is one JSON object");
    assert_eq!(v["program"], "scatter-gather");
    assert_eq!(v["ranks"], 4);
    assert_eq!(v["backend"], "threads");
    assert!(v["wall_time_s"].as_f64().unwrap() >= 0.0);
    assert_eq!(v["result"]["sums"], serde_json::json!([1, 5, 9, 13]));
    assert_eq!(v["result"]["total"], 28);

    let o = parsci(&["--json", "rootsum", "1234567", "--ranks", "3"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["program"], "rootsum");
    assert_eq!(format!("{:.3}", v["result"]["total"].as_f64().unwrap()), "914494295.631");
    assert_eq!(v["result"]["partials"].as_array().unwrap().len(), 3);
}

#[test]
fn every_program_runs_with_json() {
    for program in ["hello", "sendrecv", "bcast", "scatter-gather", "squares"] {
        let o = parsci(&[program, "--ranks", "3", "--json"]);
        assert!(o.status.success(), "{program}: {}", stderr(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!((v["program"].as_str(), v["ranks"].as_u64()), (Some(program), Some(3)));
        assert!(v["result"].is_object(), "{program}: {v}");
    }
}

#[test]
fn tour_passes() {
    let o = parsci(&["tour", "--ranks", "3", "--large-m", "100000"]);
    let out = stdout(&o);
    assert!(o.status.success(), "{out}{}", stderr(&o));
    let programs = [
        "hello",
        "sendrecv",
        "bcast",
        "scatter-gather",
        "squares",
        "rootsum",
        "mandelbrot",
        "taskfarm",
        "heat1d",
        "heat",
        "matmul",
    ];
    for program in programs {
        assert!(out.lines().any(|l| l.starts_with(program) && l.contains("passed")), "{program} missing:\n{out}");
    }
    assert!(out.contains("M = 1234567: sum = 914494295.631"), "{out}");
    assert!(out.contains("All 18 checks passed."), "{out}");
    assert!(out.contains("The heat run's communication trace: "), "{out}");
    assert!(out.contains("Time per rank") && out.contains("comm %"), "{out}");
}

#[test]
fn tour_json() {
    let o = parsci(&["tour", "--ranks", "1", "--large-m", "5000", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["program"], "tour");
    assert_eq!(v["result"]["passed"], true);
    let rows = v["result"]["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 18);
    assert!(rows.iter().all(|r| r["passed"] == true));
    assert_eq!(rows[1]["program"], "sendrecv");
    assert_eq!(rows[1]["ranks"], 2, "sendrecv runs on at least 2 ranks");
}

#[test]
fn help_lists_every_program() {
    let out = stdout(&parsci(&["--help"]));
    for program in [
        "hello",
        "sendrecv",
        "bcast",
        "scatter-gather",
        "squares",
        "rootsum",
        "mandelbrot",
        "taskfarm",
        "heat1d",
        "heat",
        "matmul",
        "scale",
        "amdahl",
        "tour",
        "bench",
    ] {
        assert!(out.contains(program), "{program} missing from --help:\n{out}");
    }
    assert!(out.contains("--ranks") && out.contains("--backend") && out.contains("--json"));
}

/// The lesson's arguments, small enough for a debug build.
const SMALL: [&str; 8] = ["mandelbrot", "64", "48", "-1.5", "0.5", "-1", "1", "300"];

#[test]
fn mandelbrot_bad_arguments_fail_cleanly() {
    fn with<'a>(extra: &[&'a str]) -> Vec<&'a str> {
        [&SMALL[..], extra].concat()
    }
    fails_with(
        &["mandelbrot", "0", "48", "-1.5", "0.5", "-1", "1", "300"],
        "must be a whole number of at least 1, got 0",
    );
    fails_with(&["mandelbrot", "64", "x", "-1.5", "0.5", "-1", "1", "300"], "invalid value 'x' for '<NI>'");
    fails_with(&["mandelbrot", "64", "48", "abc", "0.5", "-1", "1", "300"], "invalid value 'abc' for '<REI>'");
    fails_with(&["mandelbrot", "64", "48", "nan", "0.5", "-1", "1", "300"], "must be a finite number");
    fails_with(&["mandelbrot", "64", "48", "0.5", "-1.5", "-1", "1", "300"], "REI must be less than REF");
    fails_with(&["mandelbrot", "64", "48", "-1.5", "0.5", "-1", "1", "0"], "invalid value '0' for '<IMAX>'");
    fails_with(&["mandelbrot", "64", "48", "-1.5", "0.5", "-1"], "<IMAX>");
    fails_with(&with(&["--strategy", "random"]), "possible values: cyclic, block, dynamic, reduce");
    fails_with(&with(&["--chunk", "0"]), "must be a whole number of at least 1");
    fails_with(&with(&["--output", "out.jpg"]), "must end in .png (colour) or .pbm (set membership)");
    fails_with(&with(&["--output", "/dev/null"]), "or --format must say which");
    fails_with(&with(&["--output", "/no/such/dir/m.png"]), "does not exist");
    fails_with(&with(&["--smooth"]), "--smooth colours a PNG image");
}

#[test]
fn mandelbrot_text_json_and_files() {
    let o = parsci(&[&SMALL[..], &["--ranks", "3", "--strategy", "dynamic", "--chunk", "5"]].concat());
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.starts_with("Mandelbrot 64 x 48, re [-1.5, 0.5), im [-1, 1), IMAX 300: dynamic chunks of 5 rows"),
        "{out}"
    );
    assert!(out.contains("[Rank 2/3] ") && out.contains("Load imbalance") && out.contains("Checksum"), "{out}");
    assert!(out.lines().last().unwrap().starts_with("Done in "), "{out}");

    let dir = std::env::temp_dir();
    let pbm = dir.join(format!("parsci-cli-{}.pbm", std::process::id()));
    let png = dir.join(format!("parsci-cli-{}.png", std::process::id()));
    let mut checksums = Vec::new();
    for (strategy, file, extra) in [("cyclic", &pbm, None), ("reduce", &png, Some("--smooth")), ("block", &png, None)] {
        let mut args: Vec<&str> = [&SMALL[..], &["-n", "2", "--json", "--strategy", strategy, "-o"]].concat();
        args.push(file.to_str().unwrap());
        args.extend(extra);
        let o = parsci(&args);
        assert!(o.status.success(), "{strategy}: {}", stderr(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("one JSON object");
        let r = &v["result"];
        assert_eq!((v["program"].as_str(), r["strategy"].as_str()), (Some("mandelbrot"), Some(strategy)));
        assert_eq!((r["nr"].as_u64(), r["ni"].as_u64(), r["imax"].as_u64()), (Some(64), Some(48), Some(300)));
        assert_eq!(r["ranks"].as_array().unwrap().len(), 2);
        assert!(r["ranks"][1]["rows"].as_u64().unwrap() > 0 && r["ranks"][1]["compute_s"].is_number());
        assert!(r["imbalance"].as_f64().unwrap() >= 1.0);
        assert_eq!(r["output"].as_str(), file.to_str());
        checksums.push(r["checksum"].as_u64().unwrap());
    }
    assert!(checksums.windows(2).all(|w| w[0] == w[1]), "{checksums:?}");
    let bytes = std::fs::read(&pbm).unwrap();
    assert!(bytes.starts_with(b"P4\n64 48\n") && bytes.len() == 9 + 8 * 48);
    assert!(std::fs::read(&png).unwrap().starts_with(b"\x89PNG\r\n"));
    std::fs::remove_file(&pbm).unwrap();
    std::fs::remove_file(&png).unwrap();
}

#[test]
fn taskfarm_prints_the_assignments() {
    let o = parsci(&["taskfarm", "--ranks", "3", "--time-scale", "0.0005"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert_eq!(out.lines().filter(|l| l.starts_with("Master assigned job # ")).count(), 20, "{out}");
    assert!(out.contains("ideal (sum / 2 workers)"), "{out}");
    let o = parsci(&["taskfarm", "-n", "2", "--jobs", "5", "--master-computes", "--time-scale", "0", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["result"]["reports"].as_array().unwrap().len(), 5);
    assert_eq!(v["result"]["workers"], 2);
    fails_with(&["taskfarm", "--jobs", "0"], "must be a whole number of at least 1");
    fails_with(&["taskfarm", "--time-scale", "-1"], "time scale must be a number >= 0");
    fails_with(&["taskfarm", "--min-seconds", "3", "--max-seconds", "1"], "0 <= min <= max");
}

/// `parsci slurm`'s required options.
const SLURM: [&str; 6] = ["--nodes", "2", "--tasks-per-node", "4", "--time", "00:10:00"];

#[test]
fn slurm_prints_a_batch_script() {
    let before = [&["slurm"][..], &SLURM, &["--partition", "short", "rootsum", "1234567"]].concat();
    let after = [&["slurm"][..], &SMALL, &SLURM, &["--binary", "/opt/my parsci/parsci"]].concat();
    for (args, srun) in [
        (before, " rootsum 1234567"),
        (after, "srun --mpi=pmix --kill-on-bad-exit=1 '/opt/my parsci/parsci' mandelbrot 64 48 -1.5 0.5 -1 1 300"),
    ] {
        let o = parsci(&args);
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
        let out = stdout(&o);
        assert!(out.starts_with("#!/bin/bash\n#SBATCH --job-name=parsci-"), "{out}");
        for line in ["#SBATCH --nodes=2", "#SBATCH --ntasks-per-node=4", "#SBATCH --time=00:10:00", "8 ranks"] {
            assert!(out.contains(line), "{args:?}: {line} missing:\n{out}");
        }
        let last = out.lines().last().unwrap();
        assert!(last.starts_with("srun --mpi=pmix ") && last.ends_with(srun), "{args:?}:\n{out}");
        assert_eq!(out.contains("#SBATCH --partition=short\n"), args.contains(&"short"), "{out}");
    }
}

#[test]
fn slurm_bad_arguments_fail_cleanly() {
    let with = |extra: &[&'static str]| [&["slurm"][..], &SLURM, extra].concat();
    fails_with(&["slurm", "--nodes", "0", "hello"], "invalid value '0' for '--nodes <N>'");
    fails_with(&["slurm", "--time", "25:61:00", "hello"], "the minutes in the time limit '25:61:00' must be 0 to 59");
    fails_with(&with(&["no-such-program"]), "error: 'no-such-program' is not a parsci program; the programs are:");
    fails_with(&with(&["slurm", "hello"]), "parsci slurm cannot run parsci slurm");
    fails_with(&with(&["rootsum", "0"]), "invalid arguments for rootsum: invalid value '0' for '<M>'");
    fails_with(&["slurm", "hello", "--nodes", "2", "--time", "5"], "parsci slurm needs --tasks-per-node <T>");
    fails_with(&["slurm", "hello", "--tasks-per-node", "1", "--nodes", "0"], "invalid value '0' for '--nodes'");
    fails_with(&with(&["hello", "--ranks", "4"]), "leave --ranks out");
    fails_with(&with(&["--job-name", "my job", "hello"]), "the job name must be 1 to 128 letters");
}

#[test]
fn heat_arguments_are_checked() {
    fails_with(&["heat", "0"], "must be a whole number of at least 1");
    fails_with(&["heat", "20", "x"], "'x'");
    fails_with(&["heat", "20", "--alpha", "-1"], "alpha must be a positive number");
    fails_with(&["heat", "20", "--dt", "0.01"], "unstable");
    fails_with(&["heat", "4", "3", "--ranks", "5"], "5 ranks along y but the grid has 3 cells");
    fails_with(&["heat", "20", "--procs", "2x2", "--ranks", "2"], "--procs 2x2 has 4 ranks but the job has 2");
    fails_with(&["heat", "20", "--init", "hot"], "must be square, gaussian or a FILE.npy");
    fails_with(&["heat", "20", "--restart", "/nonexistent.ckpt"], "cannot open /nonexistent.ckpt");
    fails_with(&["heat1d", "--nx", "0"], "at least 1");
    fails_with(&["heat1d", "--dt", "0.2"], "alpha dt / dx^2 = 0.8000 > 0.5");
    fails_with(&["heat1d", "--alpha", "-0.01"], "alpha must be a positive number");
    fails_with(&["heat1d", "--nx", "5", "--ranks", "7"], "7 ranks for 5 points");
}

#[test]
fn heat_writes_a_field_numpy_reads_and_prints_its_summary() {
    let path = std::env::temp_dir().join(format!("parsci-cli-heat-{}.npy", std::process::id()));
    let p = path.to_str().unwrap();
    let o = parsci(&["heat", "30", "20", "--steps", "10", "--ranks", "3", "--output", p]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("30 x 20 cells on 3 ranks") && text.contains("billion lattice updates per second"), "{text}");
    assert!(text.contains("total heat") && text.contains("halo exchange") && text.contains(&format!("wrote {p}")));
    let bytes = std::fs::read(&path).unwrap();
    assert!(bytes.starts_with(b"\x93NUMPY\x01\x00") && bytes.len() == 128 + 8 * 600, "{} bytes", bytes.len());
    std::fs::remove_file(&path).unwrap();
    let o = parsci(&["heat1d", "--ranks", "2"]);
    assert!(stdout(&o).contains("u(x = 0.5, t = 2) = 0.000000") && stdout(&o).contains("max |u - exact| = 4.079e-3"));
}

#[test]
fn version_names_the_backends() {
    let o = parsci(&["--version"]);
    assert!(o.status.success());
    let out = stdout(&o);
    let want = if cfg!(feature = "mpi") { "(backends: threads, mpi" } else { "(backends: threads;" };
    assert!(out.starts_with("parsci ") && out.contains(want), "{out}");
}

#[test]
fn completions_and_man_page_come_from_the_command_line_definition() {
    for shell in ["bash", "zsh", "fish"] {
        let o = parsci(&["completions", shell]);
        assert!(o.status.success(), "{shell}");
        let out = stdout(&o);
        assert!(out.contains("parsci") && out.contains("mandelbrot") && out.contains("--halo-depth"), "{shell}");
    }
    let o = parsci(&["man"]);
    assert!(o.status.success());
    let out = stdout(&o);
    assert!(out.starts_with(".ie") && out.contains(".TH parsci 1") && out.contains("heat"), "{out}");
    fails_with(&["completions", "tcsh"], "possible values: bash, elvish, fish, powershell, zsh");
}

#[test]
fn matmul_text_shows_time_and_memory() {
    let o = parsci(&["matmul", "--lesson", "--ranks", "4", "--strategy", "bcast-reduce"]);
    let out = stdout(&o);
    assert!(o.status.success(), "{out}{}", stderr(&o));
    assert!(out.starts_with("C = A B with A 300 x 400 and B 400 x 500; matrices: the lesson's"), "{out}");
    assert!(out.contains("[Rank 3/4] C[225..300, 0..500]: compute "), "{out}");
    assert!(out.contains("matrix data at peak 3.76 MB (100% of A+B+C)"), "{out}");
    assert!(out.contains("for the one process in which all 4 ranks run as threads"), "{out}");
    assert!(out.contains("Every element of C should be 1"), "{out}");
    let o = parsci(&["matmul", "40", "30", "20", "--ranks", "4", "--procs", "1x4", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("one JSON object");
    assert_eq!((v["program"].as_str(), v["result"]["strategy"].as_str()), (Some("matmul"), Some("summa")));
    assert_eq!(v["result"]["procs"], serde_json::json!([1, 4]));
    assert_eq!(v["result"]["ranks"].as_array().unwrap().len(), 4);
}

#[test]
fn matmul_reads_and_writes_npy() {
    let dir = std::env::temp_dir();
    let c1 = dir.join(format!("parsci-cli-matmul-{}-c1.npy", std::process::id()));
    let c2 = dir.join(format!("parsci-cli-matmul-{}-c2.npy", std::process::id()));
    let (c1s, c2s) = (c1.to_str().unwrap(), c2.to_str().unwrap());
    // C from the seed, then C C from the file read twice.
    let o = parsci(&["matmul", "9", "9", "9", "--ranks", "3", "--strategy", "scatter-gather", "-o", c1s]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = parsci(&["matmul", "--input", c1s, c1s, "--ranks", "4", "--output", c2s]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("C = A B with A 9 x 9 and B 9 x 9; matrices: "), "{}", stdout(&o));
    assert!(stdout(&o).contains(&format!("Wrote {c2s}")));
    fails_with(&["matmul", "9", "9", "8", "--input", c1s, c1s], "not M K N = 9 9 8");
    std::fs::remove_file(&c1).unwrap();
    std::fs::remove_file(&c2).unwrap();
}

#[test]
fn matmul_bad_arguments_fail_cleanly() {
    fails_with(&["matmul", "0", "4", "4"], "must be a whole number of at least 1");
    fails_with(&["matmul", "4", "4"], "M K N (all three)");
    fails_with(&["matmul", "4", "4", "4", "--ranks", "3", "--procs", "2x2"], "the process grid 2x2 has 4 ranks");
    fails_with(&["matmul", "4", "4", "4", "--procs", "2"], "PXxPY");
    fails_with(&["matmul", "--input", "a.npy"], "A.npy");
    fails_with(&["matmul", "--input", "/nonexistent/a.npy", "/nonexistent/b.npy"], "cannot open /nonexistent/a.npy");
    fails_with(&["matmul", "--lesson", "--input", "a.npy", "b.npy"], "cannot be used with");
    fails_with(&["matmul", "4", "4", "4", "-o", "c.csv"], "must end in .npy");
    fails_with(&["matmul", "--strategy", "cannon"], "possible values: bcast-reduce");
}

#[test]
fn scale_matmul_runs() {
    let o = parsci(&["scale", "matmul", "60", "50", "40", "--ranks", "1,2", "--repeat", "1", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["results_agree"], true, "{v}");
}

#[test]
fn train_prints_a_line_per_epoch_and_the_same_weights_at_any_rank_count() {
    let args = ["train", "logreg", "--samples", "2000", "--epochs", "2", "--json"];
    let fingerprint = |n: &str| {
        let out = parsci(&[&args[..], &["--ranks", n]].concat());
        assert!(out.status.success(), "{}", stderr(&out));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["result"]["epochs"].as_array().map(Vec::len), Some(2));
        v["result"]["weights_fingerprint"].as_str().unwrap().to_string()
    };
    assert_eq!(fingerprint("1"), fingerprint("3"));
    let out = parsci(&["train", "mlp", "--optimizer", "adam", "--samples", "300", "--epochs", "2", "-n", "2"]);
    let text = stdout(&out);
    assert!(out.status.success() && text.contains("epoch   2  loss") && text.contains("samples/s"), "{text}");
    let out = parsci(&[
        "train",
        "mlp",
        "--optimizer",
        "adam",
        "--samples",
        "300",
        "--epochs",
        "2",
        "-n",
        "3",
        "--fail-at",
        "1:1",
    ]);
    let err = stderr(&out);
    assert!(!out.status.success() && err.contains("rank 1"), "{err}");
}

#[test]
fn train_fashion_mnist_reads_idx_files_and_names_the_package_when_they_are_missing() {
    use parsci_apps::train::idx;
    let dir = std::env::temp_dir().join(format!("parsci-cli-fashion-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let data = idx::Dataset { train: idx::synthetic(200, 28, 28, 1), test: idx::synthetic(50, 28, 28, 2) };
    idx::write(&dir, &data).unwrap();
    let d = dir.to_str().unwrap();
    let args = ["train", "fashion-mnist", "--data", d, "--samples", "200", "--hidden", "16", "--epochs", "2"];
    let png = dir.join("loss.png");
    let out = parsci(&[&args[..], &["-n", "3", "--plot", png.to_str().unwrap()]].concat());
    let text = stdout(&out);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(std::fs::read(&png).unwrap().starts_with(b"\x89PNG"), "a PNG plot");
    assert!(text.contains("curves written to"), "{text}");
    for want in ["layers 784-16-10", "epoch   2  loss", "test accuracy", "samples/s", "allreduce wait", "optimizer"] {
        assert!(text.contains(want), "{want} missing in:\n{text}");
    }
    let out = parsci(&["train", "fashion-mnist", "--data", "/nonexistent/fm", "--epochs", "1"]);
    let err = stderr(&out);
    assert!(!out.status.success() && err.contains("dataset-fashion-mnist") && err.contains("--data"), "{err}");
    // The CNN prints its blocks; without images it is refused.
    let cnn = ["train", "fashion-mnist", "--data", d, "--samples", "64", "--model", "cnn", "--epochs", "1", "-n", "2"];
    let out = parsci(&cnn);
    assert!(out.status.success() && stdout(&out).contains("layers 784-conv16-conv32-128-10"), "{}", stderr(&out));
    let out = parsci(&["train", "mlp", "--model", "cnn"]);
    assert!(!out.status.success() && stderr(&out).contains("only fashion-mnist"), "{}", stderr(&out));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn train_mlp_runs_lbfgs_by_default_and_refuses_the_other_optimizers_options() {
    let out = parsci(&["train", "mlp", "--samples", "300", "--iterations", "8", "-n", "2"]);
    let text = stdout(&out);
    assert!(out.status.success() && text.contains("L-BFGS (memory 10"), "{text}");
    assert!(text.contains("iteration    8  loss") && text.contains("loss fell"), "{text}");
    for (args, want) in [
        (vec!["train", "mlp", "--epochs", "3"], "--epochs is for the mini-batch optimizers"),
        (vec!["train", "mlp", "--optimizer", "adam", "--iterations", "3"], "--iterations is for --optimizer lbfgs"),
        (vec!["train", "mlp", "--memory", "0"], "--memory"),
        (vec!["train", "mlp", "--tolerance=-1"], "--tolerance"),
    ] {
        let out = parsci(&args);
        let err = stderr(&out);
        assert!(!out.status.success() && err.contains(want), "{args:?}: {err}");
    }
}
