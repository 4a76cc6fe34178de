//! The task farm: results in job order, failures reported with the job's index (never
//! a hang), one rank, master participation, serde jobs; the `taskfarm` program.

use std::sync::mpsc;
use std::time::Duration;

use parsci_apps::taskfarm::{farm, farm_with, serial, FarmError, FarmOptions, Farmed, TaskFarm, Typed};
use parsci_apps::{execute, Error, Program};
use parsci_comm::{launch, Backend, Comm};
use serde::{Deserialize, Serialize};

const SIZES: [usize; 5] = [1, 2, 3, 4, 7];

/// A job of a serde struct type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Task {
    id: u32,
    name: String,
    weights: Vec<f64>,
}

/// Its result, another struct.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Answer {
    id: u32,
    label: String,
    total: f64,
}

fn tasks(n: u32) -> Vec<Task> {
    (0..n).map(|id| Task { id, name: format!("task-{id}"), weights: vec![id as f64; (id % 5) as usize] }).collect()
}

fn solve(t: &Task) -> Result<Answer, String> {
    // Uneven work, so that the order of completion differs from the job order.
    std::thread::sleep(Duration::from_micros(50 * u64::from(t.id % 7)));
    Ok(Answer { id: t.id, label: t.name.to_uppercase(), total: t.weights.iter().sum() })
}

/// Runs `f` on `n` thread ranks in another thread; panics if it takes longer than `secs`.
fn within<R: Send + 'static>(secs: u64, f: impl FnOnce() -> R + Send + 'static) -> R {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(secs)).expect("the farm hung")
}

type Farmed3 = Result<Option<Farmed<Answer>>, FarmError>;

fn run_farm(n: usize, jobs: u32, options: FarmOptions) -> Vec<Farmed3> {
    launch(Backend::Threads(n), move |comm: &Comm| {
        let mine = (comm.rank() == options.master).then(|| tasks(jobs));
        Ok::<_, String>(farm(comm, mine, solve, &options))
    })
    .unwrap()
    .into_vec()
}

#[test]
fn results_come_back_in_job_order_at_every_size() {
    for n in SIZES {
        for master_computes in [false, true] {
            for in_flight in [1, 2, 3] {
                let options = FarmOptions { master: 0, master_computes, in_flight };
                let out = run_farm(n, 23, options);
                let farmed = out[0].clone().unwrap().expect("the master has the results");
                let want: Vec<Answer> = tasks(23).iter().map(|t| solve(t).unwrap()).collect();
                assert_eq!(farmed.results, want, "{n} ranks, {options:?}");
                assert!(out[1..].iter().all(|r| matches!(r, Ok(None))), "workers return None");
                let mut handed: Vec<usize> = farmed.log.assignments.iter().map(|a| a.job).collect();
                handed.sort_unstable();
                assert_eq!(handed, (0..23).collect::<Vec<_>>(), "each job handed out once");
                let master_did = farmed.log.done_by.iter().filter(|&&r| r == 0).count();
                if n > 1 && !master_computes {
                    assert_eq!(master_did, 0, "{n} ranks: the master only serves");
                }
                if n == 1 {
                    assert_eq!(master_did, 23, "one rank: the master does everything");
                }
            }
        }
    }
}

#[test]
fn the_master_can_be_any_rank() {
    let out = run_farm(4, 10, FarmOptions { master: 2, ..FarmOptions::default() });
    assert!(out[2].as_ref().unwrap().is_some());
    assert!(out[0].as_ref().unwrap().is_none());
    assert!(out[2].as_ref().unwrap().as_ref().unwrap().log.done_by.iter().all(|&r| r != 2));
}

#[test]
fn no_jobs_is_fine() {
    for n in [1, 3] {
        let out = run_farm(n, 0, FarmOptions::default());
        assert!(out[0].as_ref().unwrap().as_ref().unwrap().results.is_empty());
    }
}

#[test]
fn a_failing_job_is_reported_with_its_index_on_every_rank() {
    for n in SIZES {
        for master_computes in [false, true] {
            let out = within(30, move || {
                launch(Backend::Threads(n), move |comm| {
                    let jobs = (comm.rank() == 0).then(|| (0..40u32).collect::<Vec<_>>());
                    let work = |&j: &u32| if j == 17 { Err(format!("bad input {j}")) } else { Ok(j * 2) };
                    let options = FarmOptions { master_computes, ..FarmOptions::default() };
                    Ok::<_, String>(farm(comm, jobs, work, &options))
                })
                .unwrap()
                .into_vec()
            });
            for (rank, r) in out.into_iter().enumerate() {
                match r {
                    Err(FarmError::JobFailed { job: 17, message, .. }) => assert_eq!(message, "bad input 17"),
                    other => panic!("{n} ranks, rank {rank}: {other:?}"),
                }
            }
        }
    }
}

#[test]
fn a_panicking_job_is_a_failure_too() {
    let out = within(30, || {
        launch(Backend::Threads(3), |comm| {
            let jobs = (comm.rank() == 0).then(|| (0..10u32).collect::<Vec<_>>());
            let work = |&j: &u32| {
                if j == 4 {
                    panic!("job four is cursed");
                }
                Ok::<_, String>(j)
            };
            Ok::<_, String>(farm(comm, jobs, work, &FarmOptions::default()))
        })
        .unwrap()
        .into_vec()
    });
    let err = out[0].clone().unwrap_err();
    assert!(matches!(err, FarmError::JobFailed { job: 4, .. }), "{err:?}");
    assert!(err.to_string().contains("job # 4 failed on rank") && err.to_string().contains("cursed"), "{err}");
}

#[test]
fn a_master_without_jobs_stops_everybody_with_an_error() {
    let out = within(30, || {
        launch(Backend::Threads(3), |comm| {
            Ok::<_, String>(farm(comm, None::<Vec<u32>>, |&j: &u32| Ok::<_, String>(j), &FarmOptions::default()))
        })
        .unwrap()
        .into_vec()
    });
    for r in out {
        assert!(matches!(r, Err(FarmError::InvalidArgument { .. })), "{r:?}");
    }
}

#[test]
fn bad_options_are_errors_on_every_rank() {
    for options in
        [FarmOptions { master: 5, ..FarmOptions::default() }, FarmOptions { in_flight: 0, ..FarmOptions::default() }]
    {
        for r in run_farm(3, 4, options) {
            assert!(matches!(r, Err(FarmError::InvalidArgument { .. })), "{options:?}: {r:?}");
        }
    }
}

#[test]
fn typed_results_go_to_the_sink() {
    let out = launch(Backend::Threads(3), |comm| {
        let jobs = (comm.rank() == 0).then(|| (0..12u64).collect::<Vec<_>>());
        let work = |&j: &u64| Ok::<_, String>(vec![j; j as usize]);
        let mut got = vec![Vec::new(); 12];
        let options = FarmOptions { master_computes: true, in_flight: 2, ..FarmOptions::default() };
        let log =
            farm_with(comm, jobs, work, &options, Typed, |i, v: Vec<u64>| got[i] = v).map_err(|e| e.to_string())?;
        Ok::<_, String>(log.map(|_| got))
    })
    .unwrap();
    let got = out.into_root().unwrap().unwrap();
    for (i, v) in got.iter().enumerate() {
        assert_eq!(v, &vec![i as u64; i]);
    }
}

#[test]
fn the_farm_leaves_the_callers_messages_alone() {
    launch(Backend::Threads(2), |comm| {
        // A message of the caller's with the farm's tags, sent before the farm and
        // received after it (non-blocking: MPI need not buffer a send).
        let sent = if comm.rank() == 1 { Some(comm.isend(&[42u32], 0, 1)?) } else { None };
        let jobs = (comm.rank() == 0).then(|| vec![1u32, 2, 3]);
        farm(comm, jobs, |&j: &u32| Ok::<_, String>(j), &FarmOptions::default()).map_err(|e| e.to_string())?;
        if comm.rank() == 0 {
            let mut x = [0u32];
            comm.recv(&mut x, 1, 1)?;
            assert_eq!(x[0], 42);
        }
        sent.map(|r| r.wait()).transpose()?;
        Ok::<_, Box<dyn std::error::Error>>(())
    })
    .unwrap();
}

fn tiny() -> TaskFarm {
    TaskFarm { time_scale: 0.0005, ..TaskFarm::default() }
}

#[test]
fn the_lessons_farm_in_milliseconds() {
    for n in SIZES {
        for master_computes in [false, true] {
            let params = TaskFarm { master_computes, ..tiny() };
            let run = execute(&params, Backend::Threads(n)).unwrap();
            params.check(&run.result, n).unwrap_or_else(|e| panic!("{n} ranks: {e}"));
            let r = &run.result;
            assert_eq!(r.workers, params.workers(n));
            assert_eq!(r.assignments.len(), 20);
            let lines = &run.lines;
            for (line, a) in lines.iter().zip(&r.assignments) {
                assert_eq!(line, &format!("Master assigned job # {} to worker # {}", a.job, a.worker));
            }
            let summary = &lines[lines.len() - 2];
            assert!(summary.starts_with("Total time ") && summary.contains("sum of job times"), "{summary}");
            assert!(summary.contains(&format!("ideal (sum / {} workers)", r.workers)), "{summary}");
            assert!((r.sum_s - serial::total_work(&params)).abs() < 1e-12);
            assert!(r.total_s >= r.ideal_s);
        }
    }
}

#[test]
fn durations_come_from_the_seed() {
    let a = serial::jobs(&TaskFarm::default());
    assert_eq!(a, serial::jobs(&TaskFarm::default()));
    assert_ne!(a, serial::jobs(&TaskFarm { seed: 7, ..TaskFarm::default() }));
    assert!(a.iter().all(|j| (1.0..5.0).contains(&j.seconds)));
    assert_eq!(a.iter().map(|j| j.index).collect::<Vec<_>>(), (0..20).collect::<Vec<_>>());
}

#[test]
fn taskfarm_rejects_bad_parameters() {
    let bad = |p: TaskFarm, says: &str| {
        let err = execute(&p, Backend::Threads(2)).unwrap_err();
        assert!(matches!(err, Error::InvalidInput { program: "taskfarm", .. }), "{err:?}");
        assert!(err.to_string().contains(says), "{err} lacks {says:?}");
    };
    bad(TaskFarm { jobs: 0, ..tiny() }, "the number of jobs must be from 1");
    bad(TaskFarm { min_seconds: 3.0, max_seconds: 2.0, ..tiny() }, "0 <= min <= max");
    bad(TaskFarm { min_seconds: -1.0, ..tiny() }, "0 <= min <= max");
    bad(TaskFarm { max_seconds: f64::NAN, ..tiny() }, "0 <= min <= max");
    bad(TaskFarm { time_scale: -0.1, ..tiny() }, "time scale must be a number >= 0");
}
