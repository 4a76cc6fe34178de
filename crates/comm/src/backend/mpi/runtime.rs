//! MPI's lifetime in this process: initialised once, on first use; finalised once, at exit,
//! whichever way the process leaves (a normal return, an error exit, `process::exit`).

use std::sync::{Mutex, OnceLock};

use mpi::environment::Universe;
use mpi::topology::Communicator;

use crate::error::{Error, Result};
use crate::launcher::detect_launcher;

/// What MPI says about the job, read once at initialisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WorldInfo {
    /// `MPI_COMM_WORLD`'s size.
    pub size: usize,
    /// This process's rank in it.
    pub rank: usize,
}

/// The universe, dropped (which finalises MPI) by the exit handler.
static UNIVERSE: Mutex<Option<Universe>> = Mutex::new(None);
static WORLD: OnceLock<Result<WorldInfo, String>> = OnceLock::new();

/// Initialises MPI on first call and describes the world; refuses a launch by another
/// MPI's launcher (the launcher's environment and MPI disagree on the size).
pub(crate) fn world() -> Result<WorldInfo> {
    WORLD.get_or_init(init).clone().map_err(Error::Launch)
}

fn init() -> Result<WorldInfo, String> {
    if mpi::environment::is_finalized() {
        return Err("MPI was already finalised in this process".into());
    }
    if mpi::environment::is_initialized() {
        return Err("MPI was initialised outside parsci; let parsci initialise it".into());
    }
    // Funneled: only the rank's own thread calls MPI (the watchdog only aborts).
    let (universe, _level) = mpi::initialize_with_threading(mpi::Threading::Funneled)
        .ok_or_else(|| "MPI could not be initialised".to_string())?;
    let world = universe.world();
    let info = WorldInfo { size: world.size() as usize, rank: world.rank() as usize };
    *UNIVERSE.lock().unwrap_or_else(|p| p.into_inner()) = Some(universe);
    // SAFETY: registering a plain `extern "C" fn` that takes no arguments.
    if unsafe { libc::atexit(finalize_at_exit) } != 0 {
        return Err("could not register MPI's finalisation at exit".into());
    }
    if let Some(env) = detect_launcher() {
        if env.size != info.size {
            return Err(format!(
                "this process was started by {} for {} processes ({}={}), but MPI says the job has {}: \
                 the launcher belongs to another MPI than the one parsci was built with (Open MPI). \
                 Use Open MPI's launcher (mpirun.openmpi, or `srun --mpi=pmix` on Slurm)",
                env.launcher, env.size, env.variable, env.size, info.size
            ));
        }
    }
    Ok(info)
}

extern "C" fn finalize_at_exit() {
    let universe = UNIVERSE.lock().unwrap_or_else(|p| p.into_inner()).take();
    drop(universe); // MPI_Finalize
}

/// Ends the whole job (every process) with `code`: MPI_Abort on the world.
pub(crate) fn abort(code: i32) -> ! {
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    mpi::topology::SimpleCommunicator::world().abort(code)
}
