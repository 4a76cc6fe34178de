//! State shared by all ranks of one thread job: parking, failure and deadlock detection.

use std::ops::Deref;
use std::sync::atomic::Ordering::*;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::channel::Channel;
use super::sync::thread::{self, Thread};
use super::sync::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Mutex, OnceLock};
use crate::error::{DeadlockReport, Error, Result, Wait};

/// Keeps a value on its own cache lines (two, against the adjacent-line prefetcher).
#[repr(align(128))]
#[derive(Default)]
pub(crate) struct Padded<T>(pub T);

impl<T> Deref for Padded<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// What a rank is blocked on, for the deadlock report.
#[derive(Clone)]
pub(crate) struct WaitDesc {
    pub op: &'static str,
    pub peer: String,
    pub tag: Option<i32>,
}

#[derive(Default)]
pub(crate) struct RankCell {
    /// Set while the rank is in its slow (parking) wait; cleared by the rank or its waker.
    parked: AtomicBool,
    /// Bumped on every clearing of `parked`: an unchanged value means "still in the same wait".
    generation: AtomicU64,
    done: AtomicBool,
    thread: OnceLock<Thread>,
    waiting: Mutex<Option<WaitDesc>>,
}

#[derive(Clone, Debug)]
pub(crate) enum Failure {
    Rank {
        rank: usize,
        message: String,
    },
    Deadlock(DeadlockReport),
    /// A rank called `Comm::abort`.
    Abort {
        rank: usize,
        code: i32,
    },
}

impl Failure {
    pub fn to_error(&self) -> Error {
        match self {
            Failure::Rank { rank, message } => Error::RankFailed { rank: *rank, message: message.clone() },
            Failure::Deadlock(r) => Error::Deadlock(r.clone()),
            Failure::Abort { rank, code } => Error::JobAborted { rank: *rank, code: *code },
        }
    }
}

/// The channels into one rank, each opened by its sender with its first message there:
/// memory grows with the pairs that communicate, not with the square of the job size.
#[derive(Default)]
struct Inbox {
    /// `(source, channel)` in the order they were opened; only ever appended to.
    opened: Mutex<Vec<(usize, Arc<Channel>)>>,
    /// `opened.len()`, stored (release) after each append: the receiver reads it without
    /// the lock to see whether a new sender appeared.
    len: AtomicUsize,
}

pub(crate) struct World {
    pub size: usize,
    cells: Box<[Padded<RankCell>]>,
    /// `inboxes[dst]`: the channels opened towards `dst`.
    inboxes: Box<[Padded<Inbox>]>,
    aborted: AtomicBool,
    failure: Mutex<Option<Failure>>,
    next_ctx: AtomicU32,
    spin: Duration,
    /// Strict mode: standard sends complete only once matched (see `sync_send`).
    strict: bool,
    /// Every rank of a collective checks every other's call, even a rank that needs
    /// nothing from the others (a bcast's root, a gather's other ranks).
    checks: bool,
    pub host: String,
}

/// How long a blocked rank spins before it parks (waking a parked thread costs ~20 us).
const SPIN_DEDICATED: Duration = Duration::from_micros(50);
/// With more ranks than cores a spinning rank steals the core its peer needs.
const SPIN_OVERSUBSCRIBED: Duration = Duration::from_micros(2);
/// How often the monitor looks for a deadlock; three equal looks in a row decide.
const MONITOR_PERIOD: Duration = Duration::from_millis(25);

impl World {
    pub fn new(size: usize, strict: bool) -> Self {
        super::fence::init();
        let cores = crate::job::available_cores();
        World {
            size,
            cells: (0..size).map(|_| Padded::default()).collect(),
            inboxes: (0..size).map(|_| Padded::default()).collect(),
            aborted: AtomicBool::new(false),
            failure: Mutex::new(None),
            next_ctx: AtomicU32::new(1),
            spin: if size <= cores { SPIN_DEDICATED } else { SPIN_OVERSUBSCRIBED },
            strict,
            checks: false,
            host: gethostname::gethostname().to_string_lossy().into_owned(),
        }
    }

    /// Opens the channel from `src` to `dst`. Called once per pair, by `src` (the
    /// channel's only producer), before its first message to `dst`; `dst` finds it with
    /// [`World::opened_since`].
    pub fn open_channel(&self, src: usize, dst: usize) -> Arc<Channel> {
        let ch = Arc::new(Channel::new());
        let inbox = &self.inboxes[dst];
        let mut opened = inbox.opened.lock().unwrap_or_else(|p| p.into_inner());
        opened.push((src, ch.clone()));
        // Pairs with the acquire in `opened_since`; the message that follows is published
        // later still, and `wake`'s fence orders both before the receiver's last look.
        inbox.len.store(opened.len(), Release);
        ch
    }

    /// Hands `f` each channel into `dst` opened after the first `seen` (in order of
    /// opening), and returns how many are open now. Costs one load when none is new.
    pub fn opened_since(&self, dst: usize, seen: usize, mut f: impl FnMut(usize, &Arc<Channel>)) -> usize {
        let inbox = &self.inboxes[dst];
        if inbox.len.load(Acquire) == seen {
            return seen;
        }
        let opened = inbox.opened.lock().unwrap_or_else(|p| p.into_inner());
        for (src, ch) in &opened[seen..] {
            f(*src, ch);
        }
        opened.len()
    }

    pub fn new_context(&self) -> u32 {
        self.next_ctx.fetch_add(1, Relaxed)
    }

    pub fn register(&self, rank: usize) {
        let _ = self.cells[rank].thread.set(thread::current());
    }

    pub fn finish(&self, rank: usize) {
        self.cells[rank].done.store(true, SeqCst);
    }

    /// This world with the collectives' full agreement check on or off.
    pub fn with_checks(mut self, on: bool) -> Self {
        self.checks = on;
        self
    }

    /// Every rank checks every collective fully (see `World::checks`).
    #[inline]
    pub fn checks(&self) -> bool {
        self.checks
    }

    /// Strict mode: sends are synchronous.
    #[inline]
    pub fn strict(&self) -> bool {
        self.strict
    }

    /// More ranks than cores: a waiting rank should yield rather than spin.
    pub fn oversubscribed(&self) -> bool {
        self.spin == SPIN_OVERSUBSCRIBED
    }

    pub fn is_aborted(&self) -> bool {
        self.aborted.load(Relaxed)
    }

    pub fn failure(&self) -> Option<Failure> {
        self.failure.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Records the first failure, then releases every blocked rank.
    pub fn fail(&self, f: Failure) {
        {
            let mut slot = self.failure.lock().unwrap_or_else(|p| p.into_inner());
            if slot.is_none() {
                *slot = Some(f);
            }
        }
        self.aborted.store(true, SeqCst);
        // A waker like `wake`: store, full fence, then look at the flags, so that a rank
        // about to park either sees `aborted` or is seen parked. The SeqCst store and swap
        // already order this in C++'s model, but loom models SeqCst accesses as AcqRel and
        // reports a rank parked for good without the fence (once per job: free).
        super::sync::fence(SeqCst);
        for c in self.cells.iter() {
            if c.parked.swap(false, SeqCst) {
                c.generation.fetch_add(1, SeqCst);
            }
            if let Some(t) = c.thread.get() {
                t.unpark();
            }
        }
    }

    pub fn abort_error(&self, rank: usize, op: &'static str) -> Error {
        let cause = match self.failure() {
            Some(f) => f.to_error().to_string(),
            None => "the job is being aborted".into(),
        };
        Error::Aborted { rank, op, cause }
    }

    /// Wakes `rank` if it is parked. Call after publishing what it waits for.
    #[inline]
    pub fn wake(&self, rank: usize) {
        // Pairs with the heavy fence after the store of `parked` in `wait_until`: either
        // the waiter's last look sees our data, or we see its flag.
        super::fence::light();
        let c = &self.cells[rank];
        if c.parked.load(Relaxed) && c.parked.swap(false, SeqCst) {
            c.generation.fetch_add(1, SeqCst);
            if let Some(t) = c.thread.get() {
                t.unpark();
            }
        }
    }

    /// Blocks rank `me` until `poll` yields a value: spins briefly, then parks.
    /// `poll` must be cheap and must not wake other ranks; returns an error if the job aborts.
    pub fn wait_until<R>(
        &self,
        me: usize,
        desc: impl FnOnce() -> WaitDesc,
        mut poll: impl FnMut() -> Result<Option<R>>,
    ) -> Result<R> {
        if let Some(r) = poll()? {
            return Ok(r);
        }
        // The clock is read only after a first burst of 1024 polls: most waits end within
        // it, and reading the clock (in a VM especially) costs as much as a short message.
        let mut start = None;
        let mut i = 0u32;
        // Under loom there is no spin (it reads the clock): the models check the parking path.
        while !cfg!(loom) {
            // A pause between polls: the awaited store arrives sooner than through a tight
            // loop of loads (which the CPU must unwind when the line changes hands).
            if i > 0 {
                std::hint::spin_loop();
            }
            if let Some(r) = poll()? {
                return Ok(r);
            }
            i += 1;
            if i.is_multiple_of(64) {
                if self.is_aborted() {
                    return Err(self.abort_error(me, desc().op));
                }
                if i >= 1024 && start.get_or_insert_with(Instant::now).elapsed() > self.spin {
                    break;
                }
                if self.spin == SPIN_OVERSUBSCRIBED {
                    thread::yield_now();
                }
            }
        }
        let desc = desc();
        let op = desc.op;
        let cell = &self.cells[me];
        *cell.waiting.lock().unwrap_or_else(|p| p.into_inner()) = Some(desc);
        let out = loop {
            // After a timeout the flag is usually still set (only a waker clears it): every
            // waker from then on sees it, so the fence need not be repeated. (Repeating it cost
            // each parked rank a `membarrier` ten times a second: most of the work of a job of
            // thousands of mostly waiting ranks.)
            if !cell.parked.load(SeqCst) {
                cell.parked.store(true, SeqCst);
                // Pairs with the light fence in `wake`: our poll cannot be ordered before the flag.
                super::fence::heavy();
            }
            match poll() {
                Ok(None) => {}
                other => break other,
            }
            if self.is_aborted() {
                break Err(self.abort_error(me, op));
            }
            // Only a waker clears `parked` (and so marks progress): waking on the timeout
            // is not progress, or ranks waking at staggered times would hide a deadlock.
            thread::park_timeout(Duration::from_millis(100));
        };
        self.unpark_self(cell);
        *cell.waiting.lock().unwrap_or_else(|p| p.into_inner()) = None;
        out.map(|r| r.expect("loop breaks on Some"))
    }

    fn unpark_self(&self, cell: &RankCell) {
        if cell.parked.swap(false, SeqCst) {
            cell.generation.fetch_add(1, SeqCst);
        }
    }

    /// Watches for a deadlock until `stop` is set: every live rank parked, and none
    /// woken, over three consecutive looks.
    pub fn monitor(&self, stop: &AtomicBool) {
        let mut previous: Option<Vec<u64>> = None;
        let mut same = 0;
        while !stop.load(SeqCst) {
            thread::park_timeout(MONITOR_PERIOD);
            if self.is_aborted() || stop.load(SeqCst) {
                return;
            }
            let look = self.look();
            if look.is_some() && look == previous {
                same += 1;
                if same >= 2 {
                    self.fail(Failure::Deadlock(self.report()));
                    return;
                }
            } else {
                same = 0;
            }
            previous = look;
        }
    }

    /// The generations of all ranks if every live rank is parked (and one is live).
    fn look(&self) -> Option<Vec<u64>> {
        let mut gens = Vec::with_capacity(self.size);
        let mut live = 0;
        for c in self.cells.iter() {
            if c.done.load(SeqCst) {
                gens.push(u64::MAX);
                continue;
            }
            live += 1;
            if !c.parked.load(SeqCst) {
                return None;
            }
            gens.push(c.generation.load(SeqCst));
        }
        (live > 0).then_some(gens)
    }

    fn report(&self) -> DeadlockReport {
        let mut waits = Vec::new();
        for (rank, c) in self.cells.iter().enumerate() {
            if c.done.load(SeqCst) {
                continue;
            }
            let w = c.waiting.lock().unwrap_or_else(|p| p.into_inner());
            let (op, mut peer, tag) = match &*w {
                Some(d) => (d.op, d.peer.clone(), d.tag),
                None => ("?", "?".to_string(), None),
            };
            if let Some(r) = peer.strip_prefix("rank ").and_then(|s| s.parse::<usize>().ok()) {
                if r < self.size && self.cells[r].done.load(SeqCst) {
                    peer.push_str(" (which has finished)");
                }
            }
            waits.push(Wait { rank, op, peer, tag });
        }
        DeadlockReport { waits }
    }
}
