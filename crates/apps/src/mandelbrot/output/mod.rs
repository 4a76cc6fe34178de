//! Writing the image: `.pbm` (set membership, the Benchmarks Game's format) or `.png`
//! (colour), always atomically (a temporary file renamed into place).

mod pbm;
mod png;

use std::path::Path;

use serde::{Deserialize, Serialize};

pub use crate::files::{magma, write_atomically, write_file};
pub use pbm::write_pbm;
pub use png::{write_png, LogScale};

use super::params::Mandelbrot;
use super::pixel::Image;
use crate::error::{Error, Result};

/// The kinds of image file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputKind {
    /// A colour PNG (magma colormap; set pixels black).
    Png,
    /// A binary PBM (P4): 1 bit per pixel, set for the pixels in the set.
    Pbm,
}

impl OutputKind {
    /// The kind of `path`, from its extension (`.png` or `.pbm`, any case).
    pub fn of(path: &Path) -> Result<OutputKind, String> {
        let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("png") => Ok(OutputKind::Png),
            Some("pbm") => Ok(OutputKind::Pbm),
            _ => Err(format!(
                "the output file must end in .png (colour) or .pbm (set membership), or --format must say \
                 which, got '{}' (e.g. --output {} --format pbm)",
                path.display(),
                path.display()
            )),
        }
    }
}

/// Writes `image` (as collected for `params`) to `path`; returns a description of it.
pub fn write(path: &Path, params: &Mandelbrot, image: &Image) -> Result<String> {
    let (nr, ni, imax) = (params.nr, params.ni, params.imax);
    let png = params.output_kind()? != Some(OutputKind::Pbm);
    let result = match image {
        Image::Members(rows) if !png => write_file(path, |w| write_pbm(w, nr, ni, rows)),
        Image::Counts(counts) if png => {
            let values = counts.iter().map(|&c| if c >= imax { -1.0 } else { c as f32 });
            write_file(path, |w| write_png(w, nr, ni, values))
        }
        Image::Smooth(nu) if png => write_file(path, |w| write_png(w, nr, ni, nu.iter().copied())),
        _ => return Err(output_error(path, "the image collected does not fit its format".into())),
    };
    result.map_err(|e| output_error(path, e.to_string()))?;
    let what = match image {
        Image::Members(_) => "set membership, 1 bit per pixel",
        Image::Counts(_) => "escape counts, magma",
        Image::Smooth(_) => "smooth iteration counts, magma",
    };
    Ok(format!("{} ({nr} x {ni}, {what})", path.display()))
}

fn output_error(path: &Path, msg: String) -> Error {
    Error::Output { program: "mandelbrot", path: path.display().to_string(), msg }
}
