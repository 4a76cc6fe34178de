//! The parallel version: the lesson's jobs through the task farm, timed.

use std::cell::Cell;
use std::time::{Duration, Instant};

use parsci_comm::Comm;

use super::farm::{farm, FarmOptions};
use super::{program_error, serial, Job, JobReport, RankWork, TaskFarm, TaskFarmResult};
use crate::error::Result;
use crate::program::{root_output, Output, Program};

/// Runs on every rank: rank 0 is the master and hands the jobs out; each job sleeps
/// for its duration times the time scale.
pub fn run(comm: &Comm, params: &TaskFarm) -> Result<Option<Output<TaskFarmResult>>> {
    let (rank, size) = (comm.rank(), comm.size());
    let jobs = (rank == 0).then(|| serial::jobs(params));
    let busy = Cell::new(0.0);
    let done = Cell::new(0usize);
    let work = |job: &Job| {
        let start = Instant::now();
        std::thread::sleep(Duration::from_secs_f64(job.seconds * params.time_scale));
        let took_s = start.elapsed().as_secs_f64();
        busy.set(busy.get() + took_s);
        done.set(done.get() + 1);
        Ok::<_, std::convert::Infallible>(JobReport { job: job.index, rank, took_s })
    };
    let options = FarmOptions { master: 0, master_computes: params.master_computes, in_flight: 1 };
    let start = Instant::now();
    let farmed = farm(comm, jobs, work, &options).map_err(|e| program_error(TaskFarm::NAME, e))?;
    let total_s = start.elapsed().as_secs_f64();
    let per_rank = comm.gather_obj(&RankWork { rank, jobs: done.get(), busy_s: busy.get() }, 0)?;
    let (Some(farmed), Some(per_rank)) = (farmed, per_rank) else { return Ok(None) };

    let workers = params.workers(size);
    let sum_s = serial::total_work(params);
    let ideal_s = serial::ideal_time(params, workers);
    let mut lines: Vec<String> = farmed
        .log
        .assignments
        .iter()
        .map(|a| format!("Master assigned job # {} to worker # {}", a.job, a.worker))
        .collect();
    lines.extend(
        per_rank
            .iter()
            .filter(|w| w.jobs > 0 || w.rank != 0)
            .map(|w| format!("Worker # {} did {} jobs, busy {:.3} s", w.rank, w.jobs, w.busy_s)),
    );
    lines.push(format!(
        "Total time {total_s:.3} s; sum of job times {sum_s:.3} s; ideal (sum / {workers} workers) {ideal_s:.3} s; efficiency {:.1}%",
        100.0 * ideal_s / total_s.max(f64::MIN_POSITIVE)
    ));
    let result = TaskFarmResult {
        jobs: params.jobs,
        seed: params.seed,
        time_scale: params.time_scale,
        workers,
        assignments: farmed.log.assignments,
        reports: farmed.results,
        per_rank,
        total_s,
        sum_s,
        ideal_s,
    };
    Ok(root_output(Some(lines), || result))
}
