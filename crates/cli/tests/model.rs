//! `parsci model` end to end: predictions of heat, matmul and train to 4096 ranks from a
//! given network, the comparison with measured times, the plot, and bad input.

use std::process::{Command, Output};

fn parsci(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_parsci")).args(args).output().expect("the parsci binary runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

const NET: [&str; 4] = ["--latency", "1.5us", "--bandwidth", "12GB/s"];

#[test]
fn heat_is_predicted_to_4096_ranks_and_compared_with_measurements() {
    let d = std::env::temp_dir().join(format!("parsci-model-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    let (csv, png) = (d.join("m.csv"), d.join("m.png"));
    std::fs::write(&csv, "ranks,median_s\n1,0.4\n2,0.21\n4,0.12\n").unwrap();
    let mut args = vec!["model", "heat", "2000", "--steps", "100", "--measured", csv.to_str().unwrap()];
    args.extend(NET);
    args.extend(["--plot", png.to_str().unwrap()]);
    let o = parsci(&args);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    for want in ["strong scaling of heat 2000 x 2000, 100 steps", "4096", "64x64", "error: mean"] {
        assert!(out.contains(want), "{want:?} missing from:\n{out}");
    }
    // The one-rank rate comes from the measured 1-rank time: 4e8 updates in 0.4 s.
    assert!(out.contains("1.0000e9 cell updates/s"), "{out}");
    assert!(std::fs::read(&png).unwrap().starts_with(b"\x89PNG"));
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn matmul_and_train_are_predicted_with_a_given_rate() {
    let mut args = vec!["model", "matmul", "4000", "4000", "4000", "--rate", "1e10", "--weak", "--json"];
    args.extend(NET);
    let o = parsci(&args);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(v["weak"], true);
    assert_eq!(v["curves"][0]["points"].as_array().unwrap().len(), 13); // 1, 2, 4, ..., 4096

    let mut args = vec!["model", "train", "mlp", "--rate", "1e5", "--ranks", "1..64"];
    args.extend(NET);
    let o = parsci(&args);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(out.contains("## ring allreduce") && out.contains("## tree allreduce"), "{out}");
}

#[test]
fn the_lesson_strategies_and_shared_hosts_are_predicted() {
    for strategy in ["bcast-reduce", "scatter-gather"] {
        let mut args = vec![
            "model",
            "matmul",
            "1000",
            "1000",
            "1000",
            "--strategy",
            strategy,
            "--rate",
            "1e10",
            "--ranks",
            "1,2,4",
        ];
        args.extend(NET);
        let o = parsci(&args);
        assert!(o.status.success(), "{}", text(&o.stderr));
        let out = text(&o.stdout);
        assert!(out.contains(&format!("({strategy})")) && out.contains("1x4"), "{out}");
    }
    // 4 ranks on one host of 2 cores compute at half the rate: twice the 2-rank compute
    // time; on 4 hosts (or by default, a core per rank) half of it.
    let compute_at_4 = |extra: &[&str]| -> f64 {
        let mut args = vec!["model", "heat", "1000", "--steps", "10", "--rate", "1e9", "--ranks", "1,2,4", "--json"];
        args.extend(NET);
        args.extend(extra);
        let o = parsci(&args);
        assert!(o.status.success(), "{}", text(&o.stderr));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
        v["curves"][0]["points"][2]["compute_s"].as_f64().unwrap()
    };
    let shared = compute_at_4(&["--cores", "2", "--hosts", "1"]);
    let apart = compute_at_4(&["--cores", "2", "--hosts", "4"]);
    assert!((shared / apart - 2.0).abs() < 1e-9, "{shared} {apart}");
    assert!((compute_at_4(&["--cores", "2"]) / apart - 1.0).abs() < 1e-9);
}

#[test]
fn bad_input_is_refused() {
    for (args, want) in [
        (vec!["model", "heat", "100", "--latency", "fast", "--bandwidth", "1GB/s"], "latency 'fast'"),
        (vec!["model", "heat", "100", "--latency", "1us", "--bandwidth", "12"], "bandwidth '12'"),
        (vec!["model", "heat", "100", "--rate", "1e9"], "give the network"),
        (
            vec!["model", "heat", "100", "--rate", "1", "--latency", "1us", "--bandwidth", "1GB/s", "--hosts", "0"],
            "--hosts",
        ),
        (vec!["model", "heat", "100", "--bench", "/nonexistent.json", "--rate", "1"], "cannot read /nonexistent.json"),
    ] {
        let o = parsci(&args);
        assert!(!o.status.success(), "{args:?} succeeded");
        assert!(text(&o.stderr).contains(want), "{args:?}: {}", text(&o.stderr));
    }
}
