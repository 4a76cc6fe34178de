//! Nonblocking collectives on the thread backend (see `pending` for how they progress).
//!
//! Each call checks its own arguments, publishes its part and returns a request; the
//! rank whose part completes the set checks that all parts agree and moves the data of
//! every rank (`perform`). The buffers stay lent to the caller's scope until then.

mod pending;
mod perform;

use std::sync::Arc;

use super::channel::type_tag;
use super::comm::ThreadComm;
use crate::collective::Layout;
use crate::data::Data;
use crate::error::{Error, Result};
use crate::p2p::{Status, ANY_TAG};
use crate::scope::Reduction;
use pending::Part;
pub(crate) use pending::Pending;

/// A nonblocking collective in flight, as its request holds it.
pub(crate) struct CollRequest<'a> {
    pub comm: &'a ThreadComm,
    pub pending: Arc<Pending>,
    op: &'static str,
    st: Status,
}

impl<'a> CollRequest<'a> {
    pub fn wait(self) -> Result<Status> {
        self.comm.wait_nonblocking(&self.pending, self.op).map(|()| self.st)
    }

    pub fn test(&mut self) -> Result<Option<Status>> {
        self.comm.progress_posted();
        self.pending.outcome().transpose().map(|o| o.map(|()| self.st))
    }

    /// What a scope needs to complete the collective.
    pub fn parts(&self) -> (&'a ThreadComm, Arc<Pending>, &'static str) {
        (self.comm, self.pending.clone(), self.op)
    }
}

/// Completes a collective at the end of its scope (its result went to its request).
pub(crate) fn end(comm: &ThreadComm, pending: &Pending, op: &'static str) {
    let _ = comm.wait_nonblocking(pending, op);
}

/// Counts every rank must pass alike.
fn counts_equal(parts: &[Part]) -> Option<String> {
    let c0 = parts[0].count;
    let op = parts[0].op;
    (1..parts.len())
        .find(|&r| parts[r].count != c0)
        .map(|r| format!("{op}: rank 0 passes {c0} elements but rank {r} passes {}", parts[r].count))
}

impl ThreadComm {
    /// Publishes `part` (with this rank's argument error, if any) and returns the request;
    /// with an error, returns it after publishing, so the others fail too.
    fn nonblocking<T: Data>(
        &self,
        mut part: Part,
        err: Option<Error>,
        received: usize,
        agree: impl FnOnce(&[Part]) -> Option<String>,
        perform: impl FnOnce(&[Part]),
    ) -> Result<CollRequest<'_>> {
        let op = part.op;
        part.err = err.as_ref().map(Error::to_string);
        let pending = self.start_nonblocking(part, agree, perform);
        if let Some(e) = err {
            return Err(e);
        }
        Ok(CollRequest { comm: self, pending, op, st: Status::of::<T>(self.rank, ANY_TAG, received) })
    }

    pub fn ibarrier(&self) -> Result<CollRequest<'_>> {
        self.nonblocking::<u8>(Part::new("ibarrier", type_tag::<u8>), None, 0, |_| None, |_| ())
    }

    pub fn ibcast<T: Data>(&self, buf: &mut [T], root: usize, err: Option<Error>) -> Result<CollRequest<'_>> {
        let part = Part { root, count: buf.len(), recv: buf.as_mut_ptr().cast(), ..Part::new("ibcast", type_tag::<T>) };
        // SAFETY: every rank's buffer holds `count` elements (checked equal).
        self.nonblocking::<T>(part, err, buf.len(), counts_equal, |p| unsafe { perform::bcast::<T>(p) })
    }

    /// `ireduce` and `iallreduce`; in place where `send` is `recv`.
    pub fn ireduction<T: Data>(&self, r: Reduction<'_, T>) -> Result<CollRequest<'_>> {
        let Reduction { name, send, recv, len: n, op, root, err } = r;
        let to_all = name == "iallreduce";
        let part = Part {
            root,
            count: n,
            send: send.cast(),
            recv: recv.map_or(std::ptr::null_mut(), |r| r.cast()),
            op_kind: Some(op.kind()),
            ..Part::new(name, type_tag::<T>)
        };
        let got = if recv.is_some() { n } else { 0 };
        // SAFETY: sends hold n elements, receive buffers too where they are
        // written (checked locally and equal across ranks).
        self.nonblocking::<T>(part, err, got, counts_equal, |p| unsafe { perform::reduce::<T>(p, op, to_all) })
    }

    /// `igather` (`layout` None at the root) and `igatherv`.
    pub fn igather<T: Data>(
        &self,
        name: &'static str,
        send: &[T],
        recv: Option<(*mut T, Option<&Layout>)>,
        root: usize,
        err: Option<Error>,
    ) -> Result<CollRequest<'_>> {
        let mut part = Part { root, count: send.len(), send: send.as_ptr().cast(), ..Part::new(name, type_tag::<T>) };
        let mut got = 0;
        if let Some((b, l)) = recv.filter(|_| self.rank == root) {
            part.recv = b.cast();
            part.layout = l.cloned();
            got = l.map_or(send.len() * self.size(), Layout::extent);
        }
        let agree = move |p: &[Part]| match &p[root].layout {
            None => counts_equal(p),
            Some(l) => (0..p.len()).find(|&r| p[r].count != l.counts()[r]).map(|r| {
                format!(
                    "{name}: rank {r} sends {} elements but the root's layout expects {}",
                    p[r].count,
                    l.counts()[r]
                )
            }),
        };
        // SAFETY: the root's buffer holds every block (checked locally, and the
        // counts against the layout or equal).
        self.nonblocking::<T>(part, err, got, agree, |p| unsafe { perform::gather::<T>(p) })
    }

    /// `iscatter` (`layout` None) and `iscatterv`.
    pub fn iscatter<T: Data>(
        &self,
        name: &'static str,
        send: Option<(&[T], Option<&Layout>)>,
        recv: &mut [T],
        root: usize,
        err: Option<Error>,
    ) -> Result<CollRequest<'_>> {
        let mut part = Part {
            root,
            count: recv.len(),
            recv: recv.as_mut_ptr().cast(),
            recv_len: recv.len(),
            ..Part::new(name, type_tag::<T>)
        };
        if let Some((b, l)) = send.filter(|_| self.rank == root) {
            part.send = b.as_ptr().cast();
            part.layout = l.cloned();
        }
        let agree = move |p: &[Part]| match &p[root].layout {
            None => counts_equal(p),
            Some(l) => (0..p.len()).find(|&r| p[r].recv_len < l.counts()[r]).map(|r| {
                format!(
                    "{name}: the root sends {} elements to rank {r}, whose buffer holds {}",
                    l.counts()[r],
                    p[r].recv_len
                )
            }),
        };
        // SAFETY: the root's buffer holds every block; each receiver's its own (checked).
        self.nonblocking::<T>(part, err, recv.len(), agree, |p| unsafe { perform::scatter::<T>(p) })
    }

    /// `iallgather` (`layout` None) and `iallgatherv`.
    pub fn iallgather<T: Data>(
        &self,
        name: &'static str,
        send: &[T],
        recv: &mut [T],
        layout: Option<&Layout>,
        err: Option<Error>,
    ) -> Result<CollRequest<'_>> {
        let part = Part {
            count: send.len(),
            send: send.as_ptr().cast(),
            recv: recv.as_mut_ptr().cast(),
            recv_len: recv.len(),
            layout: layout.cloned(),
            ..Part::new(name, type_tag::<T>)
        };
        let agree = move |p: &[Part]| match &p[0].layout {
            None => counts_equal(p),
            Some(l0) => (1..p.len())
                .find(|&r| p[r].layout.as_ref().map(Layout::counts) != Some(l0.counts()))
                .map(|r| format!("{name}: ranks 0 and {r} pass different layouts")),
        };
        // SAFETY: every receive buffer holds every block (checked).
        self.nonblocking::<T>(part, err, recv.len(), agree, |p| unsafe { perform::allgather::<T>(p) })
    }

    /// `ialltoall` (no layouts: blocks of `send.len() / p`) and `ialltoallv`.
    pub fn ialltoall<T: Data>(
        &self,
        name: &'static str,
        send: &[T],
        recv: &mut [T],
        layouts: Option<(&Layout, &Layout)>,
        err: Option<Error>,
    ) -> Result<CollRequest<'_>> {
        let p = self.size();
        let part = Part {
            count: send.len() / p,
            send: send.as_ptr().cast(),
            recv: recv.as_mut_ptr().cast(),
            recv_len: recv.len(),
            layout: layouts.map(|(s, _)| s.clone()),
            layout2: layouts.map(|(_, r)| r.clone()),
            ..Part::new(name, type_tag::<T>)
        };
        let agree = move |parts: &[Part]| {
            if parts[0].layout.is_none() {
                return counts_equal(parts);
            }
            for (i, from) in parts.iter().enumerate() {
                for (j, to) in parts.iter().enumerate() {
                    let sent = from.layout.as_ref().map_or(0, |l| l.counts()[j]);
                    let expected = to.layout2.as_ref().map_or(0, |l| l.counts()[i]);
                    if sent != expected {
                        return Some(format!(
                            "{name}: rank {i} sends {sent} elements to rank {j}, which expects {expected}"
                        ));
                    }
                }
            }
            None
        };
        // SAFETY: layouts checked against the buffers and pairwise; blocks of
        // `count` otherwise (lengths checked locally, counts equal).
        self.nonblocking::<T>(part, err, recv.len(), agree, |p| unsafe { perform::alltoall::<T>(p) })
    }
}
