//! The programs of the workshop's PETSc part, on the real PETSc (feature `petsc`):
//! [`poisson`] (KSP on the 2-D Laplacian, as PETSc's `ksp/tutorials/ex2`), [`bratu`]
//! (SNES on a DMDA, as PETSc's `snes/tutorials/ex5`) and [`heat`] (the heat equation,
//! implicit: one KSP solve per step on a DMDA).

pub mod bratu;
pub mod heat;
pub mod poisson;
mod scalable;

pub use bratu::{Bratu, BratuResult, Mms};
pub use heat::{ImplicitHeat, ImplicitHeatResult};
pub use poisson::{Poisson, PoissonResult};

/// An error naming the options PETSc did not use (misspelt, or for a solver that did not
/// run), as PETSc's `-options_left` would list them; call after the solve. The same on
/// every rank (the options database is).
pub fn check_options_used(program: &'static str, petsc: &parsci_petsc::Petsc<'_>) -> crate::Result<()> {
    let unused = petsc.unused_options()?;
    if unused.is_empty() {
        return Ok(());
    }
    Err(crate::Error::InvalidInput {
        program,
        msg: format!(
            "PETSc did not use the option(s) {}: misspelt, or for a solver that did not run? \
             (-help lists the options PETSc knows)",
            unused.join(" ")
        ),
    })
}

/// A number as C's `%g` prints it (6 significant digits, trailing zeros dropped), so that
/// parsci's lines read like those of PETSc's tutorials.
pub fn fmt_g(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    let exp = format!("{x:.5e}");
    let (mantissa, e) = exp.split_once('e').expect("{:e} has an exponent");
    let e: i32 = e.parse().expect("an integer exponent");
    if (-4..6).contains(&e) {
        let digits = usize::try_from(5 - e).unwrap_or(0);
        trim(&format!("{x:.digits$}"))
    } else {
        format!("{}e{}{:02}", trim(mantissa), if e < 0 { '-' } else { '+' }, e.abs())
    }
}

fn trim(s: &str) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::fmt_g;

    #[test]
    fn like_c_percent_g() {
        assert_eq!(fmt_g(0.000392701234), "0.000392701");
        assert_eq!(fmt_g(3.21109), "3.21109");
        assert_eq!(fmt_g(1.5e-7), "1.5e-07");
        assert_eq!(fmt_g(123456789.0), "1.23457e+08");
        assert_eq!(fmt_g(4.0), "4");
        assert_eq!(fmt_g(0.0), "0");
    }
}
