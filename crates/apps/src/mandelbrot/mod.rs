//! `mandelbrot`: the Mandelbrot set in parallel, the workshop's load-balancing lesson.
//!
//! `parsci mandelbrot NR NI REI REF IMI IMF IMAX` (the lesson's example:
//! `200 200 -1.5 0.5 -1 1 1000`) computes, for every pixel, the first iteration of
//! `z = z^2 + c` at which `|z| > 2` (see [`Mandelbrot`] for the exact mapping). Rows
//! inside the set cost far more than rows outside it, so how the rows are shared
//! decides the speedup: [`Strategy`] offers the lesson's cyclic split, contiguous
//! blocks (to see the imbalance), a dynamic master-worker farm, and the lesson's
//! reduce exercise. Every strategy at every rank count gives the serial reference's
//! image bit for bit.
//!
//! The kernels ([`kernel`]) compute 16 (AVX2) or 32 (AVX-512) pixels at a time and
//! skip a group as soon as all its pixels have escaped. The image can be written as
//! a colour PNG (magma, optionally smooth) or as the Benchmarks Game's PBM.
//!
//! ```
//! use parsci_apps::{execute, mandelbrot::{Mandelbrot, Strategy}, Program};
//! use parsci_comm::Backend;
//! let params = Mandelbrot { nr: 64, ni: 48, strategy: Strategy::Block, ..Mandelbrot::default() };
//! let run = execute(&params, Backend::Threads(4)).unwrap();
//! assert!(params.check(&run.result, 4).is_ok());
//! assert_eq!(run.result.ranks.len(), 4);
//! assert!(run.result.imbalance >= 1.0);
//! ```

mod grid;
pub mod kernel;
pub mod output;
pub mod parallel;
mod params;
mod pixel;
mod rows;
pub mod serial;
mod smooth;
mod strategy;

pub use grid::{Grid, RowScratch, RowTotals};
pub use kernel::KernelPath;
pub use output::OutputKind;
pub use params::{Mandelbrot, Strategy, MAX_PIXELS, MAX_SIDE};
pub use pixel::{Image, Pixel, Product};
pub use rows::{RankStats, RowMaker};
pub use smooth::IN_SET;

use parsci_comm::Comm;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::program::{Output, Program};
use parallel::Computed;

/// What `mandelbrot` returns (`--json` leaves out the image).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MandelbrotResult {
    /// The strategy.
    pub strategy: Strategy,
    /// Pixels per row.
    pub nr: usize,
    /// Rows.
    pub ni: usize,
    /// The most iterations.
    pub imax: u32,
    /// `[REI, REF, IMI, IMF]`.
    pub region: [f64; 4],
    /// Rows per job (`dynamic` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chunk: Option<usize>,
    /// Whether the master computed too (`dynamic` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub master_computes: Option<bool>,
    /// The kernel path.
    pub kernel: KernelPath,
    /// The sum of all escape counts.
    pub checksum: u64,
    /// Pixels in the set (never escaped).
    pub in_set: u64,
    /// Each rank's rows, compute time and checksum, in rank order.
    pub ranks: Vec<RankStats>,
    /// The load imbalance: the largest compute time over the mean.
    pub imbalance: f64,
    /// Rank 0's time from the start to the collected image, in seconds.
    pub compute_wall_s: f64,
    /// The image file written, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    /// The collected image (not serialized).
    #[serde(skip)]
    pub image: Option<Image>,
}

impl MandelbrotResult {
    fn new(params: &Mandelbrot, computed: Computed, compute_wall_s: f64) -> Self {
        let Computed { image, stats, kernel } = computed;
        let dynamic = params.strategy == Strategy::Dynamic;
        MandelbrotResult {
            strategy: params.strategy,
            nr: params.nr,
            ni: params.ni,
            imax: params.imax,
            region: [params.re_min, params.re_max, params.im_min, params.im_max],
            chunk: dynamic.then_some(params.chunk),
            master_computes: dynamic.then_some(params.master_computes || stats.len() == 1),
            kernel,
            checksum: stats.iter().map(|s| s.checksum).sum(),
            in_set: stats.iter().map(|s| s.in_set).sum(),
            imbalance: imbalance(&stats),
            ranks: stats,
            compute_wall_s,
            output: params.output.as_ref().map(|p| p.display().to_string()),
            image: Some(image),
        }
    }
}

/// The largest compute time over the mean (1 when nothing took any time).
pub fn imbalance(stats: &[RankStats]) -> f64 {
    let max = stats.iter().map(|s| s.compute_s).fold(0.0, f64::max);
    let mean = stats.iter().map(|s| s.compute_s).sum::<f64>() / stats.len().max(1) as f64;
    if mean > 0.0 {
        max / mean
    } else {
        1.0
    }
}

impl Program for Mandelbrot {
    type Result = MandelbrotResult;
    const NAME: &'static str = "mandelbrot";

    fn validate(&self) -> Result<()> {
        Mandelbrot::validate(self)
    }

    fn run(&self, comm: &Comm) -> Result<Option<Output<MandelbrotResult>>> {
        parallel::run(comm, self)
    }

    fn check(&self, result: &MandelbrotResult, ranks: usize) -> Result<(), String> {
        let want = serial::image(self);
        if result.ranks.len() != ranks || result.ranks.iter().map(|s| s.rows).sum::<usize>() != self.ni {
            let rows: Vec<usize> = result.ranks.iter().map(|s| s.rows).collect();
            return Err(format!("{ranks} ranks should share {} rows, got rows {rows:?}", self.ni));
        }
        if result.checksum != want.checksum || result.in_set != want.in_set {
            return Err(format!(
                "checksum {} and {} pixels in the set; the serial reference has {} and {}",
                result.checksum, result.in_set, want.checksum, want.in_set
            ));
        }
        let nr = self.nr;
        let at = |i: usize| format!("pixel (ir {}, ii {})", i % nr, i / nr);
        match &result.image {
            Some(Image::Counts(c)) => match c.iter().zip(&want.counts).position(|(a, b)| a != b) {
                Some(i) => Err(format!("{}: count {}, the serial reference has {}", at(i), c[i], want.counts[i])),
                None if c.len() != want.counts.len() => {
                    Err(format!("{} counts, expected {}", c.len(), want.counts.len()))
                }
                None => Ok(()),
            },
            Some(Image::Members(m)) if *m != want.members => {
                Err("the PBM rows differ from the serial reference".into())
            }
            Some(Image::Smooth(s)) => {
                let set =
                    |i: usize| want.members[(i / nr) * nr.div_ceil(8) + (i % nr) / 8] & (0x80 >> (i % nr % 8)) != 0;
                match (0..want.counts.len()).find(|&i| (s.get(i).is_some_and(|v| *v < 0.0)) != set(i)) {
                    Some(i) => Err(format!("{}: set membership differs from the serial reference", at(i))),
                    None => Ok(()),
                }
            }
            _ => Ok(()),
        }
    }

    fn summary(&self, result: &MandelbrotResult) -> String {
        format!(
            "{}x{} {}: checksum {}, imbalance {:.2}",
            result.nr,
            result.ni,
            result.strategy.name(),
            result.checksum,
            result.imbalance
        )
    }
}
