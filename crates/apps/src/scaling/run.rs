//! Running a scaling study: every rank count, several repetitions, each run's result
//! compared, then [`Study::analyse`].

use parsci_comm::{Backend, JobOptions};

use super::scalable::Scalable;
use super::study::{Measured, Setup, Study};
use crate::error::{Error, Result};
use crate::execute::check_ranks;

/// The largest number of ranks a study accepts.
pub const MAX_STUDY_RANKS: usize = 4096;

/// What to measure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScaleOptions {
    /// The rank counts, in the order to run them.
    pub ranks: Vec<usize>,
    /// Timed runs at each rank count.
    pub repeat: usize,
    /// Weak scaling: the problem grows with the rank count ([`Scalable::weak`]).
    pub weak: bool,
    /// Put oversubscribed rank counts (more ranks than cores) into the fit.
    pub fit_oversubscribed: bool,
    /// The cores of the machine (rank counts above it are oversubscribed).
    pub cores: usize,
}

impl ScaleOptions {
    /// Checks the options: a non-empty list of distinct rank counts from 1 to
    /// [`MAX_STUDY_RANKS`], and at least one repetition.
    ///
    /// ```
    /// use parsci_apps::scaling::ScaleOptions;
    /// let mut o = ScaleOptions { ranks: vec![1, 2], repeat: 3, weak: false, fit_oversubscribed: false, cores: 2 };
    /// assert!(o.validate().is_ok());
    /// o.ranks = vec![];
    /// assert!(o.validate().unwrap_err().to_string().contains("at least one rank count"));
    /// ```
    pub fn validate(&self) -> Result<()> {
        let bad = |msg: String| Err(Error::InvalidInput { program: "scale", msg });
        if self.ranks.is_empty() {
            return bad("give at least one rank count (e.g. --ranks 1,2,4)".into());
        }
        if let Some(p) = self.ranks.iter().find(|&&p| p == 0 || p > MAX_STUDY_RANKS) {
            return bad(format!("rank counts must be from 1 to {MAX_STUDY_RANKS}, got {p}"));
        }
        if let Some(p) = self.ranks.iter().enumerate().find(|(i, p)| self.ranks[..*i].contains(p)).map(|x| x.1) {
            return bad(format!("rank count {p} is given twice"));
        }
        if self.repeat == 0 {
            return bad("--repeat must be at least 1".into());
        }
        Ok(())
    }
}

/// One run's outcome, as a job runner returns it.
#[derive(Debug, Clone, PartialEq)]
pub struct JobRun<R> {
    /// The wall time, in seconds.
    pub wall_time_s: f64,
    /// The mean over ranks of the time in communication calls, in seconds, if counted.
    pub comm_time_s: Option<f64>,
    /// The program's result.
    pub result: R,
}

/// Where a study is: before run `rep` (from 1) of `repeat` at `ranks` ranks, the
/// `index`-th rank count (from 1) of `of`; `rep = 0` is the untimed warm-up run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// The rank count being measured.
    pub ranks: usize,
    /// Which rank count (from 1).
    pub index: usize,
    /// How many rank counts.
    pub of: usize,
    /// The repetition (from 1; 0 is the warm-up).
    pub rep: usize,
    /// Repetitions per rank count.
    pub repeat: usize,
}

/// Runs a job on the thread backend of this process with communication time counted.
///
/// ```
/// use parsci_apps::{rootsum::RootSum, scaling::threads_job};
/// let run = threads_job(&RootSum { m: 1000 }, 2).unwrap();
/// assert!(run.comm_time_s.is_some() && run.result.partials.len() == 2);
/// ```
pub fn threads_job<P: Scalable>(program: &P, ranks: usize) -> Result<JobRun<P::Result>> {
    let opts = JobOptions::default().with_comm_timing();
    let run = crate::execute_with(program, Backend::Threads(ranks), &opts)?
        .ok_or(Error::MissingOutput { program: P::NAME })?;
    let comm = run.comm_time_s.map(|v| v.iter().sum::<f64>() / v.len().max(1) as f64);
    Ok(JobRun { wall_time_s: run.wall_time_s, comm_time_s: comm, result: run.result })
}

/// Measures `program` at every rank count of `options` with `job` (a job on the thread
/// backend, [`threads_job`], or one started through an MPI launcher), after one untimed
/// warm-up run, and analyses the times. `progress` is told before each run.
///
/// Every parameter is checked before any run; a failing run fails the study, naming the
/// rank count.
///
/// ```
/// use parsci_apps::{rootsum::RootSum, scaling::{study, threads_job, ScaleOptions}};
/// let opts = ScaleOptions { ranks: vec![1, 2], repeat: 2, weak: false, fit_oversubscribed: false, cores: 2 };
/// let s = study(&RootSum { m: 100_000 }, &opts, "threads", threads_job, |_| {}).unwrap();
/// assert_eq!(s.rows.len(), 2);
/// assert!(s.results_agree && s.rows[0].wall_s.n == 2);
/// ```
pub fn study<P, J, F>(program: &P, options: &ScaleOptions, backend: &str, mut job: J, mut progress: F) -> Result<Study>
where
    P: Scalable,
    J: FnMut(&P, usize) -> Result<JobRun<P::Result>>,
    F: FnMut(Progress),
{
    options.validate()?;
    let problem_at = |p: usize| if options.weak { program.weak(p) } else { program.clone() };
    for &p in &options.ranks {
        check_ranks(P::NAME, P::MIN_RANKS, p)?;
        problem_at(p).validate()?;
    }
    let setup = Setup {
        program: P::NAME.into(),
        problem: program.args().join(" "),
        backend: backend.into(),
        cores: options.cores,
        weak: options.weak.then(|| program.weak_rule()),
        fit_oversubscribed: options.fit_oversubscribed,
    };
    let of = options.ranks.len();
    let mut reference: Option<P::Result> = None;
    let mut measured = Vec::with_capacity(of);
    for (i, &p) in options.ranks.iter().enumerate() {
        let problem = problem_at(p);
        let at = |e: Error| Error::InvalidInput { program: "scale", msg: format!("{} at {p} ranks: {e}", P::NAME) };
        if i == 0 {
            progress(Progress { ranks: p, index: 1, of, rep: 0, repeat: options.repeat });
            job(&problem, p).map_err(at)?;
        }
        let mut m = Measured { ranks: p, wall_s: Vec::new(), comm_s: Vec::new(), agreement: Ok(()) };
        for rep in 1..=options.repeat {
            progress(Progress { ranks: p, index: i + 1, of, rep, repeat: options.repeat });
            let run = job(&problem, p).map_err(at)?;
            m.wall_s.push(run.wall_time_s);
            m.comm_s.extend(run.comm_time_s);
            if rep == 1 {
                m.agreement = if options.weak {
                    problem.check(&run.result, p)
                } else {
                    match &reference {
                        Some(r) => program.agree(&run.result, r),
                        None => Ok(()),
                    }
                };
                reference.get_or_insert(run.result);
            }
        }
        measured.push(m);
    }
    Ok(Study::analyse(setup, measured))
}
