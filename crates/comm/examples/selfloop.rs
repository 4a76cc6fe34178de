//! Software cost of one message: a rank sends 8 bytes to itself and receives them.
use parsci_comm::{launch, Backend, Error};
use std::time::Instant;

fn main() {
    launch(Backend::Threads(1), |comm| {
        let n = 2_000_000;
        let mut b = [0u8; 8];
        for _ in 0..3 {
            let t = Instant::now();
            for _ in 0..n {
                comm.send(&b, 0, 1)?;
                comm.recv(&mut b, 0, 1)?;
            }
            println!("send+recv to self: {:.1} ns", t.elapsed().as_nanos() as f64 / n as f64);
        }
        Ok::<_, Error>(())
    })
    .unwrap();
}
