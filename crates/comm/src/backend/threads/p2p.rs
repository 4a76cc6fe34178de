//! Point-to-point messages on the thread backend.

use std::marker::PhantomData;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::channel::{is_type, small_copy, type_tag, Envelope, Payload, INLINE, MAX_COUNT, SLAB};
use super::comm::ThreadComm;
use super::endpoint::{Endpoint, Matched, Pattern, Posted};
use super::rendezvous::Rendezvous;
use super::scoped::{RecvTarget, ScopedRecv};
use super::sync_send::{SyncFlag, SyncToken};
use super::world::WaitDesc;
use crate::data::{short_name, short_type_name, Data};
use crate::error::{Error, Result};
use crate::p2p::{check_dest, check_source, check_tag, ReqImpl, Request, Status, Tag, ANY_SOURCE, ANY_TAG, PROC_NULL};

/// What a scope keeps of a scoped receive to finish it: the posted receive and its buffer.
pub(crate) type ScopedRecvParts = (Rc<Posted>, Rc<RecvTarget>);

/// A queued send: the rendezvous of a large message, and in strict mode its match flag.
type StartedSend = (Option<Arc<Rendezvous>>, Option<Arc<SyncFlag>>);

/// Messages at least this long are copied once, receiver-side, out of the sender's buffer.
const RENDEZVOUS_BYTES: usize = 32 << 10;

/// Looks at the ring a receive makes on its fastest path before the general wait
/// (a few microseconds): the general wait's bookkeeping costs a third of a short message.
const FAST_POLLS: u32 = 2000;

impl ThreadComm {
    fn check_dest(&self, op: &'static str, dest: usize) -> Result<()> {
        check_dest(op, self.rank, self.size(), dest)
    }

    fn check_source(&self, op: &'static str, src: usize) -> Result<()> {
        check_source(op, self.rank, self.size(), src)
    }

    fn check_tag(&self, op: &'static str, tag: Tag, any_ok: bool) -> Result<()> {
        check_tag(op, self.rank, tag, any_ok)
    }

    fn pattern(&self, src: usize, tag: Tag) -> Pattern {
        Pattern {
            ctx: self.shared.ctx,
            src: (src != ANY_SOURCE).then(|| self.shared.group[src]),
            tag: (tag != ANY_TAG).then_some(tag),
        }
    }

    pub(crate) fn wait_desc(&self, op: &'static str, src: usize, tag: Tag) -> WaitDesc {
        let peer = match src {
            ANY_SOURCE => "any rank".to_string(),
            s => format!("rank {}", self.shared.group[s]),
        };
        WaitDesc { op, peer, tag: Some(tag) }
    }

    /// A message's envelope; `count` was checked against `MAX_COUNT` (see `check_count`).
    fn envelope<T: Data>(&self, tag: Tag, count: usize, payload: Payload) -> Envelope {
        let count = count as u32;
        Envelope { ctx: self.shared.ctx, tag, src: self.rank as u32, ty: type_tag::<T>, count, payload, sync: None }
    }

    /// An error for a message of more elements than an envelope carries.
    fn check_count(&self, op: &'static str, n: usize) -> Result<()> {
        if n <= MAX_COUNT {
            return Ok(());
        }
        let msg = format!("{n} elements are more than one message carries ({MAX_COUNT}); split it into several");
        Err(Error::InvalidArgument { op, caller: self.rank, msg })
    }

    /// Strict mode: a token for the next message's envelope, and the flag its sender waits on.
    fn sync_token(&self) -> (Option<SyncToken>, Option<Arc<SyncFlag>>) {
        if !self.world().strict() {
            return (None, None);
        }
        let (token, flag) = SyncToken::new(&self.ep.world, self.me());
        (Some(token), Some(flag))
    }

    /// Strict mode: blocks until a receive has matched the message behind `flag`,
    /// progressing this rank's own posted receives meanwhile (a rank blocked in MPI
    /// progresses all of its receives).
    fn wait_matched(&self, op: &'static str, flag: &SyncFlag, dest: usize, tag: Tag) -> Result<()> {
        let desc = || {
            let mut d = self.wait_desc(op, dest, tag);
            d.peer.push_str(" to receive it (strict mode: a send completes when its receive is posted)");
            d
        };
        self.world().wait_until(self.me(), desc, || {
            self.progress_posted();
            Ok(flag.matched().then_some(()))
        })
    }

    /// Strict mode: lets messages reach this rank's posted receives while it blocks.
    #[inline]
    pub(super) fn progress_posted(&self) {
        if self.world().strict() && self.ep.has_posted() {
            self.ep.progress(None);
        }
    }

    /// Queues the message; returns the rendezvous of a large one (to finish before `buf`
    /// is released) and, in strict mode, the flag that says a receive has matched it.
    fn start_send<T: Data>(
        &self,
        op: &'static str,
        buf: &[T],
        dest: usize,
        tag: Tag,
        eager: bool,
    ) -> Result<StartedSend> {
        self.check_dest(op, dest)?;
        self.check_tag(op, tag, false)?;
        self.check_count(op, buf.len())?;
        if dest == PROC_NULL {
            return Ok((None, None));
        }
        let dw = self.shared.group[dest];
        let bytes: &[u8] = bytemuck::cast_slice(buf);
        let (token, flag) = self.sync_token();
        let with = |mut env: Envelope| {
            env.sync = token;
            env
        };
        if bytes.len() <= INLINE {
            let mut inline = [0u8; INLINE];
            small_copy(&mut inline[..bytes.len()], bytes);
            self.ep.push(dw, with(self.envelope::<T>(tag, buf.len(), Payload::Inline(inline))), None);
            return Ok((None, flag));
        }
        if bytes.len() <= SLAB {
            self.ep.push(dw, with(self.envelope::<T>(tag, buf.len(), Payload::Bytes(Vec::new()))), Some(bytes));
            return Ok((None, flag));
        }
        if eager || bytes.len() < RENDEZVOUS_BYTES || dw == self.me() {
            let moved = Payload::Moved(Box::new(crate::copy::to_vec(buf)));
            self.ep.push(dw, with(self.envelope::<T>(tag, buf.len(), moved)), None);
            return Ok((None, flag));
        }
        let rdv = Arc::new(Rendezvous::new(bytes, self.me()));
        self.ep.push(dw, with(self.envelope::<T>(tag, buf.len(), Payload::Rdv(rdv.clone()))), None);
        Ok((Some(rdv), flag))
    }

    /// Waits until the receiver has copied a large message, or copies it aside if the
    /// receiver is late, so that a send never blocks indefinitely.
    pub(crate) fn finish_send(&self, rdv: &Rendezvous) {
        let patience = Duration::from_micros(50) + Duration::from_nanos(rdv_bytes_ns(rdv));
        let start = Instant::now();
        let mut i = 0u32;
        while !rdv.is_done() {
            std::hint::spin_loop();
            i = i.wrapping_add(1);
            if i.is_multiple_of(256) {
                if (start.elapsed() > patience || self.world().is_aborted()) && rdv.try_set_aside() {
                    return;
                }
                if self.world().oversubscribed() {
                    std::thread::yield_now();
                }
            }
        }
    }

    #[inline]
    pub fn send<T: Data>(&self, buf: &[T], dest: usize, tag: Tag) -> Result<()> {
        let (rdv, flag) = self.start_send("send", buf, dest, tag, false)?;
        // The receiver may copy from `buf` until the rendezvous finishes: finish it on
        // every way out of this function.
        let _pending = rdv.map(|rdv| LargeSendGuard { comm: self, rdv });
        if let Some(flag) = flag {
            self.wait_matched("send", &flag, dest, tag)?;
        }
        Ok(())
    }

    pub fn send_vec<T: Data>(&self, buf: Vec<T>, dest: usize, tag: Tag) -> Result<()> {
        if let Some(flag) = self.push_vec("send_vec", buf, dest, tag)? {
            self.wait_matched("send", &flag, dest, tag)?;
        }
        Ok(())
    }

    /// Moves `buf` to `dest`; in strict mode, returns the flag its match sets.
    fn push_vec<T: Data>(&self, op: &'static str, buf: Vec<T>, dest: usize, tag: Tag) -> Result<Option<Arc<SyncFlag>>> {
        self.check_dest(op, dest)?;
        self.check_tag(op, tag, false)?;
        self.check_count(op, buf.len())?;
        if dest == PROC_NULL {
            return Ok(None);
        }
        let n = buf.len();
        let (token, flag) = self.sync_token();
        let mut env = self.envelope::<T>(tag, n, Payload::Moved(Box::new(buf)));
        env.sync = token;
        self.ep.push(self.shared.group[dest], env, None);
        Ok(flag)
    }

    pub fn isend<T: Data>(&self, buf: &[T], dest: usize, tag: Tag) -> Result<Request<'_>> {
        let (_, flag) = self.start_send("isend", buf, dest, tag, true)?;
        Ok(self.send_request(flag, dest, tag, Status::of::<T>(self.rank, tag, buf.len())))
    }

    /// A scoped `isend`: a large message is copied by its receiver straight out of `buf`
    /// (no copy on the sending side); the rendezvous is returned for the scope to finish.
    pub fn isend_borrowed<'a, T: Data>(
        &'a self,
        buf: &'a [T],
        dest: usize,
        tag: Tag,
    ) -> Result<(Request<'a>, Option<Arc<Rendezvous>>)> {
        let (rdv, flag) = self.start_send("isend", buf, dest, tag, false)?;
        let st = Status::of::<T>(self.rank, tag, buf.len());
        if rdv.is_none() && flag.is_none() {
            return Ok((Request::new(ReqImpl::Done(st)), None));
        }
        let send = ThreadRequest::Send { comm: self, flag, rdv: rdv.clone(), dest, tag, st };
        Ok((Request::new(ReqImpl::Threads(send)), rdv))
    }

    /// A scoped `irecv`: the request, and what the scope needs to finish it.
    pub fn irecv_scoped<'a, T: Data>(
        &'a self,
        buf: &'a mut [T],
        src: usize,
        tag: Tag,
    ) -> Result<(Request<'a>, Option<ScopedRecvParts>)> {
        let Some(pending) = self.post("irecv", src, tag)? else {
            return Ok((Request::new(ReqImpl::Done(Status::null())), None));
        };
        let posted = pending.posted.clone().expect("just posted");
        let (recv, target) = ScopedRecv::new(pending, buf);
        Ok((Request::new(ReqImpl::Threads(ThreadRequest::ScopedRecv(recv))), Some((posted, target))))
    }

    /// `isend` of a `Vec`, moved (the object sends).
    pub fn isend_vec<T: Data>(&self, buf: Vec<T>, dest: usize, tag: Tag) -> Result<Request<'_>> {
        let st = Status::of::<T>(self.rank, tag, buf.len());
        let flag = self.push_vec("isend", buf, dest, tag)?;
        Ok(self.send_request(flag, dest, tag, st))
    }

    /// A started send's request: complete at once (the message is on its way), or in
    /// strict mode once a receive has matched it.
    fn send_request(&self, flag: Option<Arc<SyncFlag>>, dest: usize, tag: Tag, st: Status) -> Request<'_> {
        match flag {
            None => Request::new(ReqImpl::Done(st)),
            Some(flag) => Request::new(ReqImpl::Threads(ThreadRequest::Send {
                comm: self,
                flag: Some(flag),
                rdv: None,
                dest,
                tag,
                st,
            })),
        }
    }

    /// Blocks until a message matching (`src`, `tag`) that passes `check` is queued; removes it.
    fn take_matching(
        &self,
        op: &'static str,
        src: usize,
        tag: Tag,
        check: impl Fn(&Envelope) -> Result<()>,
    ) -> Result<(usize, Envelope)> {
        let pat = self.pattern(src, tag);
        self.world().wait_until(self.me(), || self.wait_desc(op, src, tag), || self.poll_matching(&pat, &check))
    }

    /// One look for a message matching `pat`: an error if the first match fails `check`
    /// (the message is consumed, as an MPI receive consumes a message it cannot hold).
    #[inline]
    fn poll_matching(
        &self,
        pat: &Pattern,
        check: impl Fn(&Envelope) -> Result<()>,
    ) -> Result<Option<(usize, Envelope)>> {
        if let Some(s) = pat.src {
            if let Some(env) = self.ep.take_direct(s, pat, |env| check(env).is_ok()) {
                return Ok(Some((s, env)));
            }
        }
        self.ep.progress(pat.src);
        self.progress_posted();
        match self.ep.find(pat, |s, env| (true, check(env).map(|()| s))) {
            None => Ok(None),
            Some((Ok(s), Some(a))) => Ok(Some((s, a.env))),
            Some((Err(e), _)) => Err(e),
            Some((Ok(_), None)) => unreachable!("always taken"),
        }
    }

    #[inline]
    pub fn recv<T: Data>(&self, buf: &mut [T], src: usize, tag: Tag) -> Result<Status> {
        self.recv_as("recv", buf, src, tag)
    }

    /// `recv`, with errors and waits named `op`.
    fn recv_as<T: Data>(&self, op: &'static str, buf: &mut [T], src: usize, tag: Tag) -> Result<Status> {
        self.check_source(op, src)?;
        self.check_tag(op, tag, true)?;
        if src == PROC_NULL {
            return Ok(Status::null());
        }
        let pat = self.pattern(src, tag);
        if let Some(s) = pat.src {
            if let Some(st) = self.ep.spin_inline(s, &pat, buf, FAST_POLLS) {
                return Ok(st);
            }
        }
        let cap = buf.len();
        let check = |env: &Envelope| check::<T>(op, self.rank, env, Some(cap));
        let got = self.world().wait_until(
            self.me(),
            || self.wait_desc(op, src, tag),
            || {
                if let Some(s) = pat.src {
                    if self.ep.nothing_from(s) {
                        return Ok(None);
                    }
                    if let Some(st) = self.ep.recv_inline(s, &pat, buf) {
                        return Ok(Some(Err(st)));
                    }
                }
                Ok(self.poll_matching(&pat, check)?.map(Ok))
            },
        )?;
        match got {
            Err(st) => Ok(st),
            Ok((_, env)) => Ok(deliver(&self.ep, env, buf)),
        }
    }

    pub fn recv_vec<T: Data>(&self, src: usize, tag: Tag) -> Result<(Vec<T>, Status)> {
        self.check_source("recv_vec", src)?;
        self.check_tag("recv_vec", tag, true)?;
        if src == PROC_NULL {
            return Ok((Vec::new(), Status::null()));
        }
        let (_, env) = self.take_matching("recv_vec", src, tag, |env| check::<T>("recv_vec", self.rank, env, None))?;
        Ok(deliver_vec(&self.ep, env))
    }

    pub fn sendrecv<T: Data, U: Data>(
        &self,
        send: &[T],
        dest: usize,
        stag: Tag,
        recv: &mut [U],
        src: usize,
        rtag: Tag,
    ) -> Result<Status> {
        self.check_source("sendrecv", src)?;
        self.check_tag("sendrecv", rtag, true)?;
        // The send is queued first, so two ranks exchanging large messages copy each
        // other's buffers while both are inside their receive.
        let (rdv, flag) = self.start_send("sendrecv", send, dest, stag, false)?;
        // The receiver may copy from `send` until the rendezvous finishes: finish it on
        // every way out of this function, unwinding included.
        let _pending = rdv.map(|rdv| LargeSendGuard { comm: self, rdv });
        let st = self.recv_as("sendrecv", recv, src, rtag)?;
        if let Some(flag) = flag {
            self.wait_matched("sendrecv", &flag, dest, stag)?;
        }
        Ok(st)
    }

    pub fn probe(&self, src: usize, tag: Tag) -> Result<Status> {
        self.check_source("probe", src)?;
        self.check_tag("probe", tag, true)?;
        if src == PROC_NULL {
            return Ok(Status::null());
        }
        let pat = self.pattern(src, tag);
        self.world().wait_until(
            self.me(),
            || self.wait_desc("probe", src, tag),
            || {
                self.ep.progress(pat.src);
                self.progress_posted();
                Ok(self.ep.find(&pat, |_, env| (false, probed(env))).map(|(s, _)| s))
            },
        )
    }

    pub fn iprobe(&self, src: usize, tag: Tag) -> Result<Option<Status>> {
        self.check_source("iprobe", src)?;
        self.check_tag("iprobe", tag, true)?;
        if src == PROC_NULL {
            return Ok(Some(Status::null()));
        }
        let pat = self.pattern(src, tag);
        self.ep.progress(pat.src);
        Ok(self.ep.find(&pat, |_, env| (false, probed(env))).map(|(s, _)| s))
    }

    fn post(&self, op: &'static str, src: usize, tag: Tag) -> Result<Option<PostedRecv<'_>>> {
        self.check_source(op, src)?;
        self.check_tag(op, tag, true)?;
        if src == PROC_NULL {
            return Ok(None);
        }
        let pattern = self.pattern(src, tag);
        let desc = self.wait_desc(op, src, tag);
        Ok(Some(PostedRecv { comm: self, posted: Some(self.ep.post(pattern)), desc, op }))
    }

    pub fn irecv<'a, T: Data>(&'a self, buf: &'a mut [T], src: usize, tag: Tag) -> Result<Request<'a>> {
        let Some(pending) = self.post("irecv", src, tag)? else {
            return Ok(Request::new(ReqImpl::Done(Status::null())));
        };
        Ok(Request::new(ReqImpl::Threads(ThreadRequest::recv(pending, buf))))
    }

    pub fn irecv_vec<T: Data>(&self, src: usize, tag: Tag) -> Result<ThreadVecRequest<'_, T>> {
        Ok(ThreadVecRequest { pending: self.post("irecv_vec", src, tag)?, _t: PhantomData })
    }
}

/// Copying aside costs about as much as the receiver's copy: wait about that long
/// (at ~8 GB/s) before giving up on the receiver, at most 2 ms.
fn rdv_bytes_ns(rdv: &Rendezvous) -> u64 {
    (rdv.bytes() as u64 / 8).min(2_000_000)
}

/// A started large send, finished (buffer released) when dropped.
struct LargeSendGuard<'a> {
    comm: &'a ThreadComm,
    rdv: Arc<Rendezvous>,
}

impl Drop for LargeSendGuard<'_> {
    fn drop(&mut self) {
        self.comm.finish_send(&self.rdv);
    }
}

/// The status of a received message: its count in the sender's elements (checked to be
/// the receiver's type).
fn status_of(env: &Envelope) -> Status {
    let count = env.count as usize;
    Status { source: env.src as usize, tag: env.tag, count, bytes: count * (env.ty)().2 }
}

/// The status of a probed message: counted in bytes, as on MPI (see `Status::count`).
fn probed(env: &Envelope) -> Status {
    let bytes = env.count as usize * (env.ty)().2;
    Status { source: env.src as usize, tag: env.tag, count: bytes, bytes }
}

/// The receiver's checks before it takes a message: element type, then length.
pub(super) fn check<T: Data>(op: &'static str, me: usize, env: &Envelope, capacity: Option<usize>) -> Result<()> {
    if !is_type::<T>(env.ty) {
        let name = (env.ty)().1;
        return Err(Error::TypeMismatch {
            op,
            from: env.src as usize,
            to: me,
            tag: env.tag,
            sent_type: short_name(name),
            recv_type: short_type_name::<T>(),
        });
    }
    match capacity {
        Some(cap) if env.count as usize > cap => {
            let sent = env.count as usize;
            Err(Error::Truncated { op, from: env.src as usize, to: me, tag: env.tag, sent, capacity: cap })
        }
        _ => Ok(()),
    }
}

/// Copies a checked message into `buf`.
pub(super) fn deliver<T: Data>(ep: &Endpoint, env: Envelope, buf: &mut [T]) -> Status {
    let st = status_of(&env);
    let n = env.count as usize;
    match env.payload {
        Payload::Inline(b) => {
            let dst: &mut [u8] = bytemuck::cast_slice_mut(&mut buf[..n]);
            let len = dst.len();
            dst.copy_from_slice(&b[..len]);
        }
        Payload::Bytes(b) => bytemuck::cast_slice_mut(&mut buf[..n]).copy_from_slice(&b),
        Payload::Slab(_) => unreachable!("slab payloads become bytes when they leave the ring"),
        Payload::Moved(v) => {
            crate::copy::copy(&mut buf[..n], v.downcast_ref::<Vec<T>>().expect("element type checked"))
        }
        Payload::Rdv(r) => {
            if r.take_into(bytemuck::cast_slice_mut(&mut buf[..n]), ep.world.oversubscribed()) {
                ep.world.wake(r.sender);
            }
        }
    }
    st
}

/// Turns a checked message into a `Vec`, without a copy when the sender moved one.
fn deliver_vec<T: Data>(ep: &Endpoint, env: Envelope) -> (Vec<T>, Status) {
    let st = status_of(&env);
    let n = env.count as usize;
    let v = match env.payload {
        Payload::Inline(b) => bytemuck::pod_collect_to_vec(&b[..n * std::mem::size_of::<T>()]),
        Payload::Bytes(b) => bytemuck::pod_collect_to_vec(&b),
        Payload::Slab(_) => unreachable!("slab payloads become bytes when they leave the ring"),
        Payload::Moved(v) => *v.downcast::<Vec<T>>().expect("element type checked"),
        Payload::Rdv(r) => {
            let mut v = vec![T::zeroed(); n];
            if r.take_into(bytemuck::cast_slice_mut(&mut v), ep.world.oversubscribed()) {
                ep.world.wake(r.sender);
            }
            v
        }
    };
    (v, st)
}

/// A posted receive, finished by `wait` or `test`; cancelled if dropped unfinished.
pub(crate) struct PostedRecv<'c> {
    pub(super) comm: &'c ThreadComm,
    pub(super) posted: Option<Rc<Posted>>,
    desc: WaitDesc,
    op: &'static str,
}

impl PostedRecv<'_> {
    fn take(&mut self) -> Option<Matched> {
        let p = self.posted.as_ref()?;
        let got = p.matched.borrow_mut().take();
        if got.is_some() {
            self.posted = None;
        }
        got
    }

    pub(super) fn test(&mut self) -> Option<Matched> {
        let src = self.posted.as_ref()?.pattern.src;
        self.comm.ep.progress(src);
        self.take()
    }

    pub(super) fn wait(&mut self) -> Result<Matched> {
        let Some(p) = self.posted.clone() else {
            return Err(Error::InvalidArgument {
                op: self.op,
                caller: self.comm.rank,
                msg: "the request was already completed".into(),
            });
        };
        let (comm, desc) = (self.comm, &self.desc);
        comm.world().wait_until(
            comm.me(),
            || desc.clone(),
            || {
                comm.ep.progress(p.pattern.src);
                comm.progress_posted();
                Ok(p.matched.borrow().is_some().then_some(()))
            },
        )?;
        Ok(self.take().expect("matched"))
    }

    /// Checks the matched message: a message the receive cannot hold is consumed and
    /// reported, as on MPI.
    fn checked<T: Data>(&self, m: Matched, cap: Option<usize>) -> Result<Envelope> {
        check::<T>(self.op, self.comm.rank, &m.env, cap)?;
        Ok(m.env)
    }
}

impl Drop for PostedRecv<'_> {
    fn drop(&mut self) {
        if let Some(p) = self.posted.take() {
            self.comm.ep.cancel(&p);
        }
    }
}

type Finish<'a> = Box<dyn FnMut(&PostedRecv<'a>, Matched) -> Result<Status> + 'a>;

/// A non-blocking operation on the thread backend.
pub(crate) enum ThreadRequest<'a> {
    /// An `irecv` into a borrowed buffer: the data lands when `wait` or `test` completes it.
    Recv { pending: PostedRecv<'a>, finish: Finish<'a> },
    /// A scoped `irecv` straight into the caller's buffer.
    ScopedRecv(ScopedRecv<'a>),
    /// A nonblocking collective.
    Coll(super::CollRequest<'a>),
    /// A send still in progress: a large message the receiver copies out of the sender's
    /// borrowed buffer (a scoped `isend`), and in strict mode one not yet matched.
    Send {
        comm: &'a ThreadComm,
        flag: Option<Arc<SyncFlag>>,
        rdv: Option<Arc<Rendezvous>>,
        dest: usize,
        tag: Tag,
        st: Status,
    },
}

impl<'a> ThreadRequest<'a> {
    /// The communicator the request belongs to.
    pub fn comm(&self) -> &'a ThreadComm {
        match self {
            ThreadRequest::Recv { pending, .. } => pending.comm,
            ThreadRequest::ScopedRecv(r) => r.comm(),
            ThreadRequest::Send { comm, .. } => comm,
            ThreadRequest::Coll(c) => c.comm,
        }
    }

    fn recv<T: Data>(pending: PostedRecv<'a>, buf: &'a mut [T]) -> Self {
        let cap = buf.len();
        let finish: Finish<'a> = Box::new(move |p: &PostedRecv<'a>, m| {
            let env = p.checked::<T>(m, Some(cap))?;
            Ok(deliver(&p.comm.ep, env, buf))
        });
        ThreadRequest::Recv { pending, finish }
    }

    pub fn wait(self) -> Result<Status> {
        match self {
            ThreadRequest::Recv { mut pending, mut finish } => {
                let m = pending.wait()?;
                finish(&pending, m)
            }
            ThreadRequest::ScopedRecv(r) => r.wait(),
            ThreadRequest::Coll(c) => c.wait(),
            ThreadRequest::Send { comm, flag, rdv, dest, tag, st } => {
                if let Some(rdv) = rdv {
                    comm.finish_send(&rdv);
                }
                if let Some(flag) = flag {
                    comm.wait_matched("isend", &flag, dest, tag)?;
                }
                Ok(st)
            }
        }
    }

    pub fn test(&mut self) -> Result<Option<Status>> {
        match self {
            ThreadRequest::Recv { pending, finish } => match pending.test() {
                None => Ok(None),
                Some(m) => finish(pending, m).map(Some),
            },
            ThreadRequest::ScopedRecv(r) => r.test(),
            ThreadRequest::Coll(c) => c.test(),
            ThreadRequest::Send { comm, flag, rdv, st, .. } => {
                comm.progress_posted();
                let copied = rdv.as_ref().is_none_or(|r| r.is_done());
                let matched = flag.as_ref().is_none_or(|f| f.matched());
                Ok((copied && matched).then_some(*st))
            }
        }
    }
}

/// An `irecv_vec`: the message, whatever its length, as a new `Vec`.
pub(crate) struct ThreadVecRequest<'c, T: Data> {
    pending: Option<PostedRecv<'c>>,
    _t: PhantomData<fn() -> T>,
}

impl<T: Data> ThreadVecRequest<'_, T> {
    pub fn wait(mut self) -> Result<(Vec<T>, Status)> {
        let Some(p) = self.pending.as_mut() else {
            return Ok((Vec::new(), Status::null()));
        };
        let m = p.wait()?;
        let env = p.checked::<T>(m, None)?;
        Ok(deliver_vec(&p.comm.ep, env))
    }

    pub fn test(&mut self) -> Result<Option<(Vec<T>, Status)>> {
        let Some(p) = self.pending.as_mut() else {
            return Ok(Some((Vec::new(), Status::null())));
        };
        let Some(m) = p.test() else {
            return Ok(None);
        };
        let env = p.checked::<T>(m, None)?;
        Ok(Some(deliver_vec(&p.comm.ep, env)))
    }
}
