//! Property tests: collectives on random data and random rank counts (1 to 7) against a
//! serial computation of the same thing.

mod common;

use std::sync::Arc;
use std::time::Duration;

use parsci_comm::{launch, Backend, Comm, Layout, Op};
use proptest::collection::vec;
use proptest::prelude::*;

const GUARD: Duration = Duration::from_secs(20);

/// Runs `f` on `p` thread ranks (under the hang guard) and returns every rank's result.
fn run<R, F>(p: usize, f: F) -> Vec<R>
where
    R: Send + 'static,
    F: Fn(&Comm) -> parsci_comm::Result<R> + Send + Sync + 'static,
{
    let out = common::with_timeout(GUARD, &format!("job of {p} ranks"), move || launch(Backend::Threads(p), f));
    out.unwrap_or_else(|e| panic!("job of {p} ranks failed: {e}")).into_vec()
}

/// One vector of length `n` per rank, for 1 to 7 ranks.
fn per_rank<T: std::fmt::Debug + Clone>(
    elem: impl Strategy<Value = T> + Clone,
    max_len: usize,
) -> impl Strategy<Value = Vec<Vec<T>>> {
    (1usize..=7, 0..=max_len).prop_flat_map(move |(p, n)| vec(vec(elem.clone(), n), p))
}

/// A vector of any length (up to `max_len`) per rank, for 1 to 7 ranks.
fn ragged<T: std::fmt::Debug + Clone>(
    elem: impl Strategy<Value = T> + Clone,
    max_len: usize,
) -> impl Strategy<Value = Vec<Vec<T>>> {
    (1usize..=7).prop_flat_map(move |p| vec(vec(elem.clone(), 0..=max_len), p))
}

/// The built-in op `k` and its serial definition (integers wrap, as the library's do).
fn int_op(k: u8) -> (Op<i64>, fn(i64, i64) -> i64) {
    match k % 4 {
        0 => (Op::sum(), i64::wrapping_add),
        1 => (Op::prod(), i64::wrapping_mul),
        2 => (Op::min(), std::cmp::min),
        _ => (Op::max(), std::cmp::max),
    }
}

/// The elementwise fold of `data[..upto]` in rank order.
fn fold(data: &[Vec<i64>], upto: usize, f: fn(i64, i64) -> i64) -> Vec<i64> {
    let mut acc = data[0].clone();
    for v in &data[1..upto] {
        for (a, x) in acc.iter_mut().zip(v) {
            *a = f(*a, *x);
        }
    }
    acc
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn allreduce_matches_serial(data in per_rank(-1000i64..1000, 300), k in 0u8..4) {
        let p = data.len();
        let want = fold(&data, p, int_op(k).1);
        let data = Arc::new(data);
        let got = run(p, move |comm| {
            let mut out = vec![0i64; data[0].len()];
            comm.allreduce(&data[comm.rank()], &mut out, &int_op(k).0)?;
            Ok(out)
        });
        for (r, g) in got.iter().enumerate() {
            prop_assert_eq!(g, &want, "rank {} of {}, op {}", r, p, k);
        }
    }

    #[test]
    fn reduce_matches_serial(data in per_rank(-50i64..50, 300), k in 0u8..4, root_pick in any::<prop::sample::Index>()) {
        let p = data.len();
        let root = root_pick.index(p);
        let want = fold(&data, p, int_op(k).1);
        let data = Arc::new(data);
        let got = run(p, move |comm| {
            let mut out = vec![0i64; data[0].len()];
            let me = comm.rank();
            comm.reduce(&data[me], (me == root).then_some(&mut out[..]), &int_op(k).0, root)?;
            Ok(out)
        });
        prop_assert_eq!(&got[root], &want);
    }

    #[test]
    fn scan_and_exscan_match_serial(data in per_rank(-1000i64..1000, 100), k in 0u8..4) {
        let p = data.len();
        let n = data[0].len();
        let f = int_op(k).1;
        let data2 = Arc::new(data.clone());
        let got = run(p, move |comm| {
            let me = comm.rank();
            let mut inc = vec![0i64; n];
            let mut exc = vec![-7i64; n];
            comm.scan(&data2[me], &mut inc, &int_op(k).0)?;
            comm.exscan(&data2[me], &mut exc, &int_op(k).0)?;
            Ok((inc, exc))
        });
        for (r, (inc, exc)) in got.iter().enumerate() {
            prop_assert_eq!(inc, &fold(&data, r + 1, f), "scan on rank {}", r);
            let want_exc = if r == 0 { vec![-7; n] } else { fold(&data, r, f) };
            prop_assert_eq!(exc, &want_exc, "exscan on rank {}", r);
        }
    }

    #[test]
    fn allreduce_f64_sum_is_close_to_serial_and_identical_everywhere(data in per_rank(-1e6f64..1e6, 200)) {
        let p = data.len();
        let n = data[0].len();
        let serial: Vec<f64> = (0..n).map(|i| data.iter().map(|v| v[i]).sum()).collect();
        let scale: Vec<f64> = (0..n).map(|i| data.iter().map(|v| v[i].abs()).sum::<f64>()).collect();
        let data = Arc::new(data);
        let got = run(p, move |comm| {
            let mut out = vec![0.0; n];
            comm.allreduce(&data[comm.rank()], &mut out, &Op::sum())?;
            Ok(out)
        });
        for i in 0..n {
            prop_assert!((got[0][i] - serial[i]).abs() <= 1e-12 * scale[i] + 1e-300, "element {}: {} vs {}", i, got[0][i], serial[i]);
        }
        for (r, g) in got.iter().enumerate() {
            let same_bits = g.iter().zip(&got[0]).all(|(a, b)| a.to_bits() == b.to_bits());
            prop_assert!(same_bits, "rank {} differs from rank 0", r);
        }
    }

    #[test]
    fn allgatherv_matches_serial(data in ragged(any::<i32>(), 40)) {
        let p = data.len();
        let want: Vec<i32> = data.concat();
        let data = Arc::new(data);
        let got = run(p, move |comm| {
            let counts: Vec<usize> = data.iter().map(Vec::len).collect();
            let layout = Layout::from_counts(&counts);
            let mut out = vec![0i32; layout.extent()];
            comm.allgatherv(&data[comm.rank()], &mut out, &layout)?;
            Ok(out)
        });
        for (r, g) in got.iter().enumerate() {
            prop_assert_eq!(g, &want, "rank {}", r);
        }
    }

    #[test]
    fn scatterv_and_gatherv_match_serial(data in ragged(any::<u16>(), 40), root_pick in any::<prop::sample::Index>()) {
        let p = data.len();
        let root = root_pick.index(p);
        let data2 = Arc::new(data.clone());
        let got = run(p, move |comm| {
            let me = comm.rank();
            let counts: Vec<usize> = data2.iter().map(Vec::len).collect();
            let layout = Layout::from_counts(&counts);
            let flat = data2.concat();
            let mut mine = vec![0u16; counts[me]];
            comm.scatterv((me == root).then_some((&flat[..], &layout)), &mut mine, root)?;
            let mut back = vec![0u16; layout.extent()];
            comm.gatherv(&mine, (me == root).then_some((&mut back[..], &layout)), root)?;
            Ok((mine, back))
        });
        for (r, (mine, _)) in got.iter().enumerate() {
            prop_assert_eq!(mine, &data[r], "scatterv block of rank {}", r);
        }
        prop_assert_eq!(&got[root].1, &data.concat(), "gatherv at the root");
    }

    #[test]
    fn alltoallv_matches_serial((p, blocks) in (1usize..=7).prop_flat_map(|p| (Just(p), vec(vec(vec(any::<u8>(), 0..8), p), p)))) {
        // blocks[i][j] is what rank i sends to rank j.
        let blocks2 = Arc::new(blocks.clone());
        let got = run(p, move |comm| {
            let me = comm.rank();
            let send: Vec<u8> = blocks2[me].concat();
            let sl = Layout::from_counts(&blocks2[me].iter().map(Vec::len).collect::<Vec<_>>());
            let rl = Layout::from_counts(&(0..blocks2.len()).map(|i| blocks2[i][me].len()).collect::<Vec<_>>());
            let mut recv = vec![0u8; rl.extent()];
            comm.alltoallv(&send, &sl, &mut recv, &rl)?;
            Ok(recv)
        });
        for (j, g) in got.iter().enumerate() {
            let want: Vec<u8> = (0..p).flat_map(|i| blocks[i][j].clone()).collect();
            prop_assert_eq!(g, &want, "rank {}", j);
        }
    }

    #[test]
    fn object_collectives_match_serial(words in ragged("[a-z]{0,6}", 5), root_pick in any::<prop::sample::Index>()) {
        let p = words.len();
        let root = root_pick.index(p);
        let words2 = Arc::new(words.clone());
        let got = run(p, move |comm| {
            let me = comm.rank();
            let all = comm.allgather_obj(&words2[me])?;
            let joined = comm.allreduce_obj(&words2[me].concat(), |a, b| a + &b)?;
            let from_root = comm.bcast_obj((me == root).then(|| words2[root].clone()), root)?;
            Ok((all, joined, from_root))
        });
        let concat: String = words.iter().map(|w| w.concat()).collect();
        for (r, (all, joined, from_root)) in got.iter().enumerate() {
            prop_assert_eq!(all, &words, "allgather_obj on rank {}", r);
            prop_assert_eq!(joined, &concat, "allreduce_obj on rank {}", r);
            prop_assert_eq!(from_root, &words[root], "bcast_obj on rank {}", r);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// The reductions in place give the serial fold (lengths up to 4.8 KiB: staged and not).
    #[test]
    fn in_place_reductions_match_serial(data in per_rank(-50i64..50, 600), k in 0u8..4, root_pick in any::<prop::sample::Index>()) {
        let p = data.len();
        let root = root_pick.index(p);
        let f = int_op(k).1;
        let data = Arc::new(data);
        let mine = Arc::clone(&data);
        let got = run(p, move |comm| {
            let op = int_op(k).0;
            let me = comm.rank();
            let mut all = mine[me].clone();
            comm.allreduce_in_place(&mut all, &op)?;
            let mut red = mine[me].clone();
            comm.reduce_in_place(&mut red, &op, root)?;
            let mut scan = mine[me].clone();
            comm.scan_in_place(&mut scan, &op)?;
            let mut exscan = mine[me].clone();
            comm.exscan_in_place(&mut exscan, &op)?;
            Ok([all, red, scan, exscan])
        });
        for (r, [all, red, scan, exscan]) in got.iter().enumerate() {
            prop_assert_eq!(all, &fold(&data, p, f), "allreduce_in_place, rank {} of {}, op {}", r, p, k);
            let want = if r == root { fold(&data, p, f) } else { data[r].clone() };
            prop_assert_eq!(red, &want, "reduce_in_place to {}, rank {} of {}, op {}", root, r, p, k);
            prop_assert_eq!(scan, &fold(&data, r + 1, f), "scan_in_place, rank {} of {}, op {}", r, p, k);
            let want = if r == 0 { data[0].clone() } else { fold(&data, r, f) };
            prop_assert_eq!(exscan, &want, "exscan_in_place, rank {} of {}, op {}", r, p, k);
        }
    }

    /// reduce_scatter gives each rank its block of the serial fold.
    #[test]
    fn reduce_scatter_matches_serial(
        (counts, data) in (1usize..=7)
            .prop_flat_map(|p| vec(0usize..40, p))
            .prop_flat_map(|c| { let n: usize = c.iter().sum(); (Just(c.clone()), vec(vec(-50i64..50, n), c.len())) }),
        k in 0u8..4,
    ) {
        let p = counts.len();
        let total = fold(&data, p, int_op(k).1);
        let (data, c) = (Arc::new(data), counts.clone());
        let got = run(p, move |comm| {
            let me = comm.rank();
            let mut out = vec![0i64; c[me]];
            comm.reduce_scatter(&data[me], &mut out, &c, &int_op(k).0)?;
            Ok(out)
        });
        let mut at = 0;
        for (r, g) in got.iter().enumerate() {
            prop_assert_eq!(g, &total[at..at + counts[r]].to_vec(), "rank {} of {}, op {}", r, p, k);
            at += counts[r];
        }
    }
}
