//! Failures and misuse on the thread backend: every one is an error, never a hang.
//!
//! Each job runs under a hang guard (`common::with_timeout`); where the issue sets a
//! deadline (a failing rank or a deadlock is reported within one second) the elapsed
//! time is measured and asserted: a correctness deadline, not a benchmark.

mod common;

use std::sync::{Arc, Mutex};
use std::thread::sleep;
use std::time::Duration;

use parsci_comm::{
    launch, launch_with, Backend, Comm, DeadlockReport, Error, JobOptions, Layout, Op, Wait, ANY_SOURCE, ANY_TAG,
    MAX_TAG, PROC_NULL,
};

/// The deadline for reporting a failed rank or a deadlock.
const DEADLINE: Duration = Duration::from_secs(1);
/// The hang guard of every job.
const GUARD: Duration = Duration::from_secs(15);

type Job<R> = parsci_comm::Result<parsci_comm::Launched<R>>;

/// Runs `f` on `n` thread ranks under the hang guard; returns the outcome and its duration.
fn job<R, F>(n: usize, f: F) -> (Job<R>, Duration)
where
    R: Send + 'static,
    F: Fn(&Comm) -> Result<R, String> + Send + Sync + 'static,
{
    common::timed(GUARD, &format!("job of {n} ranks"), move || launch(Backend::Threads(n), f))
}

/// `job` with the collectives' agreement check on: every rank of a collective checks every
/// other's call. Without it, a rank that reads nothing from the others (a bcast's root, a
/// gather's other ranks) neither waits nor checks, as with MPI's eager sends.
fn checked_job<R, F>(n: usize, f: F) -> (Job<R>, Duration)
where
    R: Send + 'static,
    F: Fn(&Comm) -> Result<R, String> + Send + Sync + 'static,
{
    let opts = JobOptions::default().with_check_collectives();
    common::timed(GUARD, &format!("checked job of {n} ranks"), move || launch_with(Backend::Threads(n), &opts, f))
}

/// Runs a job that must succeed and returns every rank's result.
#[track_caller]
fn ok_job<R, F>(n: usize, f: F) -> Vec<R>
where
    R: Send + 'static,
    F: Fn(&Comm) -> Result<R, String> + Send + Sync + 'static,
{
    match job(n, f).0 {
        Ok(out) => out.into_vec(),
        Err(e) => panic!("the job failed: {e}"),
    }
}

/// Errors the ranks saw before they gave up, by rank.
type Seen = Arc<Mutex<Vec<(usize, Error)>>>;

fn seen() -> Seen {
    Arc::new(Mutex::new(Vec::new()))
}

fn record(seen: &Seen, rank: usize, e: Error) -> String {
    let text = e.to_string();
    seen.lock().unwrap().push((rank, e));
    text
}

#[track_caller]
fn assert_contains(text: &str, parts: &[&str]) {
    for p in parts {
        assert!(text.contains(p), "{text:?} should contain {p:?}");
    }
}

// ---------------------------------------------------------------------------------------
// Launch
// ---------------------------------------------------------------------------------------

#[test]
fn launch_with_zero_ranks_is_an_error() {
    let (out, _) = job(0, |_| Ok(()));
    match out {
        Err(Error::Launch(msg)) => assert_contains(&msg, &["at least 1"]),
        other => panic!("expected Error::Launch, got {other:?}"),
    }
}

#[test]
fn launched_results_by_rank() {
    let (out, _) = job(3, |comm| Ok(comm.rank() * 10));
    let out = out.unwrap();
    assert_eq!(out.size(), 3);
    assert_eq!(out.get(2), Some(&20));
    assert_eq!(out.get(3), None);
    assert_eq!(out.root(), Some(&0));
    assert_eq!(out.iter().map(|(r, v)| (r, *v)).collect::<Vec<_>>(), vec![(0, 0), (1, 10), (2, 20)]);
    assert_eq!(out.clone().into_root(), Some(0));
    assert_eq!(out.into_vec(), vec![0, 10, 20]);
    assert_eq!(Backend::Threads(5).ranks(), 5);
    assert_eq!(Backend::Threads(5).name(), "threads");
    assert!(Backend::threads_per_core().ranks() >= 1);
}

// ---------------------------------------------------------------------------------------
// Arguments: ranks, roots, tags
// ---------------------------------------------------------------------------------------

#[test]
fn rank_out_of_range() {
    let errs = ok_job(2, |comm| {
        if comm.rank() == 1 {
            return Ok(Vec::new());
        }
        let mut buf = [0.0f64; 4];
        let errs = vec![
            comm.send(&[1.0f64], 5, 0).unwrap_err(),
            comm.send_vec(vec![1u8], 5, 0).unwrap_err(),
            comm.isend(&[1u8], 5, 0).map(|_| ()).unwrap_err(),
            comm.send_obj(&"x", 5, 0).unwrap_err(),
            comm.recv(&mut buf, 5, 0).unwrap_err(),
            comm.recv_vec::<u8>(5, 0).unwrap_err(),
            comm.recv_obj::<String>(5, 0).unwrap_err(),
            comm.irecv(&mut buf, 5, 0).map(|_| ()).unwrap_err(),
            comm.irecv_vec::<u8>(5, 0).map(|_| ()).unwrap_err(),
            comm.probe(5, 0).unwrap_err(),
            comm.iprobe(5, 0).unwrap_err(),
            comm.sendrecv(&[1.0f64], 5, 0, &mut [0.0f64], 0, 0).unwrap_err(),
            comm.sendrecv(&[1.0f64], 1, 0, &mut [0.0f64], 5, 0).unwrap_err(),
            comm.send(&[1.0f64], ANY_SOURCE, 0).unwrap_err(), // ANY_SOURCE is no destination
        ];
        Ok(errs)
    });
    let errs = &errs[0];
    assert_eq!(errs.len(), 14);
    for e in errs {
        match e {
            Error::RankOutOfRange { caller: 0, rank, size: 2, op } => {
                assert!(*rank == 5 || *rank == ANY_SOURCE, "{e}");
                assert_contains(&e.to_string(), &[op, "rank 0", &format!("peer rank {rank}"), "size 2"]);
            }
            other => panic!("expected RankOutOfRange, got {other:?}"),
        }
    }
    let ops: Vec<&str> = errs.iter().map(|e| if let Error::RankOutOfRange { op, .. } = e { *op } else { "" }).collect();
    for op in ["send", "send_vec", "isend", "recv", "recv_vec", "irecv", "irecv_vec", "probe", "iprobe", "sendrecv"] {
        assert!(ops.contains(&op), "no RankOutOfRange names {op}: {ops:?}");
    }
}

#[test]
fn rank_out_of_range_in_a_split() {
    let errs = ok_job(4, |comm| {
        let sub = comm.split(Some((comm.rank() / 2) as u32), 0).map_err(|e| e.to_string())?.unwrap();
        Ok(sub.send(&[1u8], 2, 0).unwrap_err())
    });
    for (r, e) in errs.iter().enumerate() {
        assert!(matches!(e, Error::RankOutOfRange { caller, rank: 2, size: 2, .. } if *caller == r % 2), "{e:?}");
    }
}

#[test]
fn root_out_of_range_on_every_rank() {
    let errs = ok_job(3, |comm| {
        let me = comm.rank();
        let mut b = [0i32; 2];
        let mut big = [0i32; 6];
        let l = Layout::from_counts(&[2, 2, 2]);
        let errs = vec![
            comm.bcast(&mut b, 3).unwrap_err(),
            comm.scatter(Some(&big[..]), &mut b, 7).unwrap_err(),
            comm.scatterv(Some((&big[..], &l)), &mut b, 3).unwrap_err(),
            comm.gather(&b, Some(&mut big[..]), 3).unwrap_err(),
            comm.gatherv(&b, Some((&mut big[..], &l)), 3).unwrap_err(),
            comm.reduce(&b, Some(&mut big[..2]), &Op::sum(), 3).unwrap_err(),
            comm.bcast_obj(Some(1u8), 3).unwrap_err(),
            comm.scatter_obj(Some(vec![1u8; 3]), 3).unwrap_err(),
            comm.gather_obj(&1u8, 3).unwrap_err(),
            comm.reduce_obj(&1u8, |a, b| a + b, 3).unwrap_err(),
        ];
        // The communicator still works afterwards.
        let mut s = [0usize];
        comm.allreduce(&[me], &mut s, &Op::sum()).map_err(|e| e.to_string())?;
        assert_eq!(s[0], 3);
        Ok(errs)
    });
    for (me, errs) in errs.iter().enumerate() {
        for e in errs {
            match e {
                Error::RootOutOfRange { caller, root, size: 3, op } => {
                    assert_eq!(*caller, me);
                    assert_contains(&e.to_string(), &[op, &format!("rank {me}"), &format!("root {root}"), "size 3"]);
                }
                other => panic!("expected RootOutOfRange, got {other:?}"),
            }
        }
    }
}

#[test]
fn root_out_of_range_on_one_rank() {
    let out = checked_job(3, |comm| {
        let root = if comm.rank() == 1 { 9 } else { 0 };
        let mut b = [0u64; 3];
        let e = comm.bcast(&mut b, root).unwrap_err();
        comm.barrier().map_err(|e| e.to_string())?; // still usable
        Ok(e)
    });
    let errs = out.0.unwrap_or_else(|e| panic!("the job failed: {e}")).into_vec();
    assert!(matches!(errs[1], Error::RootOutOfRange { caller: 1, root: 9, .. }), "{:?}", errs[1]);
    for r in [0, 2] {
        match &errs[r] {
            Error::CollectiveMismatch { caller, details } => {
                assert_eq!(*caller, r);
                assert_contains(details, &["rank 1", "bcast", "root 9"]);
            }
            other => panic!("rank {r}: expected CollectiveMismatch, got {other:?}"),
        }
    }
}

#[test]
fn invalid_tags() {
    let errs = ok_job(2, |comm| {
        if comm.rank() == 1 {
            return Ok(Vec::new());
        }
        let mut buf = [0u8; 2];
        Ok(vec![
            comm.send(&[1u8], 1, -5).unwrap_err(),
            comm.send(&[1u8], 1, MAX_TAG + 1).unwrap_err(),
            comm.send(&[1u8], 1, ANY_TAG).unwrap_err(), // ANY_TAG only matches, it is not a tag
            comm.send_vec(vec![1u8], 1, -2).unwrap_err(),
            comm.isend(&[1u8], 1, -2).map(|_| ()).unwrap_err(),
            comm.send_obj(&1u8, 1, MAX_TAG + 1).unwrap_err(),
            comm.recv(&mut buf, 1, -2).unwrap_err(),
            comm.recv_vec::<u8>(1, MAX_TAG + 1).unwrap_err(),
            comm.irecv(&mut buf, 1, -3).map(|_| ()).unwrap_err(),
            comm.probe(1, -3).unwrap_err(),
            comm.iprobe(ANY_SOURCE, -3).unwrap_err(),
            comm.sendrecv(&[1u8], 1, -4, &mut buf, 1, 0).unwrap_err(),
            comm.sendrecv(&[1u8], 1, 0, &mut buf, 1, -4).unwrap_err(),
        ])
    });
    assert_eq!(errs[0].len(), 13);
    for e in &errs[0] {
        match e {
            Error::InvalidTag { caller: 0, tag, max, op } => {
                assert_eq!(*max, MAX_TAG);
                assert_contains(&e.to_string(), &[op, "rank 0", &format!("tag {tag}"), &MAX_TAG.to_string()]);
            }
            other => panic!("expected InvalidTag, got {other:?}"),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Truncation and type mismatches: errors, and the message is not lost
// ---------------------------------------------------------------------------------------

#[test]
fn truncated_then_retry() {
    for n in [2usize, 3, 100, 5000, 200_000] {
        let (out, took) = job(2, move |comm| {
            let data: Vec<f64> = (0..n).map(|i| i as f64 * 0.5).collect();
            // Each message too long for the receive is followed by a marker of its tag.
            if comm.rank() == 0 {
                for tag in [7, 8, 9] {
                    comm.send(&data, 1, tag).map_err(|e| e.to_string())?;
                    comm.send(&[42.0], 1, tag).map_err(|e| e.to_string())?;
                }
                return Ok(Vec::new());
            }
            let mut small = vec![0.0; n - 1];
            let mut errs = vec![comm.recv(&mut small, 0, 7).unwrap_err()];
            // The message was consumed, as on MPI: the next receive gets the marker.
            let mut full = vec![0.0; n];
            let st = comm.recv(&mut full, 0, 7).map_err(|e| e.to_string())?;
            assert_eq!((st.source, st.tag, st.count, full[0]), (0, 7, 1, 42.0));
            // The same through irecv, then recv_vec.
            let req = comm.irecv(&mut small, 0, 8).map_err(|e| e.to_string())?;
            errs.push(req.wait().unwrap_err());
            let (v, _) = comm.recv_vec::<f64>(0, 8).map_err(|e| e.to_string())?;
            assert_eq!(v, [42.0]);
            // And sendrecv, then probe + recv.
            errs.push(comm.sendrecv(&[0u8; 0], PROC_NULL, 0, &mut small, 0, 9).unwrap_err());
            let st = comm.probe(0, 9).map_err(|e| e.to_string())?;
            assert_eq!((st.count, st.count_as::<f64>()), (8, Some(1)));
            let (v, _) = comm.recv_vec::<f64>(0, 9).map_err(|e| e.to_string())?;
            assert_eq!(v, [42.0]);
            Ok(errs)
        });
        let errs = out.unwrap_or_else(|e| panic!("{n} elements: {e}")).into_vec().remove(1);
        for (e, (op, tag)) in errs.iter().zip([("recv", 7), ("irecv", 8), ("sendrecv", 9)]) {
            match e {
                Error::Truncated { from: 0, to: 1, sent, capacity, tag: t, op: o } => {
                    // (sendrecv's own name is checked by `sendrecv_errors_name_sendrecv`.)
                    let named = if op == "sendrecv" { op } else { o };
                    assert_eq!((named, *t, *sent, *capacity), (op, tag, n, n - 1));
                    assert_contains(
                        &e.to_string(),
                        &[o, "rank 0", "rank 1", &format!("tag {tag}"), &format!("{n} elements"), &(n - 1).to_string()],
                    );
                }
                other => panic!("{n} elements, {op}: expected Truncated, got {other:?}"),
            }
        }
        assert!(took < Duration::from_secs(5), "truncation of {n} elements took {took:?}");
    }
}

#[test]
fn type_mismatch_then_retry() {
    for n in [1usize, 4, 1000, 100_000] {
        let (out, _) = job(2, move |comm| {
            let xs: Vec<f64> = (0..n).map(|i| i as f64).collect();
            // Each mistyped message is followed by one of the right type, with the same tag.
            if comm.rank() == 0 {
                comm.send(&xs, 1, 3).map_err(|e| e.to_string())?;
                comm.send(&xs, 1, 3).map_err(|e| e.to_string())?;
                comm.send(&xs, 1, 3).map_err(|e| e.to_string())?;
                comm.send(&xs, 1, 4).map_err(|e| e.to_string())?;
                comm.send(&xs, 1, 4).map_err(|e| e.to_string())?;
                comm.send_obj(&("an object", 5u8), 1, 5).map_err(|e| e.to_string())?;
                comm.send_obj(&("an object", 5u8), 1, 5).map_err(|e| e.to_string())?;
                comm.send(&[7u8; 3], 1, 6).map_err(|e| e.to_string())?;
                comm.send(&[7u8; 3], 1, 6).map_err(|e| e.to_string())?;
                return Ok(Vec::new());
            }
            // A receive that cannot take a message consumes it, as on MPI.
            let mut ints = vec![0i32; n];
            let mut errs = vec![comm.recv(&mut ints, 0, 3).unwrap_err()];
            errs.push(comm.recv_vec::<[f64; 2]>(0, 3).unwrap_err());
            let mut f = vec![0.0f64; n];
            comm.recv(&mut f, 0, 3).map_err(|e| e.to_string())?;
            assert_eq!(f, xs);
            let req = comm.irecv(&mut ints, 0, 4).map_err(|e| e.to_string())?;
            errs.push(req.wait().unwrap_err());
            let (v, _) = comm.recv_vec::<f64>(0, 4).map_err(|e| e.to_string())?;
            assert_eq!(v, xs);
            // Object sent, typed receive; then the object receive works.
            errs.push(comm.recv_vec::<u8>(0, 5).unwrap_err());
            let (o, _) = comm.recv_obj::<(String, u8)>(0, 5).map_err(|e| e.to_string())?;
            assert_eq!(o, ("an object".to_string(), 5));
            // Typed sent, object receive.
            errs.push(comm.recv_obj::<Vec<u8>>(0, 6).unwrap_err());
            let mut b = [0u8; 3];
            comm.recv(&mut b, 0, 6).map_err(|e| e.to_string())?;
            assert_eq!(b, [7; 3]);
            Ok(errs)
        });
        let errs = out.unwrap_or_else(|e| panic!("{n}: {e}")).into_vec().remove(1);
        let want = [
            ("recv", 3, "f64", "i32"),
            ("recv_vec", 3, "f64", "[f64; 2]"),
            ("irecv", 4, "f64", "i32"),
            ("recv_vec", 5, "object", "u8"),
            ("recv_vec", 6, "u8", "object"),
        ];
        assert_eq!(errs.len(), want.len());
        for (e, (op, tag, sent, recv)) in errs.iter().zip(want) {
            match e {
                Error::TypeMismatch { from: 0, to: 1, op: o, tag: t, sent_type, recv_type } => {
                    assert_eq!((*o, *t, sent_type.as_str(), recv_type.as_str()), (op, tag, sent, recv), "{e}");
                    assert_contains(&e.to_string(), &[op, "rank 0", "rank 1", &format!("tag {tag}"), sent, recv]);
                }
                other => panic!("{n}: expected TypeMismatch for {op}, got {other:?}"),
            }
        }
    }
}

#[test]
fn object_of_the_wrong_type_is_a_serialization_error() {
    let errs = ok_job(2, |comm| {
        if comm.rank() == 0 {
            comm.send_obj(&"not a number", 1, 2).map_err(|e| e.to_string())?;
            return Ok(None);
        }
        Ok(Some(comm.recv_obj::<u64>(0, 2).unwrap_err()))
    });
    match errs[1].as_ref().unwrap() {
        e @ Error::Serialization { op: "recv_obj", caller: 1, peer: 0, tag: 2, what, .. } => {
            assert_contains(what, &["u64"]);
            assert_contains(&e.to_string(), &["recv_obj", "rank 1", "rank 0", "tag 2", "u64"]);
        }
        other => panic!("expected Serialization, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------
// Mismatched collectives and bad collective arguments
// ---------------------------------------------------------------------------------------

/// Runs `f` on `n` ranks, each returning the error its collective gave; checks that the
/// job took less than the deadline and that every rank got an error.
/// With the agreement check on: without it, a rank that reads nothing from the others may
/// return before they see the mismatch (`unchecked_rooted_mismatch_never_hangs`).
fn collective_errors(n: usize, f: impl Fn(&Comm) -> parsci_comm::Result<()> + Send + Sync + 'static) -> Vec<Error> {
    let (out, took) = checked_job(n, move |comm| match f(comm) {
        Ok(()) => Err(format!("rank {} got no error", comm.rank())),
        Err(e) => Ok(e),
    });
    let errs = out.unwrap_or_else(|e| panic!("the job failed instead of returning errors: {e}")).into_vec();
    assert!(took < DEADLINE, "mismatch detection took {took:?}");
    errs
}

#[track_caller]
fn assert_mismatch(errs: &[Error], parts: &[&str]) {
    for (r, e) in errs.iter().enumerate() {
        match e {
            Error::CollectiveMismatch { caller, details } => {
                assert_eq!(*caller, r);
                assert_contains(details, parts);
                assert_contains(&e.to_string(), &[&format!("rank {r}")]);
            }
            other => panic!("rank {r}: expected CollectiveMismatch, got {other:?}"),
        }
    }
}

#[test]
fn unchecked_rooted_mismatch_never_hangs() {
    // Without the agreement check a bcast's root reads nothing and returns; the rank that
    // reads the root's call sees the mismatch. Nobody waits for ever.
    let (out, took) = job(2, |comm| Ok(comm.bcast(&mut vec![0u8; 3 + comm.rank()], 0).err()));
    let errs = out.unwrap_or_else(|e| panic!("the job failed: {e}")).into_vec();
    assert!(took < DEADLINE, "took {took:?}");
    assert!(errs[0].is_none(), "{errs:?}");
    match &errs[1] {
        Some(Error::CollectiveMismatch { caller: 1, details }) => {
            assert_contains(details, &["rank 0 called bcast", "3 elements", "rank 1 called bcast", "4 elements"])
        }
        other => panic!("rank 1: expected CollectiveMismatch, got {other:?}"),
    }
    // A gather's other ranks return; its root sees the mismatch.
    let (out, _) = job(3, |comm| {
        let n = if comm.rank() == 2 { 2 } else { 1 };
        let mut all = [0u8; 6];
        Ok(comm.gather(&vec![1u8; n], (comm.rank() == 0).then_some(&mut all[..]), 0).err())
    });
    let errs = out.unwrap_or_else(|e| panic!("the job failed: {e}")).into_vec();
    assert!(matches!(&errs[0], Some(Error::CollectiveMismatch { caller: 0, .. })), "{errs:?}");
    assert!(errs[1].is_none() && errs[2].is_none(), "{errs:?}");
}

#[test]
fn mismatch_bcast_against_reduce() {
    let errs = collective_errors(3, |comm| {
        let mut b = [0.0f64; 2];
        if comm.rank() == 1 {
            comm.reduce(&[1.0, 2.0], None, &Op::sum(), 0)
        } else {
            comm.bcast(&mut b, 0)
        }
    });
    assert_mismatch(&errs, &["rank 0 called bcast", "rank 1 called reduce", "rank 2 called bcast"]);
}

#[test]
fn mismatch_barrier_against_bcast() {
    // Both sides must get the error: the barrier rank may not leave the bcast rank waiting.
    let errs =
        collective_errors(2, |comm| if comm.rank() == 0 { comm.barrier() } else { comm.bcast(&mut [1u8; 4], 0) });
    assert_mismatch(&errs, &["rank 0 called barrier", "rank 1 called bcast"]);
}

#[test]
fn mismatch_then_the_communicator_still_works() {
    let out = ok_job(3, |comm| {
        let e = if comm.rank() == 2 { comm.barrier() } else { comm.allreduce(&[1u8], &mut [0u8], &Op::sum()) };
        assert!(matches!(e, Err(Error::CollectiveMismatch { .. })), "{e:?}");
        let mut s = [0u32];
        comm.allreduce(&[comm.rank() as u32], &mut s, &Op::sum()).map_err(|e| e.to_string())?;
        comm.barrier().map_err(|e| e.to_string())?;
        Ok(s[0])
    });
    assert_eq!(out, vec![3, 3, 3]);
}

#[test]
fn mismatch_roots() {
    let errs = collective_errors(3, |comm| comm.bcast(&mut [0u32; 3], comm.rank().min(1)));
    assert_mismatch(&errs, &["bcast", "different roots", "rank 0: 0", "rank 1: 1", "rank 2: 1"]);
    let errs = collective_errors(2, |comm| {
        let mut out = [0i64];
        comm.reduce(&[1], Some(&mut out[..]), &Op::sum(), comm.rank())
    });
    assert_mismatch(&errs, &["reduce", "different roots"]);
}

#[test]
fn mismatch_counts() {
    let errs = collective_errors(2, |comm| comm.bcast(&mut vec![0u8; 3 + comm.rank()], 0));
    assert_mismatch(&errs, &["bcast", "rank 0 passes 3 elements", "rank 1 passes 4"]);
    let errs = collective_errors(3, |comm| {
        let n = if comm.rank() == 2 { 5 } else { 4 };
        comm.allreduce(&vec![1u16; n], &mut vec![0u16; n], &Op::max())
    });
    assert_mismatch(&errs, &["allreduce", "rank 2 passes 5"]);
    let errs = collective_errors(2, |comm| {
        let n = 1 + comm.rank();
        let mut all = [0u8; 4];
        comm.gather(&vec![1u8; n], (comm.rank() == 0).then_some(&mut all[..]), 0)
    });
    assert_mismatch(&errs, &["gather"]);
    let errs = collective_errors(2, |comm| comm.allgather(&vec![1u8; 1 + comm.rank()], &mut [0u8; 8]));
    assert_mismatch(&errs, &["allgather"]);
    let errs = collective_errors(2, |comm| {
        let n = 2 + 2 * comm.rank();
        comm.alltoall(&vec![1u8; n], &mut [0u8; 8])
    });
    assert_mismatch(&errs, &["alltoall"]);
    let errs = collective_errors(2, |comm| {
        let n = 1 + comm.rank();
        comm.scatter((comm.rank() == 0).then_some(&[0u8; 2][..]), &mut vec![0u8; n], 0)
    });
    // The root also rejects its own arguments (2 elements for 2 ranks of 1 and 2).
    for e in &errs {
        assert!(matches!(e, Error::CollectiveMismatch { .. } | Error::InvalidArgument { .. }), "{e:?}");
    }
}

#[test]
fn mismatch_element_types_and_ops() {
    let errs = collective_errors(2, |comm| {
        if comm.rank() == 0 {
            comm.bcast(&mut [0.0f64; 2], 0)
        } else {
            comm.bcast(&mut [0i64; 2], 0)
        }
    });
    assert_mismatch(&errs, &["bcast", "different element types", "rank 0: f64", "rank 1: i64"]);
    let errs = collective_errors(2, |comm| {
        let op = if comm.rank() == 0 { Op::sum() } else { Op::max() };
        comm.allreduce(&[1i32], &mut [0i32], &op)
    });
    assert_mismatch(&errs, &["allreduce", "different operations", "Sum", "Max"]);
}

#[test]
fn mismatch_v_layouts() {
    // gatherv: rank 1 sends 3 elements, the root's layout expects 2.
    let errs = collective_errors(2, |comm| {
        let l = Layout::from_counts(&[1, 2]);
        let mut all = [0u8; 3];
        let send = vec![1u8; if comm.rank() == 0 { 1 } else { 3 }];
        comm.gatherv(&send, (comm.rank() == 0).then_some((&mut all[..], &l)), 0)
    });
    assert_mismatch(&errs, &["gatherv", "rank 1 sends 3 elements", "expects 2"]);
    // scatterv: rank 1's buffer is too small for its block.
    let errs = collective_errors(2, |comm| {
        let l = Layout::from_counts(&[1, 4]);
        let all = [1u8; 5];
        comm.scatterv((comm.rank() == 0).then_some((&all[..], &l)), &mut [0u8; 2], 0)
    });
    assert_mismatch(&errs, &["scatterv", "rank 1", "holds 2"]);
    // allgatherv: the ranks pass different layouts.
    let errs = collective_errors(2, |comm| {
        let l = if comm.rank() == 0 { Layout::from_counts(&[1, 2]) } else { Layout::from_counts(&[1, 3]) };
        let me = comm.rank();
        comm.allgatherv(&vec![0u8; l.counts()[me]], &mut [0u8; 8], &l)
    });
    assert_mismatch(&errs, &["allgatherv", "different layouts"]);
    // alltoallv: rank 0 sends 2 to rank 1, which expects 1.
    let errs = collective_errors(2, |comm| {
        let sl = Layout::from_counts(&[1, 2 - comm.rank()]);
        let rl = Layout::from_counts(&[1, 1]);
        comm.alltoallv(&[0u8; 3], &sl, &mut [0u8; 2], &rl)
    });
    assert_mismatch(&errs, &["alltoallv", "rank 0 sends 2 elements to rank 1", "expects 1"]);
}

#[test]
fn bad_collective_arguments() {
    // Each case: the rank with the bad argument gets InvalidArgument, the others a
    // CollectiveMismatch saying which rank rejected its arguments.
    type Case = fn(&Comm) -> parsci_comm::Result<()>;
    let cases: Vec<(&str, Case)> = vec![
        ("scatter", |c| c.scatter((c.rank() == 0).then_some(&[1u8; 3][..]), &mut [0u8; 2], 0)),
        ("scatter", |c| c.scatter(None, &mut [0u8; 2], 0)),
        ("gather", |c| c.gather(&[1u8; 2], (c.rank() == 0).then_some(&mut [0u8; 3][..]), 0)),
        ("gather", |c| c.gather(&[1u8; 2], None, 0)),
        ("reduce", |c| c.reduce(&[1u8; 2], None, &Op::sum(), 0)),
        ("reduce", |c| c.reduce(&[1u8; 2], (c.rank() == 0).then_some(&mut [0u8; 1][..]), &Op::sum(), 0)),
        ("allreduce", |c| c.allreduce(&[1u8; 2], &mut vec![0u8; 2 - c.rank()], &Op::sum())),
        ("allgather", |c| c.allgather(&[1u8; 2], &mut vec![0u8; 4 - c.rank()])),
        ("alltoall", |c| c.alltoall(&[1u8; 3], &mut [0u8; 3])),
        ("alltoall", |c| c.alltoall(&[1u8; 2], &mut vec![0u8; 2 - c.rank()])),
        ("scatterv", |c| {
            c.scatterv((c.rank() == 0).then_some((&[1u8; 2][..], &Layout::from_counts(&[1, 2]))), &mut [0u8; 2], 0)
        }),
        ("scatterv", |c| {
            c.scatterv((c.rank() == 0).then_some((&[1u8; 3][..], &Layout::from_counts(&[1, 1, 1]))), &mut [0u8; 2], 0)
        }),
        ("gatherv", |c| {
            c.gatherv(&[1u8; 1], (c.rank() == 0).then_some((&mut [0u8; 1][..], &Layout::from_counts(&[1, 1]))), 0)
        }),
        ("allgatherv", |c| c.allgatherv(&[1u8; 2], &mut [0u8; 4], &Layout::from_counts(&[1, 1]))),
        ("alltoallv", |c| {
            c.alltoallv(&[1u8; 2], &Layout::from_counts(&[1, 1, 1]), &mut [0u8; 2], &Layout::from_counts(&[1, 1]))
        }),
    ];
    for (i, (name, case)) in cases.into_iter().enumerate() {
        let errs = collective_errors(2, case);
        let mut invalid = 0;
        for (r, e) in errs.iter().enumerate() {
            match e {
                Error::InvalidArgument { op, caller, msg } => {
                    assert_eq!((*op, *caller), (name, r), "case {i}: {e}");
                    assert!(!msg.is_empty());
                    assert_contains(&e.to_string(), &[name, &format!("rank {r}")]);
                    invalid += 1;
                }
                Error::CollectiveMismatch { caller, details } => {
                    assert_eq!(*caller, r, "case {i}");
                    assert_contains(details, &["rejected its arguments", name]);
                }
                other => panic!("case {i} ({name}), rank {r}: unexpected {other:?}"),
            }
        }
        assert!(invalid > 0, "case {i} ({name}): no rank reported InvalidArgument: {errs:?}");
    }
}

#[test]
fn bad_object_collective_arguments() {
    // The root's mistake is reported on every rank, not only on the root (the others
    // must not be left waiting).
    let errs = collective_errors(3, |c| c.bcast_obj::<u8>(None, 1).map(|_| ()));
    assert!(matches!(errs[1], Error::InvalidArgument { op: "bcast_obj", caller: 1, .. }), "{:?}", errs[1]);
    let errs = collective_errors(3, |c| c.scatter_obj((c.rank() == 0).then(|| vec![1u8; 2]), 0).map(|_| ()));
    assert!(matches!(errs[0], Error::InvalidArgument { op: "scatter_obj", caller: 0, .. }), "{:?}", errs[0]);
    let errs = collective_errors(3, |c| c.scatter_obj::<u8>(None, 2).map(|_| ()));
    assert!(matches!(errs[2], Error::InvalidArgument { op: "scatter_obj", caller: 2, .. }), "{:?}", errs[2]);
    let errs = collective_errors(3, |c| c.alltoall_obj(vec![1u8; if c.rank() == 1 { 2 } else { 3 }]).map(|_| ()));
    assert!(matches!(errs[1], Error::InvalidArgument { op: "alltoall_obj", caller: 1, .. }), "{:?}", errs[1]);
    for r in [0, 2] {
        match &errs[r] {
            Error::CollectiveMismatch { caller, details } => {
                assert_eq!(*caller, r);
                assert_contains(details, &["alltoall_obj", "[1]"]);
            }
            other => panic!("rank {r}: expected CollectiveMismatch, got {other:?}"),
        }
    }
    // The others learn which rank (the root) failed.
    let errs = collective_errors(2, |c| c.bcast_obj::<String>(None, 0).map(|_| ()));
    match &errs[1] {
        Error::CollectiveMismatch { caller: 1, details } => assert_contains(details, &["rank 0", "bcast_obj"]),
        other => panic!("expected CollectiveMismatch, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------
// A rank that fails: the others are released within a second, the launcher names it
// ---------------------------------------------------------------------------------------

/// What the other ranks are blocked in when rank 1 fails.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Blocked {
    Recv,
    RecvAnySource,
    RecvVec,
    Probe,
    IrecvWait,
    Sendrecv,
    Barrier,
    Bcast,
    Allreduce,
    Gather,
    BcastObj,
    Split,
    Iallreduce,
    IgatherWaitAny,
}

impl Blocked {
    const ALL: [Blocked; 14] = [
        Blocked::Recv,
        Blocked::RecvAnySource,
        Blocked::RecvVec,
        Blocked::Probe,
        Blocked::IrecvWait,
        Blocked::Sendrecv,
        Blocked::Barrier,
        Blocked::Bcast,
        Blocked::Allreduce,
        Blocked::Gather,
        Blocked::BcastObj,
        Blocked::Split,
        Blocked::Iallreduce,
        Blocked::IgatherWaitAny,
    ];

    /// The operation name the abort error should carry.
    fn op(self) -> &'static str {
        match self {
            Blocked::Recv | Blocked::RecvAnySource => "recv",
            Blocked::RecvVec => "recv_vec",
            Blocked::Probe => "probe",
            Blocked::IrecvWait => "irecv",
            Blocked::Sendrecv => "sendrecv",
            Blocked::Barrier => "barrier",
            Blocked::Bcast | Blocked::BcastObj => "bcast",
            Blocked::Allreduce => "allreduce",
            Blocked::Gather => "gather",
            Blocked::Split => "allgather",
            Blocked::Iallreduce => "iallreduce",
            Blocked::IgatherWaitAny => "wait_any",
        }
    }

    fn call(self, comm: &Comm) -> parsci_comm::Result<()> {
        let mut buf = [0u64; 4];
        match self {
            Blocked::Recv => comm.recv(&mut buf, 1, 0).map(|_| ()),
            Blocked::RecvAnySource => comm.recv(&mut buf, ANY_SOURCE, ANY_TAG).map(|_| ()),
            Blocked::RecvVec => comm.recv_vec::<u8>(1, 3).map(|_| ()),
            Blocked::Probe => comm.probe(1, ANY_TAG).map(|_| ()),
            Blocked::IrecvWait => comm.irecv(&mut buf, 1, 0)?.wait().map(|_| ()),
            Blocked::Sendrecv => comm.sendrecv(&[1u64; 50_000], 1, 0, &mut buf, 1, 0).map(|_| ()),
            Blocked::Barrier => comm.barrier(),
            Blocked::Bcast => comm.bcast(&mut buf, 1),
            Blocked::Allreduce => comm.allreduce(&[1u64; 4], &mut buf, &Op::sum()),
            Blocked::Gather => comm.gather(&buf, None, 1),
            Blocked::BcastObj => comm.bcast_obj::<String>(None, 1).map(|_| ()),
            Blocked::Split => comm.split(Some(0), 0).map(|_| ()),
            // Waited for, then completed by the scope's end after the abort: both return.
            Blocked::Iallreduce => comm.scope(|s| s.iallreduce_in_place(&mut buf, &Op::sum())?.wait()).map(|_| ()),
            Blocked::IgatherWaitAny => comm.scope(|s| {
                let mut reqs = vec![Some(s.igather(&[1u64; 3], None, 1)?)];
                parsci_comm::wait_any(&mut reqs).map(|_| ())
            }),
        }
    }
}

/// Rank 1 fails (with an error or a panic) while the others are blocked in `blocked`.
fn fail_while_blocked(n: usize, blocked: Blocked, panic: bool) {
    let seen = seen();
    let s2 = seen.clone();
    // Without the agreement check a gather's other ranks do not wait for its root.
    let f = move |comm: &Comm| {
        if comm.rank() == 1 {
            sleep(Duration::from_millis(30)); // let the others block first
            if panic {
                panic!("boom on rank 1");
            }
            return Err::<(), _>("no input file".to_string());
        }
        match blocked.call(comm) {
            Ok(()) => Err(format!("rank {} completed {blocked:?} although rank 1 failed", comm.rank())),
            Err(e) => Err(record(&s2, comm.rank(), e)),
        }
    };
    let (out, took) = if blocked == Blocked::Gather { checked_job(n, f) } else { job(n, f) };
    let what = format!("{blocked:?} at {n} ranks (panic: {panic})");
    let message = if panic { "panicked: boom on rank 1" } else { "no input file" };
    match out {
        Err(Error::RankFailed { rank: 1, message: m }) => assert_eq!(m, message, "{what}"),
        other => panic!("{what}: expected RankFailed for rank 1, got {other:?}"),
    }
    assert!(took < DEADLINE, "{what}: the job took {took:?} to fail");
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), n - 1, "{what}: every other rank returned an error: {seen:?}");
    for (r, e) in seen.iter() {
        match e {
            Error::Aborted { rank, op, cause } => {
                assert_eq!(rank, r, "{what}");
                // (sendrecv's own name is checked by `sendrecv_errors_name_sendrecv`.)
                if !matches!(blocked, Blocked::Sendrecv) {
                    assert_eq!(*op, blocked.op(), "{what}: the abort names the blocked call");
                }
                assert_contains(cause, &["rank 1 failed", message]);
                assert!(e.is_abort());
                assert_contains(&e.to_string(), &[&format!("rank {r}"), op, message]);
            }
            other => panic!("{what}: rank {r} expected Aborted, got {other:?}"),
        }
    }
}

#[test]
fn failing_rank_releases_blocked_ranks() {
    for blocked in Blocked::ALL {
        for n in [2, 4] {
            fail_while_blocked(n, blocked, false);
        }
    }
}

#[test]
fn panicking_rank_releases_blocked_ranks() {
    for blocked in Blocked::ALL {
        fail_while_blocked(3, blocked, true);
    }
}

#[test]

fn sendrecv_errors_name_sendrecv() {
    // Truncation inside sendrecv.
    let errs = ok_job(2, |comm| {
        let other = 1 - comm.rank();
        let e = comm.sendrecv(&[1u32; 4], other, 0, &mut [0u32; 2], other, 0).unwrap_err();
        Ok(e)
    });
    for e in &errs {
        assert!(matches!(e, Error::Truncated { op: "sendrecv", .. }), "{e:?}");
    }
    // A sendrecv blocked when its peer fails: the abort names sendrecv.
    fail_while_blocked(2, Blocked::Sendrecv, false);
    // A deadlock of sendrecvs whose receives match nothing: the report names sendrecv.
    let report = deadlock(2, |comm| {
        let other = 1 - comm.rank();
        comm.sendrecv(&[1u8], other, 1, &mut [0u8], other, 2).map(|_| ())
    });
    assert!(report.waits.iter().all(|w| w.op == "sendrecv"), "{report}");
}

#[test]
fn failure_is_reported_to_ranks_that_call_later() {
    // Rank 1 fails at once; rank 0 computes, then calls: its call fails at once too.
    let seen = seen();
    let s2 = seen.clone();
    let (out, took) = job(2, move |comm| {
        if comm.rank() == 1 {
            return Err("bad config".into());
        }
        sleep(Duration::from_millis(100));
        comm.barrier().map_err(|e| record(&s2, 0, e))
    });
    assert!(matches!(out, Err(Error::RankFailed { rank: 1, .. })), "{out:?}");
    assert!(took < DEADLINE, "{took:?}");
    assert!(matches!(seen.lock().unwrap()[0].1, Error::Aborted { rank: 0, op: "barrier", .. }));
}

#[test]
fn the_first_failure_is_reported() {
    let (out, _) = job(4, |comm| match comm.rank() {
        2 => Err("first".to_string()),
        0 => {
            sleep(Duration::from_millis(150));
            Err("second".to_string())
        }
        _ => comm.barrier().map_err(|e| e.to_string()),
    });
    match out {
        Err(e @ Error::RankFailed { rank: 2, .. }) => assert_eq!(e.to_string(), "rank 2 failed: first"),
        other => panic!("expected rank 2's failure, got {other:?}"),
    }
}

#[test]
fn a_large_send_to_a_failed_rank_does_not_hang() {
    let (out, took) = job(2, |comm| {
        if comm.rank() == 1 {
            return Err("gone".to_string());
        }
        sleep(Duration::from_millis(30));
        // The receiver never receives: the send still returns (buffered or aborted).
        let _ = comm.send(&vec![1.0f64; 1 << 17], 1, 0);
        let _ = comm.send(&vec![1.0f64; 1 << 17], 1, 0);
        comm.recv(&mut [0u8], 1, 0).map(|_| ()).map_err(|e| e.to_string())
    });
    assert!(matches!(out, Err(Error::RankFailed { rank: 1, .. })), "{out:?}");
    assert!(took < DEADLINE, "{took:?}");
}

#[test]
fn blocked_ranks_in_a_sub_communicator_are_released() {
    // Rank 3 fails outside the sub-communicator the others are blocked in.
    let (out, took) = job(4, |comm| {
        let sub = comm.split(Some((comm.rank() == 3) as u32), 0).map_err(|e| e.to_string())?.unwrap();
        if comm.rank() == 3 {
            sleep(Duration::from_millis(30));
            return Err("outside".to_string());
        }
        if sub.rank() == 0 {
            sub.recv(&mut [0u8], 2, 0).map(|_| ()).map_err(|e| e.to_string())
        } else {
            sub.barrier().map_err(|e| e.to_string())
        }
    });
    assert!(matches!(out, Err(Error::RankFailed { rank: 3, .. })), "{out:?}");
    assert!(took < DEADLINE, "{took:?}");
}

// ---------------------------------------------------------------------------------------
// Deadlocks: detected within a second, reported as who waits for whom
// ---------------------------------------------------------------------------------------

/// Runs a job that must deadlock; returns the report, after checking the deadline and
/// that every blocked rank's own call failed with an abort naming the deadlock.
fn deadlock(n: usize, f: impl Fn(&Comm) -> parsci_comm::Result<()> + Send + Sync + 'static) -> DeadlockReport {
    let seen = seen();
    let s2 = seen.clone();
    let (out, took) = job(n, move |comm| f(comm).map_err(|e| record(&s2, comm.rank(), e)));
    assert!(took < DEADLINE, "deadlock detection took {took:?}");
    let report = match out {
        Err(Error::Deadlock(report)) => report,
        other => panic!("expected a deadlock, got {other:?}"),
    };
    for (r, e) in seen.lock().unwrap().iter() {
        match e {
            Error::Aborted { rank, cause, .. } => {
                assert_eq!(rank, r);
                assert_contains(cause, &["deadlock"]);
            }
            other => panic!("rank {r}: expected Aborted, got {other:?}"),
        }
    }
    report
}

fn wait(rank: usize, op: &'static str, peer: &str, tag: Option<i32>) -> Wait {
    Wait { rank, op, peer: peer.to_string(), tag }
}

#[test]
fn deadlock_both_receive_first() {
    let report = deadlock(2, |comm| {
        let other = 1 - comm.rank();
        comm.recv(&mut [0u8; 4], other, 3)?;
        comm.send(&[1u8; 4], other, 3)
    });
    assert_eq!(report.waits, vec![wait(0, "recv", "rank 1", Some(3)), wait(1, "recv", "rank 0", Some(3))]);
    let text = Error::Deadlock(report).to_string();
    assert_contains(
        &text,
        &["deadlock", "rank 0 waits in recv for rank 1 (tag 3)", "rank 1 waits in recv for rank 0 (tag 3)"],
    );
}

#[test]
fn deadlock_barrier_against_recv() {
    let report =
        deadlock(3, |comm| if comm.rank() == 2 { comm.recv(&mut [0u8], 0, 5).map(|_| ()) } else { comm.barrier() });
    let by_rank: Vec<_> = report.waits.iter().map(|w| (w.rank, w.op, w.peer.clone(), w.tag)).collect();
    assert_eq!(by_rank.len(), 3, "{report}");
    for (r, op, peer, tag) in &by_rank[..2] {
        assert_eq!((*op, tag), ("barrier", &None), "rank {r}");
        assert_contains(peer, &["2"]);
    }
    assert_eq!(by_rank[2], (2, "recv", "rank 0".to_string(), Some(5)));
    assert_contains(&report.to_string(), &["rank 0 waits in barrier for", "rank 2 waits in recv for rank 0 (tag 5)"]);
}

#[test]
fn deadlock_waiting_for_a_finished_rank() {
    let report = deadlock(2, |comm| if comm.rank() == 0 { comm.recv(&mut [0u8], 1, 0).map(|_| ()) } else { Ok(()) });
    assert_eq!(report.waits, vec![wait(0, "recv", "rank 1 (which has finished)", Some(0))]);
    assert_contains(&report.to_string(), &["rank 0 waits in recv for rank 1 (which has finished) (tag 0)"]);
}

#[test]
fn deadlock_any_source_any_tag() {
    let report = deadlock(3, |comm| comm.recv_vec::<u8>(ANY_SOURCE, ANY_TAG).map(|_| ()));
    assert_eq!(report.waits, (0..3).map(|r| wait(r, "recv_vec", "any rank", Some(ANY_TAG))).collect::<Vec<_>>());
    assert_contains(&report.to_string(), &["rank 2 waits in recv_vec for any rank (any tag)"]);
}

#[test]
fn deadlock_in_wait_and_probe() {
    let report = deadlock(2, |comm| {
        if comm.rank() == 0 {
            let mut b = [0u8];
            let st = comm.irecv(&mut b, 1, 4)?.wait();
            st.map(|_| ())
        } else {
            comm.probe(0, 6).map(|_| ())
        }
    });
    assert_eq!(report.waits, vec![wait(0, "irecv", "rank 1", Some(4)), wait(1, "probe", "rank 0", Some(6))]);
}

#[test]
fn deadlock_in_a_cycle_of_seven() {
    let report = deadlock(7, |comm| {
        let next = (comm.rank() + 1) % 7;
        comm.recv(&mut [0u8], next, 1).map(|_| ())
    });
    assert_eq!(
        report.waits,
        (0..7).map(|r| wait(r, "recv", &format!("rank {}", (r + 1) % 7), Some(1))).collect::<Vec<_>>()
    );
}

#[test]
fn deadlock_collective_against_recv() {
    let report = deadlock(2, |comm| {
        if comm.rank() == 0 {
            comm.bcast(&mut [0u8; 8], 1)
        } else {
            comm.recv(&mut [0u8], 0, 0).map(|_| ())
        }
    });
    assert_eq!(report.waits.len(), 2);
    assert_eq!((report.waits[0].rank, report.waits[0].op), (0, "bcast"));
    assert_contains(&report.waits[0].peer, &["1"]);
    assert_eq!(report.waits[1], wait(1, "recv", "rank 0", Some(0)));
}

#[test]
fn deadlock_in_a_sub_communicator_names_world_ranks() {
    // Pairs {0, 1} and {2, 3}; in each pair both receive first. World ranks are reported.
    let report = deadlock(4, |comm| {
        let pair = comm.split(Some((comm.rank() / 2) as u32), 0)?.expect("colored");
        pair.recv(&mut [0u8], 1 - pair.rank(), 2).map(|_| ())
    });
    let peers: Vec<(usize, String)> = report.waits.iter().map(|w| (w.rank, w.peer.clone())).collect();
    assert_eq!(
        peers,
        vec![(0, "rank 1".into()), (1, "rank 0".into()), (2, "rank 3".into()), (3, "rank 2".into())],
        "{report}"
    );
}

#[test]
fn no_false_deadlock_while_a_rank_computes() {
    // Everyone waits for rank 1, which sleeps and then computes before sending: slow is
    // not a deadlock.
    let out = ok_job(4, |comm| {
        if comm.rank() == 1 {
            sleep(Duration::from_millis(300));
            let t = std::time::Instant::now();
            while t.elapsed() < Duration::from_millis(200) {
                std::hint::black_box(0u64);
            }
            for r in [0, 2, 3] {
                comm.send(&[42u8], r, 0).map_err(|e| e.to_string())?;
            }
        } else if comm.rank() == 0 {
            comm.recv(&mut [0u8], 1, 0).map_err(|e| e.to_string())?;
        } else {
            let mut b = [0u8];
            comm.recv(&mut b, ANY_SOURCE, ANY_TAG).map_err(|e| e.to_string())?;
        }
        comm.barrier().map_err(|e| e.to_string())?;
        Ok(comm.rank())
    });
    assert_eq!(out, vec![0, 1, 2, 3]);
    // A long barrier: three ranks wait while one sleeps.
    ok_job(3, |comm| {
        if comm.rank() == 0 {
            sleep(Duration::from_millis(400));
        }
        comm.barrier().map_err(|e| e.to_string())
    });
}

// ---------------------------------------------------------------------------------------
// Buffers belong to the caller again once a collective returns, even when the job fails
// ---------------------------------------------------------------------------------------

/// A leaked buffer that can be checked after the call that used it has returned.
fn leaked(n: usize) -> &'static mut [u64] {
    Box::leak(vec![0u64; n].into_boxed_slice())
}

/// Runs `n` ranks of `body`, which returns a description of any write into its buffers
/// after its call returned; asserts that there was none. Returns the job's outcome.
fn no_late_writes(n: usize, body: fn(&Comm) -> Result<Option<String>, String>) -> Job<()> {
    let late = Arc::new(Mutex::new(Vec::<String>::new()));
    let l2 = late.clone();
    let (out, _) = job(n, move |comm| {
        let r = body(comm);
        if let Ok(Some(v)) | Err(v) = &r {
            l2.lock().unwrap().push(v.clone());
        }
        r.map(|_| ())
    });
    let late = late.lock().unwrap();
    let writes: Vec<&String> = late.iter().filter(|v| v.contains("changed after")).collect();
    assert!(writes.is_empty(), "a rank's buffer was written after its call returned: {writes:?}");
    out
}

/// Snapshots `recv`, waits `ms`, and says how many elements changed meanwhile.
fn changed_after(recv: &[u64], ms: u64, what: String) -> Option<String> {
    let snapshot = recv.to_vec();
    sleep(Duration::from_millis(ms));
    let changed = recv.iter().zip(&snapshot).filter(|(a, b)| a != b).count();
    (changed > 0).then(|| format!("{what}: {changed} elements changed after the call returned"))
}

#[test]
fn an_aborted_collective_leaves_the_buffers_alone() {
    // Ranks 0 and 1 allreduce in a sub-communicator; rank 0 combines its share slowly.
    // Rank 2, outside, fails meanwhile. Once rank 1's allreduce has returned (with an
    // error or not), nobody may write into its receive buffer any more.
    let out = no_late_writes(3, |comm| {
        let sub = comm.split(Some((comm.rank() == 2) as u32), 0).map_err(|e| e.to_string())?.unwrap();
        if comm.rank() == 2 {
            sleep(Duration::from_millis(100));
            return Err("failed outside".into());
        }
        let me = sub.rank();
        let slow = Op::<u64>::user(move |a, b| {
            if me == 0 {
                sleep(Duration::from_millis(1));
            }
            a + b
        });
        let n = 1024; // rank 0 combines half: about half a second of sleeps
        let send = vec![1u64; n];
        let recv = leaked(n);
        let r = sub.allreduce(&send, recv, &slow);
        Ok(changed_after(recv, 1000, format!("rank {me}'s allreduce (returned {r:?})")))
    });
    assert!(matches!(out, Err(Error::RankFailed { rank: 2, .. })), "{out:?}");
}

#[test]
fn a_panicking_user_op_leaves_the_other_buffers_alone() {
    // Rank 1's op panics while rank 0 is still combining its share (and writing into
    // rank 1's receive buffer). Rank 1 catches the panic; its buffer must not change after.
    let out = no_late_writes(2, |comm| {
        let me = comm.rank();
        let op = Op::<u64>::user(move |a, b| {
            if me == 1 {
                panic!("user op failed");
            }
            sleep(Duration::from_millis(1));
            a + b
        });
        let n = 1024;
        let send = vec![1u64; n];
        let recv = leaked(n);
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| comm.allreduce(&send, recv, &op)));
        let late = changed_after(recv, 1000, format!("rank {me}'s allreduce (panicked: {})", r.is_err()));
        if r.is_err() && late.is_none() {
            return Err("rank 1's op panicked".into());
        }
        Ok(late)
    });
    assert!(out.is_err(), "the panic is reported");
}

// ---------------------------------------------------------------------------------------
// Error texts
// ---------------------------------------------------------------------------------------

#[test]
fn error_display_texts() {
    let cases: Vec<(Error, &[&str])> = vec![
        (
            Error::RankOutOfRange { op: "send", caller: 0, rank: 5, size: 2 },
            &["send", "rank 0", "peer rank 5", "size 2"],
        ),
        (Error::RootOutOfRange { op: "bcast", caller: 1, root: 4, size: 3 }, &["bcast", "rank 1", "root 4", "size 3"]),
        (Error::InvalidTag { op: "send", caller: 0, tag: -5, max: MAX_TAG }, &["send", "rank 0", "tag -5", "32767"]),
        (
            Error::Truncated { op: "recv", from: 0, to: 1, tag: 7, sent: 10, capacity: 5 },
            &["recv", "rank 0", "rank 1", "tag 7", "10 elements", "holds 5", "recv_vec"],
        ),
        (
            Error::TypeMismatch {
                op: "recv",
                from: 2,
                to: 1,
                tag: 3,
                sent_type: "f64".into(),
                recv_type: "i32".into(),
            },
            &["recv", "rank 2", "rank 1", "tag 3", "f64", "i32"],
        ),
        (
            Error::CollectiveMismatch { caller: 1, details: "rank 0 called bcast, rank 1 called reduce".into() },
            &["rank 1", "bcast", "reduce"],
        ),
        (
            Error::Aborted { rank: 3, op: "barrier", cause: "rank 1 failed: x".into() },
            &["rank 3", "barrier", "rank 1 failed: x"],
        ),
        (Error::RankFailed { rank: 1, message: "no input file".into() }, &["rank 1 failed: no input file"]),
        (Error::Launch("no threads".into()), &["launch", "no threads"]),
    ];
    for (e, parts) in cases {
        assert_contains(&e.to_string(), parts);
        assert_eq!(e.is_abort(), matches!(e, Error::Aborted { .. }));
    }
    let report = DeadlockReport {
        waits: vec![
            wait(0, "recv", "rank 1", Some(0)),
            wait(1, "recv", "any rank", Some(ANY_TAG)),
            wait(2, "barrier", "ranks [0] to join", None),
        ],
    };
    assert_eq!(
        Error::Deadlock(report).to_string(),
        "deadlock: every live rank is blocked\n  rank 0 waits in recv for rank 1 (tag 0)\n  rank 1 waits in recv for any rank (any tag)\n  rank 2 waits in barrier for ranks [0] to join"
    );
}

/// Ranks that start waiting at staggered times (so their parking timeouts never line up)
/// are still reported as deadlocked within the deadline.
#[test]
fn staggered_deadlock_is_reported() {
    for (n, stagger_ms) in [(3, 33), (5, 20), (7, 14), (4, 25)] {
        let (out, took) = job(n, move |comm| {
            sleep(Duration::from_millis(stagger_ms * comm.rank() as u64));
            let mut x = [0u8];
            comm.recv(&mut x, (comm.rank() + 1) % comm.size(), 3).map_err(|e| e.to_string())?;
            Ok(())
        });
        match out {
            Err(Error::Deadlock(report)) => assert_eq!(report.waits.len(), n, "{report}"),
            other => panic!("{n} ranks: expected a deadlock, got {other:?}"),
        }
        let last_wait = Duration::from_millis(stagger_ms * (n as u64 - 1));
        assert!(took < last_wait + DEADLINE, "{n} ranks: reported after {took:?}");
    }
}

/// Receive layouts whose blocks overlap would have two ranks write the same elements:
/// refused on every rank, before any data moves.
#[test]
fn overlapping_receive_layouts_are_refused() {
    let seen = seen();
    let s = seen.clone();
    ok_job(2, move |comm| {
        let overlapping = Layout::new(&[4, 4], &[0, 2])?;
        let mut out = vec![0u32; 8];
        match comm.allgatherv(&[comm.rank() as u32; 4], &mut out, &overlapping) {
            Err(e) => {
                record(&s, comm.rank(), e);
                Ok(())
            }
            Ok(()) => Err("allgatherv accepted overlapping receive blocks".into()),
        }
    });
    let errors = seen.lock().unwrap();
    assert_eq!(errors.len(), 2);
    assert!(errors.iter().any(|(_, e)| e.to_string().contains("overlapping")), "{errors:?}");
}

/// Displacements near `usize::MAX` are refused instead of wrapping around.
#[test]
fn layouts_that_wrap_around_are_refused() {
    assert!(Layout::new(&[1, 1], &[0, usize::MAX]).is_err());
    assert_eq!(Layout::from_counts(&[usize::MAX, 2]).extent(), usize::MAX);
}

/// A failed `test` (message too long) completes the request with its error: later
/// `test`s and the `wait` report the same error, and the message is consumed, as on MPI.
#[test]
fn a_failed_test_keeps_reporting_its_error() {
    ok_job(2, |comm| {
        if comm.rank() == 0 {
            // Non-blocking: the receives come after the barrier (MPI need not buffer sends).
            let a = comm.isend(&[1u32, 2, 3], 1, 9).map_err(|e| e.to_string())?;
            let b = comm.isend(&[4u32], 1, 9).map_err(|e| e.to_string())?;
            comm.barrier().map_err(|e| e.to_string())?;
            parsci_comm::wait_all(vec![a, b]).map_err(|e| e.to_string())?;
            return Ok(());
        }
        comm.barrier().map_err(|e| e.to_string())?; // the messages have been sent
        let mut small = [0u32; 2];
        let mut req = comm.irecv(&mut small, 0, 9).map_err(|e| e.to_string())?;
        let first = loop {
            match req.test() {
                Err(e @ Error::Truncated { .. }) => break e,
                Err(e) => return Err(format!("unexpected error {e}")),
                Ok(Some(_)) => return Err("a too-long message was accepted".into()),
                Ok(None) => std::thread::yield_now(),
            }
        };
        for _ in 0..3 {
            if req.test() != Err(first.clone()) {
                return Err("a failed request changed its answer".into());
            }
        }
        if req.wait() != Err(first) {
            return Err("wait after a failed test gave another answer".into());
        }
        let (v, _) = comm.recv_vec::<u32>(0, 9).map_err(|e| e.to_string())?;
        if v != [4] {
            return Err(format!("expected the next message, got {v:?}"));
        }
        Ok(())
    });
}
