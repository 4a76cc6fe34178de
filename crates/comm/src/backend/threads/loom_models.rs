//! Loom models of the thread backend's lock-free parts, run on the real code (built with
//! loom's atomics, cells, mutex and park through `sync`):
//!
//! ```text
//! RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p parsci-comm --release --lib loom
//! ```
//!
//! Each model explores every interleaving (up to the preemption bound) and every outcome
//! of the C++ memory model loom allows for the atomics; `sync::UnsafeCell` reports a ring
//! slot, slab or set-aside copy touched without a happens-before edge from its writer.
//! A park that no unpark ever ends is reported as a deadlock: loom's park has no timeout.
//!
//! Shared objects are held in loom's `Arc` (std's last drop synchronises through a fence
//! loom cannot see) or, where the backend's types hold a std `Arc` (the world, a
//! communicator's shared state), kept by the model's main thread until it has joined
//! the others, so that their drop is ordered after every use.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;

use loom::sync::Arc as LoomArc;
use loom::thread;

use super::channel::{type_tag, Channel, Envelope, Payload, ProducerPos, INLINE};
use super::comm::{CommShared, ThreadComm};
use super::endpoint::Endpoint;
use super::rendezvous::Rendezvous;
use super::sync::UnsafeCell;
use super::world::{Failure, WaitDesc, World};

fn envelope(i: usize) -> Envelope {
    let mut bytes = [0u8; INLINE];
    bytes[0] = i as u8;
    Envelope {
        ctx: 0,
        tag: i as i32,
        src: 0,
        ty: type_tag::<u8>,
        count: 1,
        payload: Payload::Inline(bytes),
        sync: None,
    }
}

/// The first payload byte of a message that left the ring (inline or slab).
fn first_byte(env: &Envelope) -> u8 {
    match &env.payload {
        Payload::Inline(b) => b[0],
        Payload::Bytes(b) => b[0],
        _ => panic!("unexpected payload"),
    }
}

/// Pushes `n` messages, odd ones with slab bytes (copied into the overflow when the ring is full).
fn produce(ch: &Channel, n: usize) {
    let me = ProducerPos::default();
    for i in 0..n {
        let slab = [i as u8 + 100; 3];
        let bytes = (i % 2 == 1).then_some(&slab[..]);
        ch.push(&me, envelope(i), bytes);
    }
}

fn check_in_order(got: &[Envelope]) {
    for (i, env) in got.iter().enumerate() {
        assert_eq!(env.tag, i as i32, "messages arrive once, in order");
        let want = if i % 2 == 1 { i as u8 + 100 } else { i as u8 };
        assert_eq!(first_byte(env), want, "message {i} has its own payload");
    }
}

/// The producer pushes twice as many messages as the ring holds while the consumer
/// drains: every message arrives once, in order, with its payload; no slot is read
/// before it is published or rewritten before it is consumed.
#[test]
fn loom_ring_with_overflow_delivers_in_order() {
    const N: usize = 4;
    loom::model(|| {
        let ch = LoomArc::new(Channel::new());
        let producer = {
            let ch = ch.clone();
            thread::spawn(move || produce(&ch, N))
        };
        let pos = Cell::new(0);
        let mut got = Vec::new();
        while got.len() < N {
            ch.drain(&pos, &mut |env| got.push(env));
            if got.len() < N {
                thread::yield_now();
            }
        }
        producer.join().unwrap();
        check_in_order(&got);
    });
}

/// As above, with the receive path's fast take of the ring's head (valid only while the
/// overflow is empty) and its in-place consumption, mixed with draining.
#[test]
fn loom_ring_head_takes_and_drains_agree() {
    const N: usize = 4;
    loom::model(|| {
        let ch = LoomArc::new(Channel::new());
        let producer = {
            let ch = ch.clone();
            thread::spawn(move || produce(&ch, N))
        };
        let pos = Cell::new(0);
        let mut got: Vec<Envelope> = Vec::new();
        while got.len() < N {
            let i = got.len();
            if ch.has_overflow() {
                ch.drain(&pos, &mut |env| got.push(env));
            } else if i == 1 {
                // Looks at the message in its slot (the slab bytes beside it) and drops it there.
                if let Some(b) =
                    ch.consume_head(&pos, |env, slab| Some(if slab.is_empty() { first_byte(env) } else { slab[0] }))
                {
                    assert_eq!(b, 101, "message 1 carries its slab bytes");
                    got.push(Envelope { payload: Payload::Bytes(vec![b]), ..envelope(1) });
                }
            } else if let Some(env) = ch.take_head_if(&pos, |_| true) {
                got.push(env);
            }
            if got.len() == i {
                thread::yield_now();
            }
        }
        producer.join().unwrap();
        check_in_order(&got);
    });
}

const RDV_BYTES: usize = 10; // three chunks of 4 bytes under loom

fn rdv_model(patient_sender: bool) {
    loom::model(move || {
        let mut src: Vec<u8> = (1..=RDV_BYTES as u8).collect();
        let rdv = LoomArc::new(Rendezvous::new(&src, 0));
        let receiver = {
            let rdv = rdv.clone();
            thread::spawn(move || {
                let mut dst = vec![0u8; RDV_BYTES + 2];
                rdv.take_into(&mut dst, false);
                dst
            })
        };
        // The sender: helps copy while the receiver copies; an impatient one sets the
        // message aside if the receiver has not claimed it yet.
        loop {
            if rdv.is_done() || (!patient_sender && rdv.try_set_aside()) {
                break;
            }
            thread::yield_now();
        }
        // The sender's buffer is released: reusing it must not change what is received.
        src.fill(0xEE);
        let dst = receiver.join().unwrap();
        let want: Vec<u8> = (1..=RDV_BYTES as u8).collect();
        assert_eq!(&dst[..RDV_BYTES], &want[..], "the receiver gets the sender's bytes");
        assert_eq!(&dst[RDV_BYTES..], &[0, 0], "nothing is written past the message");
    });
}

/// The receiver claims and copies chunks while the waiting sender copies chunks alongside.
#[test]
fn loom_rendezvous_copy_shared_with_the_sender() {
    rdv_model(true);
}

/// The sender sets the message aside when the receiver is late, and races its claim.
#[test]
fn loom_rendezvous_set_aside_races_the_claim() {
    rdv_model(false);
}

fn desc() -> WaitDesc {
    WaitDesc { op: "recv", peer: "rank 1".into(), tag: None }
}

/// Rank 0 waits for two messages from rank 1 (announces that it parks, looks one last
/// time, parks); rank 1 publishes each, then looks whether rank 0 parked. A missed wake
/// would leave rank 0 parked for good: loom reports that as a deadlock.
#[test]
fn loom_park_and_wake_never_miss() {
    loom::model(|| {
        let world = Arc::new(World::new(2, false));
        // The channel from rank 1 to rank 0, opened as rank 1's first message opens it.
        let ch = world.open_channel(1, 0);
        let waker = {
            let (world, ch) = (world.clone(), ch.clone());
            thread::spawn(move || {
                world.register(1);
                let me = ProducerPos::default();
                for i in 0..2 {
                    ch.push(&me, envelope(i), None);
                    world.wake(0);
                }
                world.finish(1);
            })
        };
        world.register(0);
        let pos = Cell::new(0);
        for i in 0..2 {
            // Two messages fit in the ring: the overflow stays empty, so taking the head is valid.
            let env =
                world.wait_until(0, desc, || Ok(ch.take_head_if(&pos, |_| true))).expect("no abort in this model");
            assert_eq!(env.tag, i);
        }
        waker.join().unwrap();
    });
}

fn comm(world: &Arc<World>, shared: &Arc<CommShared>, rank: usize) -> ThreadComm {
    world.register(rank);
    ThreadComm::new(Rc::new(Endpoint::new(world.clone(), rank)), shared.clone(), rank)
}

/// Two ranks meet at three barriers, each publishing data in a double-buffered slot
/// before the barrier and reading the other's after it (as the collectives do with their
/// call descriptions): every read sees the write of its round, and a slot is rewritten
/// only after the other rank has read it.
#[test]
fn loom_barrier_publishes_the_slots() {
    const ROUNDS: usize = 3;
    loom::model(|| {
        let world = Arc::new(World::new(2, false));
        let shared = Arc::new(CommShared::new(0, vec![0, 1]));
        let slots: LoomArc<[UnsafeCell<usize>; 4]> = LoomArc::new(std::array::from_fn(|_| UnsafeCell::new(usize::MAX)));
        let run = |rank: usize, world: Arc<World>, shared: Arc<CommShared>, slots: LoomArc<[UnsafeCell<usize>; 4]>| {
            let c = comm(&world, &shared, rank);
            for round in 0..ROUNDS {
                let parity = round % 2;
                // SAFETY: the protocol under test: nobody reads this slot until the barrier.
                slots[2 * parity + rank].with_mut(|p| unsafe { *p = round });
                c.barrier().expect("no abort in this model");
                // SAFETY: the protocol under test: written before the other's arrival.
                let other = slots[2 * parity + 1 - rank].with(|p| unsafe { *p });
                assert_eq!(other, round, "rank {rank} reads round {round}'s slot");
            }
            world.finish(rank);
        };
        let t = {
            let (w, s, sl) = (world.clone(), shared.clone(), slots.clone());
            thread::spawn(move || run(1, w, s, sl))
        };
        run(0, world.clone(), shared.clone(), slots);
        t.join().unwrap();
    });
}

/// The job aborts while two ranks enter a counter phase (the meeting of large
/// communicators, and of every collective before ranks use each other's buffers): a rank
/// withdraws its arrival only if not everyone has arrived, so either both pass or both
/// return the abort error, and neither hangs.
#[test]
fn loom_barrier_withdrawal_on_abort_is_all_or_nothing() {
    loom::model(|| {
        let world = Arc::new(World::new(2, false));
        let shared = Arc::new(CommShared::new(0, vec![0, 1]));
        let ranks: Vec<_> = (0..2)
            .map(|rank| {
                let (w, s) = (world.clone(), shared.clone());
                thread::spawn(move || {
                    let r = comm(&w, &s, rank).phase("barrier", true).is_ok();
                    w.finish(rank);
                    r
                })
            })
            .collect();
        // The main thread is not a rank: `fail` unparks every rank's thread, and loom
        // (unlike std) lets an unpark end a wait in `join`.
        world.fail(Failure::Rank { rank: 2, message: "failed".into() });
        let passed: Vec<bool> = ranks.into_iter().map(|t| t.join().unwrap()).collect();
        assert_eq!(passed[0], passed[1], "both ranks pass the barrier, or both withdraw");
    });
}

/// The job aborts while two ranks meet by their sequence numbers (a small communicator's
/// barrier): each rank returns, passed or not, and none hangs.
#[test]
fn loom_barrier_by_numbers_never_hangs_on_abort() {
    loom::model(|| {
        let world = Arc::new(World::new(2, false));
        let shared = Arc::new(CommShared::new(0, vec![0, 1]));
        let ranks: Vec<_> = (0..2)
            .map(|rank| {
                let (w, s) = (world.clone(), shared.clone());
                thread::spawn(move || {
                    let _ = comm(&w, &s, rank).barrier();
                    w.finish(rank);
                })
            })
            .collect();
        world.fail(Failure::Rank { rank: 2, message: "failed".into() });
        ranks.into_iter().for_each(|t| t.join().unwrap());
    });
}

/// Why `loom_barrier_publishes_the_slots` is run with at most two preemptions: with three,
/// loom reports rank 0 parked for good. The cause is loom's model of SeqCst fences, shown
/// by this litmus test of raw loom atomics (the handshake of `World::wake`/`wait_until`
/// after the flag has been set and cleared once): loom lets the waker's load after its
/// fence return a value older than the waiter's store before its fence, while the waiter's
/// load after its fence misses the waker's increment. C++20 ([atomics.order] p4) forbids
/// that outcome: the waker's fence would have to precede the waiter's in the single total
/// order S and follow it. Without the earlier history the same test passes. Ignored: it
/// fails under loom 0.7.3 (run it with `--ignored`).
#[test]
#[ignore = "fails under loom 0.7.3: loom's SeqCst-fence model allows an outcome C++20 forbids"]
fn loom_litmus_sc_fences_after_history() {
    use loom::sync::atomic::{fence, AtomicBool, AtomicUsize};
    use std::sync::atomic::Ordering::*;
    loom::model(|| {
        let parked = LoomArc::new(AtomicBool::new(false));
        let total = LoomArc::new(AtomicUsize::new(0));
        let waker = {
            let (parked, total) = (parked.clone(), total.clone());
            thread::spawn(move || {
                let woke = parked.load(Relaxed) && parked.swap(false, SeqCst); // an earlier wake
                total.fetch_add(1, AcqRel); // publish
                fence(SeqCst);
                (woke, parked.load(Relaxed)) // look at the flag
            })
        };
        parked.store(true, SeqCst); // an earlier wait, ended by the waiter itself
        fence(SeqCst);
        parked.swap(false, SeqCst);
        parked.store(true, SeqCst); // announce the park
        fence(SeqCst);
        let seen = total.load(Acquire); // the last look
        let (woke, flag) = waker.join().unwrap();
        assert!(seen == 1 || flag || woke, "missed wake: seen={seen} flag={flag} woke={woke}");
    });
}
