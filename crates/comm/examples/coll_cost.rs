//! Software cost of one small collective on the thread backend: `ITERS` 8-byte calls of
//! one collective on `RANKS` thread ranks, timed on rank 0. At 1 rank nobody waits, so
//! `perf stat -e instructions:u` over the run, divided by `ITERS`, is the instructions
//! of one call's own path (the job's start and end add a fixed few hundred thousand).
//!
//! `cargo run --release -p parsci-comm --example coll_cost -- KIND [RANKS] [ITERS]`
//! with KIND one of barrier, bcast, reduce, allreduce, gather, scatter, allgather,
//! alltoall, ibarrier, ibcast, iallreduce.

use std::time::Instant;

use parsci_comm::{launch, Backend, Comm, Error, Op};

fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let kind = args.next().unwrap_or_else(|| "barrier".into());
    let ranks: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(1);
    let iters: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(1_000_000);
    if !KINDS.contains(&kind.as_str()) {
        eprintln!("coll_cost: unknown collective {kind:?}; one of {KINDS:?}");
        std::process::exit(2);
    }
    let out = launch(Backend::Threads(ranks), |comm| {
        comm.barrier()?;
        let t = Instant::now();
        run(comm, &kind, iters)?;
        Ok::<_, Error>(t.elapsed().as_secs_f64())
    })?;
    let secs = out.into_vec()[0];
    println!("{kind} on {ranks} ranks: {:.1} ns per call ({iters} calls)", secs * 1e9 / iters as f64);
    Ok(())
}

const KINDS: [&str; 11] = [
    "barrier",
    "bcast",
    "reduce",
    "allreduce",
    "gather",
    "scatter",
    "allgather",
    "alltoall",
    "ibarrier",
    "ibcast",
    "iallreduce",
];

fn run(comm: &Comm, kind: &str, iters: usize) -> Result<(), Error> {
    let (me, p) = (comm.rank(), comm.size());
    let root = me == 0;
    let mut x = [me as f64];
    let mut y = [0.0f64];
    let mut all = vec![0.0f64; p];
    let blocks = vec![me as f64; p];
    let sum = Op::sum();
    for _ in 0..iters {
        match kind {
            "barrier" => comm.barrier()?,
            "bcast" => comm.bcast(&mut x, 0)?,
            "reduce" => comm.reduce(&x, root.then_some(&mut y[..]), &sum, 0)?,
            "allreduce" => comm.allreduce(&x, &mut y, &sum)?,
            "gather" => comm.gather(&x, root.then_some(&mut all[..]), 0)?,
            "scatter" => comm.scatter(root.then_some(&blocks[..]), &mut y, 0)?,
            "allgather" => comm.allgather(&x, &mut all)?,
            "alltoall" => comm.alltoall(&blocks, &mut all)?,
            "ibarrier" => comm.scope(|s| s.ibarrier()?.wait().map(drop))?,
            "ibcast" => comm.scope(|s| s.ibcast(&mut x, 0)?.wait().map(drop))?,
            "iallreduce" => comm.scope(|s| s.iallreduce(&x, &mut y, &sum)?.wait().map(drop))?,
            _ => unreachable!("checked in main"),
        }
    }
    Ok(())
}
