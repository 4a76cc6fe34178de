//! Traces under a real `mpirun`: the same program traced on threads and as MPI
//! processes gives the same structure (the same calls in the same order on every rank,
//! every message paired with its receive), a valid file with the clocks' error recorded,
//! and the late sender found on the right rank and call.
//!
//! `harness = false`: started by `cargo test`, this binary is the driver; it starts
//! itself under `mpirun -n N` with `PARSCI_TRACE_SCENARIO` set, and each job asserts
//! the world size.

mod trace_program;

use std::path::{Path, PathBuf};
use std::process::Command;

use parsci_comm::trace::{Profile, Trace, WaitKind};
use parsci_comm::{launch_with, Backend, JobOptions};

const SCENARIO: &str = "PARSCI_TRACE_SCENARIO";
const SIZE: &str = "PARSCI_TRACE_EXPECT_SIZE";
const OUT: &str = "PARSCI_TRACE_OUT";

fn main() {
    match std::env::var(SCENARIO) {
        Ok(s) => rank_main(&s),
        Err(_) => driver(),
    }
}

fn rank_main(scenario: &str) {
    let want: usize = std::env::var(SIZE).ok().and_then(|s| s.parse().ok()).expect("the driver sets the size");
    let size = Backend::Mpi.ranks();
    if size != want {
        eprintln!("world size is {size}, expected {want}: started by another MPI's launcher?");
        std::process::exit(2);
    }
    let opts = JobOptions::default().with_trace(std::env::var(OUT).expect("the driver sets the file"));
    let out = match scenario {
        "mixed" => launch_with(Backend::Mpi, &opts, trace_program::mixed).map(|_| ()),
        "late" => launch_with(Backend::Mpi, &opts, trace_program::late_sender).map(|_| ()),
        other => panic!("unknown scenario {other}"),
    };
    if let Err(e) = out {
        eprintln!("{e}");
        std::process::exit(1);
    }
}

fn temp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("parsci-trace-mpi-{}-{name}.json", std::process::id()))
}

fn mpirun(n: usize, scenario: &str, out: &Path) {
    let launcher = std::env::var("PARSCI_MPIRUN").unwrap_or_else(|_| "mpirun".into());
    let job = Command::new(launcher)
        .args(["-n", &n.to_string(), "--oversubscribe"])
        .arg(std::env::current_exe().unwrap())
        .env(SCENARIO, scenario)
        .env(SIZE, n.to_string())
        .env(OUT, out)
        .env("OMPI_ALLOW_RUN_AS_ROOT", "1")
        .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
        .env("OMPI_MCA_rmaps_base_oversubscribe", "1")
        .output()
        .expect("start mpirun (install openmpi-bin)");
    assert!(
        job.status.success(),
        "mpirun -n {n} {scenario} failed:\n{}\n{}",
        String::from_utf8_lossy(&job.stdout),
        String::from_utf8_lossy(&job.stderr)
    );
}

fn valid(path: &Path, n: usize) -> Trace {
    let t = Trace::read(path).unwrap();
    assert!(t.problems.is_empty(), "{}: {:#?}", path.display(), t.problems);
    assert_eq!(t.ranks.len(), n);
    t
}

fn driver() {
    for n in [1, 2, 3, 4] {
        let (on_mpi, on_threads) = (temp(&format!("mpi-{n}")), temp(&format!("threads-{n}")));
        mpirun(n, "mixed", &on_mpi);
        let opts = JobOptions::default().with_trace(&on_threads);
        launch_with(Backend::Threads(n), &opts, trace_program::mixed).unwrap();
        let (m, t) = (valid(&on_mpi, n), valid(&on_threads, n));
        assert_eq!(m.backend, "mpi");
        assert_eq!(t.backend, "threads");
        assert_eq!(m.structure(), t.structure(), "the calls of mpirun -n {n} and {n} threads differ");
        let pairs = |t: &Trace| t.messages.iter().map(|m| (m.src, m.dst, m.tag, m.seq, m.bytes)).collect::<Vec<_>>();
        assert_eq!(pairs(&m), pairs(&t), "the messages of mpirun -n {n} and {n} threads differ");
        assert!(m.messages.iter().all(|m| m.send_call.is_some() && m.recv_call.is_some()));
        let text = std::fs::read_to_string(&on_mpi).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let err = v["otherData"]["clock"]["error_us"].as_f64().expect("the clocks' error is recorded");
        assert!((0.0..10_000.0).contains(&err), "clock error {err} us");
        println!(
            "ok: mpirun -n {n} traces as {n} threads do ({} calls, {} messages; clocks +-{err:.1} us)",
            m.ranks.iter().map(|r| r.calls.len()).sum::<usize>(),
            m.messages.len()
        );
        let _ = std::fs::remove_file(on_mpi);
        let _ = std::fs::remove_file(on_threads);
    }
    for n in [2, 3] {
        let path = temp(&format!("late-{n}"));
        mpirun(n, "late", &path);
        let p = Profile::of(&valid(&path, n));
        let late: Vec<_> = p.waits.worst.iter().filter(|w| w.kind == WaitKind::LateSender).collect();
        assert_eq!(late.len(), 1, "{:?}", p.waits.worst);
        assert_eq!((late[0].rank, late[0].waited_for, late[0].site.as_str()), (0, 1, "recv in consume"));
        assert!(late[0].wait_us > 40_000.0, "{:?}", late[0]);
        println!(
            "ok: mpirun -n {n}: the late sender found ({:.1} ms on rank 0 in recv in consume)",
            late[0].wait_us / 1e3
        );
        let _ = std::fs::remove_file(path);
    }
}
