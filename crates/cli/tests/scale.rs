//! `parsci scale` and `parsci amdahl` end to end: a small rootsum study at 1 and 2 ranks
//! writing CSV, JSON and plots, the laws' table, and bad input.

use std::path::PathBuf;
use std::process::{Command, Output};

fn parsci(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_parsci")).args(args).output().expect("the parsci binary runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A fresh temporary directory for one test.
fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("parsci-scale-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A PNG: the signature, an IHDR first and an IEND last.
fn assert_png(bytes: &[u8]) {
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "no PNG signature");
    assert_eq!(&bytes[12..16], b"IHDR");
    let w = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let h = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
    assert!(w >= 800 && h >= 400, "{w} x {h}");
    assert_eq!(&bytes[bytes.len() - 8..bytes.len() - 4], b"IEND");
}

#[test]
fn a_rootsum_study_at_one_and_two_ranks_writes_csv_json_and_plots() {
    let d = scratch("study");
    let (csv, png, svg) = (d.join("s.csv"), d.join("s.png"), d.join("s.svg"));
    let o = parsci(&[
        "scale",
        "rootsum",
        "200000",
        "--ranks",
        "1,2",
        "--repeat",
        "2",
        "--csv",
        csv.to_str().unwrap(),
        "--plot",
        png.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    for want in
        ["Scaling study (strong) of `rootsum 200000` on the threads backend", "Karp-Flatt", "Amdahl fit", "same"]
    {
        assert!(out.contains(want), "{want:?} missing from:\n{out}");
    }
    assert!(out.contains("Predicted speedup:") && out.contains("at 1024"), "{out}");
    let csv = std::fs::read_to_string(&csv).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(lines[0].starts_with("ranks,runs,median_s,min_s,max_s,comm_s,compute_s,speedup,efficiency,karp_flatt"));
    assert!(lines[1].starts_with("1,2,") && lines[2].starts_with("2,2,"), "{csv}");
    assert_png(&std::fs::read(&png).unwrap());

    let o = parsci(&[
        "scale",
        "rootsum",
        "200000",
        "--ranks",
        "1,2",
        "--repeat",
        "1",
        "--json",
        "--plot",
        svg.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(o.stderr.is_empty(), "--json is quiet: {}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("one JSON object");
    assert_eq!(v["setup"]["program"], "rootsum");
    assert_eq!(v["setup"]["backend"], "threads");
    assert_eq!(v["results_agree"], true);
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["ranks"], 1);
    assert_eq!(rows[0]["speedup"], 1.0);
    assert!(rows[1]["comm_s"].as_f64().unwrap() >= 0.0 && rows[1]["karp_flatt"].is_number());
    assert!(v["amdahl"]["serial_fraction"].is_number());
    assert_eq!(v["predictions"].as_array().unwrap().len(), 3);
    let svg = std::fs::read_to_string(&svg).unwrap();
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    for want in
        ["ranks p", "speedup T(1) / T(p)", "efficiency S / p", "ideal (S = p)", "Amdahl fit", "measured (median)"]
    {
        assert!(svg.contains(want), "the SVG lacks {want:?}");
    }
    assert_eq!(svg.matches("<svg").count(), 1);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn weak_scaling_reports_the_scaled_speedup() {
    let o = parsci(&["scale", "rootsum", "100000", "--ranks", "1,2", "--repeat", "1", "--weak"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(out.contains("Scaling study (weak)") && out.contains("M grows as p * M"), "{out}");
    assert!(out.contains("scaled speedup") && out.contains("Gustafson fit"), "{out}");
}

#[test]
fn oversubscribed_rank_counts_are_marked_and_left_out_of_the_fit() {
    let o = parsci(&["scale", "rootsum", "10000", "--ranks", "1,64", "--repeat", "1"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(out.contains("oversubscribed, not fitted"), "{out}");
    assert!(out.contains("no Amdahl fit"), "{out}");
}

#[test]
fn amdahl_prints_the_laws_and_fits_measured_times() {
    let d = scratch("amdahl");
    let o = parsci(&[
        "amdahl",
        "--serial-fraction",
        "0.05",
        "--ranks",
        "1..1024",
        "--plot",
        d.join("a.png").to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(out.contains("no more than 1/f = 20 ranks pay off"), "{out}");
    assert!(out.lines().any(|l| l.trim_start().starts_with("1024") && l.contains("19.64")), "{out}");
    assert_png(&std::fs::read(d.join("a.png")).unwrap());

    let times = d.join("times.csv");
    std::fs::write(&times, "ranks,time_s\n1,10.0\n2,5.5\n4,3.25\n").unwrap();
    let o = parsci(&["amdahl", "--times", times.to_str().unwrap(), "--json"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!((v["serial_fraction"].as_f64().unwrap() - 0.1).abs() < 1e-9, "{v}");
    let _ = std::fs::remove_dir_all(&d);
}

/// Asserts a clean failure: non-zero exit, `message` on stderr, no panic, nothing on stdout.
fn fails_with(args: &[&str], message: &str) {
    let o = parsci(args);
    let err = text(&o.stderr);
    assert!(!o.status.success(), "{args:?} succeeded");
    assert!(err.contains(message), "{args:?}: stderr {err:?} lacks {message:?}");
    assert!(!err.contains("panicked"), "{args:?} panicked: {err}");
    assert!(o.stdout.is_empty(), "{args:?} printed {:?}", text(&o.stdout));
}

#[test]
fn bad_input_gets_a_clear_error() {
    fails_with(&["scale", "rootsum", "1000", "--ranks", ""], "give at least one rank count");
    fails_with(&["scale", "rootsum", "1000", "--ranks", "0,1"], "the number of ranks must be at least 1");
    fails_with(&["scale", "rootsum", "1000", "--ranks", "1,2", "--repeat", "0"], "--repeat must be at least 1");
    fails_with(&["scale", "rootsum", "1000", "--ranks", "1,1"], "rank count 1 is given twice");
    fails_with(&["scale", "no-such-program"], "unrecognized subcommand 'no-such-program'");
    fails_with(&["scale", "rootsum", "0"], "M must be a positive integer");
    fails_with(&["scale", "rootsum", "1000", "--plot", "x.gif"], "must end in .png or .svg");
    fails_with(&["scale", "rootsum", "1000", "--launcher", "mpirun -n 2"], "{n} for the rank count");
    fails_with(&["scale", "rootsum", "1000", "--backend", "mpi"], "needs --launcher");
    fails_with(&["rootsum", "1000", "--ranks", "1,2"], "a program runs at one rank count");
    fails_with(&["amdahl", "--serial-fraction", "1.5"], "from 0 to 1");
    fails_with(&["amdahl", "--times", "/no/such/file.csv"], "cannot read /no/such/file.csv");
}

#[test]
fn a_heat_study_agrees_bit_for_bit_and_refuses_file_options() {
    let o = parsci(&["scale", "heat", "40", "30", "--steps", "30", "--ranks", "1,2,3", "--repeat", "1", "--json"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("one JSON study");
    assert_eq!(v["results_agree"], serde_json::Value::Bool(true), "{v}");
    let o = parsci(&["scale", "heat", "40", "--steps", "10", "--ranks", "1,2", "--weak", "--repeat", "1"]);
    assert!(o.status.success() && text(&o.stdout).contains("NY grow"), "{}", text(&o.stderr));
    let o = parsci(&["scale", "mandelbrot", "40", "30", "-1.5", "0.5", "-1", "1", "50", "--output", "m.png"]);
    assert!(!o.status.success() && text(&o.stderr).contains("leave out --output"), "{}", text(&o.stderr));
    for extra in [["--output", "f.npy"], ["--procs", "1x2"], ["--checkpoint", "c"], ["--snapshots", "d"]] {
        let args: Vec<&str> = ["scale", "heat", "40", "--ranks", "1,2"].into_iter().chain(extra).collect();
        let o = parsci(&args);
        assert!(!o.status.success() && text(&o.stderr).contains("leave out"), "{extra:?}: {}", text(&o.stderr));
    }
}
