//! What the programs print, at several rank counts: deterministic, rank 0's lines in rank order.

use parsci_apps::{bcast::Bcast, hello::Hello, rootsum::RootSum, scatter_gather::ScatterGather};
use parsci_apps::{execute, sendrecv::SendRecv, squares::Squares, Program};
use parsci_comm::Backend;

/// The printed lines without the final `Done in X s` (which must be there).
fn lines<P: Program>(program: &P, n: usize) -> Vec<String> {
    let run = execute(program, Backend::Threads(n)).unwrap();
    let mut lines = run.lines.clone();
    let done = lines.pop().unwrap();
    assert!(done.starts_with("Done in ") && done.ends_with(" s"), "{done}");
    assert_eq!(run.text(), run.lines.iter().map(|l| format!("{l}\n")).collect::<String>());
    lines
}

#[test]
fn scatter_gather_at_four_ranks() {
    assert_eq!(
        lines(&ScatterGather, 4),
        [
            "[Rank 0/4] Scattering [0, 1, 2, 3, 4, 5, 6, 7] in chunks of 2",
            "[Rank 0/4] Received chunk [0, 1], local sum = 1",
            "[Rank 1/4] Received chunk [2, 3], local sum = 5",
            "[Rank 2/4] Received chunk [4, 5], local sum = 9",
            "[Rank 3/4] Received chunk [6, 7], local sum = 13",
            "[Rank 0/4] Gathered sums: [1, 5, 9, 13]",
            "[Rank 0/4] Total: 28",
        ]
    );
}

#[test]
fn scatter_gather_at_one_and_seven_ranks() {
    let one = lines(&ScatterGather, 1);
    assert_eq!(one[2..], ["[Rank 0/1] Gathered sums: [1]", "[Rank 0/1] Total: 1"]);
    let seven = lines(&ScatterGather, 7);
    assert_eq!(seven.len(), 1 + 7 + 2);
    assert_eq!(seven[7], "[Rank 6/7] Received chunk [12, 13], local sum = 25");
    assert_eq!(seven[9], "[Rank 0/7] Total: 91");
}

#[test]
fn squares_lines() {
    assert_eq!(
        lines(&Squares, 4),
        ["Received from process 1 : sq = 1", "Received from process 2 : sq = 4", "Received from process 3 : sq = 9"]
    );
    assert_eq!(lines(&Squares, 7).last().unwrap(), "Received from process 6 : sq = 36");
    assert_eq!(lines(&Squares, 1), ["[Rank 0/1] No other process to receive from"]);
}

#[test]
fn hello_lines_in_rank_order() {
    for n in [1, 3, 7] {
        let l = lines(&Hello, n);
        assert_eq!(l.len(), n + 1);
        assert!(l[0].starts_with(&format!("[Rank 0/{n}] Hello from ")) && l[0].ends_with('.'), "{}", l[0]);
        assert_eq!(l[1], format!("[Rank 0/{n}] I am the root process."));
        for r in 1..n {
            assert!(l[r + 1].starts_with(&format!("[Rank {r}/{n}] Hello from ")), "{}", l[r + 1]);
        }
    }
}

#[test]
fn sendrecv_lines() {
    assert_eq!(
        lines(&SendRecv, 3),
        [
            "[Rank 0/3] Sent {data: [1, 2, 3], sender: 0} to rank 1 with tag 11",
            "[Rank 0/3] Received reply {status: \"ok\", receiver: 1} from rank 1 with tag 22",
            "[Rank 1/3] Received {data: [1, 2, 3], sender: 0} from rank 0 with tag 11",
            "[Rank 1/3] Sent reply {status: \"ok\", receiver: 1} to rank 0 with tag 22",
            "[Rank 2/3] Idle: nothing to send or receive, waiting at the barrier",
            "[Rank 0/3] Every rank passed the barrier",
        ]
    );
    assert_eq!(lines(&SendRecv, 2).len(), 5);
}

#[test]
fn sendrecv_error_at_one_rank() {
    let err = execute(&SendRecv, Backend::Threads(1)).unwrap_err().to_string();
    assert_eq!(err, "sendrecv needs at least 2 ranks but the job has 1; run it with more ranks (e.g. --ranks 2)");
}

#[test]
fn bcast_lines() {
    let config = r#"{timestep: 0.05, iterations: 3, description: "demo broadcast"}"#;
    let l = lines(&Bcast, 2);
    assert_eq!(
        l,
        [
            format!("[Rank 0/2] Broadcasting {config}"),
            format!("[Rank 0/2] Received {config}"),
            format!("[Rank 1/2] Received {config}"),
        ]
    );
}

#[test]
fn rootsum_lines() {
    for n in [1, 2, 4] {
        let l = lines(&RootSum { m: 1_234_567 }, n);
        assert_eq!(l.len(), n + 2);
        for (r, line) in l[..n].iter().enumerate() {
            assert!(line.starts_with(&format!("[Rank {r}/{n}] partial sum = ")), "{line}");
        }
        assert_eq!(l[n], "Sum of sqrt(i) for i = 1..1234567 = 914494295.631");
        assert!(l[n + 1].starts_with("Time: "), "{}", l[n + 1]);
    }
}

#[test]
fn output_is_the_same_on_every_run() {
    for _ in 0..5 {
        assert_eq!(lines(&ScatterGather, 7), lines(&ScatterGather, 7));
        assert_eq!(lines(&Bcast, 4), lines(&Bcast, 4));
    }
}
