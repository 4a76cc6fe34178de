//! What the programs share for their files: atomic and durable writes, checksummed
//! checkpoints, the magma colormap, RGB PNG images, and NumPy's `.npy` format.

mod atomic;
pub mod checkpoint;
mod colormap;
pub mod npy;
mod rgb;

pub use atomic::{write_atomically, write_durably, write_file};
pub use colormap::magma;
pub use rgb::write_rgb_png;
