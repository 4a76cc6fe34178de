//! One rank's side of the message system: its channel positions, the messages that
//! arrived before a matching receive, and the receives posted before their message.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use std::rc::Rc;
use std::sync::Arc;

use super::channel::{is_type, small_copy, Channel, Envelope, Payload, ProducerPos};
use super::world::World;
use crate::data::Data;
use crate::p2p::Status;

/// What a receive matches: a context (communicator), a source (world rank) or any, a tag or any.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Pattern {
    pub ctx: u32,
    pub src: Option<usize>,
    pub tag: Option<i32>,
}

impl Pattern {
    #[inline]
    pub fn matches(&self, src: usize, env: &Envelope) -> bool {
        env.ctx == self.ctx && self.src.is_none_or(|s| s == src) && self.tag.is_none_or(|t| t == env.tag)
    }
}

/// A receive posted by `irecv` that has not found its message yet.
pub(crate) struct Posted {
    pub pattern: Pattern,
    pub matched: RefCell<Option<Matched>>,
}

pub(crate) struct Arrived {
    /// Arrival number: orders any-source receives across sources.
    order: u64,
    pub env: Envelope,
}

/// A message taken by a posted receive.
pub(crate) struct Matched {
    pub env: Envelope,
}

/// This rank's end of its channel to one destination, made with its first message there.
struct Outlet {
    ch: Arc<Channel>,
    pos: ProducerPos,
}

/// This rank's end of the channel from one source, made when that source's channel is
/// first seen, with the messages taken from it that no receive has claimed yet.
struct Inlet {
    src: usize,
    ch: Arc<Channel>,
    pos: Cell<usize>,
    unexpected: RefCell<VecDeque<Arrived>>,
}

/// Per-peer state found by the peer's world rank, made on first use: memory grows with
/// the peers a rank actually talks to, not with the job size. A one-entry cache in front
/// of the map makes a repeated look-up of the same peer (the common case: ping-pong, a
/// receive loop) a compare and a load.
struct Peers<T> {
    map: RefCell<HashMap<usize, Rc<T>, BuildHasherDefault<RankHasher>>>,
    /// The same entries in order of creation, for the scans of any-source receives.
    list: RefCell<Vec<Rc<T>>>,
    /// The last peer looked up and its entry (`usize::MAX` and null before the first).
    last: Cell<(usize, *const T)>,
}

impl<T> Peers<T> {
    fn new() -> Self {
        Peers { map: RefCell::default(), list: RefCell::default(), last: Cell::new((usize::MAX, std::ptr::null())) }
    }

    #[inline]
    fn get(&self, peer: usize) -> Option<&T> {
        let (p, ptr) = self.last.get();
        if p == peer {
            // SAFETY: `ptr` comes from an `Rc` in `map`: entries are never removed or
            // replaced, so it lives as long as `self`, and nobody mutates through it.
            return Some(unsafe { &*ptr });
        }
        self.get_slow(peer)
    }

    #[cold]
    fn get_slow(&self, peer: usize) -> Option<&T> {
        let ptr = Rc::as_ptr(self.map.borrow().get(&peer)?);
        self.last.set((peer, ptr));
        // SAFETY: as in `get`.
        Some(unsafe { &*ptr })
    }

    /// Adds the entry of a peer that has none yet.
    fn insert(&self, peer: usize, value: T) -> &T {
        let rc = Rc::new(value);
        let ptr = Rc::as_ptr(&rc);
        self.list.borrow_mut().push(rc.clone());
        let old = self.map.borrow_mut().insert(peer, rc);
        debug_assert!(old.is_none(), "one entry per peer");
        self.last.set((peer, ptr));
        // SAFETY: as in `get`.
        unsafe { &*ptr }
    }

    /// The `i`-th entry made, if there are that many.
    #[inline]
    fn nth(&self, i: usize) -> Option<&T> {
        let ptr = Rc::as_ptr(self.list.borrow().get(i)?);
        // SAFETY: as in `get` (`list` holds the same `Rc`s as `map`, never removed).
        Some(unsafe { &*ptr })
    }
}

/// Hashes a rank (a small integer) with one multiplication.
#[derive(Default)]
struct RankHasher(u64);

impl Hasher for RankHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }
    fn write_usize(&mut self, n: usize) {
        self.0 = (n as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

pub(crate) struct Endpoint {
    pub world: Arc<World>,
    /// This rank in the world.
    pub me: usize,
    outlets: Peers<Outlet>,
    inlets: Peers<Inlet>,
    /// How many channels into this rank `inlets` has taken from the world's inbox.
    inlets_seen: Cell<usize>,
    posted: RefCell<Vec<Rc<Posted>>>,
    arrivals: Cell<u64>,
}

impl Endpoint {
    pub fn new(world: Arc<World>, me: usize) -> Self {
        Endpoint {
            world,
            me,
            outlets: Peers::new(),
            inlets: Peers::new(),
            inlets_seen: Cell::new(0),
            posted: RefCell::new(Vec::new()),
            arrivals: Cell::new(0),
        }
    }

    /// Queues `env` for world rank `dst` and wakes it.
    #[inline]
    pub fn push(&self, dst: usize, env: Envelope, slab: Option<&[u8]>) {
        let out = match self.outlets.get(dst) {
            Some(out) => out,
            None => self.open(dst),
        };
        out.ch.push(&out.pos, env, slab);
        self.world.wake(dst);
    }

    /// Opens the channel to `dst` (its first message).
    #[cold]
    fn open(&self, dst: usize) -> &Outlet {
        let ch = self.world.open_channel(self.me, dst);
        self.outlets.insert(dst, Outlet { ch, pos: ProducerPos::default() })
    }

    /// This rank's end of the channel from `src`, if `src` has opened it.
    #[inline]
    fn inlet(&self, src: usize) -> Option<&Inlet> {
        self.inlets.get(src).or_else(|| {
            self.take_new_inlets();
            self.inlets.get(src)
        })
    }

    /// Takes the channels opened towards this rank since the last look (one load if none).
    fn take_new_inlets(&self) {
        let seen = self.inlets_seen.get();
        let now = self.world.opened_since(self.me, seen, |src, ch| {
            let inlet = Inlet { src, ch: ch.clone(), pos: Cell::new(0), unexpected: RefCell::default() };
            self.inlets.insert(src, inlet);
        });
        self.inlets_seen.set(now);
    }

    /// Moves newly arrived messages from `src` (or from everyone) into the local queues,
    /// handing each to the oldest posted receive it matches. Everyone means the sources
    /// that have opened a channel to this rank: the others have sent nothing.
    pub fn progress(&self, src: Option<usize>) {
        match src {
            Some(s) => {
                if let Some(inlet) = self.inlet(s) {
                    self.drain(inlet);
                }
            }
            None => {
                self.take_new_inlets();
                let mut i = 0;
                while let Some(inlet) = self.inlets.nth(i) {
                    self.drain(inlet);
                    i += 1;
                }
            }
        }
    }

    /// Spins on the fastest path for a while: `Some` once a small matching message has
    /// been received; `None` as soon as anything else needs the general path (or after
    /// `polls` empty looks).
    #[inline]
    pub fn spin_inline<T: Data>(&self, src: usize, pat: &Pattern, buf: &mut [T], polls: u32) -> Option<Status> {
        let inlet = self.inlet(src)?;
        if self.queued_locally(inlet) {
            return None;
        }
        let (ch, pos) = (&inlet.ch, &inlet.pos);
        for _ in 0..polls {
            if ch.has_overflow() {
                return None;
            }
            if ch.ring_ready(pos) {
                return self.recv_inline(src, pat, buf);
            }
        }
        None
    }

    /// True when a receive from `src` need only look at the ring (nothing queued
    /// locally) and the ring is still empty: the cheap test a spinning receive repeats.
    #[inline]
    pub fn nothing_from(&self, src: usize) -> bool {
        match self.inlet(src) {
            Some(inlet) => !inlet.ch.has_message(&inlet.pos) && !self.queued_locally(inlet),
            None => self.posted.borrow().is_empty(),
        }
    }

    /// True if a message from the inlet's source may be waiting outside the ring (in the
    /// local queue), or a posted receive may claim the next one: then the ring's head is
    /// not simply the next message to take.
    #[inline]
    fn queued_locally(&self, inlet: &Inlet) -> bool {
        !self.posted.borrow().is_empty() || !inlet.unexpected.borrow().is_empty()
    }

    /// The fastest path: a small typed message from `src` copied straight out of its
    /// ring slot into `buf`, when nothing is queued locally and it matches.
    #[inline]
    pub fn recv_inline<T: Data>(&self, src: usize, pat: &Pattern, buf: &mut [T]) -> Option<Status> {
        let inlet = self.inlet(src)?;
        let ch = &inlet.ch;
        if self.queued_locally(inlet) || ch.has_overflow() {
            return None;
        }
        ch.consume_head(&inlet.pos, |env, slab| {
            let count = env.count as usize;
            if !(pat.matches(src, env) && count <= buf.len() && is_type::<T>(env.ty)) {
                return None;
            }
            let dst: &mut [u8] = bytemuck::cast_slice_mut(&mut buf[..count]);
            let len = dst.len();
            match &env.payload {
                Payload::Inline(bytes) => small_copy(dst, &bytes[..len]),
                Payload::Slab(_) => dst.copy_from_slice(slab),
                _ => return None,
            }
            Some(Status::of::<T>(env.src as usize, env.tag, count))
        })
    }

    /// The fast path of a receive from one source: when nothing is queued locally,
    /// take the next message straight from the ring if it matches and `check` accepts it.
    #[inline]
    pub fn take_direct(&self, src: usize, pat: &Pattern, check: impl FnOnce(&Envelope) -> bool) -> Option<Envelope> {
        let inlet = self.inlet(src)?;
        let ch = &inlet.ch;
        if self.queued_locally(inlet) || ch.has_overflow() {
            return None;
        }
        ch.take_head_if(&inlet.pos, |env| pat.matches(src, env) && check(env))
    }

    #[inline]
    fn drain(&self, inlet: &Inlet) {
        let ch: &Channel = &inlet.ch;
        if !ch.has_message(&inlet.pos) {
            return;
        }
        ch.drain(&inlet.pos, &mut |env| self.accept(inlet, env));
    }

    fn accept(&self, inlet: &Inlet, mut env: Envelope) {
        let src = inlet.src;
        let order = self.arrivals.get();
        self.arrivals.set(order + 1);
        {
            let mut posted = self.posted.borrow_mut();
            if let Some(i) = posted.iter().position(|p| p.pattern.matches(src, &env)) {
                let p = posted.remove(i);
                // Matched by a posted receive: a synchronous send is complete.
                drop(env.sync.take());
                *p.matched.borrow_mut() = Some(Matched { env });
                return;
            }
        }
        inlet.unexpected.borrow_mut().push_back(Arrived { order, env });
    }

    /// True if some `irecv` waits for its message.
    #[inline]
    pub fn has_posted(&self) -> bool {
        !self.posted.borrow().is_empty()
    }

    /// Applies `f` to the oldest queued message matching `pat` (earliest arrival across
    /// sources for any-source); if `f` says so, removes it and returns it.
    pub fn find<R>(
        &self,
        pat: &Pattern,
        f: impl FnOnce(usize, &Envelope) -> (bool, R),
    ) -> Option<(R, Option<Arrived>)> {
        let (inlet, i) = match pat.src {
            Some(s) => {
                let inlet = self.inlet(s)?;
                let i = inlet.unexpected.borrow().iter().position(|a| pat.matches(s, &a.env))?;
                (inlet, i)
            }
            None => {
                let mut best: Option<(u64, &Inlet, usize)> = None;
                let mut k = 0;
                while let Some(inlet) = self.inlets.nth(k) {
                    k += 1;
                    let queue = inlet.unexpected.borrow();
                    if let Some(i) = queue.iter().position(|a| pat.matches(inlet.src, &a.env)) {
                        let order = queue[i].order;
                        if best.is_none_or(|b| order < b.0) {
                            best = Some((order, inlet, i));
                        }
                    }
                }
                best.map(|(_, inlet, i)| (inlet, i))?
            }
        };
        let mut q = inlet.unexpected.borrow_mut();
        let (take, r) = f(inlet.src, &q[i].env);
        let taken = take.then(|| q.remove(i).expect("index from position"));
        Some((r, taken))
    }

    /// Posts a receive: matches a queued message at once, or waits in the posted list.
    pub fn post(&self, pattern: Pattern) -> Rc<Posted> {
        let p = Rc::new(Posted { pattern, matched: RefCell::new(None) });
        self.progress(pattern.src);
        if let Some(((), Some(a))) = self.find(&pattern, |_, _| (true, ())) {
            let mut env = a.env;
            drop(env.sync.take());
            *p.matched.borrow_mut() = Some(Matched { env });
        } else {
            self.posted.borrow_mut().push(p.clone());
        }
        p
    }

    /// Withdraws a posted receive (a dropped request). A message it had already matched
    /// is consumed with it, as when `MPI_Cancel` comes too late for an MPI receive.
    pub fn cancel(&self, p: &Rc<Posted>) {
        self.posted.borrow_mut().retain(|q| !Rc::ptr_eq(q, p));
        drop(p.matched.borrow_mut().take());
    }

    /// Forgets everything of the communicator `ctx` (it is being freed): its posted
    /// receives, leaked requests' included, and the messages no receive can take any more.
    pub fn forget_context(&self, ctx: u32) {
        let withdrawn: Vec<Rc<Posted>> = {
            let mut posted = self.posted.borrow_mut();
            let (gone, kept) = std::mem::take(&mut *posted).into_iter().partition(|p| p.pattern.ctx == ctx);
            *posted = kept;
            gone
        };
        for p in withdrawn {
            drop(p.matched.borrow_mut().take());
        }
        let mut stale: Vec<Arrived> = Vec::new();
        let mut k = 0;
        while let Some(inlet) = self.inlets.nth(k) {
            k += 1;
            let mut queue = inlet.unexpected.borrow_mut();
            let (gone, kept): (VecDeque<Arrived>, VecDeque<Arrived>) =
                std::mem::take(&mut *queue).into_iter().partition(|a| a.env.ctx == ctx);
            *queue = kept;
            stale.extend(gone);
        }
        // Dropped outside the borrows: a synchronous sender's token wakes it.
        drop(stale);
    }
}

#[cfg(test)]
mod tests {
    use super::super::channel::type_tag;
    use super::*;

    fn env(src: u32, tag: i32) -> Envelope {
        Envelope {
            ctx: 0,
            tag,
            src,
            ty: type_tag::<u8>,
            count: 1,
            payload: Payload::Inline([src as u8; 16]),
            sync: None,
        }
    }

    /// Channels into `dst` the world has opened.
    fn opened(world: &World, dst: usize) -> Vec<usize> {
        let mut v = Vec::new();
        world.opened_since(dst, 0, |src, _| v.push(src));
        v
    }

    /// Only pairs that talk get a channel (opened once, by the sender); an any-source
    /// receive finds the messages of every sender, in the order they arrived here (one
    /// drain takes each channel's messages in turn, keeping each pair's order).
    #[test]
    fn channels_are_opened_by_the_pairs_that_talk() {
        let world = Arc::new(World::new(1000, false));
        let eps: Vec<Endpoint> = [3, 500, 999, 7].iter().map(|&r| Endpoint::new(world.clone(), r)).collect();
        let any = Pattern { ctx: 0, src: None, tag: None };
        assert!(eps[3].nothing_from(3) && eps[3].find(&any, |s, _| (true, s)).is_none());
        for (i, tag) in [(0, 1), (1, 2), (0, 3), (2, 4)] {
            eps[i].push(7, env(eps[i].me as u32, tag), None);
        }
        assert_eq!(opened(&world, 7), [3, 500, 999]);
        assert!((0..1000).filter(|&d| d != 7).all(|d| opened(&world, d).is_empty()));
        assert!(!eps[3].nothing_from(500));
        eps[3].progress(None);
        let mut got = Vec::new();
        while let Some((s, Some(a))) = eps[3].find(&any, |s, _| (true, s)) {
            got.push((s, a.env.tag));
        }
        assert_eq!(got, [(3, 1), (3, 3), (500, 2), (999, 4)]);
        assert!(eps[3].nothing_from(3) && eps[3].nothing_from(42));
    }
}
