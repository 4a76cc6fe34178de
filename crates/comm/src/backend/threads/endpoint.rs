//! One rank's side of the message system: its channel positions, the messages that
//! arrived before a matching receive, and the receives posted before their message.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::Arc;

use super::channel::{is_type, small_copy, Envelope, Payload, ProducerPos};
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
    /// Arrival number: puts a message back in its place if it is returned.
    order: u64,
    pub env: Envelope,
}

/// A message taken by a posted receive.
pub(crate) struct Matched {
    pub env: Envelope,
}

pub(crate) struct Endpoint {
    pub world: Arc<World>,
    /// This rank in the world.
    pub me: usize,
    send_pos: Box<[ProducerPos]>,
    recv_pos: Box<[Cell<usize>]>,
    unexpected: RefCell<Box<[VecDeque<Arrived>]>>,
    posted: RefCell<Vec<Rc<Posted>>>,
    arrivals: Cell<u64>,
}

impl Endpoint {
    pub fn new(world: Arc<World>, me: usize) -> Self {
        let n = world.size;
        Endpoint {
            world,
            me,
            send_pos: (0..n).map(|_| ProducerPos::default()).collect(),
            recv_pos: (0..n).map(|_| Cell::new(0)).collect(),
            unexpected: RefCell::new((0..n).map(|_| VecDeque::new()).collect()),
            posted: RefCell::new(Vec::new()),
            arrivals: Cell::new(0),
        }
    }

    /// Queues `env` for world rank `dst` and wakes it.
    #[inline]
    pub fn push(&self, dst: usize, env: Envelope, slab: Option<&[u8]>) {
        self.world.channel(self.me, dst).push(&self.send_pos[dst], env, slab);
        self.world.wake(dst);
    }

    /// Moves newly arrived messages from `src` (or from everyone) into the local queues,
    /// handing each to the oldest posted receive it matches.
    pub fn progress(&self, src: Option<usize>) {
        match src {
            Some(s) => self.drain(s),
            None => (0..self.world.size).for_each(|s| self.drain(s)),
        }
    }

    /// Spins on the fastest path for a while: `Some` once a small matching message has
    /// been received; `None` as soon as anything else needs the general path (or after
    /// `polls` empty looks).
    #[inline]
    pub fn spin_inline<T: Data>(&self, src: usize, pat: &Pattern, buf: &mut [T], polls: u32) -> Option<Status> {
        if self.queued_locally(src) {
            return None;
        }
        let ch = self.world.channel(src, self.me);
        let pos = &self.recv_pos[src];
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
        !self.world.channel(src, self.me).has_message(&self.recv_pos[src]) && !self.queued_locally(src)
    }

    /// True if a message from `src` may be waiting outside the ring (in the local queue),
    /// or a posted receive may claim the next one: then the ring's head is not simply
    /// the next message to take.
    #[inline]
    fn queued_locally(&self, src: usize) -> bool {
        !self.posted.borrow().is_empty() || !self.unexpected.borrow()[src].is_empty()
    }

    /// The fastest path: a small typed message from `src` copied straight out of its
    /// ring slot into `buf`, when nothing is queued locally and it matches.
    #[inline]
    pub fn recv_inline<T: Data>(&self, src: usize, pat: &Pattern, buf: &mut [T]) -> Option<Status> {
        let ch = self.world.channel(src, self.me);
        if self.queued_locally(src) || ch.has_overflow() {
            return None;
        }
        ch.consume_head(&self.recv_pos[src], |env, slab| {
            if !(pat.matches(src, env) && env.count <= buf.len() && is_type::<T>(env.ty)) {
                return None;
            }
            let dst: &mut [u8] = bytemuck::cast_slice_mut(&mut buf[..env.count]);
            let len = dst.len();
            match &env.payload {
                Payload::Inline(bytes) => small_copy(dst, &bytes[..len]),
                Payload::Slab(_) => dst.copy_from_slice(slab),
                _ => return None,
            }
            Some(Status::of::<T>(env.src as usize, env.tag, env.count))
        })
    }

    /// The fast path of a receive from one source: when nothing is queued locally,
    /// take the next message straight from the ring if it matches and `check` accepts it.
    #[inline]
    pub fn take_direct(&self, src: usize, pat: &Pattern, check: impl FnOnce(&Envelope) -> bool) -> Option<Envelope> {
        let ch = self.world.channel(src, self.me);
        if self.queued_locally(src) || ch.has_overflow() {
            return None;
        }
        ch.take_head_if(&self.recv_pos[src], |env| pat.matches(src, env) && check(env))
    }

    #[inline]
    fn drain(&self, src: usize) {
        let ch = self.world.channel(src, self.me);
        let pos = &self.recv_pos[src];
        if !ch.has_message(pos) {
            return;
        }
        ch.drain(pos, &mut |env| self.accept(src, env));
    }

    fn accept(&self, src: usize, mut env: Envelope) {
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
        self.unexpected.borrow_mut()[src].push_back(Arrived { order, env });
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
        let mut q = self.unexpected.borrow_mut();
        let found = match pat.src {
            Some(s) => q[s].iter().position(|a| pat.matches(s, &a.env)).map(|i| (s, i)),
            None => {
                let mut best: Option<(u64, usize, usize)> = None;
                for (s, queue) in q.iter().enumerate() {
                    if let Some(i) = queue.iter().position(|a| pat.matches(s, &a.env)) {
                        let order = queue[i].order;
                        if best.is_none_or(|b| order < b.0) {
                            best = Some((order, s, i));
                        }
                    }
                }
                best.map(|(_, s, i)| (s, i))
            }
        };
        let (s, i) = found?;
        let (take, r) = f(s, &q[s][i].env);
        let taken = take.then(|| q[s].remove(i).expect("index from position"));
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
        let stale: Vec<Arrived> = {
            let mut q = self.unexpected.borrow_mut();
            q.iter_mut()
                .flat_map(|queue| {
                    let (gone, kept) = std::mem::take(queue).into_iter().partition(|a: &Arrived| a.env.ctx == ctx);
                    *queue = kept;
                    gone
                })
                .collect()
        };
        // Dropped outside the borrows: a synchronous sender's token wakes it.
        drop(stale);
    }
}
