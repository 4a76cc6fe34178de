//! Memory made visible: a ledger of the bytes of matrix data a rank holds (inputs,
//! results, partial results, panels), with its peak, and the process's peak resident
//! memory from `/proc/self/status`.
//!
//! ```
//! use parsci_apps::matmul::memory::Ledger;
//! let ledger = Ledger::default();
//! let a = ledger.zeros(1000);
//! {
//!     let _b = ledger.hold(vec![1.0; 500]);
//!     assert_eq!(ledger.now(), 12_000);
//! }
//! assert_eq!((ledger.now(), ledger.peak()), (8_000, 12_000));
//! drop(a);
//! assert_eq!(ledger.now(), 0);
//! ```

use std::cell::Cell;
use std::ops::{Deref, DerefMut};

/// The bytes of matrix data one rank holds now and at most.
#[derive(Debug, Default)]
pub struct Ledger {
    now: Cell<u64>,
    peak: Cell<u64>,
}

impl Ledger {
    /// `n` zeros, counted (written: see [`zeroed`]).
    pub fn zeros(&self, n: usize) -> Held<'_> {
        self.hold(zeroed(n))
    }

    /// `data`, counted until the returned [`Held`] is dropped.
    pub fn hold(&self, data: Vec<f64>) -> Held<'_> {
        self.now.set(self.now.get() + bytes(&data));
        self.peak.set(self.peak.get().max(self.now.get()));
        Held { data, ledger: self }
    }

    /// Bytes held now.
    pub fn now(&self) -> u64 {
        self.now.get()
    }

    /// The most bytes held at once.
    pub fn peak(&self) -> u64 {
        self.peak.get()
    }
}

/// `n` zeros, written into fresh memory rather than allocated zeroed (`calloc`): pages
/// that are only mapped, then read by a GEMM that adds to them (the shared zero page),
/// then written, are copied on write, and each copy flushes the TLB of every core
/// running the process: with ranks as threads, one rank's product then interrupts the
/// other's, which halved the speed of two ranks on two cores.
pub fn zeroed(n: usize) -> Vec<f64> {
    let mut v = Vec::with_capacity(n);
    v.resize(n, 0.0);
    v
}

fn bytes(v: &[f64]) -> u64 {
    std::mem::size_of_val(v) as u64
}

/// Matrix data counted by a [`Ledger`]: a `Vec<f64>` that uncounts itself when dropped.
#[derive(Debug)]
pub struct Held<'a> {
    data: Vec<f64>,
    ledger: &'a Ledger,
}

impl Held<'_> {
    /// Frees all but the first `len` elements (and uncounts them).
    pub fn truncate(&mut self, len: usize) {
        let before = bytes(&self.data);
        self.data.truncate(len);
        self.data.shrink_to_fit();
        self.ledger.now.set(self.ledger.now.get() - (before - bytes(&self.data)));
    }
}

impl Deref for Held<'_> {
    type Target = [f64];
    fn deref(&self) -> &[f64] {
        &self.data
    }
}

impl DerefMut for Held<'_> {
    fn deref_mut(&mut self) -> &mut [f64] {
        &mut self.data
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        self.ledger.now.set(self.ledger.now.get() - bytes(&self.data));
    }
}

/// The process's peak resident memory (`VmHWM`), in bytes; `None` off Linux.
pub fn process_peak() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.trim_start_matches("VmHWM:").trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kib * 1024)
}

/// Starts the peak resident memory afresh (`echo 5 > /proc/self/clear_refs`), so that
/// [`process_peak`] tells the peak of this run, not of earlier work in the process.
/// Returns whether it could.
pub fn reset_process_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}
