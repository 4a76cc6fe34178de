//! Point-to-point operations on MPI: a send is one MPI call (`MPI_Send`); a receive
//! probes first (`MPI_Mprobe`, then `MPI_Mrecv` of exactly that message), so that MPI is
//! never given a buffer shorter than the message (see `matched`); one into a buffer of
//! at most 1 KiB goes through a region no message can overflow instead (see `bounce`). With receives posted
//! (see `posted`), the blocking calls run as their non-blocking forms plus progress.

use std::mem::MaybeUninit;
use std::os::raw::c_int;

use mpi::ffi::{MPI_Comm, MPI_Message, MPI_Request, MPI_Status};

use super::bounce::{self, check_size};
use super::comm::{check_rc, MpiComm};
use super::matched::mrecv_into;
use super::posted;
use super::request::{completed_recv, mismatch, mrecv_vec, MpiRequest, MpiVecRequest};
use super::types::datatype;
use super::watchdog::{self, peer_text};
use crate::data::{short_type_name, Data};
use crate::error::Result;
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
pub(crate) fn received_bytes(st: &MPI_Status) -> usize {
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

/// Blocks until a message matching (src, tag) is there and takes it (`MPI_Mprobe`): the
/// message and its status. (The caller publishes the wait to the watchdog.)
#[inline]
fn mprobe(
    comm: MPI_Comm,
    op: &'static str,
    caller: usize,
    src: c_int,
    tag: c_int,
) -> Result<(MPI_Message, MPI_Status)> {
    let mut msg = MaybeUninit::<MPI_Message>::uninit();
    let mut st = MaybeUninit::<MPI_Status>::zeroed();
    // SAFETY: a valid communicator; MPI writes the message and the status.
    let rc = unsafe { mpi::ffi::MPI_Mprobe(src, tag, comm, msg.as_mut_ptr(), st.as_mut_ptr()) };
    check_rc(op, caller, rc)?;
    // SAFETY: written by MPI_Mprobe, which succeeded.
    Ok(unsafe { (msg.assume_init(), st.assume_init()) })
}

/// With receives posted: takes the next message of (src, tag) that no registered (so
/// earlier-posted) receive takes, progressing those meanwhile. (The caller publishes the
/// wait to the watchdog.)
fn match_next(
    comm: MPI_Comm,
    op: &'static str,
    caller: usize,
    src: usize,
    tag: Tag,
) -> Result<(MPI_Message, MPI_Status)> {
    posted::spin(|| {
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
        (!posted::claim(comm, &st, &mut msg)).then_some(Ok((msg, st)))
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
    if posted::any() {
        let (mut msg, st) = {
            let _w = watchdog::enter(op, || peer_text(src), Some(tag));
            match_next(comm, op, caller, src, tag)?
        };
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
    /// The common case, done in the fewest MPI calls with no more checks: a rank of this
    /// communicator, a user tag, an `int` count, no receive posted, no watchdog.
    /// Everything else takes the general path.
    #[inline]
    fn direct(&self, peer: usize, tag: Tag, len: usize) -> bool {
        peer < self.size()
            && (0..=MAX_TAG).contains(&tag)
            && len <= c_int::MAX as usize
            && !posted::any()
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

    #[inline]
    pub fn send<T: Data>(&self, buf: &[T], dest: usize, tag: Tag) -> Result<()> {
        if self.direct(dest, tag, buf.len()) && std::mem::size_of_val(buf) <= bounce::MAX_MESSAGE {
            return self.check("send", self.mpi_send(buf, dest as c_int, tag));
        }
        self.send_as("send", buf, dest, tag)
    }

    #[inline(never)]
    fn send_as<T: Data>(&self, op: &'static str, buf: &[T], dest: usize, tag: Tag) -> Result<()> {
        check_dest(op, self.rank(), self.size(), dest)?;
        check_tag(op, self.rank(), tag, false)?;
        self.count(op, buf.len())?;
        check_size(op, self.rank(), std::mem::size_of_val(buf))?;
        if posted::any() && dest != PROC_NULL {
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
            if std::mem::size_of_val(buf) <= bounce::SMALL {
                if let Some(r) = bounce::recv_small(self.raw(), "recv", self.rank(), buf, src as c_int, tag) {
                    return r;
                }
            }
            let (mut msg, st) = mprobe(self.raw(), "recv", self.rank(), src as c_int, tag)?;
            return mrecv_into("recv", self.rank(), buf, &mut msg, &st);
        }
        self.recv_general(buf, src, tag)
    }

    /// `recv` with any source, tag, count, posted receives and watchdog.
    #[inline(never)]
    fn recv_general<T: Data>(&self, buf: &mut [T], src: usize, tag: Tag) -> Result<Status> {
        check_source("recv", self.rank(), self.size(), src)?;
        check_tag("recv", self.rank(), tag, true)?;
        self.count("recv", buf.len())?;
        if src == PROC_NULL {
            return Ok(Status::null());
        }
        let _w = watchdog::enter("recv", || peer_text(src), Some(tag));
        self.recv_safe("recv", buf, src, tag)
    }

    /// Takes the next message of (src, tag) (after the posted receives, if any) and
    /// receives it into `buf` if it fits; a message that is too long, or not a whole
    /// number of `T`, is consumed and reported. (The caller publishes the wait to the
    /// watchdog.)
    fn recv_safe<T: Data>(&self, op: &'static str, buf: &mut [T], src: usize, tag: Tag) -> Result<Status> {
        let (mut msg, st) = if posted::any() {
            match_next(self.raw(), op, self.rank(), src, tag)?
        } else {
            if std::mem::size_of_val(buf) <= bounce::SMALL {
                if let Some(r) = bounce::recv_small(self.raw(), op, self.rank(), buf, mpi_rank(src), mpi_tag(tag)) {
                    return r;
                }
            }
            mprobe(self.raw(), op, self.rank(), mpi_rank(src), mpi_tag(tag))?
        };
        mrecv_into(op, self.rank(), buf, &mut msg, &st)
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
        let ns = self.count("sendrecv", send.len())?;
        self.count("sendrecv", recv.len())?;
        check_size("sendrecv", me, std::mem::size_of_val(send))?;
        let _w = watchdog::enter("sendrecv", || format!("{} and {}", peer_text(dest), peer_text(src)), Some(rtag));
        // `MPI_Isend`, then a receive that probes first, then the send's completion:
        // never a deadlock however the peers pair up, as `MPI_Sendrecv`.
        let sending = match dest {
            PROC_NULL => None,
            dest => Some(InPlaceSend::start(self, send, ns, dest, stag)?),
        };
        let received = match src {
            PROC_NULL => Ok(Status::null()),
            src => self.recv_safe("sendrecv", recv, src, rtag),
        };
        let sent = sending.map(InPlaceSend::wait).transpose();
        let st = received?;
        sent?;
        Ok(st)
    }

    /// MPI cannot know the sender's element type: the count is in bytes.
    pub fn probe(&self, src: usize, tag: Tag) -> Result<Status> {
        check_source("probe", self.rank(), self.size(), src)?;
        check_tag("probe", self.rank(), tag, true)?;
        if src == PROC_NULL {
            return Ok(Status::null());
        }
        if posted::any() {
            let _w = watchdog::enter("probe", || peer_text(src), Some(tag));
            return posted::spin(|| self.iprobe(src, tag).transpose());
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

/// The send half of `sendrecv`: an `MPI_Isend` straight from the caller's buffer, which
/// stays borrowed until the send is complete; complete on every way out (`wait`, or
/// `Drop`). Never leaked: private to this module.
struct InPlaceSend<'a> {
    raw: MPI_Request,
    caller: usize,
    _buf: std::marker::PhantomData<&'a [u8]>,
}

impl<'a> InPlaceSend<'a> {
    fn start<T: Data>(c: &MpiComm, buf: &'a [T], n: c_int, dest: usize, tag: Tag) -> Result<Self> {
        let mut raw = MaybeUninit::uninit();
        // SAFETY: `buf` holds n elements and stays borrowed until the send is complete.
        let rc = unsafe {
            mpi::ffi::MPI_Isend(buf.as_ptr().cast(), n, datatype::<T>(), mpi_rank(dest), tag, c.raw(), raw.as_mut_ptr())
        };
        c.check("sendrecv", rc)?;
        // SAFETY: MPI_Isend succeeded, so it wrote the request.
        Ok(InPlaceSend { raw: unsafe { raw.assume_init() }, caller: c.rank(), _buf: std::marker::PhantomData })
    }

    fn wait(mut self) -> Result<()> {
        let rc = if posted::any() {
            posted::spin(|| {
                let mut flag = 0;
                // SAFETY: a request of this process (MPI_REQUEST_NULL once complete).
                let rc = unsafe { mpi::ffi::MPI_Test(&mut self.raw, &mut flag, mpi::ffi::RSMPI_STATUS_IGNORE) };
                (rc != mpi::ffi::MPI_SUCCESS as c_int || flag != 0).then_some(rc)
            })
        } else {
            // SAFETY: a request of this process; MPI sets it to MPI_REQUEST_NULL.
            unsafe { mpi::ffi::MPI_Wait(&mut self.raw, mpi::ffi::RSMPI_STATUS_IGNORE) }
        };
        check_rc("sendrecv", self.caller, rc)
    }
}

impl Drop for InPlaceSend<'_> {
    fn drop(&mut self) {
        // SAFETY: a request of this process (MPI_Wait of a null request returns at once):
        // MPI is done with the buffer before its borrow ends.
        unsafe { mpi::ffi::MPI_Wait(&mut self.raw, mpi::ffi::RSMPI_STATUS_IGNORE) };
    }
}
