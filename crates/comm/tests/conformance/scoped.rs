//! Checks of scoped (zero-copy) non-blocking point-to-point on every backend.

use parsci_comm::{wait_all, Comm, PROC_NULL};

use super::checks::CheckResult;

fn ctx<T>(r: parsci_comm::Result<T>, what: &str) -> Result<T, String> {
    r.map_err(|e| format!("{what}: {e}"))
}

/// Ring exchanges through a scope at every message size, with `PROC_NULL` peers, a
/// dropped receive, and a leaked send and receive: the scope completes them all.
pub fn scoped_p2p(comm: &Comm) -> CheckResult {
    let (me, p) = (comm.rank(), comm.size());
    let (l, r) = ((me + p - 1) % p, (me + 1) % p);
    for n in [0usize, 1, 3, 200, 5000, 100_000] {
        let out: Vec<f64> = (0..n).map(|i| (me * 1_000_000 + i) as f64).collect();
        let mut back = vec![-1.0; n];
        let mut also = vec![-1.0; n];
        let st = comm.scope(|s| {
            let recv = s.irecv(&mut back, l, 1)?;
            let send = s.isend(&out, r, 1)?;
            let nothing = s.irecv(&mut also, PROC_NULL, 1)?;
            let none = s.isend(&out, PROC_NULL, 1)?;
            let sts = wait_all(vec![recv, send, nothing, none])?;
            Ok::<_, parsci_comm::Error>(sts[0])
        });
        let st = ctx(st, "scope")?;
        let want: Vec<f64> = (0..n).map(|i| (l * 1_000_000 + i) as f64).collect();
        if back != want || (st.source, st.tag, st.count) != (l, 1, n) || also.iter().any(|&x| x != -1.0) {
            return Err(format!("{n} elements through a scope: status {st:?}"));
        }
    }
    // Leaked and dropped requests: the scope completes them before it returns. The
    // leaked receive is posted before a barrier that its message precedes, so it has
    // matched by the scope's end: its message is in the buffer, on every backend.
    let big: Vec<u32> = vec![me as u32 + 1; 70_000];
    let mut into = vec![0u32; 70_000];
    let mut never = vec![7u32; 10];
    ctx(
        comm.scope(|s| {
            std::mem::forget(s.irecv(&mut into, l, 2)?);
            std::mem::forget(s.isend(&big, r, 2)?);
            drop(s.irecv(&mut never, l, 3)?); // nobody sends tag 3: cancelled
            comm.barrier()
        }),
        "scope with leaked requests",
    )?;
    if into != vec![l as u32 + 1; 70_000] || never != vec![7u32; 10] {
        return Err(format!("leaked scoped requests: received {}.., never {:?}", into[0], &never[..2]));
    }
    // And nothing is left behind: the next message of tag 2 is the next one sent.
    let next = ctx(comm.isend(&[9u32], r, 2), "isend")?;
    let (v, _) = ctx(comm.recv_vec::<u32>(l, 2), "recv_vec")?;
    ctx(next.wait(), "wait")?;
    if v != [9] {
        return Err(format!("after the scope, tag 2 brought {} elements", v.len()));
    }
    Ok(())
}
