//! Moving the whole field between rank 0 and the ranks' blocks: gathered for the files
//! rank 0 writes, scattered from a file rank 0 read. Rank 0 then holds the whole field
//! and, while it is reordered, a second copy.

use parsci_comm::{CartComm, Layout};

use super::decomp::Decomposition;
use crate::error::Result;

/// Gathers every rank's cells (row by row) into the whole field (`ny x nx`) on rank 0.
pub fn gather(cart: &CartComm, d: &Decomposition, nx: usize, cells: &[f64]) -> Result<Option<Vec<f64>>> {
    let counts = d.counts(cart);
    let layout = Layout::from_counts(&counts);
    let root = cart.rank() == 0;
    let mut by_rank = vec![0.0; if root { counts.iter().sum() } else { 0 }];
    cart.gatherv(cells, root.then_some((&mut by_rank[..], &layout)), 0)?;
    if !root {
        return Ok(None);
    }
    if d.px == 1 {
        return Ok(Some(by_rank)); // blocks of whole rows, in rank order: already the field
    }
    let mut field = vec![0.0; by_rank.len()];
    for r in 0..cart.size() {
        let (rows, cols) = d.block_of(cart, r);
        let block = &by_rank[layout.range(r)];
        for (k, j) in rows.enumerate() {
            field[j * nx + cols.start..j * nx + cols.end].copy_from_slice(&block[k * cols.len()..(k + 1) * cols.len()]);
        }
    }
    Ok(Some(field))
}

/// Scatters the whole field held by rank 0 (`None` elsewhere): each rank gets its cells.
pub fn scatter(cart: &CartComm, d: &Decomposition, nx: usize, field: Option<&[f64]>) -> Result<Vec<f64>> {
    let counts = d.counts(cart);
    let layout = Layout::from_counts(&counts);
    let by_rank = field.map(|field| {
        let mut out = Vec::with_capacity(field.len());
        for r in 0..cart.size() {
            let (rows, cols) = d.block_of(cart, r);
            for j in rows {
                out.extend_from_slice(&field[j * nx + cols.start..j * nx + cols.end]);
            }
        }
        out
    });
    let mut mine = vec![0.0; counts[cart.rank()]];
    cart.scatterv(by_rank.as_deref().map(|b| (b, &layout)), &mut mine, 0)?;
    Ok(mine)
}
