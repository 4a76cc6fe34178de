//! Every program at several rank counts against its serial reference.

use parsci_apps::rootsum::{serial::root_sum, RootSum, MAX_M};
use parsci_apps::{bcast, hello::Hello, scatter_gather, sendrecv, squares, Error, Program};
use parsci_apps::{execute, tour};
use parsci_comm::{launch, Backend};

const SIZES: [usize; 5] = [1, 2, 3, 4, 7];

/// Runs `program` on `n` thread ranks and checks it against its serial reference.
fn run_and_check<P: Program>(program: &P, n: usize) -> P::Result {
    let run = execute(program, Backend::Threads(n)).unwrap_or_else(|e| panic!("{} on {n} ranks: {e}", P::NAME));
    assert_eq!((run.program, run.ranks, run.backend), (P::NAME, n, "threads"));
    if let Err(e) = program.check(&run.result, n) {
        panic!("{} on {n} ranks: {e}", P::NAME);
    }
    run.result
}

#[test]
fn hello_greets_from_every_rank() {
    for n in SIZES {
        let r = run_and_check(&Hello, n);
        assert_eq!(r.greetings.iter().map(|g| g.rank).collect::<Vec<_>>(), (0..n).collect::<Vec<_>>());
    }
}

#[test]
fn sendrecv_round_trip_at_two_or_more_ranks() {
    for n in SIZES.into_iter().filter(|&n| n >= 2) {
        let r = run_and_check(&sendrecv::SendRecv, n);
        assert_eq!(r.sent, sendrecv::serial::payload());
        assert_eq!(r.received, sendrecv::serial::payload());
        assert_eq!(r.reply, sendrecv::serial::expected_reply());
    }
}

#[test]
fn sendrecv_refuses_one_rank_before_any_work() {
    let err = execute(&sendrecv::SendRecv, Backend::Threads(1)).unwrap_err();
    assert_eq!(err, Error::TooFewRanks { program: "sendrecv", needed: 2, got: 1 });
    assert!(err.to_string().contains("needs at least 2 ranks"), "{err}");
}

#[test]
fn sendrecv_run_directly_on_one_rank_is_an_error_not_a_hang() {
    let err = launch(Backend::Threads(1), sendrecv::parallel::run).unwrap_err();
    assert!(err.to_string().contains("needs at least 2 ranks"), "{err}");
}

#[test]
fn bcast_reaches_every_rank() {
    for n in SIZES {
        let r = run_and_check(&bcast::Bcast, n);
        assert_eq!(r.received, vec![bcast::config(); n]);
    }
}

#[test]
fn scatter_gather_matches_the_serial_sums() {
    for n in SIZES {
        let r = run_and_check(&scatter_gather::ScatterGather, n);
        assert_eq!((r.sums, r.total), scatter_gather::serial::expected(n));
    }
    let r = run_and_check(&scatter_gather::ScatterGather, 4);
    assert_eq!((r.sums, r.total), (vec![1, 5, 9, 13], 28));
}

#[test]
fn squares_arrive_in_rank_order() {
    for n in SIZES {
        let r = run_and_check(&squares::Squares, n);
        assert_eq!(r.squares, squares::serial::expected(n));
        assert_eq!(
            r.squares.iter().map(|s| s.sq).collect::<Vec<_>>(),
            (1..n as i64).map(|r| r * r).collect::<Vec<_>>()
        );
    }
}

#[test]
fn rootsum_of_the_workshop_size() {
    let want = root_sum(1_234_567);
    assert_eq!(format!("{want:.3}"), "914494295.631");
    for n in SIZES {
        let r = run_and_check(&RootSum { m: 1_234_567 }, n);
        assert_eq!(format!("{:.3}", r.total), "914494295.631", "{n} ranks");
        assert!(((r.total - want) / want).abs() <= 1e-12, "{n} ranks: {} vs {want}", r.total);
        assert_eq!(r.partials.len(), n);
    }
}

#[test]
fn rootsum_agrees_across_rank_counts() {
    for m in [1, 2, 15, 16, 1023, 1024, 1025, 16_385, 100_003] {
        let totals: Vec<f64> = SIZES.iter().map(|&n| run_and_check(&RootSum { m }, n).total).collect();
        for (n, t) in SIZES.iter().zip(&totals) {
            assert!(((t - totals[0]) / totals[0]).abs() <= 1e-12, "M = {m}: {n} ranks gave {t}, 1 rank {}", totals[0]);
        }
    }
}

#[test]
fn rootsum_with_more_ranks_than_terms() {
    let r = run_and_check(&RootSum { m: 3 }, 7);
    assert_eq!(r.partials[3..], [0.0; 4]);
    assert!((r.total - (1.0 + 2f64.sqrt() + 3f64.sqrt())).abs() < 1e-15);
}

#[test]
fn rootsum_rejects_bad_sizes_before_any_work() {
    for m in [0, MAX_M + 1, u64::MAX] {
        let err = execute(&RootSum { m }, Backend::Threads(2)).unwrap_err();
        assert!(matches!(err, Error::InvalidInput { program: "rootsum", .. }), "{err:?}");
        assert!(err.to_string().contains("positive integer"), "{err}");
    }
}

#[test]
fn checks_catch_wrong_results() {
    let mut r = execute(&scatter_gather::ScatterGather, Backend::Threads(3)).unwrap().result;
    r.total += 1;
    assert!(scatter_gather::ScatterGather.check(&r, 3).is_err());

    let mut r = execute(&RootSum { m: 1000 }, Backend::Threads(2)).unwrap().result;
    r.total *= 1.0 + 1e-9;
    assert!(RootSum { m: 1000 }.check(&r, 2).unwrap_err().contains("relative difference"));

    let r = execute(&squares::Squares, Backend::Threads(3)).unwrap().result;
    assert!(squares::Squares.check(&r, 4).is_err());
}

#[test]
fn tour_passes_at_several_rank_counts() {
    for n in [1, 2, 3] {
        let mandelbrot = parsci_apps::mandelbrot::Mandelbrot { nr: 40, ni: 30, imax: 100, ..Default::default() };
        let params =
            tour::Tour { rootsum_sizes: vec![1_234_567, 50_000], mandelbrot, scaling: None, ..tour::Tour::default() };
        let run = tour::execute(&params, Backend::Threads(n)).unwrap();
        assert!(run.result.passed, "{}", run.text());
        assert_eq!(run.result.rows.len(), 18);
        let strategies: Vec<&str> = run
            .result
            .rows
            .iter()
            .filter(|r| r.program == "mandelbrot")
            .map(|r| r.result.split(' ').nth(1).unwrap())
            .collect();
        assert_eq!(strategies, ["cyclic:", "block:", "dynamic:", "reduce:"]);
        for program in ["taskfarm", "heat1d", "heat", "matmul", "train"] {
            assert!(run.result.rows.iter().any(|r| r.program == program && r.passed), "{program}");
        }
        let sendrecv = run.result.rows.iter().find(|r| r.program == "sendrecv").unwrap();
        assert_eq!(sendrecv.ranks, n.max(2));
        assert!(run.text().contains("All 18 checks passed."));
    }
}

#[test]
fn tour_rejects_bad_parameters() {
    assert!(
        tour::execute(&tour::Tour { rootsum_sizes: vec![0], ..tour::Tour::default() }, Backend::Threads(2)).is_err()
    );
    let bad = parsci_apps::mandelbrot::Mandelbrot { imax: 0, ..Default::default() };
    assert!(tour::execute(&tour::Tour { mandelbrot: bad, ..tour::Tour::default() }, Backend::Threads(2)).is_err());
    assert!(tour::execute(&tour::Tour::default(), Backend::Threads(0)).is_err());
}
