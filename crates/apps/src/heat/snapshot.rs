//! Heat maps: the field as a PNG through the magma colormap, on a colour scale fixed for
//! the whole run so that frames compare; row 0 at the top.

use std::io;
use std::path::{Path, PathBuf};

use crate::files::{magma, write_atomically, write_rgb_png};

/// The colour scale of a run: from the coldest to the hottest value of the initial field
/// and of the walls (heat flow creates no new extremes, so every frame stays inside).
pub fn scale(lo_hi: [f64; 2]) -> [f64; 2] {
    let [lo, hi] = lo_hi;
    if hi > lo {
        [lo, hi]
    } else {
        [lo, lo + 1.0]
    }
}

/// The file of the frame at `step` (time `t`) in `dir`: `heat-step0000100-t1.000000e-3.png`.
pub fn path(dir: &Path, step: usize, t: f64) -> PathBuf {
    dir.join(format!("heat-step{step:07}-t{t:.6e}.png"))
}

/// Writes the `ny x nx` field as a PNG at `path`, atomically.
pub fn write(path: &Path, ny: usize, nx: usize, field: &[f64], [lo, hi]: [f64; 2]) -> io::Result<()> {
    write_atomically(path, |w| {
        write_rgb_png(w, nx, ny, |j, row| {
            for (px, v) in row.chunks_exact_mut(3).zip(&field[j * nx..(j + 1) * nx]) {
                px.copy_from_slice(&magma((v - lo) / (hi - lo)));
            }
        })
    })
}
