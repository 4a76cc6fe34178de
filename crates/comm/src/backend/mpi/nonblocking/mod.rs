//! Nonblocking collectives on MPI: `MPI_Ibcast`, `MPI_Iallreduce`, ... on the buffers
//! the caller lent to its scope, issued through the communicator's private channel
//! (see `channel`), after the same agreement as the blocking collectives where a
//! mismatch could make MPI write past a buffer.

mod channel;

use std::any::Any;
use std::ffi::c_void;
use std::os::raw::c_int;
use std::rc::Rc;

use mpi::ffi::{MPI_Comm, MPI_Request};

pub(crate) use channel::{Channel, MpiColl};

use super::agree::checking;
use super::collective::{mpi_in_place, recv_ptr, send_ptr};
use super::comm::{check_rc, MpiComm};
use super::types::{datatype, system_op, UserReduction};
use crate::collective::agree::{pack, Call, Field, FREE, HEADER};
use crate::collective::Layout;
use crate::data::Data;
use crate::error::{Error, Result};
use crate::p2p::{Status, ANY_TAG};
use crate::scope::Reduction;
use channel::Starter;

/// A nonblocking collective's request.
pub(crate) struct MpiCollRequest {
    op: Rc<MpiColl>,
    st: Status,
}

impl MpiCollRequest {
    pub fn wait(self) -> Result<Status> {
        self.op.wait().map(|()| self.st)
    }
    pub fn test(&mut self) -> Result<Option<Status>> {
        super::posted::progress();
        self.op.poll().transpose().map(|r| r.map(|()| self.st))
    }
    /// The collective, for its scope to complete.
    pub fn op(&self) -> Rc<MpiColl> {
        self.op.clone()
    }
}

/// Issues one MPI nonblocking call; its request.
fn issue(name: &'static str, caller: usize, f: impl FnOnce(*mut MPI_Request) -> c_int) -> Result<MPI_Request> {
    // SAFETY: reading a predefined handle.
    let mut req = unsafe { mpi::ffi::RSMPI_REQUEST_NULL };
    check_rc(name, caller, f(&mut req))?;
    Ok(req)
}

/// A pointer that may cross into the starter closure (its buffer is lent to the scope).
#[derive(Clone, Copy)]
struct Ptr(*mut c_void);

impl MpiComm {
    /// Checks (locally, and with the others where needed) and queues a collective of
    /// `call`; `extra` adds per-rank fields to the agreement, `always` forces it.
    #[allow(clippy::too_many_arguments)]
    fn nonblocking(
        &self,
        name: &'static str,
        call: Call,
        err: Option<Error>,
        extra: Option<Vec<Field>>,
        always: bool,
        received: (usize, usize),
        start: Starter,
    ) -> Result<MpiCollRequest> {
        let needs = always || checking() || call.needs_agreement();
        let agreement = needs.then(|| {
            let mut fields = call.header(err.is_some()).to_vec();
            fields.extend(extra.unwrap_or_default());
            let mut packed = Vec::new();
            pack(&fields, &mut packed);
            packed
        });
        let mismatch = format!(
            "{name}: the ranks passed arguments that do not match (the operation, root, element type, reduction or \
             counts differ; rank {} passed root {}, {} elements of {})",
            self.rank(),
            call.root,
            call.count,
            crate::data::short_name(call.type_name)
        );
        let chan = self.channel();
        if let Some(e) = err {
            if let Some(agreement) = agreement {
                // The others learn from the agreement that this rank's call is wrong.
                MpiColl::queue(&chan, self.raw(), name, self.rank(), Some(agreement), mismatch, start)?;
            }
            return Err(e);
        }
        let op = MpiColl::queue(&chan, self.raw(), name, self.rank(), agreement, mismatch, start)?;
        let (count, elem) = received;
        Ok(MpiCollRequest { op, st: Status { source: self.rank(), tag: ANY_TAG, count, bytes: count * elem } })
    }

    pub fn ibarrier(&self) -> Result<MpiCollRequest> {
        let me = self.rank();
        let start: Starter = Box::new(move |c: MPI_Comm, _: &[i64]| {
            // SAFETY: a valid communicator.
            Ok((issue("ibarrier", me, |r| unsafe { mpi::ffi::MPI_Ibarrier(c, r) })?, None))
        });
        self.nonblocking("ibarrier", Call::new::<u8>("barrier"), None, None, false, (0, 0), start)
    }

    pub fn ibcast<T: Data>(&self, buf: &mut [T], root: usize, err: Option<Error>) -> Result<MpiCollRequest> {
        let (me, n) = (self.rank(), self.count("ibcast", buf.len())?);
        let p = Ptr(recv_ptr(buf));
        let start: Starter = Box::new(move |c: MPI_Comm, _: &[i64]| {
            // SAFETY: `buf` holds n elements, lent to the scope until completion; MPI
            // receives at most n (the counts agreed where they could overflow).
            let req =
                issue("ibcast", me, |r| unsafe { mpi::ffi::MPI_Ibcast(p.0, n, datatype::<T>(), root as c_int, c, r) })?;
            Ok((req, None))
        });
        let call = Call { root, count: buf.len(), ..Call::new::<T>("bcast") };
        self.nonblocking("ibcast", call, err, None, false, (buf.len(), size_of::<T>()), start)
    }

    /// `ireduce` and `iallreduce`, in place where `send` is `recv`.
    pub fn ireduction<T: Data>(&self, r: Reduction<'_, T>) -> Result<MpiCollRequest> {
        let Reduction { name, send, recv, len, op, root, err } = r;
        let (me, n) = (self.rank(), self.count(name, len)?);
        let all = name == "iallreduce";
        // Open MPI refuses equal addresses, which empty slices can have.
        let (s, r) = match recv {
            Some(r) if len > 0 && std::ptr::eq(send, r) => (mpi_in_place(), Ptr(r.cast())),
            Some(_) if len == 0 => (send_ptr::<T>(&[]).cast_mut(), Ptr(recv_ptr::<T>(&mut []))),
            Some(r) => (send.cast_mut().cast(), Ptr(r.cast())),
            None => (send.cast_mut().cast(), Ptr(std::ptr::null_mut())),
        };
        let (s, kind, op) = (Ptr(s), op.kind(), op.clone());
        let start: Starter = Box::new(move |c: MPI_Comm, _: &[i64]| {
            let (reduction, keep) = match system_op(&op) {
                Some(sys) => ((sys, datatype::<T>()), None),
                None => {
                    let u = UserReduction::new(&op, me)?;
                    (u.raw(), Some(Box::new(u) as Box<dyn Any>))
                }
            };
            let (mop, dt) = reduction;
            // SAFETY: the buffers hold n elements where significant (checked), lent to
            // the scope until completion; `keep` holds the user op until then.
            let req = issue(name, me, |q| unsafe {
                if all {
                    mpi::ffi::MPI_Iallreduce(s.0, r.0, n, dt, mop, c, q)
                } else {
                    mpi::ffi::MPI_Ireduce(s.0, r.0, n, dt, mop, root as c_int, c, q)
                }
            })?;
            Ok((req, keep))
        });
        let base = if all { "allreduce" } else { "reduce" };
        let call = Call { root, count: len, op_kind: Some(kind), ..Call::new::<T>(base) };
        let got = if recv.is_some() { len } else { 0 };
        self.nonblocking(name, call, err, None, false, (got, size_of::<T>()), start)
    }

    /// `igather` (no layout) and `igatherv` (the root's layout).
    pub fn igather<T: Data>(
        &self,
        name: &'static str,
        send: &[T],
        recv: Option<(*mut T, Option<&Layout>)>,
        root: usize,
        err: Option<Error>,
    ) -> Result<MpiCollRequest> {
        let (me, p) = (self.rank(), self.size());
        let n = self.count(name, send.len())?;
        let recv = recv.filter(|_| me == root);
        let layout = recv.and_then(|(_, l)| l);
        let (counts, displs) = match layout {
            Some(l) => self.counts(name, l)?,
            None => (Vec::new(), Vec::new()),
        };
        let (s, r) = (Ptr(send_ptr(send).cast_mut()), Ptr(recv.map_or(std::ptr::null_mut(), |(b, _)| b.cast())));
        let v = layout.is_some() || name == "igatherv";
        let start: Starter = Box::new(move |c: MPI_Comm, _: &[i64]| {
            let dt = datatype::<T>();
            // SAFETY: the root's buffer holds every block (checked locally; the counts
            // agreed across ranks), lent to the scope until completion; the counts live
            // in `keep` until then.
            let req = issue(name, me, |q| unsafe {
                if v {
                    mpi::ffi::MPI_Igatherv(s.0, n, dt, r.0, counts.as_ptr(), displs.as_ptr(), dt, root as c_int, c, q)
                } else {
                    mpi::ffi::MPI_Igather(s.0, n, dt, r.0, n, dt, root as c_int, c, q)
                }
            })?;
            Ok((req, Some(Box::new((counts, displs)) as Box<dyn Any>)))
        });
        let base = if v { "gatherv" } else { "gather" };
        let call = Call { root, count: send.len(), layout, ..Call::new::<T>(base) };
        let extra = v.then(|| call.per_rank(me, p)).flatten();
        let got = layout.map_or(if recv.is_some() { send.len() * p } else { 0 }, Layout::extent);
        self.nonblocking(name, call, err, extra, v, (got, size_of::<T>()), start)
    }

    /// `iscatter` (no layout) and `iscatterv` (the root's layout); a `iscatterv`
    /// receiver learns its count from the agreement.
    pub fn iscatter<T: Data>(
        &self,
        name: &'static str,
        send: Option<(&[T], Option<&Layout>)>,
        recv: &mut [T],
        root: usize,
        err: Option<Error>,
    ) -> Result<MpiCollRequest> {
        let (me, p) = (self.rank(), self.size());
        let nr = self.count(name, recv.len())?;
        let send = send.filter(|_| me == root);
        let layout = send.and_then(|(_, l)| l);
        let v = name == "iscatterv";
        let (counts, displs) = match layout {
            Some(l) => self.counts(name, l)?,
            None => (Vec::new(), Vec::new()),
        };
        let s = Ptr(send.map_or(std::ptr::null_mut(), |(b, _)| send_ptr(b).cast_mut()));
        let r = Ptr(recv_ptr(recv));
        let start: Starter = Box::new(move |c: MPI_Comm, agreed: &[i64]| {
            let dt = datatype::<T>();
            // What the root sends this rank: agreed to fit `recv` (see `Call::per_rank`).
            let mine = if v { (-agreed[HEADER + me]).clamp(0, i64::from(nr)) as c_int } else { nr };
            // SAFETY: the root's buffer holds every block (checked locally); this rank
            // receives `mine` elements, which its buffer holds; all lent to the scope
            // until completion, the counts kept in `keep`.
            let req = issue(name, me, |q| unsafe {
                if v {
                    mpi::ffi::MPI_Iscatterv(
                        s.0,
                        counts.as_ptr(),
                        displs.as_ptr(),
                        dt,
                        r.0,
                        mine,
                        dt,
                        root as c_int,
                        c,
                        q,
                    )
                } else {
                    mpi::ffi::MPI_Iscatter(s.0, nr, dt, r.0, nr, dt, root as c_int, c, q)
                }
            })?;
            Ok((req, Some(Box::new((counts, displs)) as Box<dyn Any>)))
        });
        let base = if v { "scatterv" } else { "scatter" };
        let call = Call { root, count: recv.len(), recv_len: recv.len(), layout, ..Call::new::<T>(base) };
        let extra = v.then(|| call.per_rank(me, p)).flatten();
        self.nonblocking(name, call, err, extra, v, (recv.len(), size_of::<T>()), start)
    }

    /// `iallgather` (no layout) and `iallgatherv`.
    pub fn iallgather<T: Data>(
        &self,
        name: &'static str,
        send: &[T],
        recv: &mut [T],
        layout: Option<&Layout>,
        err: Option<Error>,
    ) -> Result<MpiCollRequest> {
        let me = self.rank();
        let n = self.count(name, send.len())?;
        let (counts, displs) = match layout {
            Some(l) => self.counts(name, l)?,
            None => (Vec::new(), Vec::new()),
        };
        let (s, r) = (Ptr(send_ptr(send).cast_mut()), Ptr(recv_ptr(recv)));
        let v = layout.is_some();
        let start: Starter = Box::new(move |c: MPI_Comm, _: &[i64]| {
            let dt = datatype::<T>();
            // SAFETY: `recv` holds every block (checked locally; layouts or counts
            // agreed), lent to the scope until completion; counts kept in `keep`.
            let req = issue(name, me, |q| unsafe {
                if v {
                    mpi::ffi::MPI_Iallgatherv(s.0, n, dt, r.0, counts.as_ptr(), displs.as_ptr(), dt, c, q)
                } else {
                    mpi::ffi::MPI_Iallgather(s.0, n, dt, r.0, n, dt, c, q)
                }
            })?;
            Ok((req, Some(Box::new((counts, displs)) as Box<dyn Any>)))
        });
        let base = if v { "allgatherv" } else { "allgather" };
        let call = Call { count: send.len(), layout, ..Call::new::<T>(base) };
        self.nonblocking(name, call, err, None, v, (recv.len(), size_of::<T>()), start)
    }

    /// `ialltoall` (equal blocks) and `ialltoallv` (send and receive layouts).
    pub fn ialltoall<T: Data>(
        &self,
        name: &'static str,
        send: &[T],
        recv: &mut [T],
        layouts: Option<(&Layout, &Layout)>,
        err: Option<Error>,
    ) -> Result<MpiCollRequest> {
        let (me, p) = (self.rank(), self.size());
        let block = self.count(name, send.len() / p.max(1))?;
        let (sc, sd, rc, rd) = match layouts {
            Some((sl, rl)) => {
                let (sc, sd) = self.counts(name, sl)?;
                let (rc, rd) = self.counts(name, rl)?;
                (sc, sd, rc, rd)
            }
            None => Default::default(),
        };
        let (s, r) = (Ptr(send_ptr(send).cast_mut()), Ptr(recv_ptr(recv)));
        let v = layouts.is_some();
        // Each pair's counts, compared across the ranks: field (i, j) is what i sends j.
        let extra = layouts.map(|(sl, rl)| {
            let mut f: Vec<Field> = vec![FREE; p * p];
            for j in 0..p {
                f[me * p + j] = (sl.counts()[j] as i64, sl.counts()[j] as i64);
            }
            for i in 0..p {
                let (e, x) = (rl.counts()[i] as i64, f[i * p + me]);
                f[i * p + me] = if i == me { (x.0.max(e), x.1.min(e)) } else { (e, e) };
            }
            f
        });
        let start: Starter = Box::new(move |c: MPI_Comm, _: &[i64]| {
            let dt = datatype::<T>();
            // SAFETY: the layouts fit the buffers (checked locally) and agree pairwise
            // (agreement), or equal blocks fit both (checked); lent to the scope until
            // completion, counts kept in `keep`.
            let req = issue(name, me, |q| unsafe {
                if v {
                    mpi::ffi::MPI_Ialltoallv(s.0, sc.as_ptr(), sd.as_ptr(), dt, r.0, rc.as_ptr(), rd.as_ptr(), dt, c, q)
                } else {
                    mpi::ffi::MPI_Ialltoall(s.0, block, dt, r.0, block, dt, c, q)
                }
            })?;
            Ok((req, Some(Box::new((sc, sd, rc, rd)) as Box<dyn Any>)))
        });
        let base = if v { "alltoallv" } else { "alltoall" };
        let (layout, layout2) = layouts.map_or((None, None), |(a, b)| (Some(a), Some(b)));
        let call = Call { count: send.len() / p.max(1), layout, layout2, ..Call::new::<T>(base) };
        self.nonblocking(name, call, err, extra, v, (recv.len(), size_of::<T>()), start)
    }
}
