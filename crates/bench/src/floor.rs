//! The hardware floor, measured in the same run as the references for the ratios:
//! two threads bouncing one cache line (the least a one-way message can cost) and a
//! single-threaded `memcpy` (what one copy of a message costs).

use std::sync::atomic::{AtomicU64, Ordering::*};
use std::time::Instant;

use serde::Serialize;

use crate::measure::{iterations, median};

/// Reference figures for one run of the benchmarks.
#[derive(Debug, Clone, Serialize)]
pub struct Floor {
    /// One-way time of a cache-line ping-pong between two threads, microseconds (`None`
    /// when the process may use only one CPU: two spinning threads would then share it).
    pub line_pingpong_us: Option<f64>,
    /// `(bytes, GB/s)` of a single-threaded copy between two buffers.
    pub memcpy_gbs: Vec<(usize, f64)>,
}

impl Floor {
    /// The floor's line in a table's header.
    pub(crate) fn header(&self) -> String {
        match self.line_pingpong_us {
            Some(us) => format!("# floor: cache-line ping-pong between two threads {us:.3} us one-way\n"),
            None => "# floor: no cache-line ping-pong (this process may use only one CPU)\n".into(),
        }
    }

    /// memcpy bandwidth for `bytes`, if measured.
    pub fn memcpy_at(&self, bytes: usize) -> Option<f64> {
        self.memcpy_gbs.iter().find(|(b, _)| *b == bytes).map(|(_, g)| *g)
    }
}

/// Measures the floor on every CPU the process may use (not only the core `mpirun` bound it to).
pub(crate) fn measure(sizes: &[usize], runs: u32) -> Floor {
    crate::affinity::with_all_cpus(|| measure_here(sizes, runs))
}

fn measure_here(sizes: &[usize], runs: u32) -> Floor {
    let line_pingpong_us =
        (parsci_comm::available_cores() >= 2).then(|| median((0..runs).map(|_| line_pingpong(200_000)).collect()).0);
    let memcpy_gbs = sizes
        .iter()
        .filter(|&&b| b >= 1024)
        .map(|&b| {
            let iters = iterations(b, 1.0);
            (b, median((0..runs).map(|_| memcpy(b, iters)).collect()).0)
        })
        .collect();
    Floor { line_pingpong_us, memcpy_gbs }
}

fn line_pingpong(iters: u64) -> f64 {
    let flag = AtomicU64::new(0);
    let start = Instant::now();
    std::thread::scope(|s| {
        s.spawn(|| {
            for i in 0..iters {
                while flag.load(Acquire) != 2 * i + 1 {
                    std::hint::spin_loop();
                }
                flag.store(2 * i + 2, Release);
            }
        });
        for i in 0..iters {
            flag.store(2 * i + 1, Release);
            while flag.load(Acquire) != 2 * i + 2 {
                std::hint::spin_loop();
            }
        }
    });
    start.elapsed().as_secs_f64() * 1e6 / (2 * iters) as f64
}

fn memcpy(bytes: usize, iters: usize) -> f64 {
    let a = vec![1u8; bytes];
    let mut b = vec![0u8; bytes];
    b.copy_from_slice(&a);
    let start = Instant::now();
    for _ in 0..iters {
        b.copy_from_slice(std::hint::black_box(&a));
        std::hint::black_box(&mut b);
    }
    (bytes * iters) as f64 / start.elapsed().as_secs_f64() / 1e9
}
