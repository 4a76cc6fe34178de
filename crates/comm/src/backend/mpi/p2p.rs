//! Point-to-point operations on MPI: one MPI call each (`MPI_Send`, `MPI_Recv`, ...).

use std::mem::MaybeUninit;
use std::os::raw::c_int;

use mpi::ffi::{MPI_Comm, MPI_Message, MPI_Status};

use super::comm::{check_rc, MpiComm};
use super::request::{completed_recv, mismatch, mrecv_vec, MpiRequest, MpiVecRequest};
use super::types::datatype;
use super::vec_recv;
use super::watchdog::{self, peer_text};
use crate::data::{short_type_name, Data};
use crate::error::{Error, Result};
use crate::p2p::{check_dest, check_source, check_tag, Status, Tag, ANY_SOURCE, ANY_TAG, MAX_TAG, PROC_NULL};

/// A parsci rank (or `ANY_SOURCE`/`PROC_NULL`) as MPI's.
pub(crate) fn mpi_rank(r: usize) -> c_int {
    match r {
        // SAFETY: reading a predefined constant.
        ANY_SOURCE => unsafe { mpi::ffi::RSMPI_ANY_SOURCE },
        // SAFETY: reading a predefined constant.
        PROC_NULL => unsafe { mpi::ffi::RSMPI_PROC_NULL },
        r => r as c_int,
    }
}

/// A parsci tag (or `ANY_TAG`) as MPI's.
pub(crate) fn mpi_tag(t: Tag) -> c_int {
    if t == ANY_TAG {
        // SAFETY: reading a predefined constant.
        unsafe { mpi::ffi::RSMPI_ANY_TAG }
    } else {
        t
    }
}

/// The status of a completed receive or probe, counting elements of `elem` bytes
/// (`count == usize::MAX` if the message is not a whole number of them).
#[inline]
pub(crate) fn status_of(st: &MPI_Status, elem: usize) -> Status {
    // SAFETY: reading a predefined constant.
    if st.MPI_SOURCE == unsafe { mpi::ffi::RSMPI_PROC_NULL } {
        return Status::null();
    }
    let bytes = received_bytes(st);
    let count = match elem {
        0 => 0,
        e if bytes.is_multiple_of(e) => bytes / e,
        _ => usize::MAX,
    };
    Status { source: st.MPI_SOURCE as usize, tag: st.MPI_TAG, count, bytes }
}

/// The bytes a status describes, asked of MPI (`MPI_Get_elements_x` counted in
/// `MPI_BYTE`s, which has no `int` limit): portable across MPI implementations.
#[inline]
fn received_bytes(st: &MPI_Status) -> usize {
    let mut n: mpi::ffi::MPI_Count = 0;
    // SAFETY: a status filled by MPI; MPI writes the count.
    let rc = unsafe { mpi::ffi::MPI_Get_elements_x(st, mpi::ffi::RSMPI_UINT8_T, &mut n) };
    if rc != mpi::ffi::MPI_SUCCESS as c_int || n < 0 {
        return usize::MAX; // MPI_UNDEFINED: reported as a type mismatch by the callers
    }
    n as usize
}

/// The status of a finished receive into `capacity` elements of `T`, or its error.
#[inline]
fn received<T: Data>(op: &'static str, caller: usize, rc: c_int, st: &MPI_Status, capacity: usize) -> Result<Status> {
    completed_recv(op, caller, rc, st, std::mem::size_of::<T>(), capacity, short_type_name::<T>)
}

/// Blocks until a message matching (src, tag) is there and returns its status (counted in `dt`).
fn probe_on(comm: MPI_Comm, op: &'static str, caller: usize, src: usize, tag: Tag) -> Result<MPI_Status> {
    let mut st = MaybeUninit::<MPI_Status>::zeroed();
    let rc = {
        let _w = watchdog::enter(op, || peer_text(src), Some(tag));
        // SAFETY: a valid communicator; MPI fills the status.
        unsafe { mpi::ffi::MPI_Probe(mpi_rank(src), mpi_tag(tag), comm, st.as_mut_ptr()) }
    };
    check_rc(op, caller, rc)?;
    // SAFETY: filled by MPI_Probe.
    Ok(unsafe { st.assume_init() })
}

/// With `irecv_vec`s registered: matches the next message of (src, tag) that no earlier
/// registered receive takes, progressing those meanwhile.
fn match_next(
    comm: MPI_Comm,
    op: &'static str,
    caller: usize,
    src: usize,
    tag: Tag,
) -> Result<(MPI_Message, MPI_Status)> {
    let _w = watchdog::enter(op, || peer_text(src), Some(tag));
    vec_recv::spin(|| {
        let mut flag = 0;
        let mut msg = MaybeUninit::<MPI_Message>::uninit();
        let mut st = MaybeUninit::<MPI_Status>::zeroed();
        // SAFETY: a valid communicator; MPI writes the flag, and the message and status if set.
        let rc = unsafe {
            mpi::ffi::MPI_Improbe(mpi_rank(src), mpi_tag(tag), comm, &mut flag, msg.as_mut_ptr(), st.as_mut_ptr())
        };
        if let Err(e) = check_rc(op, caller, rc) {
            return Some(Err(e));
        }
        if flag == 0 {
            return None;
        }
        // SAFETY: set by MPI_Improbe with the flag.
        let (mut msg, st) = unsafe { (msg.assume_init(), st.assume_init()) };
        (!vec_recv::claim(comm, &st, &mut msg)).then_some(Ok((msg, st)))
    })
}

/// Probes for the message, sizes a `Vec` for it, and receives exactly that message.
pub(crate) fn recv_vec_on<T: Data>(
    comm: MPI_Comm,
    caller: usize,
    op: &'static str,
    src: usize,
    tag: Tag,
) -> Result<(Vec<T>, Status)> {
    if src == PROC_NULL {
        return Ok((Vec::new(), Status::null()));
    }
    if vec_recv::any() {
        let (mut msg, st) = match_next(comm, op, caller, src, tag)?;
        let (v, st) = mrecv_vec::<T>(&mut msg, &st, caller)?;
        return Ok((*v.downcast::<Vec<T>>().expect("a Vec<T>"), st));
    }
    let dt = datatype::<T>();
    let st = probe_on(comm, op, caller, src, tag)?;
    let probed = status_of(&st, std::mem::size_of::<T>());
    if probed.count == usize::MAX {
        // Not a whole number of T: received as bytes and reported (consumed, as a receive
        // that cannot hold a message consumes it).
        let (_, _) = recv_vec_on::<u8>(comm, caller, op, st.MPI_SOURCE as usize, st.MPI_TAG)?;
        return Err(mismatch(op, caller, &probed, probed.bytes, short_type_name::<T>()));
    }
    let mut buf = vec![T::zeroed(); probed.count];
    let mut st2 = MaybeUninit::<MPI_Status>::zeroed();
    // SAFETY: `buf` holds the probed count; the probed source and tag select the probed
    // message (one thread per rank: nothing else receives in between).
    let rc = unsafe {
        mpi::ffi::MPI_Recv(
            buf.as_mut_ptr().cast(),
            probed.count as c_int,
            dt,
            st.MPI_SOURCE,
            st.MPI_TAG,
            comm,
            st2.as_mut_ptr(),
        )
    };
    // SAFETY: filled by MPI_Recv.
    let st = received::<T>(op, caller, rc, &unsafe { st2.assume_init() }, buf.len())?;
    Ok((buf, st))
}

impl MpiComm {
    /// The common case, done in one MPI call with no more checks: a rank of this
    /// communicator, a user tag, an `int` count, no `irecv_vec` registered, no watchdog.
    /// Everything else takes the general path.
    #[inline]
    fn direct(&self, peer: usize, tag: Tag, len: usize) -> bool {
        peer < self.size()
            && (0..=MAX_TAG).contains(&tag)
            && len <= c_int::MAX as usize
            && !vec_recv::any()
            && !watchdog::enabled()
    }

    /// `MPI_Send` (`MPI_Ssend` in strict mode) of the whole of `buf` (its length fits an
    /// `int`: checked by the caller).
    #[inline]
    fn mpi_send<T: Data>(&self, buf: &[T], dest: c_int, tag: c_int) -> c_int {
        let send = if super::runtime::sync_sends() { mpi::ffi::MPI_Ssend } else { mpi::ffi::MPI_Send };
        // SAFETY: `buf` holds its length of elements of the datatype; MPI only reads it.
        unsafe { send(buf.as_ptr().cast(), buf.len() as c_int, datatype::<T>(), dest, tag, self.raw()) }
    }

    /// `MPI_Recv` into the whole of `buf` (its length fits an `int`: checked by the
    /// caller); the return code and the status.
    #[inline]
    fn mpi_recv<T: Data>(&self, buf: &mut [T], src: c_int, tag: c_int) -> (c_int, MPI_Status) {
        let mut st = MaybeUninit::<MPI_Status>::zeroed();
        // SAFETY: `buf` holds its length of elements of the datatype; MPI fills it and the status.
        let rc = unsafe {
            mpi::ffi::MPI_Recv(
                buf.as_mut_ptr().cast(),
                buf.len() as c_int,
                datatype::<T>(),
                src,
                tag,
                self.raw(),
                st.as_mut_ptr(),
            )
        };
        // SAFETY: zeroed, then filled by MPI_Recv.
        (rc, unsafe { st.assume_init() })
    }

    #[inline]
    pub fn send<T: Data>(&self, buf: &[T], dest: usize, tag: Tag) -> Result<()> {
        if self.direct(dest, tag, buf.len()) {
            return self.check("send", self.mpi_send(buf, dest as c_int, tag));
        }
        self.send_as("send", buf, dest, tag)
    }

    #[inline(never)]
    fn send_as<T: Data>(&self, op: &'static str, buf: &[T], dest: usize, tag: Tag) -> Result<()> {
        check_dest(op, self.rank(), self.size(), dest)?;
        check_tag(op, self.rank(), tag, false)?;
        self.count(op, buf.len())?;
        if vec_recv::any() && dest != PROC_NULL {
            return MpiRequest::isend(self, buf, dest, tag)?.wait().map(|_| ());
        }
        let rc = {
            let _w = watchdog::enter(op, || peer_text(dest), Some(tag));
            self.mpi_send(buf, mpi_rank(dest), tag)
        };
        self.check(op, rc)
    }

    pub fn send_vec<T: Data>(&self, buf: Vec<T>, dest: usize, tag: Tag) -> Result<()> {
        self.send_as("send", &buf, dest, tag)
    }

    #[inline]
    pub fn recv<T: Data>(&self, buf: &mut [T], src: usize, tag: Tag) -> Result<Status> {
        if self.direct(src, tag, buf.len()) {
            let (rc, st) = self.mpi_recv(buf, src as c_int, tag);
            return received::<T>("recv", self.rank(), rc, &st, buf.len());
        }
        self.recv_general(buf, src, tag)
    }

    /// `recv` with any source, tag, count and registered receives.
    #[inline(never)]
    fn recv_general<T: Data>(&self, buf: &mut [T], src: usize, tag: Tag) -> Result<Status> {
        check_source("recv", self.rank(), self.size(), src)?;
        check_tag("recv", self.rank(), tag, true)?;
        self.count("recv", buf.len())?;
        if vec_recv::any() && src != PROC_NULL {
            return self.recv_matched(buf, src, tag);
        }
        let (rc, st) = {
            let _w = watchdog::enter("recv", || peer_text(src), Some(tag));
            self.mpi_recv(buf, mpi_rank(src), mpi_tag(tag))
        };
        received::<T>("recv", self.rank(), rc, &st, buf.len())
    }

    /// `recv` while `irecv_vec`s are registered: matched, then received (a message that is
    /// too long, or not a whole number of `T`, is consumed and reported).
    fn recv_matched<T: Data>(&self, buf: &mut [T], src: usize, tag: Tag) -> Result<Status> {
        let (mut msg, st) = match_next(self.raw(), "recv", self.rank(), src, tag)?;
        let dt = datatype::<T>();
        let probed = status_of(&st, std::mem::size_of::<T>());
        if probed.count == usize::MAX || probed.count > buf.len() {
            let (v, _) = mrecv_vec::<u8>(&mut msg, &st, self.rank())?;
            let v = v.downcast::<Vec<u8>>().expect("bytes");
            if probed.count == usize::MAX {
                return Err(mismatch("recv", self.rank(), &probed, v.len(), short_type_name::<T>()));
            }
            let (from, to, tag, sent, capacity) = (probed.source, self.rank(), probed.tag, probed.count, buf.len());
            return Err(Error::Truncated { op: "recv", from, to, tag, sent, capacity });
        }
        let mut st2 = MaybeUninit::<MPI_Status>::zeroed();
        // SAFETY: `buf` holds at least the probed count of elements.
        let rc = unsafe {
            mpi::ffi::MPI_Mrecv(buf.as_mut_ptr().cast(), probed.count as c_int, dt, &mut msg, st2.as_mut_ptr())
        };
        // SAFETY: filled by MPI_Mrecv.
        received::<T>("recv", self.rank(), rc, &unsafe { st2.assume_init() }, buf.len())
    }

    pub fn recv_vec<T: Data>(&self, src: usize, tag: Tag) -> Result<(Vec<T>, Status)> {
        check_source("recv_vec", self.rank(), self.size(), src)?;
        check_tag("recv_vec", self.rank(), tag, true)?;
        recv_vec_on(self.raw(), self.rank(), "recv_vec", src, tag)
    }

    #[allow(clippy::too_many_arguments)]
    pub fn sendrecv<T: Data, U: Data>(
        &self,
        send: &[T],
        dest: usize,
        stag: Tag,
        recv: &mut [U],
        src: usize,
        rtag: Tag,
    ) -> Result<Status> {
        let me = self.rank();
        check_dest("sendrecv", me, self.size(), dest)?;
        check_tag("sendrecv", me, stag, false)?;
        check_source("sendrecv", me, self.size(), src)?;
        check_tag("sendrecv", me, rtag, true)?;
        let (ns, nr) = (self.count("sendrecv", send.len())?, self.count("sendrecv", recv.len())?);
        if vec_recv::any() {
            let req = if dest == PROC_NULL { None } else { Some(MpiRequest::isend(self, send, dest, stag)?) };
            let st = if src == PROC_NULL { Status::null() } else { self.recv_matched(recv, src, rtag)? };
            req.map(|r| r.wait()).transpose()?;
            return Ok(st);
        }
        let rdt = datatype::<U>();
        let mut st = MaybeUninit::<MPI_Status>::zeroed();
        let rc = {
            let _w = watchdog::enter("sendrecv", || format!("{} and {}", peer_text(dest), peer_text(src)), Some(rtag));
            // SAFETY: both buffers hold their counts of their datatypes.
            unsafe {
                mpi::ffi::MPI_Sendrecv(
                    send.as_ptr().cast(),
                    ns,
                    datatype::<T>(),
                    mpi_rank(dest),
                    stag,
                    recv.as_mut_ptr().cast(),
                    nr,
                    rdt,
                    mpi_rank(src),
                    mpi_tag(rtag),
                    self.raw(),
                    st.as_mut_ptr(),
                )
            }
        };
        // SAFETY: filled by MPI_Sendrecv.
        received::<U>("sendrecv", me, rc, &unsafe { st.assume_init() }, recv.len())
    }

    /// MPI cannot know the sender's element type: the count is in bytes.
    pub fn probe(&self, src: usize, tag: Tag) -> Result<Status> {
        check_source("probe", self.rank(), self.size(), src)?;
        check_tag("probe", self.rank(), tag, true)?;
        if src == PROC_NULL {
            return Ok(Status::null());
        }
        if vec_recv::any() {
            let _w = watchdog::enter("probe", || peer_text(src), Some(tag));
            return vec_recv::spin(|| self.iprobe(src, tag).transpose());
        }
        let st = probe_on(self.raw(), "probe", self.rank(), src, tag)?;
        Ok(status_of(&st, 1))
    }

    pub fn iprobe(&self, src: usize, tag: Tag) -> Result<Option<Status>> {
        check_source("iprobe", self.rank(), self.size(), src)?;
        check_tag("iprobe", self.rank(), tag, true)?;
        if src == PROC_NULL {
            return Ok(Some(Status::null()));
        }
        let mut flag = 0;
        let mut st = MaybeUninit::<MPI_Status>::zeroed();
        // SAFETY: a valid communicator; MPI writes the flag and the status.
        let rc = unsafe { mpi::ffi::MPI_Iprobe(mpi_rank(src), mpi_tag(tag), self.raw(), &mut flag, st.as_mut_ptr()) };
        self.check("iprobe", rc)?;
        // SAFETY: filled by MPI_Iprobe when the flag is set.
        Ok((flag != 0).then(|| status_of(&unsafe { st.assume_init() }, 1)))
    }

    pub fn isend<T: Data>(&self, buf: &[T], dest: usize, tag: Tag) -> Result<MpiRequest<'_>> {
        check_dest("isend", self.rank(), self.size(), dest)?;
        check_tag("isend", self.rank(), tag, false)?;
        MpiRequest::isend(self, buf, dest, tag)
    }

    pub fn irecv<'a, T: Data>(&self, buf: &'a mut [T], src: usize, tag: Tag) -> Result<MpiRequest<'a>> {
        check_source("irecv", self.rank(), self.size(), src)?;
        check_tag("irecv", self.rank(), tag, true)?;
        MpiRequest::irecv(self, buf, src, tag)
    }

    pub fn irecv_vec<T: Data>(&self, src: usize, tag: Tag) -> Result<MpiVecRequest<'_, T>> {
        check_source("irecv_vec", self.rank(), self.size(), src)?;
        check_tag("irecv_vec", self.rank(), tag, true)?;
        Ok(MpiVecRequest::new(self, src, tag))
    }
}
