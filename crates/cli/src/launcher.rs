//! Jobs of a scaling study started through an MPI launcher (`--launcher "mpirun -n {n}"`):
//! this parsci runs the program under the launcher with `--json --comm-time` and reads
//! the run back from its output.

use std::process::Command;

use parsci_apps::scaling::{JobRun, Scalable};
use parsci_apps::{Error, Result};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// A launcher command line with `{n}` where the rank count goes.
#[derive(Debug, Clone)]
pub struct Launcher {
    words: Vec<String>,
}

impl Launcher {
    /// Checks the template: a command with `{n}` in it.
    pub fn new(template: &str) -> Result<Launcher, String> {
        let words: Vec<String> = template.split_whitespace().map(str::to_owned).collect();
        if words.is_empty() || !words.iter().any(|w| w.contains("{n}")) {
            return Err(format!(
                "--launcher \"{template}\": give the launcher's command with {{n}} for the rank count, \
                 e.g. --launcher \"mpirun -n {{n}}\""
            ));
        }
        Ok(Launcher { words })
    }

    /// Runs `program` on `ranks` MPI ranks and returns rank 0's run.
    pub fn job<P>(&self, program: &P, ranks: usize) -> Result<JobRun<P::Result>>
    where
        P: Scalable,
        P::Result: DeserializeOwned,
    {
        let fail = |msg: String| Error::InvalidInput { program: "scale", msg };
        let exe = std::env::current_exe().map_err(|e| fail(format!("cannot find the parsci executable: {e}")))?;
        let words: Vec<String> = self.words.iter().map(|w| w.replace("{n}", &ranks.to_string())).collect();
        let mut cmd = Command::new(&words[0]);
        cmd.args(&words[1..]).arg(&exe).args(program.args()).args(["--json", "--comm-time", "--backend", "mpi"]);
        let shown = format!("{} {} {}", words.join(" "), exe.display(), program.args().join(" "));
        let out = cmd.output().map_err(|e| fail(format!("cannot start `{}`: {e}", words[0])))?;
        let stderr = String::from_utf8_lossy(&out.stderr);
        if !out.status.success() {
            return Err(fail(format!("`{shown}` failed ({}):\n{}", out.status, stderr.trim_end())));
        }
        let v: Value = serde_json::from_slice(&out.stdout).map_err(|e| {
            fail(format!(
                "`{shown}` did not print one JSON run ({e}); it printed:\n{}",
                String::from_utf8_lossy(&out.stdout)
            ))
        })?;
        if v["ranks"].as_u64() != Some(ranks as u64) || v["backend"] != "mpi" {
            return Err(fail(format!(
                "`{shown}` ran on {} ranks of the {} backend, not {ranks} MPI ranks: does the launcher put {{n}} \
                 where its rank count goes, and was parsci built with --features mpi?",
                v["ranks"], v["backend"]
            )));
        }
        let wall = v["wall_time_s"].as_f64().ok_or_else(|| fail(format!("`{shown}`: no wall_time_s in its JSON")))?;
        let comm: Option<Vec<f64>> = serde_json::from_value(v["comm_time_s"].clone()).ok();
        let result = serde_json::from_value(v["result"].clone())
            .map_err(|e| fail(format!("`{shown}`: cannot read its result: {e}")))?;
        let comm_time_s = comm.filter(|c| !c.is_empty()).map(|c| c.iter().sum::<f64>() / c.len() as f64);
        Ok(JobRun { wall_time_s: wall, comm_time_s, result })
    }
}
