//! Collectives on MPI: each is MPI's own collective (`MPI_Bcast`, `MPI_Allreduce`, ...),
//! after the same local argument checks as on threads. MPI cannot compare arguments
//! across ranks: a rank whose arguments are wrong returns its error, and the job is
//! aborted when that error leaves the rank (see `run`), so nobody waits forever.

use std::ffi::c_void;
use std::os::raw::c_int;

use super::comm::MpiComm;
use super::types::{datatype, system_op, with_op};
use super::watchdog;
use crate::collective::{check_layout, Layout};
use crate::data::{Data, Op};
use crate::error::{Error, Result};

/// Distinct, valid addresses for empty buffers: Open MPI refuses a reduction whose send
/// and receive buffers are the same address (or `MPI_IN_PLACE`), which empty slices can be.
static EMPTY_SEND: u64 = 0;

/// A send buffer's address, never equal to a receive buffer's.
fn send_ptr<T>(s: &[T]) -> *const c_void {
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
fn recv_ptr<T>(s: &mut [T]) -> *mut c_void {
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
    fn invalid(&self, op: &'static str, msg: String) -> Error {
        Error::InvalidArgument { op, caller: self.rank(), msg }
    }

    fn check_root(&self, op: &'static str, root: usize) -> Result<c_int> {
        if root >= self.size() {
            return Err(Error::RootOutOfRange { op, caller: self.rank(), root, size: self.size() });
        }
        Ok(root as c_int)
    }

    /// Runs one MPI collective under the watchdog and turns its return code into a result.
    /// A truncation means the ranks passed different lengths.
    #[inline]
    fn collective(&self, op: &'static str, call: impl FnOnce() -> c_int) -> Result<()> {
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

    fn counts(&self, op: &'static str, l: &Layout) -> Result<(Vec<c_int>, Vec<c_int>)> {
        let c = l.counts().iter().map(|&n| self.count(op, n)).collect::<Result<_>>()?;
        let d = l.displs().iter().map(|&n| self.count(op, n)).collect::<Result<_>>()?;
        Ok((c, d))
    }

    pub fn barrier(&self) -> Result<()> {
        // SAFETY: a valid communicator.
        self.collective("barrier", || unsafe { mpi::ffi::MPI_Barrier(self.raw()) })
    }

    pub fn bcast<T: Data>(&self, buf: &mut [T], root: usize) -> Result<()> {
        let root = self.check_root("bcast", root)?;
        let n = self.count("bcast", buf.len())?;
        // SAFETY: `buf` holds n elements of the datatype.
        self.collective("bcast", || unsafe {
            mpi::ffi::MPI_Bcast(buf.as_mut_ptr().cast(), n, datatype::<T>(), root, self.raw())
        })
    }

    pub fn scatter<T: Data>(&self, send: Option<&[T]>, recv: &mut [T], root: usize) -> Result<()> {
        let (me, p) = (self.rank(), self.size());
        let r = self.check_root("scatter", root)?;
        let n = self.count("scatter", recv.len())?;
        let mut sendptr = null() as *const c_void;
        if me == root {
            match send {
                Some(b) if b.len() == recv.len() * p => sendptr = b.as_ptr().cast(),
                Some(b) => {
                    let msg = format!("the root sends {} elements but {p} ranks receive {} each", b.len(), recv.len());
                    return Err(self.invalid("scatter", msg));
                }
                None => return Err(self.invalid("scatter", "the root must pass Some(send buffer)".into())),
            }
        }
        let dt = datatype::<T>();
        // SAFETY: the root's buffer holds p * n elements (checked); `recv` holds n.
        self.collective("scatter", || unsafe {
            mpi::ffi::MPI_Scatter(sendptr, n, dt, recv.as_mut_ptr().cast(), n, dt, r, self.raw())
        })
    }

    pub fn scatterv<T: Data>(&self, send: Option<(&[T], &Layout)>, recv: &mut [T], root: usize) -> Result<()> {
        let (me, p) = (self.rank(), self.size());
        let r = self.check_root("scatterv", root)?;
        let nr = self.count("scatterv", recv.len())?;
        let (mut sendptr, mut counts, mut displs) = (null() as *const c_void, Vec::new(), Vec::new());
        if me == root {
            let Some((b, l)) = send else {
                return Err(self.invalid("scatterv", "the root must pass Some((send buffer, layout))".into()));
            };
            if let Some(e) = check_layout("scatterv", me, l, p, b.len(), "send") {
                return Err(e);
            }
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
        if mine > nr {
            let msg = format!("scatterv: the root sends {mine} elements to rank {me}, whose buffer holds {nr}");
            return Err(Error::CollectiveMismatch { caller: me, details: msg });
        }
        let dt = datatype::<T>();
        // SAFETY: the layout fits the root's buffer (checked); `recv` holds nr >= mine elements.
        self.collective("scatterv", || unsafe {
            mpi::ffi::MPI_Scatterv(
                sendptr,
                counts.as_ptr(),
                displs.as_ptr(),
                dt,
                recv.as_mut_ptr().cast(),
                mine,
                dt,
                r,
                self.raw(),
            )
        })
    }

    pub fn gather<T: Data>(&self, send: &[T], recv: Option<&mut [T]>, root: usize) -> Result<()> {
        let (me, p) = (self.rank(), self.size());
        let r = self.check_root("gather", root)?;
        let n = self.count("gather", send.len())?;
        let mut recvptr = null();
        if me == root {
            match recv {
                Some(b) if b.len() >= send.len() * p => recvptr = b.as_mut_ptr().cast(),
                Some(b) => {
                    let msg = format!("the receive buffer holds {} elements but {p} ranks send {} each", b.len(), n);
                    return Err(self.invalid("gather", msg));
                }
                None => return Err(self.invalid("gather", "the root must pass Some(receive buffer)".into())),
            }
        }
        let dt = datatype::<T>();
        // SAFETY: the root's buffer holds p * n elements (checked).
        self.collective("gather", || unsafe {
            mpi::ffi::MPI_Gather(send.as_ptr().cast(), n, dt, recvptr, n, dt, r, self.raw())
        })
    }

    pub fn gatherv<T: Data>(&self, send: &[T], recv: Option<(&mut [T], &Layout)>, root: usize) -> Result<()> {
        let (me, p) = (self.rank(), self.size());
        let r = self.check_root("gatherv", root)?;
        let n = self.count("gatherv", send.len())?;
        let (mut recvptr, mut counts, mut displs) = (null(), Vec::new(), Vec::new());
        if me == root {
            let Some((b, l)) = recv else {
                return Err(self.invalid("gatherv", "the root must pass Some((receive buffer, layout))".into()));
            };
            if let Some(e) = check_layout("gatherv", me, l, p, b.len(), "receive") {
                return Err(e);
            }
            if l.counts()[me] != send.len() {
                let msg = format!("the layout expects {} elements from the root, which sends {}", l.counts()[me], n);
                return Err(self.invalid("gatherv", msg));
            }
            (counts, displs) = self.counts("gatherv", l)?;
            recvptr = b.as_mut_ptr().cast();
        }
        let dt = datatype::<T>();
        // SAFETY: the layout fits the root's buffer (checked).
        self.collective("gatherv", || unsafe {
            mpi::ffi::MPI_Gatherv(
                send.as_ptr().cast(),
                n,
                dt,
                recvptr,
                counts.as_ptr(),
                displs.as_ptr(),
                dt,
                r,
                self.raw(),
            )
        })
    }

    pub fn allgather<T: Data>(&self, send: &[T], recv: &mut [T]) -> Result<()> {
        let p = self.size();
        let n = self.count("allgather", send.len())?;
        if recv.len() < send.len() * p {
            let msg = format!("the receive buffer holds {} elements but {p} ranks send {n} each", recv.len());
            return Err(self.invalid("allgather", msg));
        }
        let dt = datatype::<T>();
        // SAFETY: `recv` holds p * n elements (checked).
        self.collective("allgather", || unsafe {
            mpi::ffi::MPI_Allgather(send.as_ptr().cast(), n, dt, recv.as_mut_ptr().cast(), n, dt, self.raw())
        })
    }

    pub fn allgatherv<T: Data>(&self, send: &[T], recv: &mut [T], layout: &Layout) -> Result<()> {
        let (me, p) = (self.rank(), self.size());
        let n = self.count("allgatherv", send.len())?;
        if let Some(e) = check_layout("allgatherv", me, layout, p, recv.len(), "receive") {
            return Err(e);
        }
        if layout.counts()[me] != send.len() {
            let msg = format!("the layout expects {} elements from this rank, which sends {n}", layout.counts()[me]);
            return Err(self.invalid("allgatherv", msg));
        }
        let (counts, displs) = self.counts("allgatherv", layout)?;
        let dt = datatype::<T>();
        // SAFETY: the layout fits `recv` (checked).
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

    fn check_reduce_len(&self, op: &'static str, recv_len: usize, n: usize) -> Result<()> {
        if recv_len < n {
            return Err(self.invalid(op, format!("the receive buffer holds {recv_len} elements but {n} are reduced")));
        }
        Ok(())
    }

    pub fn reduce<T: Data>(&self, send: &[T], recv: Option<&mut [T]>, op: &Op<T>, root: usize) -> Result<()> {
        let r = self.check_root("reduce", root)?;
        let n = self.count("reduce", send.len())?;
        let mut recvptr = null();
        if self.rank() == root {
            match recv {
                Some(b) => {
                    self.check_reduce_len("reduce", b.len(), send.len())?;
                    recvptr = recv_ptr(b);
                }
                None => return Err(self.invalid("reduce", "the root must pass Some(receive buffer)".into())),
            }
        }
        // SAFETY: `send` holds n elements and the root's buffer at least n (checked).
        with_op(op, self.rank(), |mop, dt| {
            // SAFETY: as above.
            self.collective("reduce", || unsafe {
                mpi::ffi::MPI_Reduce(send_ptr(send), recvptr, n, dt, mop, r, self.raw())
            })
        })
    }

    #[inline]
    pub fn allreduce<T: Data>(&self, send: &[T], recv: &mut [T], op: &Op<T>) -> Result<()> {
        // The common case in one MPI call: non-empty buffers of equal length, an `int`
        // count, one of MPI's own ops, no watchdog.
        if let Some(mop) = system_op(op) {
            if !send.is_empty() && recv.len() == send.len() && send.len() <= c_int::MAX as usize && !watchdog::enabled()
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
        self.check_reduce_len("allreduce", recv.len(), send.len())?;
        let n = self.count("allreduce", send.len())?;
        // SAFETY: both buffers hold at least n elements (checked).
        with_op(op, self.rank(), |mop, dt| {
            // SAFETY: as above.
            self.collective("allreduce", || unsafe {
                mpi::ffi::MPI_Allreduce(send_ptr(send), recv_ptr(recv), n, dt, mop, self.raw())
            })
        })
    }

    pub fn scan<T: Data>(&self, send: &[T], recv: &mut [T], op: &Op<T>) -> Result<()> {
        self.check_reduce_len("scan", recv.len(), send.len())?;
        let n = self.count("scan", send.len())?;
        // SAFETY: both buffers hold at least n elements (checked).
        with_op(op, self.rank(), |mop, dt| {
            // SAFETY: as above.
            self.collective("scan", || unsafe {
                mpi::ffi::MPI_Scan(send_ptr(send), recv_ptr(recv), n, dt, mop, self.raw())
            })
        })
    }

    pub fn exscan<T: Data>(&self, send: &[T], recv: &mut [T], op: &Op<T>) -> Result<()> {
        self.check_reduce_len("exscan", recv.len(), send.len())?;
        let n = self.count("exscan", send.len())?;
        // MPI leaves rank 0's buffer undefined; parsci promises to leave it as it is.
        let mut scratch = Vec::new();
        let out: *mut c_void = if self.rank() == 0 {
            scratch.resize(send.len(), T::zeroed());
            recv_ptr(&mut scratch)
        } else {
            recv_ptr(recv)
        };
        // SAFETY: both buffers hold at least n elements (checked).
        with_op(op, self.rank(), |mop, dt| {
            // SAFETY: as above.
            self.collective("exscan", || unsafe { mpi::ffi::MPI_Exscan(send_ptr(send), out, n, dt, mop, self.raw()) })
        })
    }

    pub fn alltoall<T: Data>(&self, send: &[T], recv: &mut [T]) -> Result<()> {
        let p = self.size();
        if !send.len().is_multiple_of(p) || recv.len() < send.len() {
            let msg = format!(
                "the send buffer ({} elements) must hold {p} equal blocks and the receive buffer ({}) as many",
                send.len(),
                recv.len()
            );
            return Err(self.invalid("alltoall", msg));
        }
        let k = self.count("alltoall", send.len() / p)?;
        let dt = datatype::<T>();
        // SAFETY: both buffers hold p blocks of k elements (checked).
        self.collective("alltoall", || unsafe {
            mpi::ffi::MPI_Alltoall(send.as_ptr().cast(), k, dt, recv.as_mut_ptr().cast(), k, dt, self.raw())
        })
    }

    pub fn alltoallv<T: Data>(&self, send: &[T], sl: &Layout, recv: &mut [T], rl: &Layout) -> Result<()> {
        let (me, p) = (self.rank(), self.size());
        if let Some(e) = check_layout("alltoallv", me, sl, p, send.len(), "send")
            .or_else(|| check_layout("alltoallv", me, rl, p, recv.len(), "receive"))
        {
            return Err(e);
        }
        let (sc, sd) = self.counts("alltoallv", sl)?;
        let (rc, rd) = self.counts("alltoallv", rl)?;
        let dt = datatype::<T>();
        // SAFETY: both layouts fit their buffers (checked).
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
