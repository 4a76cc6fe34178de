//! The programs the trace tests record, on threads and under mpirun alike.

use std::time::Duration;

use parsci_comm::{wait_all, Comm, Error, Op, ANY_SOURCE};

/// A bit of every kind of communication, with phases: blocking, combined, nonblocking
/// and scoped point-to-point, object messages, wildcards, collectives, a split.
pub fn mixed(comm: &Comm) -> Result<f64, Error> {
    let (me, p) = (comm.rank(), comm.size());
    let (right, left) = ((me + 1) % p, (me + p - 1) % p);
    let mut total = 0.0;
    for step in 0..3 {
        let _step = comm.span("step");
        {
            let _c = comm.span("compute");
            total += (0..1000).map(|i| (i as f64).sqrt()).sum::<f64>();
        }
        {
            let _x = comm.span("exchange");
            let mut got = [0.0];
            comm.sendrecv(&[me as f64], right, 1, &mut got, left, 1)?;
            let mut buf = [0u32; 4];
            let r = comm.irecv(&mut buf, left, 2)?;
            let s = comm.isend(&[me as u32; 4], right, 2)?;
            wait_all(vec![r, s])?;
            let mut ghost = vec![0.0f64; 64];
            let out = vec![1.0f64; 64];
            comm.scope(|s| {
                let r = s.irecv(&mut ghost, left, 3)?;
                s.isend(&out, right, 3)?.wait()?;
                r.wait()
            })?;
            total += got[0] + f64::from(buf[0]) + ghost[0];
        }
        let mut sum = [0.0];
        comm.allreduce(&[total], &mut sum, &Op::sum())?;
        let mut b = [step as u64];
        comm.bcast(&mut b, step % p)?;
    }
    // Everybody reports to rank 0, in whatever order.
    if me == 0 {
        for _ in 1..p {
            let (_v, _st) = comm.recv_vec::<u64>(ANY_SOURCE, 7)?;
        }
    } else {
        comm.send(&[me as u64; 3], 0, 7)?;
    }
    if p > 1 {
        if me == 0 {
            comm.send_obj(&("hello".to_string(), 42u32), p - 1, 8)?;
        } else if me == p - 1 {
            let (_v, _) = comm.recv_obj::<(String, u32)>(0, 8)?;
        }
    }
    let half = comm.split(Some((me % 2) as u32), 0)?.expect("a color");
    let mut hs = [0u32];
    half.allreduce(&[1], &mut hs, &Op::sum())?;
    half.barrier()?;
    let _all: Vec<usize> = comm.allgather_obj(&me)?;
    comm.barrier()?;
    Ok(total)
}

/// Rank 1 sleeps before it sends to rank 0, which waits in its receive: a late sender.
/// The other ranks wait at the final barrier.
pub fn late_sender(comm: &Comm) -> Result<(), Error> {
    if comm.rank() == 1 {
        let _p = comm.span("produce");
        std::thread::sleep(Duration::from_millis(60));
        comm.send(&[1.0f64; 8], 0, 5)?;
    } else if comm.rank() == 0 {
        let _c = comm.span("consume");
        let mut x = [0.0f64; 8];
        comm.recv(&mut x, 1, 5)?;
    }
    comm.barrier()
}
