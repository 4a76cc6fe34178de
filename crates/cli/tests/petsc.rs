//! `parsci petsc poisson` against PETSc itself (feature `petsc`): PETSc's own tutorial
//! `ksp/tutorials/ex2.c` (Debian's libpetsc3.18-dev-examples) is compiled with mpicc and
//! run in the same test with the same grid and options, under `mpirun -n 1, 2, 3`; the
//! residual history and the `Norm of error ... iterations ...` line must be identical.
//! Skipped, with the reason, where the tutorial or mpicc is missing.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const PARSCI: &str = env!("CARGO_BIN_EXE_parsci");
const EX2: &str = "/usr/share/petsc/3.18/share/petsc/examples/src/ksp/ksp/tutorials/ex2.c";

fn mpirun(n: usize, program: &Path, args: &[&str]) -> Output {
    Command::new(std::env::var("PARSCI_MPIRUN").unwrap_or_else(|_| "mpirun".into()))
        .args(["-n", &n.to_string(), "--oversubscribe"])
        .arg(program)
        .args(args)
        .env("OMPI_ALLOW_RUN_AS_ROOT", "1")
        .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
        .env("OMPI_MCA_rmaps_base_oversubscribe", "1")
        .output()
        .expect("start mpirun (install openmpi-bin)")
}

/// PETSc's ex2, compiled once per test binary into the target's temporary directory; or
/// why it cannot be.
fn ex2() -> Result<PathBuf, String> {
    if !Path::new(EX2).exists() {
        return Err(format!("{EX2} is missing (apt-get install libpetsc3.18-dev-examples)"));
    }
    let flags = Command::new("pkg-config")
        .args(["--cflags", "--libs", "PETSc"])
        .output()
        .map_err(|e| format!("pkg-config: {e}"))?;
    if !flags.status.success() {
        return Err("pkg-config knows no PETSc (apt-get install petsc-dev)".into());
    }
    let flags = String::from_utf8_lossy(&flags.stdout).into_owned();
    let exe = Path::new(env!("CARGO_TARGET_TMPDIR")).join("petsc-ex2");
    let out = Command::new("mpicc")
        .arg(EX2)
        .args(flags.split_whitespace())
        .arg("-o")
        .arg(&exe)
        .output()
        .map_err(|e| format!("mpicc: {e} (apt-get install libopenmpi-dev)"))?;
    assert!(out.status.success(), "mpicc {EX2} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    Ok(exe)
}

/// The lines both programs print from PETSc's solve: the monitor's and ex2's result line.
fn solve_lines(out: &Output, what: &str) -> Vec<String> {
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{what} failed:\n{text}\n{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<String> = text
        .lines()
        .filter(|l| l.contains("KSP Residual norm") || l.starts_with("Norm of error"))
        .map(|l| l.trim_end().to_string())
        .collect();
    assert!(lines.iter().any(|l| l.starts_with("Norm of error")), "{what} printed no result:\n{text}");
    lines
}

#[test]
fn poisson_gives_the_iterations_and_error_of_petscs_ex2() {
    let ex2 = match ex2() {
        Ok(exe) => exe,
        Err(why) => {
            println!("skipped: cannot build PETSc's ex2: {why}");
            return;
        }
    };
    // ex2's stored outputs ex2_1 (1 rank) and ex2_2 (2 ranks), its defaults (8 x 7), and
    // CG with Jacobi on a larger, non-square grid.
    let cases: &[(usize, usize, &[&str])] = &[
        (5, 5, &["-ksp_monitor_short", "-ksp_gmres_cgs_refinement_type", "refine_always"]),
        (8, 7, &["-ksp_monitor_short"]),
        (60, 41, &["-ksp_type", "cg", "-pc_type", "jacobi", "-ksp_monitor_short"]),
    ];
    for ranks in 1..=3 {
        for &(m, n, options) in cases {
            let (ms, ns) = (m.to_string(), n.to_string());
            let c_args: Vec<&str> = ["-m", &ms, "-n", &ns].into_iter().chain(options.iter().copied()).collect();
            let want =
                solve_lines(&mpirun(ranks, &ex2, &c_args), &format!("mpirun -n {ranks} ex2 {}", c_args.join(" ")));
            let r_args: Vec<&str> =
                ["petsc", "poisson", &ms, &ns, "--"].into_iter().chain(options.iter().copied()).collect();
            let what = format!("mpirun -n {ranks} parsci {}", r_args.join(" "));
            let got = solve_lines(&mpirun(ranks, Path::new(PARSCI), &r_args), &what);
            assert_eq!(got, want, "{what}: parsci and PETSc's ex2 differ");
            println!("{what}: {}", got.last().unwrap());
        }
    }
    // Without mpirun: one MPI process (a singleton), as ex2 -n 1.
    let want = solve_lines(&mpirun(1, &ex2, &["-m", "5", "-n", "5", "-ksp_monitor_short"]), "ex2 5 x 5");
    let alone = Command::new(PARSCI).args(["petsc", "poisson", "5", "5", "--", "-ksp_monitor_short"]).output().unwrap();
    assert_eq!(solve_lines(&alone, "parsci petsc poisson without mpirun"), want);
}

#[test]
fn wrong_launches_and_petsc_errors_are_reported() {
    let refused = Command::new(PARSCI).args(["petsc", "poisson", "5", "5", "--backend", "threads"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("PETSc's ranks are MPI processes") && stderr.contains("mpirun"), "{stderr}");

    let refused = Command::new(PARSCI).args(["petsc", "poisson", "5", "5", "--ranks", "2"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("mpirun -n N"), "{stderr}");

    // A KSP type PETSc does not know: PETSc's message, and the job stops. (Each rank prints
    // it, but lines of two processes may interleave, and MPI_Abort may end one first.)
    let bad = mpirun(2, Path::new(PARSCI), &["petsc", "poisson", "5", "5", "--", "-ksp_type", "nonsense"]);
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(!bad.status.success(), "{stderr}");
    assert!(stderr.contains("Unable to find requested KSP type nonsense"), "{stderr}");
    assert!(stderr.contains("PETSc error 86 in KSPSetType"), "{stderr}");
}
