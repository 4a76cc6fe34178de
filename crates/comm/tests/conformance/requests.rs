//! Checks of a request's life on every backend: dropped, leaked (`mem::forget`), failed.
//! MPI's rules: dropping cancels (a message that had already matched is consumed); a
//! leaked request stays posted until its communicator is freed, and never touches the
//! caller's buffer; a receive that cannot hold its message consumes it and reports it.

use parsci_comm::{test_all, test_any, wait_any, wait_some, Comm, Error, Request, Tag, ANY_TAG};

use super::checks::CheckResult;

fn ctx<T>(r: parsci_comm::Result<T>, what: &str) -> Result<T, String> {
    r.map_err(|e| format!("{what}: {e}"))
}

fn neighbours(comm: &Comm) -> (usize, usize) {
    let (me, p) = (comm.rank(), comm.size());
    ((me + p - 1) % p, (me + 1) % p)
}

/// Blocks until a message from `src` with `tag` has arrived (so that a receive posted
/// now matches it at once, on MPI too).
fn arrived(comm: &Comm, src: usize, tag: Tag) -> CheckResult {
    ctx(comm.probe(src, tag), "probe").map(|_| ())
}

/// An unmatched request that is dropped takes no message.
fn dropped_unmatched(comm: &Comm) -> CheckResult {
    let (me, (l, r)) = (comm.rank(), neighbours(comm));
    let mut b = [0u32; 2];
    drop(ctx(comm.irecv(&mut b, l, 20), "irecv")?);
    drop(ctx(comm.irecv_vec::<u32>(l, 21), "irecv_vec")?);
    drop(ctx(comm.irecv_obj::<String>(l, 22), "irecv_obj")?);
    ctx(comm.barrier(), "barrier")?;
    let sends = [
        ctx(comm.isend(&[me as u32; 2], r, 20), "isend")?,
        ctx(comm.isend(&[me as u32; 3], r, 21), "isend")?,
        ctx(comm.isend_obj(&format!("from {me}"), r, 22), "isend_obj")?,
    ];
    let (v, _) = ctx(comm.recv_vec::<u32>(l, 20), "recv_vec 20")?;
    ensure(v == [l as u32; 2], "a dropped irecv took its message")?;
    let (v, _) = ctx(comm.recv_vec::<u32>(l, 21), "recv_vec 21")?;
    ensure(v == [l as u32; 3], "a dropped irecv_vec took its message")?;
    let (s, _) = ctx(comm.recv_obj::<String>(l, 22), "recv_obj 22")?;
    ensure(s == format!("from {l}"), "a dropped irecv_obj took its message")?;
    ctx(parsci_comm::wait_all(sends.into()), "wait_all")?;
    Ok(())
}

/// A request dropped after its message arrived consumes it: the next receive of the same
/// pattern gets the message sent after it, small and large.
fn dropped_matched(comm: &Comm) -> CheckResult {
    let (me, (l, r)) = (comm.rank(), neighbours(comm));
    for n in [2usize, 100_000] {
        let data: Vec<u64> = (0..n as u64).map(|i| i * 7 + me as u64).collect();
        let mut sends = Vec::new();
        for tag in [23, 24] {
            sends.push(ctx(comm.isend(&data, r, tag), "isend")?);
            sends.push(ctx(comm.isend(&[u64::MAX - me as u64], r, tag), "isend of the marker")?);
        }
        let marker = [u64::MAX - l as u64];
        arrived(comm, l, 23)?;
        let mut buf = vec![0u64; n];
        drop(ctx(comm.irecv(&mut buf, l, 23), "irecv")?);
        let (v, _) = ctx(comm.recv_vec::<u64>(l, 23), "recv_vec after a dropped irecv")?;
        ensure(v == marker, &format!("{n}: a dropped, matched irecv left its message ({} elements)", v.len()))?;
        arrived(comm, l, 24)?;
        drop(ctx(comm.irecv_vec::<u64>(l, 24), "irecv_vec")?);
        let (v, _) = ctx(comm.recv_vec::<u64>(l, 24), "recv_vec after a dropped irecv_vec")?;
        ensure(v == marker, &format!("{n}: a dropped, matched irecv_vec left its message ({} elements)", v.len()))?;
        ctx(parsci_comm::wait_all(sends), "wait_all")?;
    }
    Ok(())
}

/// A receive that cannot hold its message (too long, or not a whole number of its
/// elements) reports it and consumes it; messages after it keep their order.
fn failed_receives_consume(comm: &Comm) -> CheckResult {
    let (me, (l, r)) = (comm.rank(), neighbours(comm));
    let mut sends = Vec::new();
    for tag in [25, 26, 27] {
        sends.push(ctx(comm.isend(&[me as u64; 4], r, tag), "isend")?);
    }
    sends.push(ctx(comm.isend(&[me as u64], r, 25), "isend")?);
    sends.push(ctx(comm.isend(&[me as u64], r, 26), "isend")?);
    arrived(comm, l, 27)?;
    let mut small = [0u64; 2];
    match comm.irecv(&mut small, l, 25).and_then(|q| q.wait()) {
        Err(Error::Truncated { capacity: 2, .. }) => {}
        other => return Err(format!("a too-long irecv: expected Truncated, got {other:?}")),
    }
    match comm.recv(&mut small, l, 26) {
        Err(Error::Truncated { capacity: 2, .. }) => {}
        other => return Err(format!("a too-long recv: expected Truncated, got {other:?}")),
    }
    // 32 bytes are not a whole number of 3-byte elements: every backend can tell.
    match comm.recv_vec::<[u8; 3]>(l, 27) {
        Err(Error::TypeMismatch { .. }) => {}
        other => return Err(format!("a mistyped recv_vec: expected TypeMismatch, got {other:?}")),
    }
    // Received with ANY_TAG, what is left comes in send order: the markers of 25 and 26.
    for want in [25, 26] {
        let (v, st) = ctx(comm.recv_vec::<u64>(l, ANY_TAG), "recv_vec of what is left")?;
        ensure((v.as_slice(), st.tag) == (&[l as u64][..], want), &format!("after failed receives: {v:?} {st:?}"))?;
    }
    ctx(parsci_comm::wait_all(sends), "wait_all")?;
    Ok(())
}

/// Leaked requests never write into the caller's memory and die with their
/// communicator: a new communicator (which MPI may give the same handle) is not
/// disturbed by them.
fn leaked(comm: &Comm) -> CheckResult {
    let (me, (l, r)) = (comm.rank(), neighbours(comm));
    let mut b = [0u32; 4];
    {
        let sub = ctx(comm.dup(), "dup")?;
        std::mem::forget(ctx(sub.irecv(&mut b, l, 31), "irecv")?);
        std::mem::forget(ctx(sub.irecv_vec::<u32>(l, 30), "irecv_vec")?);
        std::mem::forget(ctx(sub.irecv_obj::<String>(l, 32), "irecv_obj")?);
        // Leaked sends: the messages still go (and the leaked receives take them).
        std::mem::forget(ctx(sub.isend(&[me as u32 + 1; 4], r, 31), "isend")?);
        std::mem::forget(ctx(sub.isend_obj(&"leaked", r, 32), "isend_obj")?);
    }
    for round in 0..3 {
        let sub = ctx(comm.dup(), "dup after the leaks")?;
        let s = ctx(sub.isend(&[round, me as u32], r, 30), "isend on the new communicator")?;
        let s2 = ctx(sub.isend(&[round; 3], r, 31), "isend on the new communicator")?;
        let (v, _) = ctx(sub.recv_vec::<u32>(l, 30), "recv_vec on the new communicator")?;
        ensure(v == [round, l as u32], &format!("round {round}: a leaked request disturbed a new communicator"))?;
        let mut got = [0u32; 3];
        ctx(sub.recv(&mut got, l, 31), "recv on the new communicator")?;
        ensure(got == [round; 3], "a leaked irecv took a message of a new communicator")?;
        ctx(s.wait(), "wait")?;
        ctx(s2.wait(), "wait")?;
    }
    ctx(comm.barrier(), "barrier")?;
    ensure(b == [0; 4], "a leaked irecv wrote into the caller's buffer")?;
    Ok(())
}

/// A finished request stays finished: a receive into a buffer answers with its status
/// again; a receive into a new `Vec`, which handed its message out, with an error (never
/// a hang, never a second message).
fn finished(comm: &Comm) -> CheckResult {
    let (me, (l, r)) = (comm.rank(), neighbours(comm));
    let s1 = ctx(comm.isend(&[me as u16; 3], r, 33), "isend")?;
    let s2 = ctx(comm.isend(&[me as u16; 5], r, 34), "isend")?;
    let mut b = [0u16; 3];
    let mut q = ctx(comm.irecv(&mut b, l, 33), "irecv")?;
    let st = loop {
        if let Some(st) = ctx(q.test(), "test")? {
            break st;
        }
        std::thread::yield_now();
    };
    ensure(ctx(q.test(), "test again")? == Some(st), "a finished irecv changed its status")?;
    ensure(ctx(q.wait(), "wait after test")? == st, "wait after a finished test")?;
    let mut v = ctx(comm.irecv_vec::<u16>(l, 34), "irecv_vec")?;
    let (got, _) = loop {
        if let Some(got) = ctx(v.test(), "test")? {
            break got;
        }
        std::thread::yield_now();
    };
    ensure(got == [l as u16; 5], "irecv_vec's message")?;
    ensure(matches!(v.test(), Err(Error::InvalidArgument { .. })), "test after the message was handed out")?;
    ensure(matches!(v.wait(), Err(Error::InvalidArgument { .. })), "wait after the message was handed out")?;
    ctx(s1.wait(), "wait")?;
    ctx(s2.wait(), "wait")?;
    ensure(b == [l as u16; 3], "irecv's message")
}

/// Request sets: every rank receives from every rank with `wait_any`, then `wait_some`,
/// then `test_all`; each message is checked against its request's index.
fn sets(comm: &Comm) -> CheckResult {
    let (me, p) = (comm.rank(), comm.size());
    let msg = |from: usize, to: usize, round: usize| vec![(from * 100 + to * 10 + round) as u32; 1 + (from + to) % 5];
    for round in 0..3 {
        let tag = 40 + round as Tag;
        let mut bufs = vec![[0u32; 8]; p];
        let mut sends: Vec<Option<Request>> = (0..p)
            .map(|to| comm.isend(&msg(me, to, round), to, tag).map(Some))
            .collect::<Result<_, _>>()
            .map_err(|e| e.to_string())?;
        let mut recvs: Vec<Option<Request>> = bufs
            .iter_mut()
            .enumerate()
            .map(|(from, b)| comm.irecv(b, from, tag).map(Some))
            .collect::<Result<_, _>>()
            .map_err(|e| e.to_string())?;
        let mut seen = vec![false; p];
        let mut note = |i: usize, st: parsci_comm::Status| -> CheckResult {
            ensure(st.source == i && st.count == msg(i, me, round).len() && !seen[i], &format!("request {i}: {st:?}"))?;
            seen[i] = true;
            Ok(())
        };
        match round {
            0 => {
                while let Some((i, st)) = ctx(wait_any(&mut recvs), "wait_any")? {
                    note(i, st)?;
                }
            }
            1 => loop {
                let done = ctx(wait_some(&mut recvs), "wait_some")?;
                if done.is_empty() {
                    break;
                }
                for (i, st) in done {
                    note(i, st)?;
                }
            },
            _ => {
                let sts = loop {
                    if let Some(sts) = ctx(test_all(&mut recvs), "test_all")? {
                        break sts;
                    }
                    std::thread::yield_now();
                };
                for (i, st) in sts.into_iter().enumerate() {
                    note(i, st)?;
                }
            }
        }
        ensure(recvs.iter().all(Option::is_none) && seen.iter().all(|&s| s), "every receive completed once")?;
        ensure(ctx(test_any(&mut recvs), "test_any of an empty set")?.is_none(), "test_any of an empty set")?;
        drop(recvs);
        for (from, b) in bufs.iter().enumerate() {
            let want = msg(from, me, round);
            ensure(b[..want.len()] == want[..], &format!("round {round}: message from rank {from}"))?;
        }
        while ctx(wait_any(&mut sends), "wait_any of the sends")?.is_some() {}
    }
    Ok(())
}

fn ensure(ok: bool, what: &str) -> CheckResult {
    if ok {
        Ok(())
    } else {
        Err(what.to_string())
    }
}

/// Dropped requests: unmatched ones take nothing, matched ones consume their message.
pub fn requests_dropped(comm: &Comm) -> CheckResult {
    dropped_unmatched(comm)?;
    dropped_matched(comm)
}

/// Failed receives consume their message; the order of the rest holds; finished
/// requests stay finished.
pub fn requests_failed(comm: &Comm) -> CheckResult {
    failed_receives_consume(comm)?;
    finished(comm)
}

/// Request sets: `wait_any`, `wait_some`, `test_any`, `test_all`.
pub fn request_sets(comm: &Comm) -> CheckResult {
    sets(comm)
}

/// Leaked requests are harmless outside their communicator.
pub fn requests_leaked(comm: &Comm) -> CheckResult {
    leaked(comm)
}
