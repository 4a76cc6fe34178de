//! Checks of the nonblocking collectives on every backend: each against its blocking
//! counterpart (itself checked against serial references) at sizes around the staging
//! (1 KiB) and agreement (2 KiB) thresholds, many in flight at once and completed in
//! different orders on different ranks, and mismatches reported on every rank.

use parsci_comm::{wait_all, wait_any, BackendKind, Comm, Error, JobOptions, Layout, Op, Request};

use super::checks::CheckResult;

fn ctx<T>(r: parsci_comm::Result<T>, what: &str) -> Result<T, String> {
    r.map_err(|e| format!("{what}: {e}"))
}

fn values(me: usize, n: usize, salt: i64) -> Vec<i64> {
    (0..n).map(|i| salt * 1_000_003 + (me as i64) * 10_007 + i as i64 * 31).collect()
}

fn same(what: String, got: &[i64], want: &[i64]) -> CheckResult {
    if got == want {
        return Ok(());
    }
    let at = got.iter().zip(want).position(|(a, b)| a != b);
    Err(format!("{what}: lengths {} and {}, first difference at {at:?}", got.len(), want.len()))
}

/// A layout of uneven blocks (some empty) for `p` ranks, the same on every rank.
fn uneven(p: usize, n: usize) -> Layout {
    let counts: Vec<usize> = (0..p).map(|r| if r % 3 == 1 { 0 } else { n + r }).collect();
    Layout::from_counts(&counts)
}

/// Every nonblocking collective against the blocking one, one size at a time.
pub fn icollectives(comm: &Comm) -> CheckResult {
    let (me, p) = (comm.rank(), comm.size());
    let root = p / 2;
    // Associative (as MPI requires) but not commutative: the result is rank 0's
    // contribution only if rank order is kept.
    let ordered = Op::<i64>::user(|a, _| *a);
    for n in [0usize, 1, 5, 100, 300, 3000] {
        let mine = values(me, n, 1);
        let blocks = values(me, n * p, 2);
        let lay = uneven(p, n);
        let vmine = values(me, lay.counts()[me], 3);
        let vall = values(me, lay.extent(), 4);
        // Blocking references.
        let mut r_bcast = if me == root { mine.clone() } else { vec![0; n] };
        ctx(comm.bcast(&mut r_bcast, root), "bcast")?;
        let mut r_reduce = vec![0; n];
        ctx(comm.reduce(&mine, (me == root).then_some(&mut r_reduce[..]), &ordered, root), "reduce")?;
        let mut r_allreduce = vec![0; n];
        ctx(comm.allreduce(&mine, &mut r_allreduce, &Op::sum()), "allreduce")?;
        let mut r_gather = vec![0; n * p];
        ctx(comm.gather(&mine, (me == root).then_some(&mut r_gather[..]), root), "gather")?;
        let mut r_gatherv = vec![0; lay.extent()];
        ctx(comm.gatherv(&vmine, (me == root).then_some((&mut r_gatherv[..], &lay)), root), "gatherv")?;
        let mut r_scatter = vec![0; n];
        ctx(comm.scatter((me == root).then_some(&blocks[..]), &mut r_scatter, root), "scatter")?;
        let mut r_scatterv = vec![0; lay.counts()[me]];
        ctx(comm.scatterv((me == root).then_some((&vall[..], &lay)), &mut r_scatterv, root), "scatterv")?;
        let mut r_allgather = vec![0; n * p];
        ctx(comm.allgather(&mine, &mut r_allgather), "allgather")?;
        let mut r_allgatherv = vec![0; lay.extent()];
        ctx(comm.allgatherv(&vmine, &mut r_allgatherv, &lay), "allgatherv")?;
        let mut r_alltoall = vec![0; n * p];
        ctx(comm.alltoall(&blocks, &mut r_alltoall), "alltoall")?;
        let a_send = Layout::from_counts(&(0..p).map(|j| (me + j) % 3 * n).collect::<Vec<_>>());
        let a_recv = Layout::from_counts(&(0..p).map(|i| (i + me) % 3 * n).collect::<Vec<_>>());
        let a_data = values(me, a_send.extent(), 5);
        let mut r_alltoallv = vec![0; a_recv.extent()];
        ctx(comm.alltoallv(&a_data, &a_send, &mut r_alltoallv, &a_recv), "alltoallv")?;

        // The same, all in flight at once, completed in reverse order.
        let mut bcast = if me == root { mine.clone() } else { vec![0; n] };
        let mut reduce = vec![0; n];
        let mut allreduce = vec![0; n];
        let mut in_place = mine.clone();
        let mut reduce_in_place = mine.clone();
        let mut gather = vec![0; n * p];
        let mut gatherv = vec![0; lay.extent()];
        let mut scatter = vec![0; n];
        let mut scatterv = vec![0; lay.counts()[me]];
        let mut allgather = vec![0; n * p];
        let mut allgatherv = vec![0; lay.extent()];
        let mut alltoall = vec![0; n * p];
        let mut alltoallv = vec![0; a_recv.extent()];
        let started = comm.scope(|s| {
            let mut reqs: Vec<Request> = vec![
                s.ibarrier()?,
                s.ibcast(&mut bcast, root)?,
                s.ireduce(&mine, (me == root).then_some(&mut reduce[..]), &ordered, root)?,
                s.iallreduce(&mine, &mut allreduce, &Op::sum())?,
                s.iallreduce_in_place(&mut in_place, &Op::sum())?,
                s.ireduce_in_place(&mut reduce_in_place, &ordered, root)?,
                s.igather(&mine, (me == root).then_some(&mut gather[..]), root)?,
                s.igatherv(&vmine, (me == root).then_some((&mut gatherv[..], &lay)), root)?,
                s.iscatter((me == root).then_some(&blocks[..]), &mut scatter, root)?,
                s.iscatterv((me == root).then_some((&vall[..], &lay)), &mut scatterv, root)?,
                s.iallgather(&mine, &mut allgather)?,
                s.iallgatherv(&vmine, &mut allgatherv, &lay)?,
                s.ialltoall(&blocks, &mut alltoall)?,
                s.ialltoallv(&a_data, &a_send, &mut alltoallv, &a_recv)?,
            ];
            reqs.reverse();
            wait_all(reqs)
        });
        let sts = ctx(started, &format!("nonblocking collectives of {n}"))?;
        if sts.len() != 14 {
            return Err(format!("wait_all returned {} statuses for 14 requests", sts.len()));
        }
        let at = |what: &str| format!("{what} of {n} at {p} ranks");
        same(at("ibcast"), &bcast, &r_bcast)?;
        if me == root {
            same(at("ireduce"), &reduce, &r_reduce)?;
            same(at("ireduce_in_place"), &reduce_in_place, &r_reduce)?;
            same(at("igather"), &gather, &r_gather)?;
            same(at("igatherv"), &gatherv, &r_gatherv)?;
        } else {
            same(at("ireduce_in_place's contribution"), &reduce_in_place, &mine)?;
        }
        same(at("iallreduce"), &allreduce, &r_allreduce)?;
        same(at("iallreduce_in_place"), &in_place, &r_allreduce)?;
        same(at("iscatter"), &scatter, &r_scatter)?;
        same(at("iscatterv"), &scatterv, &r_scatterv)?;
        same(at("iallgather"), &allgather, &r_allgather)?;
        same(at("iallgatherv"), &allgatherv, &r_allgatherv)?;
        same(at("ialltoall"), &alltoall, &r_alltoall)?;
        same(at("ialltoallv"), &alltoallv, &r_alltoallv)?;
    }
    Ok(())
}

/// Nonblocking collectives interleaved with blocking ones and with messages, completed
/// in a different order on each rank, some by `wait_any`, some only by the scope's end.
pub fn icollectives_overlap(comm: &Comm) -> CheckResult {
    let (me, p) = (comm.rank(), comm.size());
    let (l, r) = ((me + p - 1) % p, (me + 1) % p);
    let n = 2000;
    let mut sums: Vec<Vec<i64>> = (0..6).map(|k| values(me, n, k)).collect();
    let mut barrier_sum = [0i64];
    let mut ring = vec![0i64; n];
    let mut left_over = values(me, 10, 0);
    let out = values(me, n, 9);
    let done = comm.scope(|s| {
        let (first, rest) = sums.split_at_mut(3);
        let mut reqs: Vec<Option<Request>> = Vec::new();
        for (k, buf) in first.iter_mut().enumerate() {
            reqs.push(Some(s.iallreduce_in_place(buf, &Op::sum())?));
            if k == 1 {
                // A blocking collective between nonblocking ones.
                comm.allreduce(&[me as i64], &mut barrier_sum, &Op::sum())?;
            }
        }
        reqs.push(Some(s.irecv(&mut ring, l, 5)?));
        reqs.push(Some(s.isend(&out, r, 5)?));
        for buf in rest.iter_mut() {
            reqs.push(Some(s.iallreduce_in_place(buf, &Op::sum())?));
        }
        // Never waited for: the scope completes it.
        std::mem::forget(s.iallreduce_in_place(&mut left_over, &Op::max())?);
        if me % 2 == 1 {
            reqs.reverse();
        }
        let mut count = 0;
        while wait_any(&mut reqs)?.is_some() {
            count += 1;
        }
        Ok::<_, Error>(count)
    });
    let count = ctx(done, "overlapped collectives")?;
    if count != 8 {
        return Err(format!("wait_any completed {count} of 8 requests"));
    }
    for (k, got) in sums.iter().enumerate() {
        let mut want = vec![0i64; n];
        for q in 0..p {
            want.iter_mut().zip(values(q, n, k as i64)).for_each(|(w, v)| *w += v);
        }
        same(format!("overlapped iallreduce {k} at {p} ranks"), got, &want)?;
    }
    if barrier_sum[0] != (p * (p - 1) / 2) as i64 {
        return Err(format!("blocking allreduce between nonblocking ones gave {}", barrier_sum[0]));
    }
    same(format!("ring message among collectives at {p} ranks"), &ring, &values(l, n, 9))?;
    let want_max = values(p - 1, 10, 0);
    same(format!("leaked iallreduce at {p} ranks"), &left_over, &want_max)?;
    Ok(())
}

/// Calls that disagree: every rank gets `CollectiveMismatch` (or, for the rank whose own
/// arguments are wrong, its argument error), small and large, and no buffer is written.
pub fn icollectives_mismatch(comm: &Comm) -> CheckResult {
    let (me, p) = (comm.rank(), comm.size());
    if p == 1 {
        return Ok(());
    }
    let is_mismatch = |e: &Error| matches!(e, Error::CollectiveMismatch { .. });
    // MPI compares small calls only with the check on (as for the blocking collectives:
    // a small mismatch cannot overflow a buffer there); the thread backend always does.
    let checked = comm.backend() == BackendKind::Threads || JobOptions::default().checks_collectives();
    let sizes: &[usize] = if checked { &[4, 1000] } else { &[1000] };
    for &n in sizes {
        // Different counts.
        let mine = vec![1i64; if me == p - 1 { n + 1 } else { n }];
        let mut got = vec![-1i64; mine.len()];
        let res = comm.scope(|s| s.iallreduce(&mine, &mut got, &Op::sum())?.wait());
        match res {
            Err(e) if is_mismatch(&e) => {}
            other => return Err(format!("iallreduce with different counts ({n}) returned {other:?}")),
        }
        if got.iter().any(|&x| x != -1) {
            return Err(format!("a mismatched iallreduce of {n} wrote to the receive buffer"));
        }
        // Different collectives.
        let mut buf = vec![me as i64; n];
        let res = comm.scope(|s| {
            if me == 0 {
                s.ibcast(&mut buf, 0)?.wait()
            } else {
                s.iallreduce_in_place(&mut buf, &Op::sum())?.wait()
            }
        });
        match res {
            Err(e) if is_mismatch(&e) => {}
            other => return Err(format!("ibcast against iallreduce ({n}) returned {other:?}")),
        }
        if buf != vec![me as i64; n] {
            return Err(format!("a mismatched collective of {n} changed a buffer"));
        }
    }
    // A root out of range on one rank: its own error at once, a mismatch for the others
    // (on MPI, a small call is compared only with the check on: without it, the others
    // would wait in MPI until the job is aborted, as for a blocking collective).
    if !checked {
        return Ok(());
    }
    let mut buf = [0u8; 4];
    let root = if me == 0 { p } else { 0 };
    let res = comm.scope(|s| s.ibcast(&mut buf, root)?.wait());
    match (me, res) {
        (0, Err(Error::RootOutOfRange { op: "ibcast", .. })) => {}
        (_, Err(e)) if me != 0 && is_mismatch(&e) => {}
        (_, other) => return Err(format!("ibcast with a bad root on rank 0 returned {other:?} on rank {me}")),
    }
    // The communicator still works afterwards.
    let mut x = [me as i64];
    ctx(comm.scope(|s| s.iallreduce_in_place(&mut x, &Op::sum())?.wait()), "iallreduce after mismatches")?;
    if x[0] != (p * (p - 1) / 2) as i64 {
        return Err(format!("iallreduce after mismatches gave {}", x[0]));
    }
    Ok(())
}
