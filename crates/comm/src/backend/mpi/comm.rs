//! An MPI communicator: rsmpi's handle, this rank's place in it, and its errors.

use std::ffi::CStr;
use std::mem::ManuallyDrop;
use std::os::raw::c_int;
use std::rc::Rc;

use mpi::ffi::MPI_Comm;
use mpi::raw::AsRaw;
use mpi::topology::{CartesianCommunicator, Color, Communicator, SimpleCommunicator};

use super::nonblocking::Channel;
use super::watchdog;
use crate::error::{Error, Result};

/// The rsmpi communicator behind an [`MpiComm`].
enum Handle {
    Plain(SimpleCommunicator),
    Cart(CartesianCommunicator),
}

pub(crate) struct MpiComm {
    /// Freed on drop, unless a leaked receive was still posted on it (see `Drop`).
    handle: ManuallyDrop<Handle>,
    rank: usize,
    size: usize,
    /// The private channel of its nonblocking collectives.
    nb: Rc<Channel>,
}

impl Drop for MpiComm {
    fn drop(&mut self) {
        self.nb.close();
        // Before rsmpi frees the handle: requests borrow their communicator, so only
        // leaked receives (`irecv`, `irecv_vec`) can still be registered on it. If one
        // was, the MPI communicator is leaked with it, as a leaked `MPI_Irecv` keeps its
        // communicator: freed, its context could go to a later communicator, and the
        // messages meant for the leaked receive would arrive there (see `posted`).
        if !super::posted::withdraw_comm(self.raw()) {
            // SAFETY: dropped once, here, and never used afterwards.
            unsafe { ManuallyDrop::drop(&mut self.handle) };
        }
    }
}

impl MpiComm {
    /// A new communicator over the world's processes (a duplicate, so that a job's
    /// messages never meet those of another library on `MPI_COMM_WORLD`).
    pub fn world_dup() -> Result<MpiComm> {
        let world = SimpleCommunicator::world();
        Ok(Self::plain(world.duplicate()))
    }

    fn plain(c: SimpleCommunicator) -> MpiComm {
        Self::new(Handle::Plain(c))
    }

    fn new(handle: Handle) -> MpiComm {
        let (rank, size, raw) = match &handle {
            Handle::Plain(c) => (c.rank(), c.size(), c.as_raw()),
            Handle::Cart(c) => (c.rank(), c.size(), c.as_raw()),
        };
        // SAFETY: a valid communicator; MPI_ERRORS_RETURN is a predefined handler.
        unsafe { mpi::ffi::MPI_Comm_set_errhandler(raw, mpi::ffi::RSMPI_ERRORS_RETURN) };
        MpiComm {
            handle: ManuallyDrop::new(handle),
            rank: rank as usize,
            size: size as usize,
            nb: Rc::new(Channel::new(raw)),
        }
    }

    pub fn raw(&self) -> MPI_Comm {
        match &*self.handle {
            Handle::Plain(c) => c.as_raw(),
            Handle::Cart(c) => c.as_raw(),
        }
    }
    pub fn rank(&self) -> usize {
        self.rank
    }
    /// The private channel of this communicator's nonblocking collectives.
    pub(super) fn channel(&self) -> Rc<Channel> {
        self.nb.clone()
    }
    pub fn size(&self) -> usize {
        self.size
    }
    pub fn processor_name(&self) -> String {
        mpi::environment::processor_name().unwrap_or_else(|_| "unknown".into())
    }

    /// `MPI_Abort` on this communicator: the launcher stops every process of the job.
    pub fn abort(&self, code: i32) -> ! {
        use std::io::Write;
        let _ = std::io::stdout().flush();
        let _ = std::io::stderr().flush();
        // SAFETY: a valid communicator; called from the rank's own thread (serialized).
        unsafe { mpi::ffi::MPI_Abort(self.raw(), code) };
        unreachable!("MPI_Abort returned")
    }

    pub fn dup(&self) -> Result<MpiComm> {
        let _w = watchdog::enter("dup", || "all ranks".into(), None);
        Ok(Self::plain(match &*self.handle {
            Handle::Plain(c) => c.duplicate(),
            Handle::Cart(c) => c.duplicate(),
        }))
    }

    pub fn split(&self, color: Option<u32>, key: i32) -> Result<Option<MpiComm>> {
        let color = match color {
            None => Color::undefined(),
            Some(c) => match c_int::try_from(c) {
                Ok(c) => Color::with_value(c),
                Err(_) => {
                    let msg = format!("color {c} is larger than MPI's largest color {}", c_int::MAX);
                    return Err(Error::InvalidArgument { op: "split", caller: self.rank, msg });
                }
            },
        };
        let _w = watchdog::enter("split", || "all ranks".into(), None);
        let new = match &*self.handle {
            Handle::Plain(c) => c.split_by_color_with_key(color, key),
            Handle::Cart(c) => c.split_by_color_with_key(color, key),
        };
        Ok(new.map(Self::plain))
    }

    /// `MPI_Cart_create` without reordering; ranks beyond the grid get `None`.
    /// Arguments are checked by the caller.
    pub fn cart_create(&self, dims: &[usize], periods: &[bool]) -> Result<Option<MpiComm>> {
        let dims: Vec<mpi::Count> = dims.iter().map(|&d| d as mpi::Count).collect();
        let _w = watchdog::enter("cart_create", || "all ranks".into(), None);
        let new = match &*self.handle {
            Handle::Plain(c) => c.create_cartesian_communicator(&dims, periods, false),
            Handle::Cart(c) => c.create_cartesian_communicator(&dims, periods, false),
        };
        Ok(new.map(|c| Self::new(Handle::Cart(c))))
    }

    /// `MPI_Cart_sub`: the sub-grid of the dimensions `retain` keeps (checked by the caller).
    pub fn cart_sub(&self, retain: &[bool]) -> Option<MpiComm> {
        let Handle::Cart(c) = &*self.handle else { return None };
        let _w = watchdog::enter("cart_sub", || "all ranks".into(), None);
        Some(Self::new(Handle::Cart(c.subgroup(retain))))
    }

    /// `MPI_Comm_split_type(MPI_COMM_TYPE_SHARED)`: the ranks that share this node's memory.
    pub fn split_shared(&self, key: i32) -> MpiComm {
        let _w = watchdog::enter("split_shared", || "all ranks".into(), None);
        Self::plain(match &*self.handle {
            Handle::Plain(c) => c.split_shared(key),
            Handle::Cart(c) => c.split_shared(key),
        })
    }

    /// `MPI_Cart_shift`: (source, dest), `None` past a non-periodic edge.
    pub fn cart_shift(&self, dim: usize, disp: isize) -> Option<(Option<usize>, Option<usize>)> {
        let Handle::Cart(c) = &*self.handle else { return None };
        let (s, d) = c.shift(dim as mpi::Count, disp as mpi::Count);
        Some((s.map(|r| r as usize), d.map(|r| r as usize)))
    }

    /// `MPI_Cart_coords` of `rank`.
    pub fn cart_coords(&self, rank: usize) -> Option<Vec<usize>> {
        let Handle::Cart(c) = &*self.handle else { return None };
        Some(c.rank_to_coordinates(rank as mpi::Rank).into_iter().map(|x| x as usize).collect())
    }

    /// Turns an MPI return code into an error of `op` (`Ok` for `MPI_SUCCESS`).
    #[inline]
    pub fn check(&self, op: &'static str, rc: c_int) -> Result<()> {
        check_rc(op, self.rank, rc)
    }

    /// The MPI error class of a return code.
    pub fn error_class(rc: c_int) -> c_int {
        let mut class = 0;
        // SAFETY: MPI_Error_class only reads `rc` and writes `class`.
        unsafe { mpi::ffi::MPI_Error_class(rc, &mut class) };
        class
    }

    /// An element count as MPI's `int`, or an error for messages MPI cannot describe.
    #[inline]
    pub fn count(&self, op: &'static str, n: usize) -> Result<c_int> {
        c_int::try_from(n).map_err(|_| too_many(op, self.rank, n))
    }
}

#[cold]
#[inline(never)]
fn too_many(op: &'static str, caller: usize, n: usize) -> Error {
    Error::InvalidArgument {
        op,
        caller,
        msg: format!("{n} elements are more than MPI's largest count ({}) on the MPI backend", c_int::MAX),
    }
}

/// Turns an MPI return code of `caller`'s call `op` into a result.
#[inline]
pub(crate) fn check_rc(op: &'static str, caller: usize, rc: c_int) -> Result<()> {
    if rc == mpi::ffi::MPI_SUCCESS as c_int {
        return Ok(());
    }
    Err(mpi_error(op, caller, rc))
}

#[cold]
#[inline(never)]
fn mpi_error(op: &'static str, caller: usize, rc: c_int) -> Error {
    Error::Mpi { op, caller, msg: error_string(rc) }
}

/// MPI's text for an error code.
pub(crate) fn error_string(rc: c_int) -> String {
    let mut buf = vec![0u8; mpi::ffi::MPI_MAX_ERROR_STRING as usize + 1];
    let mut len = 0;
    // SAFETY: the buffer holds MPI_MAX_ERROR_STRING characters and a terminator.
    unsafe { mpi::ffi::MPI_Error_string(rc, buf.as_mut_ptr() as *mut _, &mut len) };
    CStr::from_bytes_until_nul(&buf).map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|_| format!("code {rc}"))
}
