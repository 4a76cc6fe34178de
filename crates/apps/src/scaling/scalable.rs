//! [`Scalable`]: what a program states so that `parsci scale` can study it, and the
//! programs that do. Supporting another program is one `impl Scalable` here.

use crate::heat::{Boundary, Heat, HeatResult, Init};
use crate::mandelbrot::{Mandelbrot, MandelbrotResult};
use crate::matmul::{Matmul, MatmulResult};
use crate::program::Program;
use crate::rootsum::{RootSum, RootSumResult, MAX_M, TOLERANCE};

/// A program that can be studied at several rank counts.
pub trait Scalable: Program + Clone {
    /// The problem that a weak-scaling study runs on `ranks` ranks, when `self` is the
    /// problem on one rank (the work should grow in proportion to `ranks`).
    fn weak(&self, ranks: usize) -> Self;

    /// How [`weak`](Scalable::weak) grows the problem, in words (`"M grows as p * M"`).
    fn weak_rule(&self) -> String;

    /// Whether two results of the same problem agree within the program's tolerance
    /// (results may differ by what depends on the rank count, such as per-rank parts).
    fn agree(&self, a: &Self::Result, b: &Self::Result) -> Result<(), String>;

    /// The subcommand and arguments that run this problem (`["rootsum", "1000"]`), for
    /// studies that start one job per rank count through an MPI launcher.
    fn args(&self) -> Vec<String>;
}

impl Scalable for RootSum {
    fn weak(&self, ranks: usize) -> Self {
        RootSum { m: self.m.saturating_mul(ranks as u64).min(MAX_M) }
    }

    fn weak_rule(&self) -> String {
        "M grows as p * M (the work of sqrt(1..M) is about proportional to M)".into()
    }

    fn agree(&self, a: &RootSumResult, b: &RootSumResult) -> Result<(), String> {
        let rel = ((a.total - b.total) / b.total).abs();
        if a.m == b.m && rel <= TOLERANCE {
            return Ok(());
        }
        Err(format!("sum {} vs {} (relative difference {rel:.1e} > {TOLERANCE:.0e})", a.total, b.total))
    }

    fn args(&self) -> Vec<String> {
        vec![Self::NAME.into(), self.m.to_string()]
    }
}

impl Scalable for Mandelbrot {
    fn weak(&self, ranks: usize) -> Self {
        Mandelbrot { ni: self.ni.saturating_mul(ranks), ..self.clone() }
    }

    fn weak_rule(&self) -> String {
        "the rows NI grow as p * NI over the same region (finer rows)".into()
    }

    fn agree(&self, a: &MandelbrotResult, b: &MandelbrotResult) -> Result<(), String> {
        if (a.checksum, a.in_set) == (b.checksum, b.in_set) {
            return Ok(()); // the counts are integers: bit for bit
        }
        Err(format!("checksum {} and {} pixels in the set vs {} and {}", a.checksum, a.in_set, b.checksum, b.in_set))
    }

    fn args(&self) -> Vec<String> {
        let mut v: Vec<String> = vec![Self::NAME.into(), self.nr.to_string(), self.ni.to_string()];
        v.extend([self.re_min, self.re_max, self.im_min, self.im_max].map(|x| format!("{x:?}")));
        v.push(self.imax.to_string());
        v.extend(["--strategy".into(), format!("{:?}", self.strategy).to_lowercase()]);
        v.extend(["--chunk".into(), self.chunk.to_string()]);
        if self.master_computes {
            v.push("--master-computes".into());
        }
        if let Some(k) = self.kernel {
            v.extend(["--kernel".into(), format!("{k:?}").to_lowercase()]);
        }
        v
    }
}

impl Scalable for Heat {
    fn weak(&self, ranks: usize) -> Self {
        Heat { ny: self.ny.saturating_mul(ranks), ..self.clone() }
    }

    fn weak_rule(&self) -> String {
        "the rows NY grow as p * NY (the same cells per rank; the cell size shrinks with the longer side)".into()
    }

    fn agree(&self, a: &HeatResult, b: &HeatResult) -> Result<(), String> {
        if (a.steps, &a.fingerprint) == (b.steps, &b.fingerprint) {
            return Ok(()); // the field, bit for bit
        }
        Err(format!(
            "field fingerprint {} after {} steps vs {} after {}",
            a.fingerprint, a.steps, b.fingerprint, b.steps
        ))
    }

    fn args(&self) -> Vec<String> {
        let bc = |b: Boundary| format!("{b:?}").to_lowercase();
        let mut v: Vec<String> = vec![Self::NAME.into(), self.nx.to_string(), self.ny.to_string()];
        v.extend(["--alpha".into(), format!("{:?}", self.alpha), "--steps".into(), self.steps.to_string()]);
        v.extend(["--bc-x".into(), bc(self.bc_x), "--bc-y".into(), bc(self.bc_y)]);
        v.extend(["--wall".into(), format!("{:?}", self.wall)]);
        if let Some(dt) = self.dt {
            v.extend(["--dt".into(), format!("{dt:?}")]);
        }
        v.extend([
            "--init".into(),
            match &self.init {
                Init::Square => "square".into(),
                Init::Gaussian => "gaussian".into(),
                Init::File(path) => path.display().to_string(),
            },
        ]);
        if let Some(k) = self.halo_depth {
            v.extend(["--halo-depth".into(), k.to_string()]);
        }
        if let Some(path) = &self.restart {
            v.extend(["--restart".into(), path.display().to_string()]);
        }
        v
    }
}

impl Scalable for Matmul {
    fn weak(&self, ranks: usize) -> Self {
        Matmul { m: self.m.saturating_mul(ranks), ..self.clone() }
    }

    fn weak_rule(&self) -> String {
        "the rows M grow as p * M (the work 2 M K N grows with them)".into()
    }

    fn agree(&self, a: &MatmulResult, b: &MatmulResult) -> Result<(), String> {
        // Panels and process grids change the order of the sums: within the tolerance.
        let (a, b, same_shape) = (&a.totals, &b.totals, a.shape == b.shape);
        let scale = crate::matmul::TOLERANCE * b.norm_a * b.norm_b * (self.m * self.n) as f64;
        if same_shape && (a.probe - b.probe).abs() <= scale && (a.sum_c - b.sum_c).abs() <= scale {
            return Ok(());
        }
        Err(format!("u^T C v = {:e} and sum(C) = {:e} vs {:e} and {:e}", a.probe, a.sum_c, b.probe, b.sum_c))
    }

    fn args(&self) -> Vec<String> {
        let mut v: Vec<String> = vec![Self::NAME.into()];
        if self.input.is_none() {
            v.extend([self.m, self.k, self.n].map(|x| x.to_string()));
        }
        v.extend(["--strategy".into(), self.strategy.name().into(), "--panel".into(), self.panel.to_string()]);
        v.extend(["--seed".into(), self.seed.to_string()]);
        if self.lesson {
            v.push("--lesson".into());
        }
        if let Some([a, b]) = &self.input {
            v.extend(["--input".into(), a.display().to_string(), b.display().to_string()]);
        }
        v
    }
}
