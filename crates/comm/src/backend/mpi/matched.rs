//! Receiving a matched message (`MPI_Mprobe`/`MPI_Improbe` told its size) without ever
//! giving MPI a buffer smaller than the message.
//!
//! MPI calls a message longer than its receive buffer erroneous, and Open MPI 4.1 then
//! writes past the buffer when the message is large (the single-copy shared-memory path,
//! and `readv` over TCP). So the MPI backend receives only matched messages: one that
//! fits goes to its buffer, one that does not (too long, or not a whole number of
//! elements) goes to scratch space, is consumed, and is reported as an error naming
//! both ranks and the tag, as on the thread backend.

use std::mem::MaybeUninit;
use std::os::raw::c_int;

use mpi::ffi::{MPI_Datatype, MPI_Message, MPI_Status};

use super::comm::check_rc;
use super::p2p::{received_bytes, status_of};
use super::request::{completed_recv, mismatch};
use super::types::datatype;
use crate::data::{short_type_name, Data};
use crate::error::{Error, Result};
use crate::p2p::Status;

/// A receive buffer: `capacity` elements of `elem` bytes of MPI type `dt` (`capacity`
/// fits an `int`: the callers check it).
#[derive(Clone, Copy)]
pub(crate) struct Shape {
    pub capacity: usize,
    pub elem: usize,
    pub dt: MPI_Datatype,
    pub type_name: fn() -> String,
}

impl Shape {
    pub(crate) fn of<T: Data>(capacity: usize) -> Shape {
        Shape { capacity, elem: std::mem::size_of::<T>(), dt: datatype::<T>(), type_name: short_type_name::<T> }
    }
}

/// The number of elements of a probed message (`st`) that a buffer of `shape` receives,
/// or, if it cannot hold the message, the error to report once it has been consumed.
pub(crate) fn fit(op: &'static str, caller: usize, st: &MPI_Status, shape: &Shape) -> Result<c_int> {
    let bytes = received_bytes(st);
    let whole = match shape.elem {
        0 => (bytes == 0).then_some(0),
        e => (bytes != usize::MAX && bytes.is_multiple_of(e)).then(|| bytes / e),
    };
    match whole {
        Some(n) if n <= shape.capacity => Ok(n as c_int),
        Some(sent) => Err(Error::Truncated {
            op,
            from: st.MPI_SOURCE as usize,
            to: caller,
            tag: st.MPI_TAG,
            sent,
            capacity: shape.capacity,
        }),
        None => Err(mismatch(op, caller, &status_of(st, shape.elem), bytes, (shape.type_name)())),
    }
}

/// Receives the matched message `msg` (probed as `st`) into scratch space of its size
/// and drops it: how a receive that cannot hold its message consumes it.
#[cold]
#[inline(never)]
pub(crate) fn discard(op: &'static str, caller: usize, msg: &mut MPI_Message, st: &MPI_Status) -> Result<()> {
    let bytes = received_bytes(st);
    // The widest unit that divides the message keeps its count within an `int`.
    let (unit, dt) = [(8, datatype::<u64>()), (4, datatype::<u32>()), (2, datatype::<u16>()), (1, datatype::<u8>())]
        .into_iter()
        .find(|(u, _)| bytes.is_multiple_of(*u))
        .expect("1 divides every length");
    let Ok(count) = c_int::try_from(bytes / unit) else {
        let msg = format!("cannot consume a message of {bytes} bytes that the receive buffer cannot hold");
        return Err(Error::Mpi { op, caller, msg });
    };
    let mut scratch = vec![0u64; bytes.div_ceil(8)];
    let mut st2 = MaybeUninit::<MPI_Status>::zeroed();
    // SAFETY: `scratch` holds `bytes` bytes, which is `count` elements of `dt`: the
    // probed length of the matched message.
    let rc = unsafe { mpi::ffi::MPI_Mrecv(scratch.as_mut_ptr().cast(), count, dt, msg, st2.as_mut_ptr()) };
    check_rc(op, caller, rc)
}

/// Receives the matched message `msg` (probed as `st`) into `buf` if it fits; otherwise
/// consumes it and reports why it did not fit.
#[inline]
pub(crate) fn mrecv_into<T: Data>(
    op: &'static str,
    caller: usize,
    buf: &mut [T],
    msg: &mut MPI_Message,
    st: &MPI_Status,
) -> Result<Status> {
    let (bytes, elem) = (received_bytes(st), std::mem::size_of::<T>());
    if elem > 0 && bytes != usize::MAX && bytes.is_multiple_of(elem) && bytes / elem <= buf.len() {
        let n = bytes / elem;
        // SAFETY: `buf` holds at least `n` elements of `T`, the whole probed message.
        let rc = unsafe {
            mpi::ffi::MPI_Mrecv(
                buf.as_mut_ptr().cast(),
                n as c_int,
                datatype::<T>(),
                msg,
                mpi::ffi::RSMPI_STATUS_IGNORE,
            )
        };
        check_rc(op, caller, rc)?;
        // The probe's status is the message's: no second question to MPI.
        return Ok(Status { source: st.MPI_SOURCE as usize, tag: st.MPI_TAG, count: n, bytes });
    }
    mrecv_other(op, caller, buf, msg, st)
}

/// `mrecv_into` of a message that does not fit, or of zero-sized elements.
#[cold]
#[inline(never)]
fn mrecv_other<T: Data>(
    op: &'static str,
    caller: usize,
    buf: &mut [T],
    msg: &mut MPI_Message,
    st: &MPI_Status,
) -> Result<Status> {
    let shape = Shape::of::<T>(buf.len());
    match fit(op, caller, st, &shape) {
        Ok(n) => {
            let mut st2 = MaybeUninit::<MPI_Status>::zeroed();
            // SAFETY: `buf` holds at least `n` elements of `T`, the whole probed message.
            let rc = unsafe { mpi::ffi::MPI_Mrecv(buf.as_mut_ptr().cast(), n, shape.dt, msg, st2.as_mut_ptr()) };
            // SAFETY: zeroed, then filled by MPI_Mrecv.
            let st2 = unsafe { st2.assume_init() };
            completed_recv(op, caller, rc, &st2, shape.elem, shape.capacity, shape.type_name)
        }
        Err(e) => {
            discard(op, caller, msg, st)?;
            Err(e)
        }
    }
}
