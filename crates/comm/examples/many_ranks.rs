//! Many thread ranks: the start-up of an empty job, then a job doing a barrier, a ring
//! exchange, an any-source receive at rank 0 from every other rank and an allreduce,
//! on `N` ranks (default 256), to see that memory and time stay reasonable.
//! `cargo run --release --example many_ranks -p parsci-comm -- 1024`
use parsci_comm::{launch, Backend, Error, Op, ANY_SOURCE};
use std::time::Instant;

fn main() -> Result<(), Error> {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(256);

    let t = Instant::now();
    launch(Backend::Threads(n), |_| Ok::<_, Error>(()))?;
    let start_up = t.elapsed().as_secs_f64();

    let t = Instant::now();
    let out = launch(Backend::Threads(n), |comm| {
        comm.barrier()?;
        let (me, p) = (comm.rank(), comm.size());
        let mut got = [0usize];
        comm.sendrecv(&[me], (me + 1) % p, 0, &mut got, (me + p - 1) % p, 0)?;
        // Rank 0 hears from everyone else, in whatever order they come.
        let mut heard = 0;
        if me == 0 {
            let mut from = [0usize];
            for _ in 1..p {
                let st = comm.recv(&mut from, ANY_SOURCE, 1)?;
                assert_eq!(st.source, from[0]);
                heard += from[0];
            }
        } else {
            comm.send(&[me], 0, 1)?;
        }
        let mut total = [0usize];
        comm.allreduce(&[me], &mut total, &Op::sum())?;
        Ok::<_, Error>((got[0], heard, total[0]))
    })?;
    let sum = n * (n - 1) / 2;
    for (r, &(left, heard, total)) in out.into_vec().iter().enumerate() {
        assert_eq!(left, (r + n - 1) % n, "rank {r}: ring exchange");
        assert_eq!(heard, if r == 0 { sum } else { 0 }, "rank {r}: any-source receives");
        assert_eq!(total, sum, "rank {r}: allreduce");
    }
    println!(
        "{n} ranks: start-up (an empty job) {start_up:.3} s; barrier, ring exchange, any-source receives \
         and allreduce {:.3} s",
        t.elapsed().as_secs_f64()
    );
    Ok(())
}
