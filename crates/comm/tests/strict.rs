//! Strict mode on the thread backend: sends complete only once matched (as `MPI_Ssend`),
//! so programs that pass only because sends are buffered are stopped with a deadlock
//! report, and correct programs still pass.

mod common;

use std::time::Duration;

use parsci_comm::{launch_with, Backend, Comm, Error, JobOptions, Launched, ANY_SOURCE};

const GUARD: Duration = Duration::from_secs(20);

fn run<R: Send + 'static>(
    n: usize,
    strict: bool,
    f: impl Fn(&Comm) -> parsci_comm::Result<R> + Send + Sync + 'static,
) -> parsci_comm::Result<Launched<R>> {
    let opts = if strict { JobOptions::default().with_sync_sends() } else { JobOptions::default() };
    common::with_timeout(GUARD, &format!("job of {n} ranks, strict {strict}"), move || {
        launch_with(Backend::Threads(n), &opts, f)
    })
}

/// True when the whole test run is in strict mode (`PARSCI_SYNC_SENDS=1`, as in CI):
/// then no job runs with buffered sends.
fn all_strict() -> bool {
    JobOptions::default().syncs_sends()
}

/// The report of a strict-mode deadlock names the sends and says why they wait.
fn expect_strict_deadlock<R: std::fmt::Debug>(out: parsci_comm::Result<R>, what: &str) -> String {
    match out {
        Err(Error::Deadlock(report)) => {
            let text = report.to_string();
            assert!(text.contains("strict mode"), "{what}: {text}");
            text
        }
        other => panic!("{what}: expected a deadlock report, got {other:?}"),
    }
}

/// Both ranks send before they receive: passes when sends are buffered, a deadlock when
/// they are synchronous, at every message size (inline, slab, moved, rendezvous).
#[test]
fn both_send_first() {
    for n in [1usize, 100, 10_000, 1 << 20] {
        let exchange = move |comm: &Comm| {
            let other = 1 - comm.rank();
            comm.send(&vec![comm.rank() as u8; n], other, 1)?;
            comm.recv_vec::<u8>(other, 1).map(|(v, _)| v.len())
        };
        if !all_strict() {
            let ok = run(2, false, exchange).expect("buffered sends pass");
            assert_eq!(ok.into_vec(), vec![n, n]);
        }
        let text = expect_strict_deadlock(run(2, true, exchange), &format!("{n} bytes"));
        assert!(text.contains("rank 0 waits in send for rank 1") && text.contains("(tag 1)"), "{text}");
    }
}

/// A master that hands two jobs to each worker with blocking sends before collecting
/// results, while each worker sends its result before taking its next job: the master's
/// second send waits on a worker that waits on the master.
#[test]
fn master_whose_sends_wait_on_busy_workers() {
    let farm = |comm: &Comm| {
        let (me, p) = (comm.rank(), comm.size());
        if me == 0 {
            for w in 1..p {
                comm.send(&[w as u64, 1], w, 0)?;
                comm.send(&[w as u64, 2], w, 0)?;
            }
            let mut total = 0;
            for _ in 0..2 * (p - 1) {
                let mut r = [0u64];
                comm.recv(&mut r, ANY_SOURCE, 1)?;
                total += r[0];
            }
            return Ok(total);
        }
        for _ in 0..2 {
            let mut job = [0u64; 2];
            comm.recv(&mut job, 0, 0)?;
            comm.send(&[job[0] * job[1]], 0, 1)?;
        }
        Ok(0)
    };
    if !all_strict() {
        let ok = run(3, false, farm).expect("buffered sends pass");
        assert_eq!(ok.root(), Some(&(3 + 6)));
    }
    expect_strict_deadlock(run(3, true, farm), "the farm");
}

/// A non-blocking synchronous send completes once the receive is posted, also when the
/// receiver blocks in a collective or in a receive from someone else meanwhile.
#[test]
fn correct_programs_pass() {
    for n in [1usize, 2, 3, 4, 7] {
        let out = run(n, true, |comm| {
            let (me, p) = (comm.rank(), comm.size());
            let (l, r) = ((me + p - 1) % p, (me + 1) % p);
            // Receive posted first, then a blocking send: fine under MPI_Ssend.
            let mut got = [0usize];
            let req = comm.irecv(&mut got, l, 0)?;
            comm.send(&[me], r, 0)?;
            req.wait()?;
            assert_eq!(got[0], l);
            // isend, then a collective, then the receive: the isend's wait comes last.
            let s = comm.isend(&[me; 5000], r, 1)?;
            comm.barrier()?;
            let (v, _) = comm.recv_vec::<usize>(l, 1)?;
            s.wait()?;
            assert_eq!(v, vec![l; 5000]);
            // A receive posted, then blocking in a barrier: the peer's blocking send is
            // matched meanwhile (a rank in a collective progresses its receives).
            let mut b = [0u8; 3];
            let req = comm.irecv(&mut b, l, 2)?;
            comm.send(&[me as u8; 3], r, 2)?;
            comm.barrier()?;
            req.wait()?;
            assert_eq!(b, [l as u8; 3]);
            // Objects and sendrecv.
            let (o, _) = comm.sendrecv_obj::<_, String>(&format!("r{me}"), r, 3, l, 3)?;
            assert_eq!(o, Some(format!("r{l}")));
            Ok(())
        });
        out.unwrap_or_else(|e| panic!("{n} ranks: {e}"));
    }
}

/// An `isend` waited on before its receive is posted, while the receiver waits for the
/// sender: a deadlock in strict mode, reported as a wait in isend.
#[test]
fn isend_waited_too_early() {
    let out = run(2, true, |comm| {
        let other = 1 - comm.rank();
        if comm.rank() == 0 {
            comm.isend(&[1u32], other, 4)?.wait()?;
            comm.recv_vec::<u32>(other, 5)?;
        } else {
            comm.recv_vec::<u32>(other, 5)?;
            comm.recv_vec::<u32>(other, 4)?;
        }
        Ok(())
    });
    let text = expect_strict_deadlock(out, "isend waited too early");
    assert!(text.contains("rank 0 waits in isend for rank 1"), "{text}");
}
