//! What a run writes: heat maps and checkpoints during the steps, the final field at the
//! end (gathered on rank 0, or one file per rank), and the lines rank 0 prints.

use std::path::{Path, PathBuf};
use std::time::Instant;

use parsci_comm::CartComm;

use super::assemble::gather;
use super::decomp::Decomposition;
use super::parallel::{Stepper, Timers};
use super::{checkpoint, snapshot, Heat, HeatResult};
use crate::error::{Error, Result};
use crate::files::{npy, write_file};

/// Writes a run's files; rank 0 keeps their names.
pub struct Writer<'a> {
    cart: &'a CartComm,
    d: &'a Decomposition,
    p: &'a Heat,
    scale: [f64; 2],
    start_step: usize,
    files: Vec<String>,
}

impl<'a> Writer<'a> {
    /// A writer for the run of `p` from `start_step`; rank 0 creates the snapshot directory.
    pub fn new(
        cart: &'a CartComm,
        d: &'a Decomposition,
        p: &'a Heat,
        scale: [f64; 2],
        start_step: usize,
    ) -> Result<Self> {
        if let (Some(dir), 0) = (&p.snapshots, cart.rank()) {
            std::fs::create_dir_all(dir).map_err(|e| failed(dir, e.to_string()))?;
        }
        Ok(Writer { cart, d, p, scale, start_step, files: Vec::new() })
    }

    /// The step the run started from.
    pub fn start_step(&self) -> usize {
        self.start_step
    }

    /// Writes the heat map of `step` if the run makes them.
    pub fn snapshot(&mut self, step: usize, u: &Stepper, t: &mut Timers) -> Result<()> {
        if self.p.snapshots.is_some() {
            self.write_due(step, u, true, false, t)?;
        }
        Ok(())
    }

    /// The first step after `step` at which something is due (or `usize::MAX`).
    pub fn next_due(&self, step: usize) -> usize {
        let p = self.p;
        let next = |k: usize, on: bool| if on { (step / k + 1) * k } else { usize::MAX };
        // A run with a checkpoint file always ends with one, whatever the interval.
        let ckpt = next(p.checkpoint_every, p.checkpoint.is_some()).min(if p.checkpoint.is_some() && step < p.steps {
            p.steps
        } else {
            usize::MAX
        });
        next(p.every, p.snapshots.is_some()).min(ckpt)
    }

    /// Writes what is due after `step`: a heat map every `every` steps, a checkpoint every
    /// `checkpoint_every` steps and at the last step.
    pub fn after_step(&mut self, step: usize, u: &Stepper, t: &mut Timers) -> Result<()> {
        let p = self.p;
        let map = p.snapshots.is_some() && step.is_multiple_of(p.every);
        let ckpt = p.checkpoint.is_some() && (step.is_multiple_of(p.checkpoint_every) || step == p.steps);
        if map || ckpt {
            self.write_due(step, u, map, ckpt, t)?;
        }
        Ok(())
    }

    fn write_due(&mut self, step: usize, u: &Stepper, map: bool, ckpt: bool, t: &mut Timers) -> Result<()> {
        let began = Instant::now();
        let p = self.p;
        if let Some(field) = gather(self.cart, self.d, p.nx, &u.interior())? {
            if let (true, Some(dir)) = (map, &p.snapshots) {
                let path = snapshot::path(dir, step, step as f64 * p.time_step());
                snapshot::write(&path, p.ny, p.nx, &field, self.scale).map_err(|e| failed(&path, e.to_string()))?;
                self.files.push(path.display().to_string());
            }
            if let (true, Some(path)) = (ckpt, &p.checkpoint) {
                let header = checkpoint::Header::of(p, step, self.scale);
                checkpoint::write(path, &header, &field).map_err(|e| failed(path, e.to_string()))?;
                if !self.files.iter().any(|f| Path::new(f) == path) {
                    self.files.push(path.display().to_string());
                }
            }
        }
        t.io += began.elapsed();
        Ok(())
    }

    /// Writes the final field if asked; returns the names of every file written.
    pub fn finish(mut self, u: &Stepper, t: &mut Timers) -> Result<Vec<String>> {
        let began = Instant::now();
        let p = self.p;
        if let Some(path) = &p.output {
            if p.per_rank_output {
                self.per_rank(path, u)?;
            } else if let Some(field) = gather(self.cart, self.d, p.nx, &u.interior())? {
                write_file(path, |w| npy::write(w, p.ny, p.nx, &field)).map_err(|e| failed(path, e.to_string()))?;
                self.files.push(path.display().to_string());
            }
        }
        t.io += began.elapsed();
        Ok(self.files)
    }

    /// Every rank writes its block as `STEM.rank<R>.npy`; rank 0 writes `STEM.blocks.json`,
    /// which says where each block goes.
    fn per_rank(&mut self, path: &Path, u: &Stepper) -> Result<()> {
        let (cart, d, p) = (self.cart, self.d, self.p);
        let mine = rank_file(path, cart.rank());
        let (ny, nx) = u.shape();
        write_file(&mine, |w| npy::write(w, ny, nx, &u.interior())).map_err(|e| failed(&mine, e.to_string()))?;
        if cart.rank() == 0 {
            let blocks: Vec<serde_json::Value> = (0..cart.size())
                .map(|r| {
                    let (rows, cols) = d.block_of(cart, r);
                    let file = rank_file(path, r).file_name().map(|f| f.to_string_lossy().into_owned());
                    serde_json::json!({ "rank": r, "file": file, "rows": [rows.start, rows.end], "cols": [cols.start, cols.end] })
                })
                .collect();
            let index = serde_json::json!({ "shape": [p.ny, p.nx], "procs": [d.px, d.py], "blocks": blocks });
            let index_path = path.with_extension("blocks.json");
            let text = serde_json::to_string_pretty(&index).expect("JSON of plain values") + "\n";
            write_file(&index_path, |w| w.write_all(text.as_bytes()))
                .map_err(|e| failed(&index_path, e.to_string()))?;
            self.files.push(index_path.display().to_string());
            self.files.push(
                format!("{} rank files {}", cart.size(), rank_file(path, 0).display()).replace(".rank0.", ".rank*."),
            );
        }
        // Every rank's file is written before rank 0 reports them.
        cart.barrier()?;
        Ok(())
    }
}

/// `out.npy` -> `out.rank3.npy`.
pub fn rank_file(path: &Path, rank: usize) -> PathBuf {
    path.with_extension(format!("rank{rank}.npy"))
}

fn failed(path: &Path, msg: String) -> Error {
    Error::Output { program: "heat", path: path.display().to_string(), msg }
}

/// The lines rank 0 prints.
pub fn lines(p: &Heat, r: &HeatResult) -> Vec<String> {
    let bc = |b: super::Boundary| format!("{b:?}").to_lowercase();
    let mut lines = vec![
        format!(
            "heat: {} x {} cells on {} ranks as {} x {} (x by y); {} x, {} y; alpha = {}, dt = {:.4e}, alpha dt / h^2 = {:.4}",
            r.nx,
            r.ny,
            r.procs[0] * r.procs[1],
            r.procs[0],
            r.procs[1],
            bc(p.bc_x),
            bc(p.bc_y),
            p.alpha,
            r.dt,
            r.courant
        ),
        format!(
            "steps {} to {} (t = {:.6e}) in {:.6} s: {:.3} billion lattice updates per second, total heat {:.9e}",
            r.start_step, r.steps, r.time, r.step_time_s, r.glups, r.total_heat
        ),
        format!(
            "slowest rank: compute {:.6} s, halo exchange {:.6} s; field from {:.6e} to {:.6e}, fingerprint {}",
            r.compute_time_s, r.exchange_time_s, r.min, r.max, r.fingerprint
        ),
    ];
    for (k, rank) in r.ranks.iter().enumerate() {
        lines.push(format!(
            "[Rank {k}/{}] rows {}..{}, columns {}..{}: compute {:.6} s, halo exchange {:.6} s",
            r.ranks.len(),
            rank.rows[0],
            rank.rows[1],
            rank.cols[0],
            rank.cols[1],
            rank.compute_s,
            rank.exchange_s
        ));
    }
    lines.extend(r.files.iter().map(|f| format!("wrote {f}")));
    lines
}
