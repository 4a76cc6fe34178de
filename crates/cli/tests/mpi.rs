//! The `parsci` binary under `mpirun` (feature `mpi`): every workshop program gives the
//! same result as on the thread backend at 1 to 4 ranks, and wrong launches are refused.

use std::process::{Command, Output};

use serde_json::Value;

const PARSCI: &str = env!("CARGO_BIN_EXE_parsci");

fn mpirun(n: usize, args: &[&str]) -> Output {
    Command::new(std::env::var("PARSCI_MPIRUN").unwrap_or_else(|_| "mpirun".into()))
        .args(["-n", &n.to_string(), "--oversubscribe", PARSCI])
        .args(args)
        .env("OMPI_ALLOW_RUN_AS_ROOT", "1")
        .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
        .env("OMPI_MCA_rmaps_base_oversubscribe", "1")
        .output()
        .expect("start mpirun (install openmpi-bin)")
}

fn threads(n: usize, args: &[&str]) -> Output {
    Command::new(PARSCI).args(args).args(["--backend", "threads", "--ranks", &n.to_string()]).output().unwrap()
}

/// The result object, without what varies from run to run (times, imbalance, the order
/// workers happened to ask in).
fn result_of(out: &Output, what: &str) -> Value {
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{what} failed:\n{text}\n{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{what}: not one JSON object ({e}):\n{text}"));
    strip(v["result"].clone())
}

fn strip(v: Value) -> Value {
    match v {
        Value::Object(mut m) => {
            // Who computes which rows of `dynamic` depends on who asks first.
            if m.get("strategy").and_then(Value::as_str) == Some("dynamic") {
                m.remove("ranks");
            }
            Value::Object(
                m.into_iter()
                    .filter(|(k, _)| {
                        !(k.ends_with("_s")
                            || k == "assignments"
                            || k == "imbalance"
                            || k == "glups"
                            || k == "reports"
                            || k == "per_rank")
                    })
                    .map(|(k, v)| (k, strip(v)))
                    .collect(),
            )
        }
        Value::Array(a) => Value::Array(a.into_iter().map(strip).collect()),
        other => other,
    }
}

/// Equal, with floats equal to 1e-12 relative: MPI's reductions may associate a sum of
/// three or more ranks differently from the rank-order fold.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) if x.is_f64() || y.is_f64() => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            (x - y).abs() <= 1e-12 * x.abs().max(y.abs()).max(1.0)
        }
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

#[test]
fn every_program_gives_the_same_result_on_both_backends() {
    let programs: &[&[&str]] = &[
        &["hello"],
        &["sendrecv"],
        &["bcast"],
        &["scatter-gather"],
        &["squares"],
        &["rootsum", "1234567"],
        &["mandelbrot", "120", "90", "-1.5", "0.5", "-1", "1", "200", "--strategy", "cyclic"],
        &["mandelbrot", "121", "91", "-1.5", "0.5", "-1", "1", "200", "--strategy", "block"],
        &["mandelbrot", "120", "90", "-1.5", "0.5", "-1", "1", "200", "--strategy", "dynamic", "--chunk", "7"],
        &["mandelbrot", "120", "90", "-1.5", "0.5", "-1", "1", "200", "--strategy", "reduce"],
        &["taskfarm", "--time-scale", "0.0001"],
        &["heat1d"],
        &["heat", "37", "29", "--steps", "45", "--bc-x", "periodic", "--init", "gaussian"],
        &["heat", "37", "29", "--steps", "45", "--bc", "periodic", "--halo-depth", "1"],
    ];
    for n in 1..=4 {
        for p in programs {
            if (p[0] == "sendrecv" || p[0] == "taskfarm") && n < 2 {
                continue;
            }
            let args: Vec<&str> = p.iter().copied().chain(["--json"]).collect();
            let what = format!("{} at {n} ranks", p.join(" "));
            let on_mpi = result_of(&mpirun(n, &args), &format!("mpirun -n {n} parsci {what}"));
            let on_threads = result_of(&threads(n, &args), &format!("parsci {what} on threads"));
            assert!(same(&on_mpi, &on_threads), "{what}: MPI gave\n{on_mpi}\nthreads gave\n{on_threads}");
        }
    }
}

/// The fingerprint of a `heat` run's field, from its JSON.
fn heat_fingerprint(out: &Output, what: &str) -> String {
    result_of(out, what)["fingerprint"].as_str().expect("a fingerprint").to_string()
}

#[test]
fn heat_on_every_process_grid_and_resumed_at_another_rank_count() {
    let base = ["heat", "41", "30", "--steps", "40", "--wall", "0.5", "--bc-y", "periodic", "--json"];
    let want = heat_fingerprint(&threads(1, &base), "heat on 1 thread");
    for (n, procs) in [(2, "2x1"), (3, "1x3"), (4, "2x2"), (4, "1x4")] {
        let args: Vec<&str> = base.iter().copied().chain(["--procs", procs]).collect();
        assert_eq!(heat_fingerprint(&mpirun(n, &args), procs), want, "mpirun -n {n} --procs {procs}");
    }
    let ck = std::env::temp_dir().join(format!("parsci-mpi-heat-{}.ckpt", std::process::id()));
    let ck = ck.to_str().unwrap();
    let first: Vec<&str> = ["heat", "41", "30", "--steps", "20", "--wall", "0.5", "--bc-y", "periodic", "--json"]
        .into_iter()
        .chain(["--checkpoint", ck, "--checkpoint-every", "10"])
        .collect();
    result_of(&mpirun(3, &first), "the first half on 3 MPI ranks");
    let resume: Vec<&str> = base.iter().copied().chain(["--restart", ck]).collect();
    assert_eq!(heat_fingerprint(&mpirun(2, &resume), "resumed on 2 MPI ranks"), want);
    assert_eq!(heat_fingerprint(&threads(4, &resume), "resumed on 4 threads"), want);
    // A damaged checkpoint is refused on every rank, quickly.
    let bytes = std::fs::read(ck).unwrap();
    std::fs::write(ck, &bytes[..bytes.len() / 2]).unwrap();
    let out = mpirun(2, &resume);
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("truncated"));
    std::fs::remove_file(ck).unwrap();
}

#[test]
fn mpi_runs_report_the_mpi_backend_and_the_world_size() {
    let out = mpirun(3, &["rootsum", "1000", "--json"]);
    let v: Value = serde_json::from_str(&String::from_utf8_lossy(&out.stdout)).expect("one JSON object from rank 0");
    assert_eq!((v["backend"].as_str(), v["ranks"].as_u64()), (Some("mpi"), Some(3)));
}

#[test]
fn another_mpis_launcher_is_refused() {
    // MPICH's mpiexec sets PMI_SIZE; Open MPI then starts a job of one.
    let out =
        Command::new(PARSCI).args(["rootsum", "1000"]).env("PMI_SIZE", "4").env("PMI_RANK", "0").output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("PMI_SIZE=4") && err.contains("MPI says the job has 1"), "{err}");
}

#[test]
fn ranks_that_disagree_with_the_launcher_are_refused() {
    let out = mpirun(2, &["rootsum", "1000", "--ranks", "3"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--ranks 3, but the MPI job has 2 processes"));
}

#[test]
fn a_failing_rank_aborts_the_job_quickly() {
    let start = std::time::Instant::now();
    let out =
        mpirun(2, &["mandelbrot", "200", "200", "-1.5", "0.5", "-1", "1", "100", "--output", "/nonexistent/dir/x.pbm"]);
    assert!(!out.status.success(), "writing to a missing directory must fail");
    assert!(start.elapsed() < std::time::Duration::from_secs(20));
}

#[test]
fn the_watchdog_option_is_accepted() {
    let out = mpirun(2, &["rootsum", "1000", "--watchdog", "30"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = threads(2, &["rootsum", "1000", "--watchdog", "0"]);
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("positive number of seconds"));
}

/// A small `parsci bench` run under mpirun, as JSON.
fn bench_json(n: usize, extra: &[&str]) -> Value {
    let mut args =
        vec!["bench", "pingpong", "allreduce", "--max-size", "1024", "--runs", "1", "--scale", "0.01", "--json"];
    args.extend_from_slice(extra);
    let start = std::time::Instant::now();
    let out = mpirun(n, &args);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{args:?}: {text}\n{}", String::from_utf8_lossy(&out.stderr));
    // Its floor once spun two threads on the one core mpirun binds a process to, for hours.
    assert!(start.elapsed() < std::time::Duration::from_secs(60), "{args:?} took {:?}", start.elapsed());
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{args:?}: not one JSON object ({e}): {text}"))
}

#[test]
fn bench_runs_on_the_mpi_backend_and_exits() {
    let v = bench_json(2, &[]);
    assert_eq!((v["backend"].as_str(), v["ranks"].as_u64()), (Some("mpi"), Some(2)));
    let samples = v["samples"].as_array().unwrap();
    assert_eq!(samples.len(), 2 * 11, "two benchmarks at 1 B to 1 KiB");
    assert!(samples.iter().all(|s| s["time_us"].as_f64().is_some_and(|t| t > 0.0)), "{v}");
}

#[test]
fn bench_compare_measures_threads_mpi_and_raw_rsmpi_in_one_job() {
    for n in [2, 3] {
        let v = bench_json(n, &["--compare"]);
        assert_eq!(v["ranks"].as_u64(), Some(n as u64), "{v}");
        let rows = v["rows"].as_array().unwrap();
        assert_eq!(rows.len(), 2 * 11, "two benchmarks at 1 B to 1 KiB");
        for r in rows {
            for who in ["threads", "mpi", "raw"] {
                assert!(r[who]["time_us"].as_f64().is_some_and(|t| t > 0.0 && t.is_finite()), "{who}: {r}");
            }
            let ratio = r["threads_over_mpi"].as_f64().unwrap();
            let overhead = r["mpi_overhead"].as_f64().unwrap();
            assert!(ratio > 0.0 && ratio.is_finite() && overhead > -1.0 && overhead.is_finite(), "{r}");
        }
    }
}

#[test]
fn thread_ranks_bound_to_one_core_by_mpirun_get_a_warning() {
    let out = mpirun(1, &["hello", "--backend", "threads", "--ranks", "2"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("[Rank 0/2]"));
    // Open MPI binds a job of one or two processes to cores.
    assert!(err.contains("2 thread ranks share 1 core(s)") && err.contains("--bind-to none"), "{err}");
}

#[test]
fn scale_starts_one_mpi_job_per_rank_count_through_the_launcher() {
    let mpirun = std::env::var("PARSCI_MPIRUN").unwrap_or_else(|_| "mpirun".into());
    let launcher = format!("{mpirun} -n {{n}} --oversubscribe");
    let o = Command::new(PARSCI)
        .args(["scale", "rootsum", "200000", "--ranks", "1,2", "--repeat", "1", "--json", "--launcher", &launcher])
        .env("OMPI_ALLOW_RUN_AS_ROOT", "1")
        .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
        .env("OMPI_MCA_rmaps_base_oversubscribe", "1")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{text}\n{}", String::from_utf8_lossy(&o.stderr));
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["setup"]["backend"], "mpi");
    assert_eq!(v["results_agree"], true);
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.iter().map(|r| r["ranks"].as_u64().unwrap()).collect::<Vec<_>>(), [1, 2]);
    assert!(rows[1]["comm_s"].as_f64().is_some(), "the MPI jobs report their communication time: {text}");

    // One job per rank count, whatever the repetitions: a launcher that logs its starts.
    let dir = std::env::temp_dir().join(format!("parsci-launcher-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (script, log) = (dir.join("launch.sh"), dir.join("starts.log"));
    std::fs::write(&script, format!("#!/bin/sh\nprintf '%s\\n' \"$*\" >> {}\nexec {mpirun} \"$@\"\n", log.display()))
        .unwrap();
    let launcher = format!("sh {} -n {{n}} --oversubscribe", script.display());
    let o = Command::new(PARSCI)
        .args(["scale", "rootsum", "200000", "--ranks", "1,2", "--repeat", "3", "--json", "--launcher", &launcher])
        .env("OMPI_ALLOW_RUN_AS_ROOT", "1")
        .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
        .env("OMPI_MCA_rmaps_base_oversubscribe", "1")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v["rows"].as_array().unwrap().iter().all(|r| r["wall_s"]["n"] == 3), "3 timed runs per rank count: {v}");
    let starts = std::fs::read_to_string(&log).unwrap();
    assert_eq!(starts.lines().count(), 2, "one job per rank count:\n{starts}");
    assert!(starts.lines().all(|l| l.contains("--job-runs 4")), "{starts}");
    std::fs::remove_dir_all(&dir).unwrap();

    // A launcher that ignores {n} is caught: the job would have the wrong size.
    let o = Command::new(PARSCI)
        .args(["scale", "rootsum", "1000", "--ranks", "2", "--repeat", "1", "--launcher", "env N={n} mpirun -n 1"])
        .env("OMPI_ALLOW_RUN_AS_ROOT", "1")
        .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("not 2 MPI ranks"), "{err}");
}

/// `C` from a `.npy` file.
fn npy_values(path: &std::path::Path) -> Vec<f64> {
    npyz::NpyFile::new(std::fs::File::open(path).unwrap()).unwrap().into_vec::<f64>().unwrap()
}

#[test]
fn matmul_on_mpi_equals_threads_for_every_strategy_and_grid() {
    let dir = std::env::temp_dir();
    let out = |what: &str| dir.join(format!("parsci-mpi-matmul-{}-{what}.npy", std::process::id()));
    let base = ["matmul", "37", "23", "29", "--panel", "4", "--json"];
    let reference = out("threads");
    let args: Vec<&str> = base.iter().copied().chain(["--output", reference.to_str().unwrap()]).collect();
    let want = result_of(&threads(1, &args), "matmul on 1 thread");
    let c_want = npy_values(&reference);
    let mut cases: Vec<(usize, Vec<&str>)> = Vec::new();
    for n in 1..=4 {
        for s in ["bcast-reduce", "scatter-gather", "summa"] {
            cases.push((n, vec!["--strategy", s]));
        }
    }
    for (n, procs) in [(4, "1x4"), (4, "2x2"), (3, "3x1")] {
        cases.push((n, vec!["--strategy", "summa", "--procs", procs]));
    }
    for (n, extra) in cases {
        let file = out(&format!("{n}-{}", extra.join("-")));
        let args: Vec<&str> =
            base.iter().copied().chain(extra.iter().copied()).chain(["--output", file.to_str().unwrap()]).collect();
        let what = format!("mpirun -n {n} parsci {}", args.join(" "));
        let run = mpirun(n, &args);
        let v: Value = serde_json::from_slice(&run.stdout).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!((v["backend"].as_str(), v["ranks"].as_u64()), (Some("mpi"), Some(n as u64)), "{what}");
        let got = result_of(&run, &what);
        for key in ["norm_a", "norm_b", "norm_c", "sum_c", "probe"] {
            let (x, y) = (got[key].as_f64().unwrap(), want[key].as_f64().unwrap());
            assert!((x - y).abs() <= 1e-12 * (1.0 + y.abs()) * 100.0, "{what}: {key} {x} vs {y}");
        }
        assert_eq!(got["one_process"].as_bool(), Some(n == 1), "{what}");
        let c = npy_values(&file);
        let err = c.iter().zip(&c_want).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max);
        assert!(c.len() == c_want.len() && err < 1e-12, "{what}: C differs by {err:e}");
        std::fs::remove_file(&file).unwrap();
    }
    std::fs::remove_file(&reference).unwrap();
    // A grid that does not match the job is refused, on every rank, before any work.
    let bad = mpirun(2, &["matmul", "10", "10", "10", "--procs", "2x2"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("the process grid 2x2 has 4 ranks but the job has 2"));
}

/// `train`'s loss history and final weights, from its JSON (times left out).
fn training(out: &Output, what: &str) -> (Value, Value) {
    let r = result_of(out, what);
    let history: Vec<Value> = r["epochs"].as_array().unwrap().iter().map(|e| e["loss"].clone()).collect();
    (Value::Array(history), r["weights_fingerprint"].clone())
}

#[test]
fn training_is_identical_on_both_backends_at_any_rank_count() {
    let base = ["train", "mlp", "--optimizer", "adam", "--samples", "600", "--epochs", "3", "--batch", "64", "--json"];
    let want = training(&threads(1, &base), "train mlp on 1 thread");
    for n in 1..=4 {
        let out = mpirun(n, &base);
        let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        assert_eq!((v["backend"].as_str(), v["ranks"].as_u64()), (Some("mpi"), Some(n as u64)), "mpirun -n {n}");
        assert_eq!(training(&out, &format!("train mlp under mpirun -n {n}")), want, "mpirun -n {n}");
    }
    let logreg = ["train", "logreg", "--samples", "3000", "--epochs", "2", "--json"];
    assert_eq!(training(&mpirun(3, &logreg), "train logreg, mpirun -n 3"), training(&threads(2, &logreg), "logreg"));
}

#[test]
fn fashion_mnist_training_is_identical_on_both_backends_at_any_rank_count() {
    use parsci_apps::train::idx;
    let dir = std::env::temp_dir().join(format!("parsci-mpi-fashion-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let data = idx::Dataset { train: idx::synthetic(300, 28, 28, 1), test: idx::synthetic(60, 28, 28, 2) };
    idx::write(&dir, &data).unwrap();
    let d = dir.to_str().unwrap();
    // The MLP, and the CNN (its 16 and 32 channels) on fewer images.
    let mlp = ["--samples", "300", "--hidden", "16,12"];
    let cnn = ["--samples", "96", "--hidden", "8", "--model", "cnn"];
    for (net, model) in [(&mlp[..], "mlp"), (&cnn[..], "cnn")] {
        let base = ["train", "fashion-mnist", "--data", d, "--epochs", "2"];
        let args: Vec<&str> =
            base.iter().chain(net).copied().chain(["--batch", "64", "--block", "8", "--json"]).collect();
        let want = training(&threads(1, &args), &format!("train fashion-mnist --model {model} on 1 thread"));
        for n in 1..=4 {
            let out = mpirun(n, &args);
            let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
            assert_eq!((v["backend"].as_str(), v["ranks"].as_u64()), (Some("mpi"), Some(n as u64)), "mpirun -n {n}");
            let what = format!("train fashion-mnist --model {model} under mpirun -n {n}");
            assert_eq!(training(&out, &what), want, "{what}");
            let test: Vec<Value> = result_of(&out, &what)["epochs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["test_accuracy"].clone())
                .collect();
            assert!(test.iter().all(Value::is_f64), "{what}: {test:?}");
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn training_stopped_under_mpi_resumes_at_another_rank_count_identically() {
    let ck = std::env::temp_dir().join(format!("parsci-mpi-train-{}.ckpt", std::process::id()));
    let c = ck.to_str().unwrap();
    let base = ["train", "mlp", "--optimizer", "adam", "--samples", "600", "--epochs", "4", "--batch", "64", "--json"];
    let want = training(&threads(2, &base), "train mlp on 2 threads");
    let stopped: Vec<&str> = base.iter().copied().chain(["--checkpoint", c, "--fail-at", "1:3"]).collect();
    assert!(!mpirun(2, &stopped).status.success());
    let resumed: Vec<&str> = base.iter().copied().chain(["--restart", c]).collect();
    assert_eq!(training(&mpirun(3, &resumed), "train mlp resumed under mpirun -n 3"), want);
    std::fs::remove_file(&ck).unwrap();
}

#[test]
fn a_failing_rank_stops_training_with_its_rank_named() {
    let start = std::time::Instant::now();
    let out =
        mpirun(3, &["train", "mlp", "--optimizer", "adam", "--samples", "600", "--epochs", "5", "--fail-at", "2:2"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("rank 2"), "{err}");
    assert!(start.elapsed() < std::time::Duration::from_secs(30));
}

/// L-BFGS's history (loss, gradient norm, evaluations per iteration) and final weights.
fn lbfgs_history(out: &Output, what: &str) -> (Value, Value) {
    let r = result_of(out, what);
    let its: Vec<Value> = r["lbfgs"]["iterations"]
        .as_array()
        .unwrap_or_else(|| panic!("{what}: no L-BFGS iterations"))
        .iter()
        .map(|i| Value::Array(vec![i["loss"].clone(), i["gradient_norm"].clone(), i["evaluations"].clone()]))
        .collect();
    (Value::Array(its), r["weights_fingerprint"].clone())
}

#[test]
fn lbfgs_training_is_identical_on_both_backends_at_any_rank_count() {
    let base = ["train", "mlp", "--samples", "500", "--iterations", "15", "--json"];
    let want = lbfgs_history(&threads(1, &base), "train mlp (L-BFGS) on 1 thread");
    assert_eq!(want.0.as_array().map(Vec::len), Some(15));
    for n in 1..=4 {
        let out = mpirun(n, &base);
        let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        assert_eq!((v["backend"].as_str(), v["ranks"].as_u64()), (Some("mpi"), Some(n as u64)), "mpirun -n {n}");
        assert_eq!(lbfgs_history(&out, &format!("L-BFGS under mpirun -n {n}")), want, "mpirun -n {n}");
    }
}

#[test]
fn a_rank_failing_inside_lbfgs_stops_the_job_with_its_rank_named() {
    let start = std::time::Instant::now();
    let out = mpirun(3, &["train", "mlp", "--samples", "600", "--iterations", "20", "--fail-at", "1:5"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("rank 1") && err.contains("evaluation 5"), "{err}");
    assert!(start.elapsed() < std::time::Duration::from_secs(30));
}
