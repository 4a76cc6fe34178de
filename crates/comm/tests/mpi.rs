//! The MPI backend under a real `mpirun`: the conformance suite at 1, 2, 3 and 4
//! processes (4 oversubscribed on 2 cores), with and without the collectives' agreement
//! check, the failure paths (a failing rank, a panicking rank, a watchdog, a truncated
//! receive, large messages sent to receive buffers half their size, over shared memory
//! and over TCP), and collectives whose ranks pass counts that disagree (see `mismatch`).
//!
//! `harness = false`: started by `cargo test`, this binary is the driver: it starts
//! itself under `mpirun -n N` with `PARSCI_MPI_SCENARIO` set, and checks what the job
//! printed and how it exited. Started that way, it is one rank of the job. Every job
//! asserts the world size, so a binary started by another MPI's `mpirun` (which gives
//! N jobs of one rank) fails instead of passing N times.

mod conformance {
    pub mod checks;
    pub mod icollectives;
    pub mod in_place;
    pub mod requests;
    pub mod scoped;
    pub mod subgrids;
}
mod mismatch;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use conformance::checks::CHECKS;
use parsci_comm::{launch, launch_with, Backend, Error, JobOptions, Op, ANY_TAG};

const SCENARIO: &str = "PARSCI_MPI_SCENARIO";
const SIZE: &str = "PARSCI_MPI_EXPECT_SIZE";

fn main() {
    match std::env::var(SCENARIO) {
        Ok(s) => rank_main(&s),
        Err(_) => driver(),
    }
}

// ---- one rank of a job ----

fn rank_main(scenario: &str) {
    let want: usize = std::env::var(SIZE).ok().and_then(|s| s.parse().ok()).expect("the driver sets the size");
    let size = Backend::Mpi.ranks();
    if size != want {
        eprintln!("world size is {size}, expected {want}: started by another MPI's launcher?");
        std::process::exit(2);
    }
    match scenario {
        "conformance" => conformance(want, &JobOptions::default()),
        "conformance-strict" => {
            let opts = JobOptions::with_watchdog(Duration::from_secs(20)).with_sync_sends();
            conformance(want, &opts)
        }
        "strict-deadlock" => {
            // Both ranks send before they receive: MPI may buffer the sends or not; in
            // strict mode they are MPI_Ssend and the watchdog names the stuck call.
            let opts = JobOptions::with_watchdog(Duration::from_millis(800)).with_sync_sends();
            let _ = launch_with(Backend::Mpi, &opts, |comm| {
                let other = 1 - comm.rank();
                comm.send(&[1u8], other, 3)?;
                comm.recv_vec::<u8>(other, 3).map(|_| ())
            });
            unreachable!("the watchdog aborted the job");
        }
        "conformance-checked" => conformance(want, &JobOptions::default().with_check_collectives()),
        "fail" => {
            let _ = launch(Backend::Mpi, |comm| {
                if comm.rank() == comm.size() - 1 {
                    return Err("no input file".to_string());
                }
                let mut x = [0u8];
                comm.recv(&mut x, comm.size() - 1, 0).map_err(|e| e.to_string())?; // never sent
                Ok(())
            });
            unreachable!("the job was aborted");
        }
        "fail-nonblocking" => {
            // The others wait in a nonblocking collective the failing rank never starts.
            let _ = launch(Backend::Mpi, |comm| {
                if comm.rank() == comm.size() - 1 {
                    return Err("no input file".to_string());
                }
                let mut x = vec![1.0f64; 100_000];
                comm.scope(|s| s.iallreduce_in_place(&mut x, &Op::sum())?.wait()).map_err(|e| e.to_string())?;
                Ok(())
            });
            unreachable!("the job was aborted");
        }
        "panic" => {
            let _ = launch(Backend::Mpi, |comm| {
                if comm.rank() == comm.size() - 1 {
                    panic!("index out of bounds in rank {}", comm.rank());
                }
                comm.barrier().map_err(|e| e.to_string())
            });
            unreachable!("the job was aborted");
        }
        "watchdog" => {
            let opts = JobOptions::with_watchdog(Duration::from_millis(500));
            let _ = launch_with(Backend::Mpi, &opts, |comm| {
                let mut x = [0u8];
                comm.recv(&mut x, 0, 42).map(|_| ()) // nobody sends: a deadlock
            });
            unreachable!("the watchdog aborted the job");
        }
        "truncation" => truncation(),
        "overflow" => overflow(),
        "abort" => {
            let _ = launch(Backend::Mpi, |comm| {
                if comm.rank() == comm.size() - 1 {
                    comm.abort(5);
                }
                comm.barrier() // released by the abort
            });
            unreachable!("the job was aborted");
        }
        other => match other.split_once(':') {
            Some(("mismatch", case)) => mismatch::unchecked(case),
            Some(("mismatch-checked", case)) => mismatch::checked(case),
            _ => panic!("unknown scenario {other}"),
        },
    }
}

fn conformance(want: usize, options: &JobOptions) {
    let out = launch_with(Backend::Mpi, options, |comm| {
        let verbose = std::env::var_os("PARSCI_MPI_VERBOSE").is_some();
        for (name, check) in CHECKS {
            if verbose {
                eprintln!("rank {}: {name}", comm.rank());
            }
            let own = comm.dup().map_err(|e| format!("dup for {name}: {e}"))?;
            check(&own).map_err(|e| format!("{name} at {} ranks: {e}", comm.size()))?;
        }
        Ok::<_, String>(comm.rank())
    })
    .expect("launch");
    assert_eq!(out.size(), want);
    if out.root().is_some() {
        let checked = if options.check_collectives { " with the agreement check" } else { "" };
        println!("mpi conformance: {} checks passed at {want} ranks{checked}", CHECKS.len());
    }
}

/// A message longer than the receive buffer is an error naming both ranks, as on threads.
fn truncation() {
    launch(Backend::Mpi, |comm| {
        if comm.size() < 2 {
            return Ok(());
        }
        match comm.rank() {
            0 => comm.send(&[1u32, 2, 3, 4], 1, 5).map_err(|e| e.to_string()),
            1 => {
                let mut small = [0u32; 2];
                match comm.recv(&mut small, 0, ANY_TAG) {
                    Err(Error::Truncated { from: 0, to: 1, tag: 5, capacity: 2, .. }) => {
                        println!("truncation reported");
                        Ok(())
                    }
                    other => Err(format!("expected Truncated, got {other:?}")),
                }
            }
            _ => Ok(()),
        }
    })
    .expect("launch");
}

/// How `overflow` receives: each on its own tag.
#[derive(Clone, Copy, Debug)]
enum Via {
    Recv = 10,
    Irecv = 11,
    Scoped = 12,
    Sendrecv = 13,
}

/// Messages above MPI's eager limits (8 KiB, 70 KB, 300 KB, 1 MiB) sent to `recv`,
/// `irecv`, a scoped `irecv` and `sendrecv` with a buffer half their size, and with a
/// buffer of 8 elements (the small-buffer path of the blocking receives), followed in a
/// larger `Vec` by a guard zone: each is `Error::Truncated` with both ranks and both
/// sizes, nothing is written past the buffer (Open MPI 4.1 would write the whole
/// message there), and the next message of the same tag arrives intact.
fn overflow() {
    const GUARD: usize = 16 * 1024;
    const MARK: u32 = 0xDEAD_BEEF;
    let out = launch(Backend::Mpi, |comm| {
        if comm.size() != 2 {
            return Err(format!("overflow runs on 2 ranks, not {}", comm.size()));
        }
        let mut checked = 0;
        let cases = [8 * 1024, 70_000, 300_000, 1 << 20].into_iter().flat_map(|b| [(b, b / 8), (b, 8)]);
        for (bytes, half) in cases {
            let n = bytes / 4; // u32 elements
            let big: Vec<u32> = (0..n as u32).collect();
            let next: Vec<u32> = (0..half as u32).map(|i| i ^ 0x5a5a_5a5a).collect();
            for via in [Via::Recv, Via::Irecv, Via::Scoped, Via::Sendrecv] {
                let tag = via as i32;
                let what = |e: &dyn std::fmt::Debug| format!("{bytes} bytes to {half} u32 via {via:?}: {e:?}");
                if comm.rank() == 0 {
                    for msg in [&big, &next] {
                        match via {
                            Via::Sendrecv => {
                                let mut ack = [0u8];
                                comm.sendrecv(msg, 1, tag, &mut ack, 1, tag).map_err(|e| what(&e))?;
                            }
                            _ => comm.send(msg, 1, tag).map_err(|e| what(&e))?,
                        }
                    }
                    continue;
                }
                let mut space = vec![MARK; half + GUARD];
                let receive = |space: &mut Vec<u32>| {
                    let buf = &mut space[..half];
                    match via {
                        Via::Recv => comm.recv(buf, 0, tag),
                        Via::Irecv => comm.irecv(buf, 0, tag).and_then(|q| q.wait()),
                        Via::Scoped => comm.scope(|s| s.irecv(buf, 0, tag)?.wait()),
                        Via::Sendrecv => comm.sendrecv(&[1u8], 0, tag, buf, 0, tag),
                    }
                };
                let guard_intact = |space: &Vec<u32>| space[half..].iter().all(|&x| x == MARK);
                match receive(&mut space) {
                    Err(Error::Truncated { from: 0, to: 1, tag: t, sent, capacity, .. })
                        if t == tag && sent == n && capacity == half => {}
                    other => return Err(what(&other)),
                }
                if !guard_intact(&space) {
                    return Err(what(&"the guard zone after the buffer was overwritten"));
                }
                let st = receive(&mut space).map_err(|e| what(&e))?;
                if st.count != half || space[..half] != next[..] || !guard_intact(&space) {
                    return Err(what(&format!("the next message: {st:?}")));
                }
                checked += 1;
            }
        }
        Ok::<_, String>(checked)
    })
    .expect("launch");
    assert_eq!(out.size(), 2);
    if let Some(checked) = out.get(1) {
        println!("overflow: {checked} too-long messages reported, guards intact, next messages intact");
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
    mpirun_within(n, scenario, Duration::from_secs(60))
}

/// `mpirun` with more options for Open MPI (`--mca ...`).
fn mpirun_with(n: usize, scenario: &str, options: &[&str]) -> Job {
    mpirun_full(n, scenario, options, Duration::from_secs(60))
}

/// `mpirun -n n` of this binary in `scenario`; a job that takes longer than `limit` is
/// killed and fails the test (a hang).
fn mpirun_within(n: usize, scenario: &str, limit: Duration) -> Job {
    mpirun_full(n, scenario, &[], limit)
}

fn mpirun_full(n: usize, scenario: &str, options: &[&str], limit: Duration) -> Job {
    let exe = std::env::current_exe().expect("this test's path");
    let launcher = std::env::var("PARSCI_MPIRUN").unwrap_or_else(|_| "mpirun".into());
    let start = Instant::now();
    let mut child = Command::new(&launcher)
        .args(["-n", &n.to_string(), "--oversubscribe"])
        .args(options)
        .arg(&exe)
        .env(SCENARIO, scenario)
        .env(SIZE, n.to_string())
        .env("OMPI_ALLOW_RUN_AS_ROOT", "1")
        .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
        .env("OMPI_MCA_rmaps_base_oversubscribe", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start `{launcher}` ({e}): install Open MPI (openmpi-bin libopenmpi-dev)"));
    // A hang is a failure: kill the job after a generous limit.
    loop {
        if child.try_wait().expect("wait for mpirun").is_some() || start.elapsed() > limit {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    if start.elapsed() > limit {
        let _ = child.kill();
    }
    let out = child.wait_with_output().expect("collect mpirun's output");
    let job = Job {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        took: start.elapsed(),
    };
    assert!(job.took < limit, "mpirun -n {n} ({scenario}) hung:\n{}\n{}", job.stdout, job.stderr);
    job
}

fn driver() {
    let mut failures = Vec::new();
    let mut check = |name: String, ok: bool, job: &Job| {
        let verdict = if ok { "ok" } else { "FAILED" };
        println!("test {name} ... {verdict} ({:.1} s)", job.took.as_secs_f64());
        if !ok {
            failures.push(format!("{name}: exit {:?}\n--- stdout\n{}--- stderr\n{}", job.code, job.stdout, job.stderr));
        }
    };
    // 7: an odd, non-power-of-two size, oversubscribed (slower: more time allowed).
    for n in [1, 2, 3, 4, 7] {
        let job = mpirun_within(n, "conformance", Duration::from_secs(180));
        let want = format!("mpi conformance: {} checks passed at {n} ranks", CHECKS.len());
        check(format!("conformance under mpirun -n {n}"), job.code == Some(0) && job.stdout.contains(&want), &job);
    }
    for n in [1, 2, 3, 4] {
        let job = mpirun(n, "conformance-checked");
        let want = format!("mpi conformance: {} checks passed at {n} ranks with the agreement check", CHECKS.len());
        check(
            format!("conformance with the agreement check under mpirun -n {n}"),
            job.code == Some(0) && job.stdout.contains(&want),
            &job,
        );
    }
    for n in [2, 3] {
        for (case, _) in mismatch::CASES {
            let job = mpirun_within(n, &format!("mismatch:{case}"), mismatch::LIMIT);
            let (ok, outcome) = mismatch::judge_unchecked(&job.stdout, &job.stderr, job.code, n);
            check(format!("{case} with mismatched counts at {n} ranks, unchecked: {outcome}"), ok, &job);
            let job = mpirun_within(n, &format!("mismatch-checked:{case}"), mismatch::LIMIT);
            let ok = job.code == Some(0) && mismatch::judge_checked(&job.stdout, n);
            check(format!("{case} with mismatched counts at {n} ranks, checked: the thread backend's error"), ok, &job);
        }
    }
    for n in [2, 3] {
        let job = mpirun(n, "fail");
        let ok = job.code != Some(0)
            && job.stderr.contains(&format!("rank {} failed: no input file", n - 1))
            && job.took < Duration::from_secs(30);
        check(format!("a failing rank aborts the job of {n}"), ok, &job);
        let job = mpirun(n, "fail-nonblocking");
        let ok = job.code != Some(0)
            && job.stderr.contains(&format!("rank {} failed: no input file", n - 1))
            && job.took < Duration::from_secs(30);
        check(format!("a failing rank aborts the job of {n} waiting in a nonblocking collective"), ok, &job);
    }
    for n in [2, 3] {
        let job = mpirun(n, "conformance-strict");
        let want = format!("mpi conformance: {} checks passed at {n} ranks", CHECKS.len());
        check(
            format!("conformance in strict mode under mpirun -n {n}"),
            job.code == Some(0) && job.stdout.contains(&want),
            &job,
        );
    }
    let job = mpirun(2, "strict-deadlock");
    let ok = job.code != Some(0) && job.stderr.contains("parsci watchdog: rank") && job.stderr.contains("in send");
    check("strict mode: sends that rely on buffering are stopped by the watchdog".into(), ok, &job);
    let job = mpirun(3, "abort");
    check("abort(5) ends the whole job with code 5".into(), job.code == Some(5), &job);
    let job = mpirun(2, "panic");
    let ok = job.code != Some(0) && job.stderr.contains("rank 1 failed: panicked: index out of bounds in rank 1");
    check("a panicking rank aborts the job".into(), ok, &job);
    let job = mpirun(2, "watchdog");
    let ok = job.code != Some(0)
        && job.stderr.contains("parsci watchdog: rank")
        && job.stderr.contains("in recv (waiting for rank 0, tag 42)");
    check("the watchdog names the pending call and aborts".into(), ok, &job);
    let job = mpirun(2, "truncation");
    check(
        "a truncated receive is an error".into(),
        job.code == Some(0) && job.stdout.contains("truncation reported"),
        &job,
    );
    let want = "overflow: 32 too-long messages reported, guards intact, next messages intact";
    let job = mpirun(2, "overflow");
    check(
        "large messages to receive buffers half their size: Truncated, nothing written past them".into(),
        job.code == Some(0) && job.stdout.contains(want),
        &job,
    );
    let job = mpirun_with(2, "overflow", &["--mca", "btl", "self,tcp"]);
    check("the same over TCP (--mca btl self,tcp)".into(), job.code == Some(0) && job.stdout.contains(want), &job);
    if !failures.is_empty() {
        eprintln!("\n{}", failures.join("\n\n"));
        std::process::exit(1);
    }
    println!("all MPI tests passed");
}
