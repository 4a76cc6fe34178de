//! Communication traces on the thread backend: the file is valid Chrome trace-event JSON
//! (every slice closed, every flow paired, time ordered per track), holds what the
//! program did, stays bounded in memory (spilled), and its wait states are found.

mod trace_program;

use std::path::PathBuf;

use parsci_comm::trace::{Trace, WaitKind};
use parsci_comm::{launch_with, Backend, JobOptions};

fn temp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("parsci-trace-test-{}-{name}.json", std::process::id()))
}

fn read_valid(path: &PathBuf, ranks: usize) -> Trace {
    let text = std::fs::read_to_string(path).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    assert!(v["traceEvents"].is_array());
    let t = Trace::read(path).unwrap();
    assert!(t.problems.is_empty(), "{:#?}", t.problems);
    assert_eq!(t.ranks.len(), ranks);
    for r in &t.ranks {
        assert!(r.name.starts_with(&format!("rank {}", r.rank)), "{}", r.name);
    }
    t
}

#[test]
fn a_traced_program_gives_a_valid_trace_at_every_size() {
    for n in [1, 2, 3, 4, 7] {
        let path = temp(&format!("mixed-{n}"));
        let opts = JobOptions::default().with_trace(&path);
        launch_with(Backend::Threads(n), &opts, trace_program::mixed).unwrap();
        let t = read_valid(&path, n);
        // The calls are there, in order, with their phases.
        let r0: Vec<&str> = t.ranks[0].calls.iter().map(|c| c.op.as_str()).collect();
        let want = ["sendrecv", "irecv", "isend", "wait_all", "irecv", "isend", "wait", "wait", "allreduce", "bcast"];
        assert_eq!(&r0[..10], want, "{r0:?}");
        assert_eq!(t.ranks[0].calls[0].phase.as_deref(), Some("exchange"));
        assert!(t.ranks.iter().all(|r| r.phases.iter().filter(|p| p.name == "step").count() == 3));
        // Every message paired with its calls: 3 steps x 3 ring messages per rank, the
        // reports to rank 0, one object.
        let want = 9 * n + (n - 1) + usize::from(n > 1);
        assert_eq!(t.messages.len(), want, "n = {n}");
        assert!(t.messages.iter().all(|m| m.send_call.is_some() && m.recv_call.is_some()));
        // Collectives appear on every rank with the same instance numbers.
        for r in &t.ranks {
            let colls: Vec<(String, u64)> = r
                .calls
                .iter()
                .filter(|c| c.cat == "collective" && c.comm == 0)
                .map(|c| (c.op.clone(), c.seq))
                .collect();
            let first: Vec<(String, u64)> = t.ranks[0]
                .calls
                .iter()
                .filter(|c| c.cat == "collective" && c.comm == 0)
                .map(|c| (c.op.clone(), c.seq))
                .collect();
            assert_eq!(colls, first);
        }
        std::fs::remove_file(&path).unwrap();
    }
}

#[test]
fn a_late_sender_is_found_and_attributed() {
    for n in [2, 3] {
        let path = temp(&format!("late-{n}"));
        let opts = JobOptions::default().with_trace(&path);
        launch_with(Backend::Threads(n), &opts, trace_program::late_sender).unwrap();
        let t = read_valid(&path, n);
        let p = parsci_comm::trace::Profile::of(&t);
        let late: Vec<_> = p.waits.worst.iter().filter(|w| w.kind == WaitKind::LateSender).collect();
        assert_eq!(late.len(), 1, "{late:?}");
        let worst = late[0];
        assert_eq!((worst.rank, worst.waited_for), (0, 1), "{worst:?}");
        assert_eq!(worst.site, "recv in consume");
        assert!(worst.wait_us > 40_000.0, "{worst:?}");
        assert!(p.waits.per_rank[0][0] > 40_000.0 && p.waits.per_rank[1][0] == 0.0);
        let text = p.text(10);
        assert!(text.contains("late sender"), "{text}");
        std::fs::remove_file(&path).unwrap();
    }
}

#[test]
fn long_traces_spill_to_disk_and_come_back_whole() {
    let path = temp("long");
    let opts = JobOptions::default().with_trace(&path);
    let rounds = 20_000;
    launch_with(Backend::Threads(2), &opts, |comm| {
        let other = 1 - comm.rank();
        let mut x = [0u8];
        for _ in 0..rounds {
            comm.sendrecv(&[1u8], other, 0, &mut x, other, 0)?;
        }
        Ok::<_, parsci_comm::Error>(())
    })
    .unwrap();
    let t = read_valid(&path, 2);
    assert_eq!(t.messages.len(), 2 * rounds);
    assert_eq!(t.ranks[1].calls.len(), rounds);
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn an_unwritable_trace_is_a_clear_error() {
    let opts = JobOptions::default().with_trace("/nonexistent/dir/t.json");
    let err = launch_with(Backend::Threads(2), &opts, |comm| comm.barrier()).unwrap_err();
    assert!(err.to_string().contains("could not write /nonexistent/dir/t.json"), "{err}");
}

#[test]
fn untraced_jobs_record_nothing() {
    let out =
        launch_with(Backend::Threads(2), &JobOptions::default(), |comm| Ok::<_, parsci_comm::Error>(comm.is_tracing()));
    assert_eq!(out.unwrap().into_vec(), vec![false, false]);
}
