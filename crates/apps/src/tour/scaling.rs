//! The tour's last part: a short scaling study of an embarrassingly parallel program and
//! a tightly coupled one at 1 and 2 ranks, so a newcomer sees the difference.

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::heat::Heat;
use crate::program::Program;
use crate::rootsum::RootSum;
use crate::scaling::{self, ScaleOptions, Study};

/// The pair of programs the tour studies, and how.
///
/// `coupled` is the heat equation with one halo exchange per step (`--halo-depth 1`) on a
/// grid small enough that the exchanges and the ranks' waiting on each other show.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TourScaling {
    /// The embarrassingly parallel program.
    pub parallel: RootSum,
    /// The tightly coupled program.
    pub coupled: Heat,
    /// The rank counts.
    pub ranks: Vec<usize>,
    /// Timed runs per rank count.
    pub repeat: usize,
}

impl Default for TourScaling {
    /// `rootsum 100000000` and `heat 256 --steps 2000 --halo-depth 1` at 1 and 2 ranks,
    /// 3 runs each.
    fn default() -> Self {
        TourScaling {
            parallel: RootSum { m: 100_000_000 },
            coupled: Heat { nx: 256, ny: 256, steps: 2000, halo_depth: Some(1), ..Heat::default() },
            ranks: vec![1, 2],
            repeat: 3,
        }
    }
}

impl TourScaling {
    /// Checks the parameters.
    pub(super) fn validate(&self) -> Result<()> {
        self.options().validate()?;
        self.parallel.validate()?;
        Program::validate(&self.coupled)
    }

    fn options(&self) -> ScaleOptions {
        let cores = parsci_comm::available_cores();
        ScaleOptions { ranks: self.ranks.clone(), repeat: self.repeat, weak: false, fit_oversubscribed: false, cores }
    }

    /// Runs both studies on the thread backend.
    pub(super) fn run(&self) -> Result<Vec<Study>> {
        let o = self.options();
        Ok(vec![
            scaling::study(&self.parallel, &o, "threads", scaling::threads_job, |_| {})?,
            scaling::study(&self.coupled, &o, "threads", scaling::threads_job, |_| {})?,
        ])
    }
}

/// One paragraph per study: the times, the speedup and the share of communication.
pub(super) fn render(studies: &[Study]) -> Vec<String> {
    let mut out = vec![String::new(), "Scaling (parsci scale runs the full study):".to_string()];
    for (s, what) in studies.iter().zip(["embarrassingly parallel", "tightly coupled"]) {
        out.push(format!("  {} ({what}):", s.setup.problem));
        for r in &s.rows {
            let comm =
                r.comm_s.map_or(String::new(), |c| format!(", {:.0}% in communication", 100.0 * c / r.wall_s.median));
            out.push(format!(
                "    {} rank{}: {:.4} s, speedup {:.2}, efficiency {:.0}%{comm}{}",
                r.ranks,
                if r.ranks == 1 { " " } else { "s" },
                r.wall_s.median,
                r.speedup,
                100.0 * r.efficiency,
                if r.result_ok { "" } else { ", result DIFFERS" }
            ));
        }
    }
    if let [a, b] = studies {
        if let (Some(x), Some(y)) = (a.rows.last(), b.rows.last()) {
            out.push(format!(
                "  At {} ranks: {:.0}% and {:.0}% parallel efficiency. Time spent communicating is time not computing: \
                 the more a program communicates per unit of work, the less it gains from more ranks.",
                x.ranks,
                100.0 * x.efficiency,
                100.0 * y.efficiency
            ));
        }
    }
    out
}
