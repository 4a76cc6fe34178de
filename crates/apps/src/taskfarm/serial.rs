//! The serial reference: the jobs' durations, their sum, and the ideal time.

use super::rng::SplitMix64;
use super::{Job, TaskFarm};

/// The jobs of `params`: job `i` lasts `min + (max - min) * u_i` seconds in the lesson's
/// units, `u_i` the `i`-th number of a SplitMix64 stream seeded with `seed`.
///
/// ```
/// use parsci_apps::taskfarm::{serial, TaskFarm};
/// let jobs = serial::jobs(&TaskFarm::default());
/// assert_eq!(jobs.len(), 20);
/// assert!(jobs.iter().all(|j| (1.0..5.0).contains(&j.seconds)));
/// ```
pub fn jobs(params: &TaskFarm) -> Vec<Job> {
    let mut rng = SplitMix64::new(params.seed);
    (0..params.jobs)
        .map(|index| {
            let u = rng.next_f64();
            Job { index, seconds: params.min_seconds + (params.max_seconds - params.min_seconds) * u }
        })
        .collect()
}

/// The time every job takes when run, in seconds (its duration times the time scale).
pub fn scaled_durations(params: &TaskFarm) -> Vec<f64> {
    jobs(params).iter().map(|j| j.seconds * params.time_scale).collect()
}

/// The sum of the jobs' (scaled) durations: the time one rank would need.
pub fn total_work(params: &TaskFarm) -> f64 {
    scaled_durations(params).iter().sum()
}

/// The best possible time with `workers` computing ranks: the work shared perfectly.
pub fn ideal_time(params: &TaskFarm, workers: usize) -> f64 {
    total_work(params) / workers.max(1) as f64
}
