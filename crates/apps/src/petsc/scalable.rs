//! Scaling studies of the PETSc programs (`parsci scale petsc ... --launcher "mpirun -n {n}"`):
//! how each grows for weak scaling, and when two runs agree. PETSc's preconditioners
//! depend on the split (block Jacobi has one block per rank), so runs at different rank
//! counts agree within the solvers' tolerances, not bit for bit.

use super::{Bratu, BratuResult, ImplicitHeat, ImplicitHeatResult, Poisson, PoissonResult};
use crate::scaling::Scalable;

/// `["--", options...]`, or nothing without options.
fn petsc_options(options: &[String]) -> Vec<String> {
    if options.is_empty() {
        return Vec::new();
    }
    std::iter::once("--".to_string()).chain(options.iter().cloned()).collect()
}

/// Relative difference of two values.
fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / a.abs().max(b.abs()).max(f64::MIN_POSITIVE)
}

impl Scalable for Poisson {
    fn weak(&self, ranks: usize) -> Self {
        Poisson { m: self.m.saturating_mul(ranks), ..self.clone() }
    }

    fn weak_rule(&self) -> String {
        "M grows as p * M (the unknowns M N grow with p)".into()
    }

    /// Both converged on the same grid, with an RMS error below 1e-3 (the exact solution
    /// is all ones; the tolerance is ex2's, rtol = 0.01 / ((M+1)(N+1))).
    fn agree(&self, a: &PoissonResult, b: &PoissonResult) -> Result<(), String> {
        let limit = 1e-3 * ((a.m * a.n) as f64).sqrt();
        if (a.m, a.n) == (b.m, b.n) && a.converged && b.converged && a.error_norm <= limit && b.error_norm <= limit {
            return Ok(());
        }
        Err(format!(
            "error norms {} and {} (at most {limit}), {} and {}",
            a.error_norm, b.error_norm, a.reason, b.reason
        ))
    }

    fn args(&self) -> Vec<String> {
        let mut args = vec!["petsc".into(), "poisson".into(), self.m.to_string(), self.n.to_string()];
        args.extend(petsc_options(&self.options));
        args
    }
}

impl Scalable for Bratu {
    fn weak(&self, ranks: usize) -> Self {
        Bratu { ny: self.ny.saturating_mul(ranks), ..self.clone() }
    }

    fn weak_rule(&self) -> String {
        "NY grows as p * NY".into()
    }

    /// Both converged on the same grid to the same solution (its largest value within
    /// 1e-6 relative: Newton stops at a residual 1e-8 of the first).
    fn agree(&self, a: &BratuResult, b: &BratuResult) -> Result<(), String> {
        if (a.nx, a.ny) == (b.nx, b.ny) && a.converged && b.converged && rel(a.max_u, b.max_u) <= 1e-6 {
            return Ok(());
        }
        Err(format!("max u {} and {}, {} and {}", a.max_u, b.max_u, a.reason, b.reason))
    }

    fn args(&self) -> Vec<String> {
        let mut args = vec!["petsc".into(), "bratu".into()];
        args.extend(["--nx".into(), self.nx.to_string(), "--ny".into(), self.ny.to_string()]);
        args.extend(["--lambda".into(), format!("{:?}", self.lambda)]);
        let mms = match self.mms {
            super::Mms::Plain => "0",
            super::Mms::Quadratic => "1",
            super::Mms::Sine => "2",
        };
        args.extend(["--mms".into(), mms.into()]);
        if self.matrix_free {
            args.push("--matrix-free".into());
        }
        args.extend(petsc_options(&self.options));
        args
    }
}

impl Scalable for ImplicitHeat {
    fn weak(&self, ranks: usize) -> Self {
        let mut p = self.clone();
        p.heat.ny = p.heat.ny.saturating_mul(ranks);
        p
    }

    fn weak_rule(&self) -> String {
        "NY grows as p * NY".into()
    }

    /// The same total heat and extremes within 1e-8 relative (each step solved to 1e-10).
    fn agree(&self, a: &ImplicitHeatResult, b: &ImplicitHeatResult) -> Result<(), String> {
        let close = rel(a.total_heat, b.total_heat) <= 1e-8 && (a.max - b.max).abs() <= 1e-8 * a.max.abs().max(1.0);
        if (a.nx, a.ny, a.steps) == (b.nx, b.ny, b.steps) && close {
            return Ok(());
        }
        Err(format!("total heat {} vs {}, max {} vs {}", a.total_heat, b.total_heat, a.max, b.max))
    }

    fn args(&self) -> Vec<String> {
        let p = &self.heat;
        let mut args = vec!["petsc".into(), "heat".into(), p.nx.to_string(), p.ny.to_string()];
        args.extend(["--alpha".into(), format!("{:?}", p.alpha), "--steps".into(), p.steps.to_string()]);
        if let Some(dt) = p.dt {
            args.extend(["--dt".into(), format!("{dt:?}")]);
        }
        let bc = |b: crate::heat::Boundary| format!("{b:?}").to_lowercase();
        args.extend([
            "--bc-x".into(),
            bc(p.bc_x),
            "--bc-y".into(),
            bc(p.bc_y),
            "--wall".into(),
            format!("{:?}", p.wall),
        ]);
        let init = match &p.init {
            crate::heat::Init::Square => "square".to_string(),
            crate::heat::Init::Gaussian => "gaussian".to_string(),
            crate::heat::Init::File(f) => f.display().to_string(),
        };
        args.extend(["--init".into(), init]);
        args.extend(petsc_options(&self.options));
        args
    }
}
