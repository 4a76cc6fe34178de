//! Behaviour specific to the thread backend (the conformance checks hold on every backend):
//! cancelling receives by dropping them, request reuse, messages to oneself, identity.

mod common;

use std::time::Duration;

use parsci_comm::{launch, Backend, BackendKind, Comm, Error, Op, ANY_SOURCE, ANY_TAG, MAX_THREAD_RANKS};

const GUARD: Duration = Duration::from_secs(15);

/// True when the whole run is in strict mode (`PARSCI_SYNC_SENDS=1`, as in CI): the
/// tests of the default mode's buffering have nothing to check then.
fn buffering_is_off() -> bool {
    parsci_comm::JobOptions::default().syncs_sends()
}

/// Runs a job that must succeed, under the hang guard.
fn ok_job<R: Send + 'static>(n: usize, f: impl Fn(&Comm) -> Result<R, String> + Send + Sync + 'static) -> Vec<R> {
    let out = common::with_timeout(GUARD, &format!("job of {n} ranks"), move || launch(Backend::Threads(n), f));
    out.unwrap_or_else(|e| panic!("the job failed: {e}")).into_vec()
}

fn s(e: Error) -> String {
    e.to_string()
}

#[test]
fn identity_on_threads() {
    let names = ok_job(3, |comm| {
        if comm.backend() != BackendKind::Threads || comm.backend().name() != "threads" {
            return Err(format!("backend {:?}", comm.backend()));
        }
        Ok(comm.processor_name())
    });
    assert!(!names[0].is_empty());
    assert!(names.iter().all(|n| n == &names[0]), "one machine: {names:?}");
}

#[test]
fn a_dropped_irecv_takes_no_message() {
    ok_job(2, |comm| {
        if comm.rank() == 0 {
            comm.barrier().map_err(s)?;
            comm.send(&[1u32, 2], 1, 4).map_err(s)?;
            return Ok(());
        }
        let mut b = [0u32; 2];
        let req = comm.irecv(&mut b, 0, 4).map_err(s)?;
        drop(req); // posted, unmatched, cancelled
        comm.barrier().map_err(s)?;
        let (v, st) = comm.recv_vec::<u32>(0, 4).map_err(s)?;
        assert_eq!((v, st.tag), (vec![1, 2], 4));
        Ok(())
    });
}

#[test]
fn a_request_completed_by_test_can_still_be_waited() {
    ok_job(2, |comm| {
        let other = 1 - comm.rank();
        let mut b = [0u8; 3];
        let mut req = comm.irecv(&mut b, other, 0).map_err(s)?;
        comm.send(&[comm.rank() as u8; 3], other, 0).map_err(s)?;
        let st = loop {
            if let Some(st) = req.test().map_err(s)? {
                break st;
            }
            std::thread::yield_now();
        };
        assert_eq!(req.test().map_err(s)?, Some(st), "test again");
        assert_eq!(req.wait().map_err(s)?, st, "wait after test");
        assert_eq!(b, [other as u8; 3]);
        Ok(())
    });
}

#[test]
fn blocking_sends_to_oneself_are_buffered() {
    if buffering_is_off() {
        return; // strict mode: sends are not buffered, which is what this checks
    }
    // MPI does not promise this; the thread backend moves or copies the message aside.
    ok_job(1, |comm| {
        for n in [1usize, 100, 1 << 17] {
            let data: Vec<f64> = (0..n).map(|i| i as f64).collect();
            comm.send(&data, 0, 0).map_err(s)?;
            comm.send(&data, 0, 1).map_err(s)?;
            let (b, _) = comm.recv_vec::<f64>(0, 1).map_err(s)?;
            let (a, _) = comm.recv_vec::<f64>(0, 0).map_err(s)?;
            assert!(a == data && b == data, "{n}");
        }
        Ok(())
    });
}

#[test]
fn big_blocking_sends_in_both_directions_do_not_deadlock() {
    if buffering_is_off() {
        return; // strict mode: sends are not buffered, which is what this checks
    }
    // Both ranks send 1 MiB first, then receive: the thread backend's sends never block
    // for long (the sender copies the message aside if the receiver is late).
    ok_job(2, |comm| {
        let other = 1 - comm.rank();
        let data = vec![comm.rank() as u8; 1 << 20];
        comm.send(&data, other, 0).map_err(s)?;
        let (v, _) = comm.recv_vec::<u8>(other, 0).map_err(s)?;
        assert!(v.len() == 1 << 20 && v.iter().all(|&x| x == other as u8));
        Ok(())
    });
}

/// Many short round trips with parking in between (more ranks than cores makes ranks park
/// after a very short spin): a lost wake-up would stall a rank until its park timeout,
/// long enough for the monitor to report a deadlock that is not there.
#[test]
fn ping_pong_stress_has_no_lost_wakeups() {
    let ranks = 2 * parsci_comm::available_cores().max(2);
    let rounds = 3000;
    let out = common::with_timeout(Duration::from_secs(60), "ping-pong stress", move || {
        launch(Backend::Threads(ranks), move |comm| {
            let me = comm.rank();
            let peer = me ^ 1;
            let mut slowest = Duration::ZERO;
            let mut b = [0u64];
            for i in 0..rounds {
                let t = std::time::Instant::now();
                if me % 2 == 0 {
                    comm.send(&[i], peer, 0).map_err(s)?;
                    comm.recv(&mut b, peer, 0).map_err(s)?;
                } else {
                    comm.recv(&mut b, peer, 0).map_err(s)?;
                    comm.send(&[i], peer, 0).map_err(s)?;
                }
                assert_eq!(b[0], i);
                slowest = slowest.max(t.elapsed());
                if i % 500 == 0 {
                    comm.barrier().map_err(s)?;
                }
            }
            Ok::<_, String>(slowest)
        })
    });
    let slowest = out.unwrap_or_else(|e| panic!("{e}")).into_vec();
    eprintln!("slowest round trip per rank: {slowest:?}");
}

#[test]
fn unreceived_messages_are_dropped_with_the_job() {
    if buffering_is_off() {
        return; // strict mode: sends are not buffered, which is what this checks
    }
    // Messages of every kind left in channels, overflow queues and local queues when
    // the job ends: dropped cleanly (no crash, no hang).
    ok_job(3, |comm| {
        let me = comm.rank();
        for dst in 0..3 {
            if dst == me {
                continue;
            }
            for i in 0..150u64 {
                let n = [1usize, 3, 300, 6000][i as usize % 4];
                let req = comm.isend(&vec![i; n], dst, 0).map_err(s)?;
                req.wait().map_err(s)?;
            }
            comm.send_vec(vec![7u8; 100], dst, 1).map_err(s)?;
            comm.send_obj(&"left behind", dst, 2).map_err(s)?;
        }
        comm.barrier().map_err(s)?;
        // Pull a few into the local queue (probe drains the channel), receive one.
        comm.probe(ANY_SOURCE, 2).map_err(s)?;
        comm.recv_vec::<u64>(ANY_SOURCE, 0).map_err(s)?;
        comm.barrier().map_err(s)?;
        Ok(())
    });
}

#[test]
fn many_ranks_on_few_cores() {
    let n = 32;
    let out = common::with_timeout(Duration::from_secs(60), "32 ranks", move || {
        launch(Backend::Threads(n), |comm| {
            let (me, p) = (comm.rank(), comm.size());
            let mut s = [0u64];
            comm.allreduce(&[me as u64], &mut s, &parsci_comm::Op::sum()).map_err(|e| e.to_string())?;
            let mut got = [0usize];
            comm.sendrecv(&[me], (me + 1) % p, 0, &mut got, (me + p - 1) % p, 0).map_err(|e| e.to_string())?;
            comm.barrier().map_err(|e| e.to_string())?;
            Ok::<_, String>((s[0], got[0]))
        })
    });
    let out = out.unwrap_or_else(|e| panic!("{e}")).into_vec();
    for (r, (sum, left)) in out.into_iter().enumerate() {
        assert_eq!((sum, left), ((n * (n - 1) / 2) as u64, (r + n - 1) % n));
    }
}

/// A thousand ranks (most of them waiting on two cores): a barrier, a ring exchange, rank 0
/// hearing from everyone by any-source receives (then a specific-source one), an allreduce.
#[test]
fn a_thousand_ranks_communicate() {
    let n = 1024;
    let out = common::with_timeout(Duration::from_secs(120), "1024 ranks", move || {
        launch(Backend::Threads(n), |comm| {
            let (me, p) = (comm.rank(), comm.size());
            comm.barrier()?;
            let mut left = [0usize];
            comm.sendrecv(&[me], (me + 1) % p, 0, &mut left, (me + p - 1) % p, 0)?;
            let mut heard = vec![false; if me == 0 { p } else { 0 }];
            if me == 0 {
                let mut from = [0usize];
                for _ in 1..p {
                    let st = comm.recv(&mut from, ANY_SOURCE, 1)?;
                    assert_eq!(st.source, from[0], "the status names the sender");
                    assert!(!std::mem::replace(&mut heard[from[0]], true), "rank {} heard twice", from[0]);
                }
                // The last rank's second message comes from the queue of an inlet that exists.
                comm.recv(&mut from, p - 1, 2)?;
                assert_eq!(from[0], 2 * (p - 1));
            } else {
                comm.send(&[me], 0, 1)?;
                if me == p - 1 {
                    comm.send(&[2 * me], 0, 2)?;
                }
            }
            let mut total = [0u64];
            comm.allreduce(&[me as u64], &mut total, &Op::sum())?;
            comm.barrier()?;
            Ok::<_, Error>((left[0], heard.iter().filter(|&&h| h).count(), total[0]))
        })
    });
    let out = out.unwrap_or_else(|e| panic!("the job failed: {e}")).into_vec();
    assert_eq!(out.len(), n);
    for (r, (left, heard, total)) in out.into_iter().enumerate() {
        assert_eq!(left, (r + n - 1) % n, "rank {r}: ring exchange");
        assert_eq!(heard, if r == 0 { n - 1 } else { 0 }, "rank {r}: any-source receives");
        assert_eq!(total, (n * (n - 1) / 2) as u64, "rank {r}: allreduce");
    }
}

#[test]
fn more_thread_ranks_than_the_limit_is_a_launch_error() {
    for n in [MAX_THREAD_RANKS + 1, 100_000, usize::MAX] {
        let started = std::sync::atomic::AtomicBool::new(false);
        let err = launch(Backend::Threads(n), |_| {
            started.store(true, std::sync::atomic::Ordering::Relaxed);
            Ok::<_, Error>(())
        })
        .unwrap_err();
        assert!(!started.load(std::sync::atomic::Ordering::Relaxed), "{n} ranks: no rank may start");
        let Error::Launch(msg) = &err else { panic!("{n} ranks: expected Error::Launch, got {err:?}") };
        for part in [format!("{n} ranks"), MAX_THREAD_RANKS.to_string(), "thread".into(), "MPI backend".into()] {
            assert!(msg.contains(&part), "{n} ranks: {msg:?} lacks {part:?}");
        }
    }
}

/// Every payload path of the thread backend (inline, slab, moved copy, rendezvous), with
/// more messages queued than the ring holds, received in order by every receive kind.
#[test]
fn every_payload_size_survives_ring_overflow_in_order() {
    if buffering_is_off() {
        return; // strict mode: sends are not buffered, which is what this checks
    }
    const SIZES: [usize; 6] = [1, 2, 100, 128, 3000, 40_000]; // u64s: 8 B .. 320 KB
    ok_job(2, |comm| {
        let msg = |round: usize, k: usize| -> Vec<u64> {
            (0..SIZES[k]).map(|i| (round * 1_000_003 + k * 7919 + i) as u64).collect()
        };
        if comm.rank() == 0 {
            for round in 0..30 {
                for k in 0..SIZES.len() {
                    comm.send(&msg(round, k), 1, 5).map_err(s)?;
                }
            }
            comm.barrier().map_err(s)?;
            return Ok(());
        }
        comm.barrier().map_err(s)?; // 180 messages now queued: the ring holds 64
        for round in 0..30 {
            for (k, &size) in SIZES.iter().enumerate() {
                let want = msg(round, k);
                let got = match (round + k) % 3 {
                    0 => comm.recv_vec::<u64>(0, 5).map_err(s)?.0,
                    1 => {
                        let mut b = vec![0u64; size + 1];
                        let st = comm.recv(&mut b, 0, ANY_TAG).map_err(s)?;
                        b.truncate(st.count);
                        b
                    }
                    _ => {
                        let mut b = vec![0u64; size];
                        comm.irecv(&mut b, ANY_SOURCE, 5).map_err(s)?.wait().map_err(s)?;
                        b
                    }
                };
                if got != want {
                    return Err(format!("round {round}, size {size}: wrong message"));
                }
            }
        }
        Ok(())
    });
}

/// A mid-size (slab) message refused for being too long is consumed (as on MPI); the
/// next message comes intact.
#[test]
fn a_truncated_slab_message_is_consumed() {
    ok_job(2, |comm| {
        if comm.rank() == 0 {
            comm.send(&[7u8; 500], 1, 1).map_err(s)?;
            comm.send(&[8u8; 300], 1, 1).map_err(s)?;
            return Ok(());
        }
        let mut small = [0u8; 100];
        match comm.recv(&mut small, 0, 1) {
            Err(Error::Truncated { sent: 500, capacity: 100, .. }) => {}
            other => return Err(format!("expected a truncation error, got {other:?}")),
        }
        let (v, _) = comm.recv_vec::<u8>(0, 1).map_err(s)?;
        if v != vec![8u8; 300] {
            return Err("the next message changed".into());
        }
        Ok(())
    });
}

/// `abort` stops the whole job whatever the others are blocked in, at every size.
#[test]
fn abort_stops_every_rank() {
    for n in common::SIZES {
        let out = common::with_timeout(GUARD, "abort", move || {
            launch(Backend::Threads(n), move |comm| {
                let (me, p) = (comm.rank(), comm.size());
                if me == p - 1 {
                    comm.abort(3);
                }
                if me % 2 == 0 {
                    comm.recv_vec::<u8>(ANY_SOURCE, ANY_TAG).map(|_| ()) // nobody sends
                } else {
                    comm.barrier()
                }
            })
        });
        assert_eq!(out.unwrap_err(), Error::JobAborted { rank: n - 1, code: 3 }, "{n} ranks");
    }
}

/// A rank waiting in `wait_any` parks like any blocked call: a wait nobody can end is
/// reported as a deadlock naming it.
#[test]
fn wait_any_takes_part_in_deadlock_detection() {
    let out = common::with_timeout(GUARD, "wait_any deadlock", || {
        launch(Backend::Threads(2), |comm| {
            let mut b = [0u8];
            let mut reqs = vec![Some(comm.irecv(&mut b, 1 - comm.rank(), 9)?)];
            parsci_comm::wait_any(&mut reqs).map(|_| ())
        })
    });
    match out {
        Err(Error::Deadlock(r)) => assert!(r.to_string().contains("wait_any"), "{r}"),
        other => panic!("expected a deadlock, got {other:?}"),
    }
}
