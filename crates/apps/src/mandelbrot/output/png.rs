//! Colour images: escape values mapped through the magma colormap on a log scale,
//! pixels in the set black, written as an 8-bit RGB PNG one row at a time.

use std::io::{self, Write};

use crate::files::{magma, write_rgb_png};

/// Writes a PNG of `nr x ni` pixels from per-pixel values in row order: an escape
/// value `>= 0` (a count or a smooth count), or a negative number for the set.
pub fn write_png(w: &mut dyn Write, nr: usize, ni: usize, values: impl Iterator<Item = f32> + Clone) -> io::Result<()> {
    let scale = LogScale::of(values.clone());
    let mut values = values;
    write_rgb_png(w, nr, ni, |_, row| {
        for px in row.chunks_exact_mut(3) {
            px.copy_from_slice(&scale.colour(values.next().unwrap_or(-1.0)));
        }
    })
}

/// Colours escape values on a log scale from the smallest to the largest one, so that
/// the many fast-escaping pixels and the few slow ones near the set both show.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogScale {
    lo: f32,
    span: f64,
}

impl LogScale {
    /// The scale spanning the escape values (`>= 0`) among `values`.
    pub fn of(values: impl Iterator<Item = f32>) -> LogScale {
        let (lo, hi) = values.filter(|v| *v >= 0.0).fold((f32::INFINITY, 0.0f32), |(lo, hi), v| (lo.min(v), hi.max(v)));
        let lo = if lo.is_finite() { lo } else { 0.0 };
        LogScale { lo, span: (1.0 + f64::from(hi - lo).max(0.0)).ln() }
    }

    /// The colour of one value: black for the set (negative), magma otherwise.
    pub fn colour(&self, v: f32) -> [u8; 3] {
        if v < 0.0 {
            return [0, 0, 0];
        }
        let t = if self.span > 0.0 { (1.0 + f64::from(v - self.lo)).ln() / self.span } else { 1.0 };
        magma(t)
    }
}
