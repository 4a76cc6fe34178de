//! Recognising an MPI launcher (`mpirun`, `mpiexec`, `srun`) from the environment it
//! gives each process. Compiled with or without the MPI backend: a build without it
//! must still refuse to run N copies of a program under `mpirun -n N`.

/// What a launcher told this process about the job it started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LauncherEnv {
    /// Which launcher, in words (`Open MPI's mpirun`, `srun`, ...).
    pub launcher: &'static str,
    /// The variable the size was read from.
    pub variable: &'static str,
    /// The number of processes the launcher started.
    pub size: usize,
    /// This process's rank among them.
    pub rank: usize,
}

/// The launcher variables parsci knows, in the order they are looked at:
/// (launcher, size variable, rank variable).
const LAUNCHERS: &[(&str, &str, &str)] = &[
    ("Open MPI's mpirun", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_RANK"),
    ("a PMI launcher (MPICH's or Intel MPI's mpiexec)", "PMI_SIZE", "PMI_RANK"),
    ("Slurm's srun", "SLURM_STEP_NUM_TASKS", "SLURM_PROCID"),
];

/// The launcher that started this process, if any: read from the environment.
///
/// ```
/// // `cargo test` is not started by mpirun.
/// if std::env::var_os("OMPI_COMM_WORLD_SIZE").is_none() && std::env::var_os("PMI_SIZE").is_none()
///     && std::env::var_os("SLURM_STEP_NUM_TASKS").is_none()
/// {
///     assert_eq!(parsci_comm::detect_launcher(), None);
/// }
/// ```
pub fn detect_launcher() -> Option<LauncherEnv> {
    detect_in(|k| std::env::var(k).ok())
}

/// As [`detect_launcher`], reading variables through `get`.
pub(crate) fn detect_in(get: impl Fn(&str) -> Option<String>) -> Option<LauncherEnv> {
    LAUNCHERS.iter().find_map(|&(launcher, size_var, rank_var)| {
        let size = get(size_var)?.trim().parse().ok()?;
        let rank = get(rank_var).and_then(|r| r.trim().parse().ok()).unwrap_or(0);
        Some(LauncherEnv { launcher, variable: size_var, size, rank })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
    }

    #[test]
    fn open_mpi_first_then_pmi_then_slurm() {
        let e = detect_in(env(&[("OMPI_COMM_WORLD_SIZE", "4"), ("OMPI_COMM_WORLD_RANK", "2"), ("PMI_SIZE", "9")]));
        assert_eq!(e.map(|e| (e.launcher, e.size, e.rank)), Some(("Open MPI's mpirun", 4, 2)));
        let e = detect_in(env(&[("PMI_SIZE", "3"), ("PMI_RANK", "1")])).unwrap();
        assert_eq!((e.size, e.rank, e.variable), (3, 1, "PMI_SIZE"));
        let e = detect_in(env(&[("SLURM_STEP_NUM_TASKS", "8"), ("SLURM_PROCID", "7")])).unwrap();
        assert_eq!((e.size, e.rank), (8, 7));
    }

    #[test]
    fn no_launcher_or_garbage_is_none() {
        assert_eq!(detect_in(env(&[])), None);
        assert_eq!(detect_in(env(&[("OMPI_COMM_WORLD_SIZE", "four")])), None);
        // A Slurm batch script (no job step) is not a launch.
        assert_eq!(detect_in(env(&[("SLURM_NTASKS", "8"), ("SLURM_PROCID", "0")])), None);
    }
}
