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
    /// One-way time of a cache-line ping-pong between two threads, microseconds.
    pub line_pingpong_us: f64,
    /// `(bytes, GB/s)` of a single-threaded copy between two buffers.
    pub memcpy_gbs: Vec<(usize, f64)>,
}

impl Floor {
    /// memcpy bandwidth for `bytes`, if measured.
    pub fn memcpy_at(&self, bytes: usize) -> Option<f64> {
        self.memcpy_gbs.iter().find(|(b, _)| *b == bytes).map(|(_, g)| *g)
    }
}

pub(crate) fn measure(sizes: &[usize], runs: u32) -> Floor {
    let line_pingpong_us = median((0..runs).map(|_| line_pingpong(200_000)).collect()).0;
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
