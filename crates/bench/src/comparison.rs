//! The side-by-side report of `parsci bench --compare`: thread backend, MPI backend and
//! raw rsmpi, with the ratios the comparison is about.

use serde::Serialize;

use crate::floor::Floor;
use crate::measure::{Kind, Sample};
use crate::report::{human, title};

/// One benchmark at one size, measured three ways in the same run.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// Which benchmark.
    pub kind: Kind,
    /// Message size in bytes (per rank).
    pub bytes: usize,
    /// parsci on the thread backend (ranks as threads of rank 0's process).
    pub threads: Sample,
    /// parsci on the MPI backend.
    pub mpi: Sample,
    /// The same loop written directly on rsmpi.
    pub raw: Sample,
    /// The median over rounds of the MPI backend's time over raw rsmpi's, each from
    /// adjacent runs (raw, MPI, MPI, raw): steadier than a ratio of medians.
    pub mpi_over_raw: f64,
    /// The median over rounds of the MPI backend's time minus raw rsmpi's, microseconds.
    pub mpi_minus_raw_us: f64,
}

impl Row {
    /// The MPI backend's overhead over raw rsmpi (0.05 is 5% slower), from paired runs.
    pub fn overhead(&self) -> f64 {
        self.mpi_over_raw - 1.0
    }

    /// The thread backend's time over the MPI backend's (0.5: half the time, twice the bandwidth).
    pub fn threads_over_mpi(&self) -> f64 {
        self.threads.time_us / self.mpi.time_us
    }
}

/// Everything one `parsci bench --compare` run measured.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    /// Ranks in the job (and threads in the thread-backend runs).
    pub ranks: usize,
    /// CPUs rank 0's process may use for its thread-backend runs.
    pub cores: usize,
    /// Rounds: every figure is the median over them.
    pub rounds: u32,
    /// The rows, by benchmark and size.
    pub rows: Vec<Row>,
    /// Same-run hardware references.
    pub floor: Floor,
}

impl Comparison {
    /// The results as one JSON object on one line, with the ratios added to every row.
    pub fn json(&self) -> String {
        let mut v = serde_json::to_value(self).expect("plain data serializes");
        for (r, j) in self.rows.iter().zip(v["rows"].as_array_mut().expect("array")) {
            j["mpi_overhead"] = r.overhead().into();
            j["threads_over_mpi"] = r.threads_over_mpi().into();
        }
        v.to_string() + "\n"
    }

    /// The results as tables, one per benchmark.
    pub fn table(&self) -> String {
        let mut out = format!(
            "# parsci bench --compare: {} ranks; thread backend, MPI backend and raw rsmpi interleaved \
             over {} rounds; medians (MPI vs raw: median of paired runs)\n{}",
            self.ranks,
            self.rounds,
            self.floor.header()
        );
        for kind in Kind::ALL {
            let rows: Vec<&Row> = self.rows.iter().filter(|r| r.kind == kind).collect();
            if rows.is_empty() {
                continue;
            }
            out.push_str(&format!("\n# {} (times in us)\n", title(kind)));
            out.push_str(&format!(
                "{:>10} {:>12} {:>12} {:>12} {:>12} {:>12} {:>13}\n",
                "size", "threads", "MPI backend", "raw rsmpi", "MPI vs raw", "MPI-raw us", "threads/MPI"
            ));
            for r in rows {
                out.push_str(&format!(
                    "{:>10} {:>12.3} {:>12.3} {:>12.3} {:>+11.1}% {:>+12.3} {:>12.2}x\n",
                    human(r.bytes),
                    r.threads.time_us,
                    r.mpi.time_us,
                    r.raw.time_us,
                    100.0 * r.overhead(),
                    r.mpi_minus_raw_us,
                    r.threads_over_mpi()
                ));
            }
        }
        out
    }
}
