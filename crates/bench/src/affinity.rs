//! Widening the CPU affinity for a same-process measurement under `mpirun`.
//!
//! Open MPI binds each process to one core, so threads started by rank 0's process (the
//! thread backend, the floor's two spinning threads) would share that core and take a
//! scheduler tick per hand-off. Threads inherit the affinity of the thread that starts
//! them: widening the caller's mask for the duration of `f` is enough.

/// Runs `f` with the calling thread allowed on every CPU the system lets it use, then
/// restores its affinity.
#[cfg(target_os = "linux")]
pub(crate) fn with_all_cpus<R>(f: impl FnOnce() -> R) -> R {
    // SAFETY: cpu_set_t is plain data; the calls read and write only the sets given.
    unsafe {
        let size = std::mem::size_of::<libc::cpu_set_t>();
        let mut old: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, size, &mut old) != 0 {
            return f();
        }
        let mut all: libc::cpu_set_t = std::mem::zeroed();
        for cpu in 0..libc::CPU_SETSIZE as usize {
            libc::CPU_SET(cpu, &mut all);
        }
        // The kernel keeps only the CPUs this process's cpuset allows.
        let widened = libc::sched_setaffinity(0, size, &all) == 0;
        let out = f();
        if widened {
            libc::sched_setaffinity(0, size, &old);
        }
        out
    }
}

/// Other systems: `f` as it is.
#[cfg(not(target_os = "linux"))]
pub(crate) fn with_all_cpus<R>(f: impl FnOnce() -> R) -> R {
    f()
}
