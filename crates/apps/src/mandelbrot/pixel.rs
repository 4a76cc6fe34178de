//! What each computed row becomes on its way to rank 0: escape counts, set
//! membership bits, or smooth values. Strategies are generic over it.

use parsci_comm::Arith;
use serde::{Deserialize, Serialize};

use super::grid::{Grid, RowScratch};
use super::smooth;

/// The per-pixel product rank 0 collects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Product {
    /// Escape counts, `u32` per pixel (the lesson's image).
    Counts,
    /// Set membership, one bit per pixel, rows packed as in PBM (`u8`, 8 pixels each).
    Members,
    /// Smooth iteration counts, `f32` per pixel (negative in the set).
    Smooth,
}

/// An element of a collected row (`u32` counts, `u8` PBM bytes, `f32` smooth values).
/// Zero is the "nothing computed" value, so that a zeroed image can be summed.
pub trait Pixel: Arith + Default {
    /// Which product this is.
    const PRODUCT: Product;
    /// Elements in one row of `nr` pixels.
    fn row_len(nr: usize) -> usize;
    /// Writes the row just computed in `scratch` (row `ii` of `grid`) to `dst`.
    fn extract(grid: &Grid, scratch: &RowScratch, ii: usize, dst: &mut [Self]);
}

impl Pixel for u32 {
    const PRODUCT: Product = Product::Counts;
    fn row_len(nr: usize) -> usize {
        nr
    }
    fn extract(grid: &Grid, scratch: &RowScratch, _ii: usize, dst: &mut [u32]) {
        dst.copy_from_slice(&scratch.counts[..grid.nr]);
    }
}

impl Pixel for u8 {
    const PRODUCT: Product = Product::Members;
    fn row_len(nr: usize) -> usize {
        nr.div_ceil(8)
    }
    fn extract(grid: &Grid, scratch: &RowScratch, _ii: usize, dst: &mut [u8]) {
        dst.copy_from_slice(&scratch.members[..grid.nr.div_ceil(8)]);
    }
}

impl Pixel for f32 {
    const PRODUCT: Product = Product::Smooth;
    fn row_len(nr: usize) -> usize {
        nr
    }
    fn extract(grid: &Grid, scratch: &RowScratch, ii: usize, dst: &mut [f32]) {
        smooth::fill_row(grid, scratch, ii, dst);
    }
}

/// A collected image on rank 0: `height` rows of `row_len` elements.
#[derive(Debug, Clone, PartialEq)]
pub enum Image {
    /// Escape counts, `nr` per row.
    Counts(Vec<u32>),
    /// PBM rows: `ceil(nr / 8)` bytes per row, the first pixel in the high bit.
    Members(Vec<u8>),
    /// Smooth values, `nr` per row ([`smooth::IN_SET`] in the set).
    Smooth(Vec<f32>),
}

/// Turns collected elements into an [`Image`].
pub(crate) trait IntoImage: Sized {
    fn into_image(v: Vec<Self>) -> Image;
}

impl IntoImage for u32 {
    fn into_image(v: Vec<u32>) -> Image {
        Image::Counts(v)
    }
}

impl IntoImage for u8 {
    fn into_image(v: Vec<u8>) -> Image {
        Image::Members(v)
    }
}

impl IntoImage for f32 {
    fn into_image(v: Vec<f32>) -> Image {
        Image::Smooth(v)
    }
}
