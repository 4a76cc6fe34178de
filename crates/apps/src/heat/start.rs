//! Where a run starts: the initial condition, or a checkpoint. A file is read by rank 0
//! alone and its cells scattered; if rank 0 cannot read it, every rank returns the error.

use std::ops::Range;

use parsci_comm::{CartComm, Op};

use super::assemble::scatter;
use super::decomp::Decomposition;
use super::params::{invalid, Boundary, Init};
use super::{checkpoint, init, Heat};
use crate::error::Result;

/// This rank's cells at the start, the step they are at, and the run's colour scale.
#[derive(Debug)]
pub struct Start {
    /// The step.
    pub step: usize,
    /// This rank's cells, row by row.
    pub cells: Vec<f64>,
    /// The coldest and hottest values of the run (for the heat maps).
    pub scale: [f64; 2],
}

/// Loads or computes this rank's starting cells (collective).
pub fn start(cart: &CartComm, d: &Decomposition, p: &Heat, rows: Range<usize>, cols: Range<usize>) -> Result<Start> {
    if let Some(path) = &p.restart {
        let loaded = root_reads(cart, || {
            let (header, field) = checkpoint::read(path)?;
            header.check_matches(p, path)?;
            Ok((header, field))
        })?;
        let (header, field) = loaded.map_or((None, None), |(h, f)| (Some(h), Some(f)));
        let header = cart.bcast_obj(header, 0)?;
        let cells = scatter(cart, d, p.nx, field.as_deref())?;
        return Ok(Start { step: header.step, cells, scale: header.scale });
    }
    let cells = match &p.init {
        Init::File(path) => {
            let field = root_reads(cart, || init::load(p, path))?;
            scatter(cart, d, p.nx, field.as_deref())?
        }
        analytic => rows
            .flat_map(|j| cols.clone().map(move |i| (j, i)))
            .map(|(j, i)| analytic.value(p, j, i).expect("an analytic initial condition"))
            .collect(),
    };
    let (lo, hi) = cells.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    let (mut glo, mut ghi) = ([0.0], [0.0]);
    cart.allreduce(&[lo], &mut glo, &Op::min())?;
    cart.allreduce(&[hi], &mut ghi, &Op::max())?;
    let walls = p.bc_x == Boundary::Dirichlet || p.bc_y == Boundary::Dirichlet;
    let [lo, hi] = if walls { [glo[0].min(p.wall), ghi[0].max(p.wall)] } else { [glo[0], ghi[0]] };
    Ok(Start { step: 0, cells, scale: super::snapshot::scale([lo, hi]) })
}

/// Runs `read` on rank 0 and tells every rank whether it worked: rank 0 gets `Some(value)`,
/// the others `None`, or all get the error.
fn root_reads<T>(cart: &CartComm, read: impl FnOnce() -> Result<T>) -> Result<Option<T>> {
    let read = (cart.rank() == 0).then(read);
    let failure = match &read {
        Some(Err(e)) => Some(Some(e.to_string())),
        Some(Ok(_)) => Some(None),
        None => None,
    };
    let failure: Option<String> = cart.bcast_obj(failure, 0)?;
    match (read, failure) {
        (Some(r), _) => r.map(Some),
        (None, Some(msg)) => Err(invalid(format!("rank 0 could not read its input: {msg}"))),
        (None, None) => Ok(None),
    }
}
