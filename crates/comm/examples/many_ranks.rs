//! Many thread ranks: a barrier and a ring exchange on `N` ranks (default 256), to see
//! that memory and time stay reasonable. `cargo run --release --example many_ranks -- 512`
use parsci_comm::{launch, Backend, Error};

fn main() {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(256);
    let t = std::time::Instant::now();
    let out = launch(Backend::Threads(n), |comm| {
        comm.barrier()?;
        let (me, p) = (comm.rank(), comm.size());
        let mut got = [0usize];
        comm.sendrecv(&[me], (me + 1) % p, 0, &mut got, (me + p - 1) % p, 0)?;
        Ok::<_, Error>(got[0])
    })
    .expect("the job runs");
    assert!(out.into_vec().iter().enumerate().all(|(r, &g)| g == (r + n - 1) % n));
    println!("{n} ranks: barrier and ring exchange in {:.3} s", t.elapsed().as_secs_f64());
}
