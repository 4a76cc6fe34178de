//! What the programs share for their files: atomic and durable writes, the magma
//! colormap, and NumPy's `.npy` format.

mod atomic;
mod colormap;
pub mod npy;

pub use atomic::{write_atomically, write_durably, write_file};
pub use colormap::magma;
