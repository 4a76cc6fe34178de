//! The fast path of a blocking receive into a small buffer: `MPI_Recv` into a region of
//! address space larger than any message, then a copy.
//!
//! Probing first (`MPI_Mprobe` + `MPI_Mrecv`, see `matched`) costs Open MPI 4.1 about
//! 0.1 us per message at `MPI_THREAD_SERIALIZED` (the message always takes the unexpected
//! path), a third of an 8-byte one-way time. A receive posted into a buffer that no
//! message can overflow needs no probe: each thread reserves [`MAX_MESSAGE`] bytes of
//! address space (`mmap` with `MAP_NORESERVE`: only the pages a message touches become
//! memory), and every parsci sender on MPI refuses a message above [`MAX_MESSAGE`]
//! bytes, so whatever matches the receive fits in the region. The message is then copied
//! into the caller's buffer if it fits, or reported (consumed) if it does not.
//!
//! Used for receive buffers of at most [`SMALL`] bytes (above that the copy would cost
//! more than the probe) and only when no receive is posted (a posted receive is matched by
//! parsci, in order; see `posted`). Where the region cannot be reserved (another OS, a
//! strict overcommit policy, an address-space limit), receives probe instead.

use std::mem::MaybeUninit;
use std::os::raw::c_int;

use mpi::ffi::{MPI_Comm, MPI_Status};

use super::comm::check_rc;
use super::matched::{fit, Shape};
use super::p2p::received_bytes;
use super::types::datatype;
use crate::data::Data;
use crate::error::{Error, Result};
use crate::p2p::Status;

/// The largest message a parsci rank sends on MPI, in bytes (1 TiB): the size of the region.
pub(crate) const MAX_MESSAGE: usize = 1 << 40;
/// Receive buffers of up to this many bytes take the bounce path.
pub(crate) const SMALL: usize = 1024;
/// The region's element: 1 MiB, so that [`MAX_MESSAGE`] is an `int` count of them.
type Chunk = [u8; 1 << 20];
const CHUNKS: c_int = (MAX_MESSAGE / std::mem::size_of::<Chunk>()) as c_int;

/// This thread's region (null if it could not be reserved).
struct Region(*mut u8);

impl Region {
    #[cfg(target_os = "linux")]
    fn reserve() -> Region {
        // SAFETY: a fresh anonymous private mapping; nothing else refers to it.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                MAX_MESSAGE,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        Region(if p == libc::MAP_FAILED { std::ptr::null_mut() } else { p.cast() })
    }

    #[cfg(not(target_os = "linux"))]
    fn reserve() -> Region {
        Region(std::ptr::null_mut())
    }

    /// Gives back the memory of the first `bytes` bytes (after a large message).
    #[cold]
    fn release(&self, bytes: usize) {
        #[cfg(target_os = "linux")]
        // SAFETY: a range of our own mapping; its contents are not needed any more.
        unsafe {
            libc::madvise(self.0.cast(), bytes.min(MAX_MESSAGE), libc::MADV_DONTNEED);
        }
    }
}

impl Drop for Region {
    fn drop(&mut self) {
        #[cfg(target_os = "linux")]
        if !self.0.is_null() {
            // SAFETY: our own mapping; no MPI call uses it once a receive has returned.
            unsafe { libc::munmap(self.0.cast(), MAX_MESSAGE) };
        }
    }
}

thread_local! {
    static REGION: Region = Region::reserve();
}

/// Refuses to send a message of more than [`MAX_MESSAGE`] bytes: what makes the region
/// large enough for every message.
#[inline]
pub(crate) fn check_size(op: &'static str, caller: usize, bytes: usize) -> Result<()> {
    if bytes > MAX_MESSAGE {
        return Err(too_large(op, caller, bytes));
    }
    Ok(())
}

#[cold]
#[inline(never)]
fn too_large(op: &'static str, caller: usize, bytes: usize) -> Error {
    let msg =
        format!("a message of {bytes} bytes is larger than the MPI backend's largest message ({MAX_MESSAGE} bytes)");
    Error::InvalidArgument { op, caller, msg }
}

/// Receives the next message of (src, tag) (MPI's; a rank, not `PROC_NULL`) into `buf`
/// through this thread's region: `None` if there is no region (then the caller probes).
/// A message that does not fit `buf` is consumed and reported.
#[inline]
pub(crate) fn recv_small<T: Data>(
    comm: MPI_Comm,
    op: &'static str,
    caller: usize,
    buf: &mut [T],
    src: c_int,
    tag: c_int,
) -> Option<Result<Status>> {
    REGION.with(|r| {
        if r.0.is_null() {
            return None;
        }
        let mut st = MaybeUninit::<MPI_Status>::zeroed();
        // SAFETY: the region holds CHUNKS chunks (MAX_MESSAGE bytes), more than any message
        // a parsci sender sends on MPI, so MPI writes only inside it; one thread uses it,
        // for the length of this call.
        let rc =
            unsafe { mpi::ffi::MPI_Recv(r.0.cast(), CHUNKS, datatype::<Chunk>(), src, tag, comm, st.as_mut_ptr()) };
        if let Err(e) = check_rc(op, caller, rc) {
            return Some(Err(e));
        }
        // SAFETY: zeroed, then filled by MPI_Recv.
        let st = unsafe { st.assume_init() };
        let (bytes, elem) = (received_bytes(&st), std::mem::size_of::<T>());
        if elem > 0 && bytes != usize::MAX && bytes.is_multiple_of(elem) && bytes / elem <= buf.len() {
            // SAFETY: MPI wrote `bytes` bytes at the start of the region, and `buf` holds
            // at least as many; the two do not overlap.
            unsafe { std::ptr::copy_nonoverlapping(r.0, buf.as_mut_ptr().cast::<u8>(), bytes) };
            return Some(Ok(Status { source: st.MPI_SOURCE as usize, tag: st.MPI_TAG, count: bytes / elem, bytes }));
        }
        if bytes != usize::MAX && bytes > 64 * 1024 {
            r.release(bytes);
        }
        // `fit` accepts only zero-sized elements and an empty message here: nothing to copy.
        let empty = Status { source: st.MPI_SOURCE as usize, tag: st.MPI_TAG, count: 0, bytes: 0 };
        Some(fit(op, caller, &st, &Shape::of::<T>(buf.len())).map(|_| empty))
    })
}
