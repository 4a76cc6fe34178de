//! Jobs of a scaling study started through an MPI launcher (`--launcher "mpirun -n {n}"`):
//! one job per rank count, in which this parsci runs the program `--repeat` times and once
//! more to warm up (`--json --comm-time --job-runs N`), and the runs read back from its output.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::process::Command;

use parsci_apps::scaling::{JobRun, Scalable};
use parsci_apps::{Error, Result};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// A launcher command line with `{n}` where the rank count goes, and the runs of the
/// current rank count's job not yet handed to the study.
#[derive(Debug)]
pub struct Launcher {
    words: Vec<String>,
    /// Runs per job: the study's repetitions and one warm-up.
    runs_per_job: usize,
    /// Whether the next job is the study's first (whose warm-up the study itself asks for).
    first: Cell<bool>,
    queue: RefCell<(usize, VecDeque<Value>)>,
}

impl Launcher {
    /// Checks the template: a command with `{n}` in it. Each job runs the program
    /// `repeat + 1` times: one MPI start-up per rank count, and a warm-up run in every job.
    pub fn new(template: &str, repeat: usize) -> Result<Launcher, String> {
        let words: Vec<String> = template.split_whitespace().map(str::to_owned).collect();
        if words.is_empty() || !words.iter().any(|w| w.contains("{n}")) {
            return Err(format!(
                "--launcher \"{template}\": give the launcher's command with {{n}} for the rank count, \
                 e.g. --launcher \"mpirun -n {{n}}\""
            ));
        }
        Ok(Launcher {
            words,
            runs_per_job: repeat + 1,
            first: Cell::new(true),
            queue: RefCell::new((0, VecDeque::new())),
        })
    }

    /// The next run of `program` on `ranks` MPI ranks, from the job of that rank count
    /// (started on the first call for it). The study asks `repeat` runs per rank count,
    /// and one more, its warm-up, for the first: every job's first run is a warm-up.
    pub fn job<P>(&self, program: &P, ranks: usize) -> Result<JobRun<P::Result>>
    where
        P: Scalable,
        P::Result: DeserializeOwned,
    {
        let mut queue = self.queue.borrow_mut();
        if queue.0 != ranks || queue.1.is_empty() {
            let mut runs: VecDeque<Value> = self.start(program, ranks)?.into();
            if !self.first.replace(false) {
                runs.pop_front(); // this job's warm-up
            }
            *queue = (ranks, runs);
        }
        let v = queue.1.pop_front().expect("a job returns its runs");
        let fail = |msg: String| Error::InvalidInput { program: "scale", msg };
        let wall = v["wall_time_s"].as_f64().ok_or_else(|| fail("a run without wall_time_s in its JSON".into()))?;
        let comm: Option<Vec<f64>> = serde_json::from_value(v["comm_time_s"].clone()).ok();
        let result = serde_json::from_value(v["result"].clone())
            .map_err(|e| fail(format!("cannot read a run's result: {e}")))?;
        let comm_time_s = comm.filter(|c| !c.is_empty()).map(|c| c.iter().sum::<f64>() / c.len() as f64);
        Ok(JobRun { wall_time_s: wall, comm_time_s, result })
    }

    /// Starts one MPI job of `runs_per_job` runs of `program` on `ranks` ranks; returns
    /// the runs' JSON objects, checked to be MPI runs of that size.
    fn start<P: Scalable>(&self, program: &P, ranks: usize) -> Result<Vec<Value>> {
        let fail = |msg: String| Error::InvalidInput { program: "scale", msg };
        let exe = std::env::current_exe().map_err(|e| fail(format!("cannot find the parsci executable: {e}")))?;
        let words: Vec<String> = self.words.iter().map(|w| w.replace("{n}", &ranks.to_string())).collect();
        let n = self.runs_per_job.to_string();
        let mut cmd = Command::new(&words[0]);
        // parsci's own flags before the program's arguments: those of a PETSc program end
        // with `-- PETSC OPTIONS`, where any later flag would go to PETSc.
        cmd.args(&words[1..]).arg(&exe);
        cmd.args(["--json", "--comm-time", "--backend", "mpi", "--job-runs", &n]).args(program.args());
        let shown = format!("{} {} {}", words.join(" "), exe.display(), program.args().join(" "));
        let out = cmd.output().map_err(|e| fail(format!("cannot start `{}`: {e}", words[0])))?;
        let stderr = String::from_utf8_lossy(&out.stderr);
        if !out.status.success() {
            return Err(fail(format!("`{shown}` failed ({}):\n{}", out.status, stderr.trim_end())));
        }
        let runs: Vec<Value> = serde_json::from_slice(&out.stdout).map_err(|e| {
            fail(format!(
                "`{shown}` did not print its {n} runs as JSON ({e}); it printed:\n{}",
                String::from_utf8_lossy(&out.stdout)
            ))
        })?;
        if runs.len() != self.runs_per_job {
            return Err(fail(format!("`{shown}` printed {} runs, not {n}", runs.len())));
        }
        for v in &runs {
            if v["ranks"].as_u64() != Some(ranks as u64) || v["backend"] != "mpi" {
                return Err(fail(format!(
                    "`{shown}` ran on {} ranks of the {} backend, not {ranks} MPI ranks: does the launcher put {{n}} \
                     where its rank count goes, and was parsci built with --features mpi?",
                    v["ranks"], v["backend"]
                )));
            }
        }
        Ok(runs)
    }
}
