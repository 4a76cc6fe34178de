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
    fails_with(&["no-such-program"], "unrecognized subcommand");
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
    for program in ["hello", "sendrecv", "bcast", "scatter-gather", "squares", "rootsum"] {
        assert!(out.lines().any(|l| l.starts_with(program) && l.contains("passed")), "{program} missing:\n{out}");
    }
    assert!(out.contains("M = 1234567: sum = 914494295.631"), "{out}");
    assert!(out.contains("All 7 checks passed."), "{out}");
}

#[test]
fn tour_json() {
    let o = parsci(&["tour", "--ranks", "1", "--large-m", "5000", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["program"], "tour");
    assert_eq!(v["result"]["passed"], true);
    let rows = v["result"]["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 7);
    assert!(rows.iter().all(|r| r["passed"] == true));
    assert_eq!(rows[1]["program"], "sendrecv");
    assert_eq!(rows[1]["ranks"], 2, "sendrecv runs on at least 2 ranks");
}

#[test]
fn help_lists_every_program() {
    let out = stdout(&parsci(&["--help"]));
    for program in ["hello", "sendrecv", "bcast", "scatter-gather", "squares", "rootsum", "tour", "bench"] {
        assert!(out.contains(program), "{program} missing from --help:\n{out}");
    }
    assert!(out.contains("--ranks") && out.contains("--backend") && out.contains("--json"));
}
