//! `parsci --trace FILE.json` and `parsci trace FILE.json` (issue 18): a traced program
//! writes a valid trace, whose profile, wait states and timeline the `trace` command gives.

use std::path::PathBuf;
use std::process::{Command, Output};

fn parsci(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_parsci")).args(args).output().expect("the parsci binary runs")
}

fn ok(o: &Output) -> String {
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(o.status.success(), "{out}\n{}", String::from_utf8_lossy(&o.stderr));
    out
}

fn temp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("parsci-cli-trace-{}-{name}", std::process::id()))
}

#[test]
fn every_program_can_be_traced_and_read() {
    let programs: &[&[&str]] = &[
        &["heat", "60", "40", "--steps", "20"],
        &["mandelbrot", "64", "48", "-1.5", "0.5", "-1", "1", "100", "--strategy", "dynamic"],
        &["matmul", "--strategy", "summa"],
        &["train", "logreg", "--epochs", "1", "--samples", "4000"],
        &["rootsum", "10000"],
    ];
    for args in programs {
        let file = temp(&format!("{}.json", args[0]));
        let f = file.to_str().unwrap();
        let o = parsci(&[*args, &["--ranks", "3", "--trace", f][..]].concat());
        ok(&o);
        assert!(String::from_utf8_lossy(&o.stderr).contains(&format!("trace written to {f}")));
        let report = ok(&parsci(&["trace", f]));
        assert!(
            report.contains("3 ranks") && report.contains("Time per rank") && report.contains("Wait states"),
            "{report}"
        );
        assert!(!report.contains("warning:"), "{args:?}: {report}");
        std::fs::remove_file(&file).unwrap();
    }
}

#[test]
fn programs_mark_their_phases() {
    let file = temp("phases.json");
    let f = file.to_str().unwrap();
    ok(&parsci(&["heat", "60", "40", "--steps", "5", "--ranks", "2", "--trace", f]));
    let text = std::fs::read_to_string(&file).unwrap();
    for phase in ["\"exchange\"", "\"interior\"", "\"boundary\""] {
        assert!(text.contains(phase), "heat lacks the phase {phase}");
    }
    ok(&parsci(&["train", "mlp", "--iterations", "2", "--samples", "500", "--ranks", "2", "--trace", f]));
    let text = std::fs::read_to_string(&file).unwrap();
    for phase in ["\"forward\"", "\"backward\"", "\"allreduce\""] {
        assert!(text.contains(phase), "train lacks the phase {phase}");
    }
    std::fs::remove_file(&file).unwrap();
}

#[test]
fn the_timeline_is_a_png_and_can_be_zoomed() {
    let (file, png) = (temp("timeline.json"), temp("timeline.png"));
    let (f, p) = (file.to_str().unwrap(), png.to_str().unwrap());
    ok(&parsci(&["heat", "80", "80", "--steps", "30", "--ranks", "4", "--trace", f]));
    ok(&parsci(&["trace", f, "--png", p, "--from", "0.5", "--to", "3"]));
    assert!(std::fs::read(&png).unwrap().starts_with(b"\x89PNG"));
    let json = ok(&parsci(&["trace", f, "--json"]));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["ranks"].as_array().unwrap().len(), 4);
    assert_eq!(v["matrix_bytes"].as_array().unwrap().len(), 4);
    for window in [&["--from", "1e9"][..], &["--from", "1e9", "--to", "2e9"][..]] {
        let bad = parsci(&[&["trace", f, "--png", p][..], window].concat());
        assert!(!bad.status.success() && String::from_utf8_lossy(&bad.stderr).contains("window"), "{window:?}");
    }
    std::fs::remove_file(&file).unwrap();
    std::fs::remove_file(&png).unwrap();
}

#[test]
fn a_missing_or_damaged_trace_is_a_clear_error() {
    let o = parsci(&["trace", "/nonexistent/t.json"]);
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("could not open /nonexistent/t.json"));
    let file = temp("damaged.json");
    std::fs::write(&file, "{\"traceEvents\":[{\"ph\":").unwrap();
    let o = parsci(&["trace", file.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("not a Chrome trace-event JSON file") && !err.contains("panicked"),
        "{err}"
    );
    std::fs::remove_file(&file).unwrap();
}
