//! The parallel version: the chosen strategy on every rank, the statistics gathered,
//! the image written by rank 0.

use std::time::Instant;

use parsci_comm::Comm;

use super::grid::Grid;
use super::kernel::KernelPath;
use super::output::{self, OutputKind};
use super::params::{Mandelbrot, Strategy};
use super::pixel::{Image, IntoImage, Pixel, Product};
use super::rows::{RankStats, RowMaker};
use super::{strategy, MandelbrotResult};
use crate::error::Result;
use crate::program::{root_output, Output};

/// What rank 0 has after the computation.
#[derive(Debug, Clone, PartialEq)]
pub struct Computed {
    /// The collected image.
    pub image: Image,
    /// Every rank's statistics, in rank order.
    pub stats: Vec<RankStats>,
    /// The kernel path rank 0 used.
    pub kernel: KernelPath,
}

/// Computes the image of `params` on every rank with its strategy and collects
/// `product` on rank 0 (`Some` there, `None` elsewhere). No file is written.
///
/// ```
/// use parsci_apps::mandelbrot::{parallel, serial, Image, Mandelbrot, Product, Strategy};
/// use parsci_comm::{launch, Backend};
/// let params = Mandelbrot { nr: 37, ni: 29, imax: 200, strategy: Strategy::Dynamic, ..Mandelbrot::default() };
/// let out = launch(Backend::Threads(3), |comm| parallel::compute(comm, &params, Product::Counts)).unwrap();
/// let computed = out.into_root().unwrap().unwrap();
/// assert_eq!(computed.image, Image::Counts(serial::image(&params).counts));
/// ```
pub fn compute(comm: &Comm, params: &Mandelbrot, product: Product) -> Result<Option<Computed>> {
    params.validate()?;
    let grid = Grid::new(params, params.kernel.unwrap_or_else(KernelPath::detect));
    match product {
        Product::Counts => collect::<u32>(comm, params, &grid),
        Product::Members => collect::<u8>(comm, params, &grid),
        Product::Smooth => collect::<f32>(comm, params, &grid),
    }
}

fn collect<P: Pixel + IntoImage>(comm: &Comm, params: &Mandelbrot, grid: &Grid) -> Result<Option<Computed>> {
    let mut maker = RowMaker::new::<P>(grid, comm.rank());
    let image = strategy::run::<P>(comm, params, &mut maker)?;
    let stats = comm.gather_obj(&maker.stats, 0)?;
    Ok(image.zip(stats).map(|(image, stats)| Computed { image: P::into_image(image), stats, kernel: grid.path }))
}

/// What rank 0 collects for `params`: PBM bits for a `.pbm`, smooth values for a
/// smooth `.png`, else the escape counts.
pub fn product_for(params: &Mandelbrot) -> Result<Product> {
    Ok(match params.output_kind()? {
        Some(OutputKind::Pbm) => Product::Members,
        Some(OutputKind::Png) if params.smooth => Product::Smooth,
        _ => Product::Counts,
    })
}

/// Runs on every rank: computes, gathers the statistics, and rank 0 writes the image
/// and reports (rows and compute time per rank, load imbalance, checksum).
pub fn run(comm: &Comm, params: &Mandelbrot) -> Result<Option<Output<MandelbrotResult>>> {
    let start = Instant::now();
    let Some(computed) = compute(comm, params, product_for(params)?)? else { return Ok(None) };
    let compute_wall_s = start.elapsed().as_secs_f64();
    let written = match &params.output {
        Some(path) => {
            let t = Instant::now();
            let what = output::write(path, params, &computed.image)?;
            Some((what, t.elapsed().as_secs_f64()))
        }
        None => None,
    };
    let result = MandelbrotResult::new(params, computed, compute_wall_s);
    let mut lines = vec![headline(params, &result)];
    let size = result.ranks.len();
    lines.extend(
        result
            .ranks
            .iter()
            .map(|s| format!("[Rank {}/{size}] {} rows, computed in {:.6} s", s.rank, s.rows, s.compute_s)),
    );
    lines.push(format!("Load imbalance (max / mean compute time): {:.3}", result.imbalance));
    lines.push(format!("Checksum (sum of iteration counts): {}", result.checksum));
    lines.push(format!("Pixels in the set: {} of {}", result.in_set, params.nr as u64 * params.ni as u64));
    if let Some((what, secs)) = written {
        lines.push(format!("Wrote {what} in {secs:.3} s"));
    }
    if let Some(note) = idle_master_note(params, size) {
        lines.push(note);
    }
    Ok(root_output(Some(lines), || result))
}

/// The lesson's master only hands out work: where the ranks do not outnumber the cores,
/// that leaves a core idle, which the user should hear about rather than find out.
fn idle_master_note(p: &Mandelbrot, ranks: usize) -> Option<String> {
    let idle = p.strategy == Strategy::Dynamic && !p.master_computes && ranks > 1;
    (idle && ranks <= parsci_comm::available_cores()).then(|| {
        format!(
            "Note: the master (rank 0) only hands out rows, leaving a core idle (ranks computing: {} of \
             {ranks}); --master-computes makes it compute too",
            ranks - 1
        )
    })
}

/// `Mandelbrot 200 x 200, re [-1.5, 0.5), im [-1, 1), IMAX 1000: cyclic rows on 4 ranks (avx2 kernel)`
fn headline(p: &Mandelbrot, r: &MandelbrotResult) -> String {
    let how = match p.strategy {
        Strategy::Dynamic => format!(
            "dynamic chunks of {} rows, master {}",
            p.chunk,
            if p.master_computes || r.ranks.len() == 1 { "computes too" } else { "only hands out" }
        ),
        s => format!("{} rows", s.name()),
    };
    format!(
        "Mandelbrot {} x {}, re [{}, {}), im [{}, {}), IMAX {}: {how} on {} ranks ({} kernel)",
        p.nr,
        p.ni,
        p.re_min,
        p.re_max,
        p.im_min,
        p.im_max,
        p.imax,
        r.ranks.len(),
        r.kernel.name()
    )
}
