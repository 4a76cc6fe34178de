//! Printing the results: OSU-style tables or one JSON object.

use serde::Serialize;

use crate::floor::Floor;
use crate::measure::{Kind, Sample};

/// Everything one `parsci bench` run measured.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The backend measured.
    pub backend: String,
    /// Ranks in the job.
    pub ranks: usize,
    /// Cores available to the process.
    pub cores: usize,
    /// Median times per benchmark and size.
    pub samples: Vec<Sample>,
    /// Same-run references.
    pub floor: Floor,
}

pub(crate) fn human(bytes: usize) -> String {
    match bytes {
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} B"),
    }
}

impl Report {
    /// The results as one JSON object, on one line (ending with a newline, like the tables).
    pub fn json(&self) -> String {
        let mut v = serde_json::to_value(self).expect("plain data serializes");
        for (s, j) in self.samples.iter().zip(v["samples"].as_array_mut().expect("array")) {
            j["bandwidth_gbs"] = s.bandwidth_gbs().into();
        }
        v.to_string() + "\n"
    }

    /// The results as OSU-style tables, one per benchmark.
    pub fn table(&self) -> String {
        let mut out = format!(
            "# parsci bench: {} backend, {} ranks, {} cores; medians of the runs\n{}",
            self.backend,
            self.ranks,
            self.cores,
            self.floor.header()
        );
        for kind in Kind::ALL {
            let rows: Vec<&Sample> = self.samples.iter().filter(|s| s.kind == kind).collect();
            if rows.is_empty() {
                continue;
            }
            out.push_str(&format!("\n# {}\n", title(kind)));
            out.push_str(&format!(
                "{:>10} {:>12} {:>12} {:>12} {:>10} {:>12}\n",
                "size", "time (us)", "min (us)", "max (us)", "GB/s", "memcpy GB/s"
            ));
            for s in rows {
                let mc = self.floor.memcpy_at(s.bytes).map_or("-".to_string(), |g| format!("{g:.1}"));
                out.push_str(&format!(
                    "{:>10} {:>12.3} {:>12.3} {:>12.3} {:>10.2} {:>12}\n",
                    human(s.bytes),
                    s.time_us,
                    s.min_us,
                    s.max_us,
                    s.bandwidth_gbs(),
                    mc
                ));
            }
        }
        out
    }
}

pub(crate) fn title(kind: Kind) -> &'static str {
    match kind {
        Kind::PingPong => "ping-pong between ranks 0 and 1: one-way latency and bandwidth",
        Kind::Barrier => "barrier (no data)",
        Kind::Bcast => "bcast from rank 0",
        Kind::Reduce => "reduce (sum) of size/8 f64 to rank 0",
        Kind::Allreduce => "allreduce (sum) of size/8 f64 on every rank",
        Kind::Gather => "gather to rank 0 (size bytes from every rank)",
        Kind::Scatter => "scatter from rank 0 (size bytes to every rank)",
        Kind::Allgather => "allgather (size bytes from every rank to every rank)",
        Kind::Alltoall => "alltoall (a block of size bytes from every rank to every rank)",
        Kind::Ibarrier => "ibarrier, started and waited for at once",
        Kind::Ibcast => "ibcast from rank 0, started and waited for at once",
        Kind::Iallreduce => "iallreduce (sum) of size/8 f64, started and waited for at once",
        Kind::ReduceScatter => "reduce_scatter_block (sum): size bytes of f64 kept by every rank",
    }
}
