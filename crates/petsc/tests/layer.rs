//! The safe layer on the real PETSc under `mpirun -n 1` to `-n 4`: a DMDA's ghost
//! exchange (star and box stencils, with and without wrap-around) and natural-order
//! gather; SNES with Rust closures solving a nonlinear system; an `Err` and a panic in a
//! closure reported as PETSc errors on every rank (never an unwind into C); a residual
//! left behind on a DM by a dropped solver refused, not called; and one rank failing
//! inside a solve stopping the job.
//!
//! `harness = false`: started by `cargo test`, this binary is the driver that starts
//! itself under `mpirun -n N` with `PARSCI_PETSC_SCENARIO` set; every job asserts the
//! world size.

use std::process::Command;
use std::time::{Duration, Instant};

use parsci_comm::{launch, Backend, Comm};
use parsci_petsc::{Boundary, Dmda, DmdaSpec, Error, InsertMode, Petsc, Snes, Stencil, StencilShape};

const SCENARIO: &str = "PARSCI_PETSC_SCENARIO";
const SIZE: &str = "PARSCI_PETSC_EXPECT_SIZE";

type Check = fn(&Petsc<'_>, &Comm) -> Result<(), String>;

const CHECKS: &[(&str, Check)] = &[
    ("ghost exchange", ghost_exchange),
    ("natural order", natural_order),
    ("snes with closures", snes_cubic),
    ("an Err in the residual", residual_error),
    ("a panic in the Jacobian", jacobian_panic),
    ("a residual left on the DM by a dropped solver", stale_residual),
];

fn main() {
    match std::env::var(SCENARIO) {
        Ok(s) => rank_main(&s),
        Err(_) => driver(),
    }
}

fn rank_main(scenario: &str) {
    let want: usize = std::env::var(SIZE).ok().and_then(|s| s.parse().ok()).expect("the driver sets the size");
    assert_eq!(Backend::Mpi.ranks(), want, "world size: started by another MPI's launcher?");
    let out = launch(Backend::Mpi, |comm| {
        let petsc = Petsc::init(comm, &[]).map_err(|e| e.to_string())?;
        match scenario {
            "layer" => {
                for (name, check) in CHECKS {
                    check(&petsc, comm).map_err(|e| format!("{name} at {} ranks: {e}", comm.size()))?;
                }
            }
            "rank-fails" => {
                let da = Dmda::new_2d(&petsc, DmdaSpec::new(9, 7)).map_err(|e| e.to_string())?;
                let mut snes = Snes::new(&petsc).map_err(|e| e.to_string())?;
                let last = comm.rank() == comm.size() - 1;
                snes.set_function(move |x, f| {
                    if last {
                        return Err(Error::Callback("the last rank's residual fails".into()));
                    }
                    f.copy_from(x)
                })
                .map_err(|e| e.to_string())?;
                let mut x = da.global_vector().map_err(|e| e.to_string())?;
                snes.solve(&mut x).map_err(|e| e.to_string())?;
            }
            other => panic!("unknown scenario {other}"),
        }
        Ok::<_, String>(())
    })
    .expect("launch");
    if out.root().is_some() {
        println!("petsc layer: {scenario}: {} checks passed at {want} ranks", CHECKS.len());
    }
}

fn s(e: Error) -> String {
    e.to_string()
}

/// A value per grid point, wrapping around the grid.
fn value(nx: usize, ny: usize, i: isize, j: isize) -> f64 {
    (i.rem_euclid(nx as isize) + 100 * j.rem_euclid(ny as isize)) as f64
}

fn ghost_exchange(petsc: &Petsc<'_>, _comm: &Comm) -> Result<(), String> {
    for shape in [StencilShape::Star, StencilShape::Box] {
        for boundary in [Boundary::None, Boundary::Periodic] {
            let spec = DmdaSpec { shape, boundary: [boundary; 2], width: 2, ..DmdaSpec::new(11, 9) };
            let da = Dmda::new_2d(petsc, spec).map_err(s)?;
            let info = *da.info();
            let (o, g) = (info.owned, info.ghosted);
            let mut global = da.global_vector().map_err(s)?;
            for (i, j) in o.points() {
                global.write().map_err(s)?[o.index(i, j)] = value(info.nx, info.ny, i, j);
            }
            let mut local = da.local_vector().map_err(s)?;
            da.global_to_local(&global, &mut local).map_err(s)?;
            let l = local.read().map_err(s)?;
            let inside = |v: isize, lo: isize, n: usize| v >= lo && v < lo + n as isize;
            for (i, j) in g.points() {
                let corner = !inside(i, o.x0, o.nx) && !inside(j, o.y0, o.ny);
                if corner && shape == StencilShape::Star {
                    continue; // a star stencil has no diagonal ghosts
                }
                let want = value(info.nx, info.ny, i, j);
                if l[g.index(i, j)] != want {
                    return Err(format!("{spec:?}: ghost ({i}, {j}) holds {}, not {want}", l[g.index(i, j)]));
                }
            }
            drop(l);
            if boundary == Boundary::Periodic {
                continue; // PETSc inserts local into global only without wrap-around
            }
            for v in local.write().map_err(s)?.iter_mut() {
                *v *= 2.0;
            }
            let mut back = da.global_vector().map_err(s)?;
            da.local_to_global(&local, &mut back).map_err(s)?;
            let b = back.read().map_err(s)?;
            for (i, j) in o.points() {
                if b[o.index(i, j)] != 2.0 * value(info.nx, info.ny, i, j) {
                    return Err(format!("{spec:?}: local to global at ({i}, {j})"));
                }
            }
        }
    }
    Ok(())
}

fn natural_order(petsc: &Petsc<'_>, comm: &Comm) -> Result<(), String> {
    let da = Dmda::new_2d(petsc, DmdaSpec::new(13, 6)).map_err(s)?;
    let info = *da.info();
    let mut global = da.global_vector().map_err(s)?;
    for (i, j) in info.owned.points() {
        global.write().map_err(s)?[info.owned.index(i, j)] = value(info.nx, info.ny, i, j);
    }
    let all = da.gather_natural(&global).map_err(s)?;
    let want: Vec<f64> = (0..6).flat_map(|j| (0..13).map(move |i| value(13, 6, i, j))).collect::<Vec<_>>();
    match comm.rank() {
        0 if all != want => Err(format!("rank 0 gathered {all:?}")),
        r if r != 0 && !all.is_empty() => Err(format!("rank {r} gathered {} values", all.len())),
        _ => Ok(()),
    }
}

/// u^3 = (1 + i + j)^3 at every point, by Newton with an analytic (diagonal) Jacobian.
fn snes_cubic(petsc: &Petsc<'_>, _comm: &Comm) -> Result<(), String> {
    let da = Dmda::new_2d(petsc, DmdaSpec::new(7, 5)).map_err(s)?;
    let info = *da.info();
    let o = info.owned;
    let target = move |i: isize, j: isize| (1 + i + j) as f64;
    let mut snes = Snes::new(petsc).map_err(s)?;
    snes.set_dm(&da).map_err(s)?;
    snes.set_function(move |x, f| {
        let (x, mut f) = (x.read()?, f.write()?);
        for (i, j) in o.points() {
            let k = o.index(i, j);
            f[k] = x[k].powi(3) - target(i, j).powi(3);
        }
        Ok(())
    })
    .map_err(s)?;
    let jac = da.create_matrix().map_err(s)?;
    snes.set_jacobian(&jac, move |x, j| {
        let x = x.read()?;
        for (i, jj) in o.points() {
            let at = Stencil::at(i, jj);
            j.set_values_stencil(at, &[at], &[3.0 * x[o.index(i, jj)].powi(2)], InsertMode::Insert)?;
        }
        j.assemble()
    })
    .map_err(s)?;
    snes.set_from_options().map_err(s)?;
    let mut x = da.global_vector().map_err(s)?;
    x.set(1.0).map_err(s)?;
    snes.solve(&mut x).map_err(s)?;
    let reason = snes.converged_reason().map_err(s)?;
    if !reason.converged() {
        return Err(format!("did not converge: {}", reason.name));
    }
    let u = x.read().map_err(s)?;
    for (i, j) in o.points() {
        // Newton stops at a relative residual of 1e-8 (PETSc's default): a few 1e-9 left.
        if (u[o.index(i, j)] - target(i, j)).abs() > 1e-7 {
            return Err(format!("u({i}, {j}) = {}, not {}", u[o.index(i, j)], target(i, j)));
        }
    }
    Ok(())
}

fn residual_error(petsc: &Petsc<'_>, comm: &Comm) -> Result<(), String> {
    let da = Dmda::new_2d(petsc, DmdaSpec::new(6, 6)).map_err(s)?;
    let mut snes = Snes::new(petsc).map_err(s)?;
    snes.set_dm(&da).map_err(s)?;
    let rank = comm.rank();
    snes.set_function(move |_, _| Err(Error::Callback(format!("no material data for rank {rank}")))).map_err(s)?;
    let mut x = da.global_vector().map_err(s)?;
    match snes.solve(&mut x) {
        Ok(()) => Err("the solve succeeded".into()),
        Err(e) => {
            let text = e.to_string();
            let want = format!("no material data for rank {rank}");
            let from = "PETSc error 76 in the SNES residual closure";
            if text.contains(&want) && text.starts_with(from) && matches!(e, Error::Petsc { code: 76, .. }) {
                Ok(())
            } else {
                Err(format!("wrong error: {text}"))
            }
        }
    }
}

fn jacobian_panic(petsc: &Petsc<'_>, _comm: &Comm) -> Result<(), String> {
    let da = Dmda::new_2d(petsc, DmdaSpec::new(6, 6)).map_err(s)?;
    let mut snes = Snes::new(petsc).map_err(s)?;
    snes.set_dm(&da).map_err(s)?;
    snes.set_function(|x, f| {
        f.copy_from(x)?;
        f.write()?.iter_mut().for_each(|v| *v -= 1.0);
        Ok(())
    })
    .map_err(s)?;
    let jac = da.create_matrix().map_err(s)?;
    snes.set_jacobian(&jac, |_, _| panic!("index 99 out of range")).map_err(s)?;
    let mut x = da.global_vector().map_err(s)?;
    let first = snes.solve(&mut x).err().map(|e| e.to_string()).unwrap_or_default();
    if !first.contains("in the SNES Jacobian closure") || !first.contains("panicked: index 99 out of range") {
        return Err(format!("first solve: {first:?}"));
    }
    let second = snes.solve(&mut x).err().map(|e| e.to_string()).unwrap_or_default();
    if !second.contains("not called again: a closure of this solver panicked") {
        return Err(format!("second solve: {second:?}"));
    }
    Ok(())
}

fn stale_residual(petsc: &Petsc<'_>, _comm: &Comm) -> Result<(), String> {
    let da = Dmda::new_2d(petsc, DmdaSpec::new(6, 6)).map_err(s)?;
    {
        let mut snes = Snes::new(petsc).map_err(s)?;
        snes.set_dm(&da).map_err(s)?;
        snes.set_function(|x, f| f.copy_from(x)).map_err(s)?;
    }
    // The DM still holds the dropped solver's residual and context.
    let mut snes = Snes::new(petsc).map_err(s)?;
    snes.set_dm(&da).map_err(s)?;
    let mut x = da.global_vector().map_err(s)?;
    match snes.solve(&mut x) {
        Err(e) if e.to_string().contains("called after its solver was dropped") => Ok(()),
        other => Err(format!("{other:?}")),
    }
}

// ---- the driver ----

struct Job {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    took: Duration,
}

fn mpirun(n: usize, scenario: &str) -> Job {
    let start = Instant::now();
    let out = Command::new(std::env::var("PARSCI_MPIRUN").unwrap_or_else(|_| "mpirun".into()))
        .args(["-n", &n.to_string(), "--oversubscribe"])
        .arg(std::env::current_exe().expect("this test's path"))
        .env(SCENARIO, scenario)
        .env(SIZE, n.to_string())
        .env("OMPI_ALLOW_RUN_AS_ROOT", "1")
        .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
        .env("OMPI_MCA_rmaps_base_oversubscribe", "1")
        .output()
        .expect("start mpirun (install openmpi-bin)");
    Job {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        took: start.elapsed(),
    }
}

fn driver() {
    let mut failures = Vec::new();
    let mut check = |name: String, ok: bool, job: &Job| {
        println!("test {name} ... {} ({:.1} s)", if ok { "ok" } else { "FAILED" }, job.took.as_secs_f64());
        if !ok {
            failures.push(format!("{name}: exit {:?}\n--- stdout\n{}--- stderr\n{}", job.code, job.stdout, job.stderr));
        }
    };
    for n in 1..=4 {
        let job = mpirun(n, "layer");
        let want = format!("petsc layer: layer: {} checks passed at {n} ranks", CHECKS.len());
        check(format!("the safe layer under mpirun -n {n}"), job.code == Some(0) && job.stdout.contains(&want), &job);
    }
    for n in [2, 4] {
        let job = mpirun(n, "rank-fails");
        let ok = job.code != Some(0)
            && job.stderr.contains(&format!("rank {} failed:", n - 1))
            && job.stderr.contains("the last rank's residual fails")
            && job.took < Duration::from_secs(60);
        check(format!("a rank failing inside a solve stops the job of {n}"), ok, &job);
    }
    if !failures.is_empty() {
        eprintln!("{}", failures.join("\n\n"));
        std::process::exit(1);
    }
}
