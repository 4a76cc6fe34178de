//! MPI's lifetime in this process: initialised once, on first use; finalised once, at exit,
//! whichever way the process leaves (a normal return, an error exit, `process::exit`).
//!
//! Threading: parsci asks for `MPI_THREAD_SERIALIZED` and refuses less: any thread may
//! call MPI, never two at once. A job's closure runs under [`SERIALIZED`] (a `Comm` is
//! neither `Send` nor `Sync`, so one job's calls come from its one thread), and the exit
//! handler takes the same lock before `MPI_Finalize`, on whatever thread calls `exit`.
//! The watchdog's thread never calls MPI: it ends the process with `_exit`, which
//! `mpirun` turns into the end of the whole job.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};

use mpi::environment::Universe;
use mpi::topology::Communicator;

use crate::error::{Error, Result};
use crate::launcher_env::detect_launcher;

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
/// Held by whoever calls MPI: a job's rank, or the exit handler (`MPI_THREAD_SERIALIZED`).
pub(crate) static SERIALIZED: Mutex<()> = Mutex::new(());
/// Strict mode of the running job: sends are `MPI_Ssend`/`MPI_Issend`.
static SYNC_SENDS: AtomicBool = AtomicBool::new(false);

/// Strict mode: synchronous sends.
#[inline]
pub(crate) fn sync_sends() -> bool {
    SYNC_SENDS.load(Ordering::Relaxed)
}

/// Sets strict mode for the job about to run.
pub(crate) fn set_sync_sends(on: bool) {
    SYNC_SENDS.store(on, Ordering::Relaxed);
}
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
    let (universe, level) = mpi::initialize_with_threading(mpi::Threading::Serialized)
        .ok_or_else(|| "MPI could not be initialised".to_string())?;
    if level < mpi::Threading::Serialized {
        return Err(format!(
            "this MPI provides thread level {level:?}; parsci needs MPI_THREAD_SERIALIZED (any thread may call \
             MPI, one at a time): use an MPI built with thread support (Open MPI is)"
        ));
    }
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
    // A job still running on another thread is inside MPI: finalising under it would
    // break MPI_THREAD_SERIALIZED, so the process leaves without finalising instead.
    let Ok(_serial) = SERIALIZED.try_lock() else { return };
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

/// Ends this process at once with `code`, without finalising MPI or running exit handlers:
/// for a thread that may not call MPI. `mpirun` ends the rest of the job when a process
/// exits without finalising (under Slurm, `srun --kill-on-bad-exit=1` does).
pub(crate) fn exit_now(code: i32) -> ! {
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    // SAFETY: _exit takes an integer and does not return.
    unsafe { libc::_exit(code) }
}
