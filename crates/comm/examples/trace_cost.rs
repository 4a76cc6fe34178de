//! What a trace costs to record and to write: two thread ranks exchange `ROUNDS`
//! one-byte `sendrecv`s (4 events per call and rank: begin, end, send, receive), traced
//! to a file; prints the events, the time recording them, and the time writing them.
//!
//! `cargo run --release -p parsci-comm --example trace_cost -- [ROUNDS] [FILE]`
//! (ROUNDS 125000 makes a million events.)

use std::time::Instant;

use parsci_comm::{launch_with, Backend, Error, JobOptions};

fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let rounds: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(125_000);
    let path = args.next().unwrap_or_else(|| std::env::temp_dir().join("parsci-trace-cost.json").display().to_string());
    let body = |comm: &parsci_comm::Comm| {
        let other = 1 - comm.rank();
        let mut x = [0u8];
        comm.barrier()?;
        let t = Instant::now();
        for _ in 0..rounds {
            comm.sendrecv(&[1u8], other, 0, &mut x, other, 0)?;
        }
        Ok::<_, Error>(t.elapsed().as_secs_f64())
    };
    let plain = launch_with(Backend::Threads(2), &JobOptions::default(), body)?.into_vec()[0];
    let start = Instant::now();
    let traced = launch_with(Backend::Threads(2), &JobOptions::default().with_trace(&path), body)?.into_vec()[0];
    let total = start.elapsed().as_secs_f64();
    let events = 8 * rounds;
    let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    println!(
        "{events} events: the loop took {plain:.3} s untraced, {traced:.3} s traced ({:.0} ns per event recorded); \
         the job took {total:.3} s in all, so writing {:.1} MB took about {:.3} s ({path})",
        (traced - plain) / events as f64 * 1e9,
        bytes as f64 / 1e6,
        total - traced
    );
    Ok(())
}
