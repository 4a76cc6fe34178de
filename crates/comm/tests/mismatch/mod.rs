//! Collectives whose ranks pass counts that disagree, under `mpirun`: erroneous MPI.
//!
//! Each case runs in its own `mpirun` job, twice:
//! - unchecked (a watchdog turns a hang into an abort): the job must end in time, without
//!   a crash, and without a write past any buffer (every buffer has a guard zone after
//!   it, checked after the call: Open MPI 4.1 alone writes past it in the `_large` cases
//!   and the `v` collectives, which the backend therefore always agrees on first). What
//!   MPI can tell (a truncated message) is the thread backend's `CollectiveMismatch` on
//!   the rank that saw it, whose error then aborts the job; what it cannot (a shorter
//!   message, ranks that wait for each other) passes silently or is stopped by the
//!   watchdog;
//! - with the agreement check (`JobOptions::check_collectives`): every rank returns an
//!   error, the very one the thread backend gives for the same calls with the check (run
//!   in the same process, on threads, first), and the job ends normally.

use std::time::Duration;

use parsci_comm::{launch_with, Backend, Comm, Data, JobOptions, Layout, Op, Result};

/// How long one job may take (starting `mpirun` takes about a second).
pub const LIMIT: Duration = Duration::from_secs(40);

/// A case: the mismatched call, on every rank.
type Case = fn(&Comm) -> Result<()>;

/// A buffer of `n` elements followed by a guard zone that no collective may write.
struct Guarded<T> {
    v: Vec<T>,
    n: usize,
}

const GUARD: usize = 256;

impl<T: Data + From<u8> + PartialEq> Guarded<T> {
    fn new(n: usize, fill: u8) -> Self {
        let mut v = vec![T::from(fill); n];
        v.resize(n + GUARD, T::from(0xab));
        Guarded { v, n }
    }
    fn buf(&mut self) -> &mut [T] {
        &mut self.v[..self.n]
    }
    fn data(&self) -> &[T] {
        &self.v[..self.n]
    }
    /// Panics (which aborts the job, naming the rank) if the collective wrote past the buffer.
    fn intact(&self, rank: usize) {
        let first = self.v[self.n..].iter().position(|x| *x != T::from(0xab));
        assert!(first.is_none(), "rank {rank}: the collective wrote past a buffer of {} elements", self.n);
    }
}

/// Runs `f` and then checks every guard zone.
fn guarded<T: Data + From<u8> + PartialEq>(
    comm: &Comm,
    mut bufs: Vec<Guarded<T>>,
    f: impl FnOnce(&mut [Guarded<T>]) -> Result<()>,
) -> Result<()> {
    let out = f(&mut bufs);
    bufs.iter().for_each(|b| b.intact(comm.rank()));
    out
}

/// `n` for the root (rank 0), `m` elsewhere.
fn root_or(comm: &Comm, n: usize, m: usize) -> usize {
    if comm.rank() == 0 {
        n
    } else {
        m
    }
}

/// Every case, by name.
pub const CASES: &[(&str, Case)] = &[
    // The root sends more than the others' buffers hold.
    ("bcast", |c| {
        let n = root_or(c, 8, 4);
        guarded(c, vec![Guarded::<u32>::new(n, 1)], |b| c.bcast(b[0].buf(), 0))
    }),
    // The same, 1 MiB against 256 KiB: MPI cuts large messages into segments.
    ("bcast_large", |c| {
        let n = root_or(c, 1 << 18, 1 << 16);
        guarded(c, vec![Guarded::<u32>::new(n, 1)], |b| c.bcast(b[0].buf(), 0))
    }),
    // The others' buffers are longer than the root's message.
    ("bcast_short", |c| {
        let n = root_or(c, 4, 8);
        guarded(c, vec![Guarded::<u32>::new(n, 1)], |b| c.bcast(b[0].buf(), 0))
    }),
    ("bcast_roots", |c| {
        let root = c.rank().min(1);
        guarded(c, vec![Guarded::<u32>::new(4, 1)], |b| c.bcast(b[0].buf(), root))
    }),
    // Rank r sends 1 + r elements; the root's buffer holds one per rank.
    ("gather", |c| {
        let p = c.size();
        let bufs = vec![Guarded::<u32>::new(1 + c.rank(), 1), Guarded::new(root_or(c, p, 0), 0)];
        guarded(c, bufs, |b| {
            let (send, recv) = b.split_at_mut(1);
            c.gather(send[0].data(), (c.rank() == 0).then(|| recv[0].buf()), 0)
        })
    }),
    // 512 KiB against 256 KiB from each rank.
    ("gather_large", |c| {
        let p = c.size();
        let n = root_or(c, 1 << 16, 1 << 17);
        let bufs = vec![Guarded::<u32>::new(n, 1), Guarded::new(root_or(c, n * p, 0), 0)];
        guarded(c, bufs, |b| {
            let (send, recv) = b.split_at_mut(1);
            c.gather(send[0].data(), (c.rank() == 0).then(|| recv[0].buf()), 0)
        })
    }),
    ("allgather", |c| {
        let (p, n) = (c.size(), 1 + c.rank());
        let bufs = vec![Guarded::<u32>::new(n, 1), Guarded::new(n * p, 0)];
        guarded(c, bufs, |b| {
            let (send, recv) = b.split_at_mut(1);
            c.allgather(send[0].data(), recv[0].buf())
        })
    }),
    ("scatter", |c| {
        let p = c.size();
        let n = root_or(c, 2, 1);
        let bufs = vec![Guarded::<u32>::new(root_or(c, n * p, 0), 1), Guarded::new(n, 0)];
        guarded(c, bufs, |b| {
            let (send, recv) = b.split_at_mut(1);
            c.scatter((c.rank() == 0).then(|| send[0].data()), recv[0].buf(), 0)
        })
    }),
    ("scatter_large", |c| {
        let p = c.size();
        let n = root_or(c, 1 << 17, 1 << 16);
        let bufs = vec![Guarded::<u32>::new(root_or(c, n * p, 0), 1), Guarded::new(n, 0)];
        guarded(c, bufs, |b| {
            let (send, recv) = b.split_at_mut(1);
            c.scatter((c.rank() == 0).then(|| send[0].data()), recv[0].buf(), 0)
        })
    }),
    // The root's layout gives the last rank 4 elements; its buffer holds 2.
    ("scatterv", |c| {
        let p = c.size();
        let mut counts = vec![1; p];
        counts[p - 1] = 4;
        let l = Layout::from_counts(&counts);
        let bufs = vec![Guarded::<u32>::new(root_or(c, l.extent(), 0), 1), Guarded::new(root_or(c, 4, 2), 0)];
        guarded(c, bufs, |b| {
            let (send, recv) = b.split_at_mut(1);
            c.scatterv((c.rank() == 0).then(|| (send[0].data(), &l)), recv[0].buf(), 0)
        })
    }),
    // Rank r sends 1 + r elements; the root's layout expects one from each.
    ("gatherv", |c| {
        let p = c.size();
        let l = Layout::from_counts(&vec![1; p]);
        let bufs = vec![Guarded::<u32>::new(1 + c.rank(), 1), Guarded::new(root_or(c, p, 0), 0)];
        guarded(c, bufs, |b| {
            let (send, recv) = b.split_at_mut(1);
            c.gatherv(send[0].data(), (c.rank() == 0).then(|| (recv[0].buf(), &l)), 0)
        })
    }),
    // Each rank's layout says every other rank sends as much as it does itself.
    ("allgatherv", |c| {
        let (p, n) = (c.size(), 1 + c.rank());
        let l = Layout::from_counts(&vec![n; p]);
        let bufs = vec![Guarded::<u32>::new(n, 1), Guarded::new(n * p, 0)];
        guarded(c, bufs, |b| {
            let (send, recv) = b.split_at_mut(1);
            c.allgatherv(send[0].data(), recv[0].buf(), &l)
        })
    }),
    // Rank r reduces 2 + r elements.
    ("reduce", |c| {
        let n = 2 + c.rank();
        let bufs = vec![Guarded::<i64>::new(n, 1), Guarded::new(n, 0)];
        guarded(c, bufs, |b| {
            let (send, recv) = b.split_at_mut(1);
            c.reduce(send[0].data(), (c.rank() == 0).then(|| recv[0].buf()), &Op::sum(), 0)
        })
    }),
    ("reduce_large", |c| {
        let n = root_or(c, 1 << 16, 1 << 17);
        let bufs = vec![Guarded::<i64>::new(n, 1), Guarded::new(n, 0)];
        guarded(c, bufs, |b| {
            let (send, recv) = b.split_at_mut(1);
            c.reduce(send[0].data(), (c.rank() == 0).then(|| recv[0].buf()), &Op::sum(), 0)
        })
    }),
    ("allreduce", |c| {
        let n = root_or(c, 5, 4);
        let bufs = vec![Guarded::<i64>::new(n, 1), Guarded::new(n, 0)];
        guarded(c, bufs, |b| {
            let (send, recv) = b.split_at_mut(1);
            c.allreduce(send[0].data(), recv[0].buf(), &Op::sum())
        })
    }),
    // 1 MiB against 512 KiB.
    ("allreduce_large", |c| {
        let n = root_or(c, 1 << 17, 1 << 16);
        let bufs = vec![Guarded::<i64>::new(n, 1), Guarded::new(n, 0)];
        guarded(c, bufs, |b| {
            let (send, recv) = b.split_at_mut(1);
            c.allreduce(send[0].data(), recv[0].buf(), &Op::sum())
        })
    }),
    ("scan", |c| {
        let n = 2 + c.rank();
        let bufs = vec![Guarded::<i64>::new(n, 1), Guarded::new(n, 0)];
        guarded(c, bufs, |b| {
            let (send, recv) = b.split_at_mut(1);
            c.scan(send[0].data(), recv[0].buf(), &Op::sum())
        })
    }),
    // In place: rank 0 reduces 5 elements, the others 4.
    ("allreduce_in_place", |c| {
        let n = root_or(c, 5, 4);
        guarded(c, vec![Guarded::<i64>::new(n, 1)], |b| c.allreduce_in_place(b[0].buf(), &Op::sum()))
    }),
    // 1 MiB against 512 KiB.
    ("allreduce_in_place_large", |c| {
        let n = root_or(c, 1 << 17, 1 << 16);
        guarded(c, vec![Guarded::<i64>::new(n, 1)], |b| c.allreduce_in_place(b[0].buf(), &Op::sum()))
    }),
    // Blocks of 1 + r elements on rank r.
    ("reduce_scatter_block", |c| {
        let k = 1 + c.rank();
        let bufs = vec![Guarded::<i64>::new(k * c.size(), 1), Guarded::new(k, 0)];
        guarded(c, bufs, |b| {
            let (send, recv) = b.split_at_mut(1);
            c.reduce_scatter_block(send[0].data(), recv[0].buf(), &Op::sum())
        })
    }),
    // Rank 0 gives the last rank 2 elements more than the others do.
    ("reduce_scatter", |c| {
        let p = c.size();
        let mut counts = vec![1; p];
        counts[p - 1] = root_or(c, 3, 1);
        let total = counts.iter().sum();
        let bufs = vec![Guarded::<i64>::new(total, 1), Guarded::new(counts[c.rank()], 0)];
        guarded(c, bufs, |b| {
            let (send, recv) = b.split_at_mut(1);
            c.reduce_scatter(send[0].data(), recv[0].buf(), &counts, &Op::sum())
        })
    }),
    // Blocks of 1 + r elements on rank r.
    ("alltoall", |c| {
        let n = c.size() * (1 + c.rank());
        let bufs = vec![Guarded::<u32>::new(n, 1), Guarded::new(n, 0)];
        guarded(c, bufs, |b| {
            let (send, recv) = b.split_at_mut(1);
            c.alltoall(send[0].data(), recv[0].buf())
        })
    }),
    ("alltoall_large", |c| {
        let n = c.size() * root_or(c, 1 << 17, 1 << 16);
        let bufs = vec![Guarded::<u32>::new(n, 1), Guarded::new(n, 0)];
        guarded(c, bufs, |b| {
            let (send, recv) = b.split_at_mut(1);
            c.alltoall(send[0].data(), recv[0].buf())
        })
    }),
    // Rank 0 sends 2 elements to every rank, which each expect 1 from everyone.
    ("alltoallv", |c| {
        let p = c.size();
        let sl = Layout::from_counts(&vec![root_or(c, 2, 1); p]);
        let rl = Layout::from_counts(&vec![1; p]);
        let bufs = vec![Guarded::<u32>::new(sl.extent(), 1), Guarded::new(p, 0)];
        guarded(c, bufs, |b| {
            let (send, recv) = b.split_at_mut(1);
            c.alltoallv(send[0].data(), &sl, recv[0].buf(), &rl)
        })
    }),
];

fn case(name: &str) -> Case {
    CASES.iter().find(|(n, _)| *n == name).unwrap_or_else(|| panic!("no case {name}")).1
}

/// Unchecked: a rank whose call fails returns the error, which aborts the job; a rank
/// whose call passes says so. A watchdog ends a hang.
pub fn unchecked(name: &str) {
    let f = case(name);
    let opts = JobOptions::with_watchdog(Duration::from_secs(3));
    let _ = launch_with(Backend::Mpi, &opts, |comm| {
        f(comm).map_err(|e| e.to_string())?;
        println!("rank {}: no error", comm.rank());
        // A rank that failed aborts the job: let it, rather than race into MPI_Finalize
        // (Open MPI 4.1 may crash or leave mpirun hanging when both happen at once).
        std::thread::sleep(Duration::from_secs(2));
        Ok::<_, String>(())
    });
}

/// With the check: every rank prints whether its error is the thread backend's.
pub fn checked(name: &str) {
    let f = case(name);
    // The thread backend with the check too: without it, a rank that reads nothing from
    // the others (a bcast's root, a gather's other ranks) does not check their calls.
    let checks = JobOptions::default().with_check_collectives();
    let on_threads = |n| {
        launch_with(Backend::Threads(n), &checks, |comm| Ok::<_, String>(f(comm).err()))
            .expect("the job on threads")
            .into_vec()
    };
    let expected = on_threads(Backend::Mpi.ranks());
    let opts = JobOptions::with_watchdog(Duration::from_secs(20)).with_check_collectives();
    launch_with(Backend::Mpi, &opts, |comm| {
        let me = comm.rank();
        let got = f(comm).err();
        match (&got, &expected[me]) {
            (Some(g), Some(t)) if g == t => println!("rank {me}: the thread backend's error: {g}"),
            (g, t) => println!("rank {me}: DIFFERENT: mpi {g:?}, threads {t:?}"),
        }
        Ok::<_, String>(())
    })
    .expect("launch");
}

/// The verdict on an unchecked job and what happened: ended in time (the driver checks),
/// no crash, no write past a buffer; a rank's error is the thread backend's variant.
pub fn judge_unchecked(stdout: &str, stderr: &str, code: Option<i32>, n: usize) -> (bool, String) {
    let crashed = ["Segmentation fault", "signal 11", "SIGSEGV", "wrote past", "double free", "corrupted", "panicked"]
        .iter()
        .any(|s| stderr.contains(s));
    if crashed {
        return (false, "crashed".into());
    }
    let failed: Vec<&str> = stderr.lines().filter(|l| l.contains(" failed: ")).collect();
    if code == Some(0) {
        let all = (0..n).all(|r| stdout.contains(&format!("rank {r}: no error")));
        return (all, "MPI cannot tell: passed silently".into());
    }
    if stderr.contains("parsci watchdog:") {
        return (true, "MPI cannot tell: the ranks wait for each other (stopped by the watchdog)".into());
    }
    // The first rank to fail aborts the job: its error must be the thread backend's variant.
    let Some(first) = failed.first() else { return (false, "ended without a reason".into()) };
    if let Some((_, rest)) = first.split_once("collective mismatch on rank ") {
        let rank = rest.split(':').next().unwrap_or("?");
        let how =
            if first.contains("MPI: message truncated") { "MPI_ERR_TRUNCATE" } else { "counts agreed before the data" };
        return (true, format!("CollectiveMismatch on rank {rank} ({how})"));
    }
    if first.contains("MPI error: MPI_ERR_OTHER") {
        // Open MPI's pairwise alltoall loses the class of the truncation on the way up.
        return (true, "Open MPI reports MPI_ERR_OTHER (Error::Mpi, not the same variant)".into());
    }
    (false, format!("unexpected: {first}"))
}

/// The verdict on a checked job: every rank returned the thread backend's error.
pub fn judge_checked(stdout: &str, n: usize) -> bool {
    (0..n).all(|r| stdout.contains(&format!("rank {r}: the thread backend's error:"))) && !stdout.contains("DIFFERENT")
}
