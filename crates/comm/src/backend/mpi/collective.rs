//! Collectives on MPI: each is MPI's own collective (`MPI_Bcast`, `MPI_Allreduce`, ...),
//! after the local argument checks shared with the thread backend
//! ([`Caller`](crate::collective::Caller)) and the agreement of [`super::agree`].
//!
//! Every count passed to MPI for a receive comes from the length of the local buffer
//! (checked before the call), never from what another rank might send. That is not
//! enough: Open MPI 4.1 writes a large message (above its eager limit) whole into the
//! receive buffer even when the receive count is smaller. So the ranks agree before
//! any message of `AGREE_FROM_BYTES` or more is sent, and before every `gatherv`,
//! `allgatherv`, `alltoallv` (see `Call::needs_agreement`); `scatterv` tells each rank
//! its count first. A small message longer than the receive count is `MPI_ERR_TRUNCATE`,
//! returned as `Error::CollectiveMismatch`; what MPI cannot tell for small messages (a
//! shorter message, ranks that wait for each other) only the agreement check
//! (`JobOptions::check_collectives`) catches. Without it, a rank whose arguments are
//! wrong returns its error and the job is aborted when that error leaves the rank (see
//! `run`), and the watchdog ends a job that hangs.

use std::ffi::c_void;
use std::os::raw::c_int;

mod in_place;
pub(super) use in_place::mpi_in_place;
mod reduce_scatter;

use super::agree::checking;
use super::comm::MpiComm;
use super::types::{datatype, system_op, with_op};
use super::watchdog;
use crate::collective::agree::{Call, AGREE_FROM_BYTES};
use crate::collective::{Caller, Layout};
use crate::data::{Data, Op};
use crate::error::{Error, Result};

/// Distinct, valid addresses for empty buffers: Open MPI refuses a reduction whose send
/// and receive buffers are the same address (or `MPI_IN_PLACE`), which empty slices can be.
static EMPTY_SEND: u64 = 0;

/// A send buffer's address, never equal to a receive buffer's.
pub(super) fn send_ptr<T>(s: &[T]) -> *const c_void {
    if s.is_empty() {
        (&EMPTY_SEND as *const u64).cast()
    } else {
        s.as_ptr().cast()
    }
}

static EMPTY_RECV: u64 = 0;

/// A receive buffer's address; for an empty one, a distinct valid address that is not
/// `MPI_IN_PLACE` (which is address 1 in Open MPI: the dangling address of an empty `[u8]`).
/// MPI writes nothing there: the count is 0.
pub(super) fn recv_ptr<T>(s: &mut [T]) -> *mut c_void {
    if s.is_empty() {
        (&EMPTY_RECV as *const u64).cast_mut().cast()
    } else {
        s.as_mut_ptr().cast()
    }
}

/// MPI's "no buffer" for arguments only significant at the root.
fn null() -> *mut c_void {
    std::ptr::null_mut()
}

impl MpiComm {
    /// This rank, for the argument checks shared with the thread backend.
    pub(super) fn caller(&self) -> Caller {
        Caller { rank: self.rank(), size: self.size() }
    }

    /// Runs one MPI collective under the watchdog and turns its return code into a result.
    /// A truncation means the ranks passed different lengths.
    #[inline]
    pub(super) fn collective(&self, op: &'static str, call: impl FnOnce() -> c_int) -> Result<()> {
        let rc = {
            let _w = watchdog::enter(op, || "all ranks".into(), None);
            call()
        };
        if rc == mpi::ffi::MPI_SUCCESS as c_int {
            return Ok(());
        }
        self.collective_failed(op, rc)
    }

    #[cold]
    #[inline(never)]
    fn collective_failed(&self, op: &'static str, rc: c_int) -> Result<()> {
        if Self::error_class(rc) == mpi::ffi::MPI_ERR_TRUNCATE as c_int {
            let details = format!("{op}: ranks passed buffers of different lengths (MPI: message truncated)");
            return Err(Error::CollectiveMismatch { caller: self.rank(), details });
        }
        self.check(op, rc)
    }

    pub(super) fn counts(&self, op: &'static str, l: &Layout) -> Result<(Vec<c_int>, Vec<c_int>)> {
        let c = l.counts().iter().map(|&n| self.count(op, n)).collect::<Result<_>>()?;
        let d = l.displs().iter().map(|&n| self.count(op, n)).collect::<Result<_>>()?;
        Ok((c, d))
    }

    pub fn barrier(&self) -> Result<()> {
        self.agree(Call::new::<u8>("barrier"), None)?;
        // SAFETY: a valid communicator.
        self.collective("barrier", || unsafe { mpi::ffi::MPI_Barrier(self.raw()) })
    }

    pub fn bcast<T: Data>(&self, buf: &mut [T], root: usize) -> Result<()> {
        self.agree(Call { root, count: buf.len(), ..Call::new::<T>("bcast") }, self.caller().bcast(root))?;
        let n = self.count("bcast", buf.len())?;
        // SAFETY: `buf` holds n elements of the datatype; MPI receives at most n.
        self.collective("bcast", || unsafe {
            mpi::ffi::MPI_Bcast(buf.as_mut_ptr().cast(), n, datatype::<T>(), root as c_int, self.raw())
        })
    }

    pub fn scatter<T: Data>(&self, send: Option<&[T]>, recv: &mut [T], root: usize) -> Result<()> {
        let err = self.caller().scatter(root, send.map(<[T]>::len), recv.len());
        self.agree(Call { root, count: recv.len(), ..Call::new::<T>("scatter") }, err)?;
        let n = self.count("scatter", recv.len())?;
        let sendptr: *const c_void = send.filter(|_| self.rank() == root).map_or(null(), |b| b.as_ptr().cast());
        let dt = datatype::<T>();
        // SAFETY: the root's buffer holds p * n elements (checked); `recv` holds n, and
        // MPI receives at most n.
        self.collective("scatter", || unsafe {
            mpi::ffi::MPI_Scatter(sendptr, n, dt, recv.as_mut_ptr().cast(), n, dt, root as c_int, self.raw())
        })
    }

    pub fn scatterv<T: Data>(&self, send: Option<(&[T], &Layout)>, recv: &mut [T], root: usize) -> Result<()> {
        let me = self.rank();
        let err = self.caller().scatterv(root, send.map(|(b, l)| (b.len(), l)));
        let send = send.filter(|_| me == root);
        let layout = send.map(|(_, l)| l);
        self.agree(Call { root, recv_len: recv.len(), layout, ..Call::new::<T>("scatterv") }, err)?;
        let nr = self.count("scatterv", recv.len())?;
        let r = root as c_int;
        let (mut sendptr, mut counts, mut displs) = (null() as *const c_void, Vec::new(), Vec::new());
        if let Some((b, l)) = send {
            (counts, displs) = self.counts("scatterv", l)?;
            sendptr = b.as_ptr().cast();
        }
        // MPI wants each rank to receive exactly its count: the root tells them first.
        let mut mine: c_int = 0;
        let countsptr: *const c_void = if me == root { counts.as_ptr().cast() } else { std::ptr::null() };
        let int = datatype::<i32>();
        // SAFETY: the root's counts hold p ints; `mine` holds one.
        self.collective("scatterv", || unsafe {
            mpi::ffi::MPI_Scatter(countsptr, 1, int, (&mut mine as *mut c_int).cast(), 1, int, r, self.raw())
        })?;
        // A block longer than `recv` is received into scratch space and refused: the root
        // is not left waiting, and no stale message is left to match a later scatterv.
        let mut scratch = Vec::new();
        let into: *mut c_void = if mine > nr {
            scratch.resize(mine as usize, T::zeroed());
            scratch.as_mut_ptr().cast()
        } else {
            recv.as_mut_ptr().cast()
        };
        let dt = datatype::<T>();
        // SAFETY: the layout fits the root's buffer (checked); `into` holds at least `mine` elements.
        self.collective("scatterv", || unsafe {
            mpi::ffi::MPI_Scatterv(sendptr, counts.as_ptr(), displs.as_ptr(), dt, into, mine, dt, r, self.raw())
        })?;
        if mine > nr {
            let msg = format!("scatterv: the root sends {mine} elements to rank {me}, whose buffer holds {nr}");
            return Err(Error::CollectiveMismatch { caller: me, details: msg });
        }
        Ok(())
    }

    pub fn gather<T: Data>(&self, send: &[T], recv: Option<&mut [T]>, root: usize) -> Result<()> {
        let err = self.caller().gather(root, send.len(), recv.as_ref().map(|b| b.len()));
        self.agree(Call { root, count: send.len(), ..Call::new::<T>("gather") }, err)?;
        let n = self.count("gather", send.len())?;
        let recvptr = recv.filter(|_| self.rank() == root).map_or(null(), |b| b.as_mut_ptr().cast());
        let dt = datatype::<T>();
        // SAFETY: the root's buffer holds p * n elements (checked), and MPI receives at
        // most n from each rank.
        self.collective("gather", || unsafe {
            mpi::ffi::MPI_Gather(send.as_ptr().cast(), n, dt, recvptr, n, dt, root as c_int, self.raw())
        })
    }

    pub fn gatherv<T: Data>(&self, send: &[T], recv: Option<(&mut [T], &Layout)>, root: usize) -> Result<()> {
        let me = self.rank();
        let err = self.caller().gatherv(root, recv.as_ref().map(|(b, l)| (b.len(), *l)));
        let recv = recv.filter(|_| me == root);
        let layout = recv.as_ref().map(|(_, l)| *l);
        self.agree(Call { root, count: send.len(), layout, ..Call::new::<T>("gatherv") }, err)?;
        let n = self.count("gatherv", send.len())?;
        let (mut recvptr, mut counts, mut displs) = (null(), Vec::new(), Vec::new());
        if let Some((b, l)) = recv {
            if l.counts()[me] != send.len() {
                let details =
                    format!("gatherv: rank {me} sends {n} elements but the root's layout expects {}", l.counts()[me]);
                return Err(Error::CollectiveMismatch { caller: me, details });
            }
            (counts, displs) = self.counts("gatherv", l)?;
            recvptr = b.as_mut_ptr().cast();
        }
        let dt = datatype::<T>();
        // SAFETY: the layout fits the root's buffer (checked), and MPI receives at most
        // counts[r] elements from rank r.
        self.collective("gatherv", || unsafe {
            mpi::ffi::MPI_Gatherv(
                send.as_ptr().cast(),
                n,
                dt,
                recvptr,
                counts.as_ptr(),
                displs.as_ptr(),
                dt,
                root as c_int,
                self.raw(),
            )
        })
    }

    pub fn allgather<T: Data>(&self, send: &[T], recv: &mut [T]) -> Result<()> {
        let err = self.caller().allgather(send.len(), recv.len());
        self.agree(Call { count: send.len(), ..Call::new::<T>("allgather") }, err)?;
        let n = self.count("allgather", send.len())?;
        let dt = datatype::<T>();
        // SAFETY: `recv` holds p * n elements (checked), and MPI receives at most n from each rank.
        self.collective("allgather", || unsafe {
            mpi::ffi::MPI_Allgather(send.as_ptr().cast(), n, dt, recv.as_mut_ptr().cast(), n, dt, self.raw())
        })
    }

    pub fn allgatherv<T: Data>(&self, send: &[T], recv: &mut [T], layout: &Layout) -> Result<()> {
        let err = self.caller().allgatherv(send.len(), recv.len(), layout);
        self.agree(Call { layout: Some(layout), ..Call::new::<T>("allgatherv") }, err)?;
        let n = self.count("allgatherv", send.len())?;
        let (counts, displs) = self.counts("allgatherv", layout)?;
        let dt = datatype::<T>();
        // SAFETY: the layout fits `recv` (checked), and MPI receives at most counts[r]
        // elements from rank r.
        self.collective("allgatherv", || unsafe {
            mpi::ffi::MPI_Allgatherv(
                send.as_ptr().cast(),
                n,
                dt,
                recv.as_mut_ptr().cast(),
                counts.as_ptr(),
                displs.as_ptr(),
                dt,
                self.raw(),
            )
        })
    }

    pub fn reduce<T: Data>(&self, send: &[T], recv: Option<&mut [T]>, op: &Op<T>, root: usize) -> Result<()> {
        let err = self.caller().reduce(root, send.len(), recv.as_ref().map(|b| b.len()));
        self.agree(Call { root, count: send.len(), op_kind: Some(op.kind()), ..Call::new::<T>("reduce") }, err)?;
        let n = self.count("reduce", send.len())?;
        let recvptr = recv.filter(|_| self.rank() == root).map_or(null(), recv_ptr);
        // SAFETY: `send` holds n elements and the root's buffer at least n (checked).
        with_op(op, self.rank(), |mop, dt| {
            // SAFETY: as above.
            self.collective("reduce", || unsafe {
                mpi::ffi::MPI_Reduce(send_ptr(send), recvptr, n, dt, mop, root as c_int, self.raw())
            })
        })
    }

    #[inline]
    pub fn allreduce<T: Data>(&self, send: &[T], recv: &mut [T], op: &Op<T>) -> Result<()> {
        // The common case in one MPI call: non-empty buffers of equal length, an `int`
        // count, one of MPI's own ops, no watchdog, no agreement check.
        if let Some(mop) = system_op(op) {
            if !send.is_empty()
                && recv.len() == send.len()
                && send.len() <= c_int::MAX as usize
                && !watchdog::enabled()
                && !checking()
                && std::mem::size_of_val(send) < AGREE_FROM_BYTES
            {
                // SAFETY: both buffers hold send.len() elements of the datatype.
                let rc = unsafe {
                    mpi::ffi::MPI_Allreduce(
                        send.as_ptr().cast(),
                        recv.as_mut_ptr().cast(),
                        send.len() as c_int,
                        datatype::<T>(),
                        mop,
                        self.raw(),
                    )
                };
                if rc == mpi::ffi::MPI_SUCCESS as c_int {
                    return Ok(());
                }
                return self.collective_failed("allreduce", rc);
            }
        }
        self.reduction("allreduce", send, recv, op, |s, r, n, dt, mop, c| {
            // SAFETY: both buffers hold at least n elements (checked).
            unsafe { mpi::ffi::MPI_Allreduce(s, r, n, dt, mop, c) }
        })
    }

    pub fn scan<T: Data>(&self, send: &[T], recv: &mut [T], op: &Op<T>) -> Result<()> {
        self.reduction("scan", send, recv, op, |s, r, n, dt, mop, c| {
            // SAFETY: both buffers hold at least n elements (checked).
            unsafe { mpi::ffi::MPI_Scan(s, r, n, dt, mop, c) }
        })
    }

    pub fn exscan<T: Data>(&self, send: &[T], recv: &mut [T], op: &Op<T>) -> Result<()> {
        // MPI leaves rank 0's buffer undefined; parsci promises to leave it as it is.
        let mut scratch = Vec::new();
        let out = if self.rank() == 0 {
            scratch.resize(recv.len(), T::zeroed());
            &mut scratch[..]
        } else {
            recv
        };
        self.reduction("exscan", send, out, op, |s, r, n, dt, mop, c| {
            // SAFETY: both buffers hold at least n elements (checked).
            unsafe { mpi::ffi::MPI_Exscan(s, r, n, dt, mop, c) }
        })
    }

    /// `allreduce`, `scan`, `exscan`: checks, then `call(send, recv, n, datatype, op, comm)`.
    fn reduction<T: Data>(
        &self,
        name: &'static str,
        send: &[T],
        recv: &mut [T],
        op: &Op<T>,
        call: impl FnOnce(
            *const c_void,
            *mut c_void,
            c_int,
            mpi::ffi::MPI_Datatype,
            mpi::ffi::MPI_Op,
            mpi::ffi::MPI_Comm,
        ) -> c_int,
    ) -> Result<()> {
        let err = self.caller().reduced(name, send.len(), recv.len());
        self.agree(Call { count: send.len(), op_kind: Some(op.kind()), ..Call::new::<T>(name) }, err)?;
        let n = self.count(name, send.len())?;
        with_op(op, self.rank(), |mop, dt| {
            self.collective(name, || call(send_ptr(send), recv_ptr(recv), n, dt, mop, self.raw()))
        })
    }

    pub fn alltoall<T: Data>(&self, send: &[T], recv: &mut [T]) -> Result<()> {
        let p = self.size();
        let err = self.caller().alltoall(send.len(), recv.len());
        self.agree(Call { count: send.len() / p, ..Call::new::<T>("alltoall") }, err)?;
        let k = self.count("alltoall", send.len() / p)?;
        let dt = datatype::<T>();
        // SAFETY: both buffers hold p blocks of k elements (checked), and MPI receives at
        // most k from each rank.
        self.collective("alltoall", || unsafe {
            mpi::ffi::MPI_Alltoall(send.as_ptr().cast(), k, dt, recv.as_mut_ptr().cast(), k, dt, self.raw())
        })
    }

    pub fn alltoallv<T: Data>(&self, send: &[T], sl: &Layout, recv: &mut [T], rl: &Layout) -> Result<()> {
        let err = self.caller().alltoallv(send.len(), sl, recv.len(), rl);
        self.agree(Call { layout: Some(sl), layout2: Some(rl), ..Call::new::<T>("alltoallv") }, err)?;
        let (sc, sd) = self.counts("alltoallv", sl)?;
        let (rc, rd) = self.counts("alltoallv", rl)?;
        let dt = datatype::<T>();
        // SAFETY: both layouts fit their buffers (checked), and MPI receives at most rc[r]
        // elements from rank r.
        self.collective("alltoallv", || unsafe {
            mpi::ffi::MPI_Alltoallv(
                send.as_ptr().cast(),
                sc.as_ptr(),
                sd.as_ptr(),
                dt,
                recv.as_mut_ptr().cast(),
                rc.as_ptr(),
                rd.as_ptr(),
                dt,
                self.raw(),
            )
        })
    }
}
