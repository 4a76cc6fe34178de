//! The parameters: the lesson's arguments, their checks, and the pixel-to-point mapping.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::kernel::KernelPath;
use super::output::OutputKind;
use crate::error::{Error, Result};

/// The largest image side accepted.
pub const MAX_SIDE: usize = 1 << 20;
/// The largest number of pixels accepted (65536 x 65536).
pub const MAX_PIXELS: u64 = 1 << 32;

/// How the rows are shared among the ranks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    /// Rank `r` computes rows `r, r+P, r+2P, ...`; the rows are collected on rank 0
    /// (the lesson's choice).
    #[default]
    Cyclic,
    /// Each rank computes one contiguous block of rows (shows the load imbalance).
    Block,
    /// A master-worker task farm hands out chunks of rows on request.
    Dynamic,
    /// Each rank fills its (cyclic) rows of a zeroed image; the images are summed to
    /// rank 0 with a reduce (the lesson's exercise).
    Reduce,
}

impl Strategy {
    /// Every strategy, in the lesson's order.
    pub const ALL: [Strategy; 4] = [Strategy::Cyclic, Strategy::Block, Strategy::Dynamic, Strategy::Reduce];

    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Strategy::Cyclic => "cyclic",
            Strategy::Block => "block",
            Strategy::Dynamic => "dynamic",
            Strategy::Reduce => "reduce",
        }
    }
}

/// The parameters of `mandelbrot`: the lesson's `NR NI REI REF IMI IMF IMAX` and how
/// to run and what to write.
///
/// Pixel `(ir, ii)` (`0 <= ir < nr`, `0 <= ii < ni`) is the point
/// `c = (re_min + ir (re_max - re_min) / nr) + i (im_min + ii (im_max - im_min) / ni)`;
/// its value is the first iteration `it = 1..=imax` of `z = z^2 + c` (from `z = 0`) at
/// which `|z| > 2`, or `imax` if there is none. Row `ii` is the image's row `ii`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mandelbrot {
    /// NR: pixels per row (the real axis).
    pub nr: usize,
    /// NI: rows (the imaginary axis).
    pub ni: usize,
    /// REI: the real part of the first column.
    pub re_min: f64,
    /// REF: the end of the real range (excluded).
    pub re_max: f64,
    /// IMI: the imaginary part of the first row.
    pub im_min: f64,
    /// IMF: the end of the imaginary range (excluded).
    pub im_max: f64,
    /// IMAX: the most iterations per pixel.
    pub imax: u32,
    /// How the rows are shared.
    pub strategy: Strategy,
    /// Rows per job of the `dynamic` strategy.
    pub chunk: usize,
    /// Whether the master of the `dynamic` strategy computes chunks too.
    pub master_computes: bool,
    /// The image to write: `.png` (colour) or `.pbm` (set membership, 1 bit per pixel).
    pub output: Option<PathBuf>,
    /// The image format (`None`: from the output file's extension).
    pub format: Option<OutputKind>,
    /// Colour the PNG by the smooth (normalized) iteration count.
    pub smooth: bool,
    /// The kernel path (`None`: the fastest this CPU runs).
    pub kernel: Option<KernelPath>,
}

impl Default for Mandelbrot {
    /// The lesson's example: `200 200 -1.5 0.5 -1 1 1000`, cyclic, no output.
    fn default() -> Self {
        Mandelbrot {
            nr: 200,
            ni: 200,
            re_min: -1.5,
            re_max: 0.5,
            im_min: -1.0,
            im_max: 1.0,
            imax: 1000,
            strategy: Strategy::Cyclic,
            chunk: 4,
            master_computes: false,
            output: None,
            format: None,
            smooth: false,
            kernel: None,
        }
    }
}

impl Mandelbrot {
    /// The real part of column `ir`: `re_min + ir * (re_max - re_min) / nr`, in that order.
    #[inline]
    pub fn c_re(&self, ir: usize) -> f64 {
        self.re_min + (ir as f64) * (self.re_max - self.re_min) / (self.nr as f64)
    }

    /// The imaginary part of row `ii`: `im_min + ii * (im_max - im_min) / ni`, in that order.
    #[inline]
    pub fn c_im(&self, ii: usize) -> f64 {
        self.im_min + (ii as f64) * (self.im_max - self.im_min) / (self.ni as f64)
    }

    /// What the output file is: `format`, else from the file's extension (`None`
    /// without an output file).
    pub fn output_kind(&self) -> Result<Option<OutputKind>> {
        match (&self.output, self.format) {
            (None, None) => Ok(None),
            (None, Some(_)) => Err(invalid("--format says how to write --output FILE: pass one".into())),
            (Some(_), Some(kind)) => Ok(Some(kind)),
            (Some(path), None) => OutputKind::of(path).map(Some).map_err(invalid),
        }
    }

    /// Checks every parameter; the error says what was wrong and what to pass.
    pub fn validate(&self) -> Result<()> {
        for (name, v) in [("NR", self.nr), ("NI", self.ni)] {
            if v == 0 || v > MAX_SIDE {
                return Err(invalid(format!("{name} must be a whole number from 1 to {MAX_SIDE}, got {v}")));
            }
        }
        if self.nr as u64 * self.ni as u64 > MAX_PIXELS {
            return Err(invalid(format!("{} x {} pixels is more than the {MAX_PIXELS} allowed", self.nr, self.ni)));
        }
        if self.imax == 0 {
            return Err(invalid("IMAX must be at least 1".into()));
        }
        let bounds = [("REI", self.re_min), ("REF", self.re_max), ("IMI", self.im_min), ("IMF", self.im_max)];
        if let Some((name, v)) = bounds.iter().find(|(_, v)| !v.is_finite()) {
            return Err(invalid(format!("{name} must be a finite number, got {v}")));
        }
        if self.re_min >= self.re_max || !(self.re_max - self.re_min).is_finite() {
            return Err(invalid(format!("REI must be less than REF, got {} and {}", self.re_min, self.re_max)));
        }
        if self.im_min >= self.im_max || !(self.im_max - self.im_min).is_finite() {
            return Err(invalid(format!("IMI must be less than IMF, got {} and {}", self.im_min, self.im_max)));
        }
        if self.chunk == 0 {
            return Err(invalid("--chunk must be at least 1 row".into()));
        }
        if let Some(path) = self.kernel {
            let available = KernelPath::available();
            if !available.contains(&path) {
                let names: Vec<&str> = available.iter().map(|p| p.name()).collect();
                let msg = format!("this CPU cannot run the {} kernel; it runs {}", path.name(), names.join(", "));
                return Err(invalid(msg));
            }
        }
        let kind = self.output_kind()?;
        if self.smooth && kind != Some(OutputKind::Png) {
            return Err(invalid("--smooth colours a PNG image: pass --output FILE.png".into()));
        }
        if let Some(path) = &self.output {
            check_directory(path)?;
        }
        Ok(())
    }
}

/// The output's directory must exist, so that a long run does not end in a failed write.
fn check_directory(path: &Path) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if dir.is_dir() {
        Ok(())
    } else {
        Err(invalid(format!("cannot write {}: the directory {} does not exist", path.display(), dir.display())))
    }
}

pub(super) fn invalid(msg: String) -> Error {
    Error::InvalidInput { program: "mandelbrot", msg }
}
