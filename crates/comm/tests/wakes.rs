//! A missed wake must never become a spurious deadlock report: with more ranks than
//! cores, blocked ranks park after a 2 us spin, so short ping-pongs, rendezvous sends and
//! barriers exercise the park/wake handshake thousands of times; the deadlock monitor
//! (three equal looks 25 ms apart) would report a rank left parked by a missed wake
//! before its 100 ms park timeout rescues it. Bounded to about two seconds.

mod common;

use std::time::{Duration, Instant};

use parsci_comm::{launch, Backend, Comm, Error};

const BUDGET: Duration = Duration::from_secs(2);

fn s(e: Error) -> String {
    e.to_string()
}

/// Pairs of ranks ping-pong, some with a pause before answering (so the partner parks),
/// some with a message large enough for the rendezvous path; everyone meets at barriers.
fn job(comm: &Comm, round: usize) -> Result<(), String> {
    let (me, n) = (comm.rank(), comm.size());
    let peer = me ^ 1;
    let mut small = [0u64; 2];
    let mut large = vec![0u8; 40 << 10];
    for i in 0..200 {
        if peer < n {
            let pause = (i + round + me).is_multiple_of(7);
            if me % 2 == 0 {
                if i.is_multiple_of(50) {
                    comm.send(&large, peer, 2).map_err(s)?;
                } else {
                    comm.send(&[i as u64, me as u64], peer, 1).map_err(s)?;
                }
                comm.recv(&mut small, peer, 1).map_err(s)?;
                if small[0] != i as u64 {
                    return Err(format!("rank {me} got {small:?} in round {i}"));
                }
            } else {
                if i.is_multiple_of(50) {
                    comm.recv(&mut large, peer, 2).map_err(s)?;
                } else {
                    comm.recv(&mut small, peer, 1).map_err(s)?;
                }
                if pause {
                    std::thread::sleep(Duration::from_micros(20));
                }
                comm.send(&[i as u64, me as u64], peer, 1).map_err(s)?;
            }
        }
        if i.is_multiple_of(10) {
            comm.barrier().map_err(s)?;
        }
    }
    Ok(())
}

#[test]
fn missed_wakes_never_become_deadlock_reports() {
    let cores = std::thread::available_parallelism().map_or(2, |c| c.get());
    // Odd and even sizes, all above the core count: ranks park often.
    let sizes = [cores + 1, 2 * cores, 4 * cores + 1];
    let start = Instant::now();
    let mut jobs = 0;
    while start.elapsed() < BUDGET || jobs < sizes.len() {
        let n = sizes[jobs % sizes.len()];
        let round = jobs;
        let out = common::with_timeout(Duration::from_secs(30), &format!("job {jobs} of {n} ranks"), move || {
            launch(Backend::Threads(n), move |comm| job(comm, round))
        });
        match out {
            Ok(_) => {}
            Err(Error::Deadlock(report)) => panic!("spurious deadlock report at {n} ranks (job {jobs}): {report}"),
            Err(e) => panic!("job {jobs} of {n} ranks failed: {e}"),
        }
        jobs += 1;
    }
    eprintln!("{jobs} jobs without a deadlock report in {:.1} s", start.elapsed().as_secs_f64());
}
