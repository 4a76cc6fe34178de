//! Element types as MPI datatypes, reductions as MPI ops.

use std::any::TypeId;
use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::c_void;
use std::mem::MaybeUninit;
use std::os::raw::c_int;
use std::sync::OnceLock;

use mpi::collective::SystemOperation;
use mpi::datatype::{Equivalence, UserDatatype};
use mpi::ffi::{MPI_Datatype, MPI_Op};
use mpi::raw::AsRaw;

use super::comm::check_rc;
use crate::data::{Data, DataKind, Op, OpKind};
use crate::error::Result;

/// The MPI datatype of one `T`: the primitive's own, or `size_of::<T>()` contiguous bytes.
pub(crate) fn datatype<T: Data>() -> MPI_Datatype {
    match DataKind::of::<T>() {
        DataKind::U8 => u8::equivalent_datatype().as_raw(),
        DataKind::I8 => i8::equivalent_datatype().as_raw(),
        DataKind::U16 => u16::equivalent_datatype().as_raw(),
        DataKind::I16 => i16::equivalent_datatype().as_raw(),
        DataKind::U32 => u32::equivalent_datatype().as_raw(),
        DataKind::I32 => i32::equivalent_datatype().as_raw(),
        DataKind::U64 => u64::equivalent_datatype().as_raw(),
        DataKind::I64 => i64::equivalent_datatype().as_raw(),
        DataKind::F32 => f32::equivalent_datatype().as_raw(),
        DataKind::F64 => f64::equivalent_datatype().as_raw(),
        _ => bytes_type(std::mem::size_of::<T>()),
    }
}

thread_local! {
    /// Committed "n contiguous bytes" types, made once per size and never freed
    /// (freeing after `MPI_Finalize` would be an error; there are few sizes).
    static BYTE_TYPES: RefCell<HashMap<usize, MPI_Datatype>> = RefCell::new(HashMap::new());
}

fn bytes_type(size: usize) -> MPI_Datatype {
    BYTE_TYPES.with(|t| {
        *t.borrow_mut().entry(size).or_insert_with(|| {
            let ty = UserDatatype::contiguous(size as mpi::Count, &u8::equivalent_datatype());
            let raw = ty.as_raw();
            std::mem::forget(ty);
            raw
        })
    })
}

/// MPI's own op for `op`, if it has one: the built-in ops on primitives.
#[inline]
pub(crate) fn system_op<T: Data>(op: &Op<T>) -> Option<MPI_Op> {
    let kind = DataKind::of::<T>();
    let primitive = kind != DataKind::Opaque;
    // Open MPI 4.1's AVX reductions saturate 8- and 16-bit integer sums (254 + 255 gives
    // 255 from 2049 elements on): those go through parsci's own wrapping op instead.
    let narrow = matches!(kind, DataKind::U8 | DataKind::I8 | DataKind::U16 | DataKind::I16);
    let system = match op.kind() {
        OpKind::Sum if primitive && !narrow => SystemOperation::sum(),
        OpKind::Prod if primitive && !narrow => SystemOperation::product(),
        OpKind::Min if primitive => SystemOperation::min(),
        OpKind::Max if primitive => SystemOperation::max(),
        _ => return None,
    };
    Some(system.as_raw())
}

/// Runs `f` with the MPI op and datatype of a reduction of `T`s by `op`: MPI's own op
/// and `T`'s datatype for the built-in ops on primitives; else a user op (made once per
/// element type and order) and a duplicate of `T`'s datatype that carries `op` as an
/// attribute, so that MPI's callback finds the closure of this very call. Nothing is
/// kept in thread-locals: calls on several communicators, or a nonblocking reduction
/// still in flight, each have their own datatype and closure. `f` must complete the
/// reduction before it returns (the datatype and the closure are freed then).
#[inline]
pub(crate) fn with_op<T: Data, R>(
    op: &Op<T>,
    caller: usize,
    f: impl FnOnce(MPI_Op, MPI_Datatype) -> Result<R>,
) -> Result<R> {
    if let Some(system) = system_op(op) {
        return f(system, datatype::<T>());
    }
    let reduction = UserReduction::new(op, caller)?;
    f(reduction.op, reduction.datatype)
}

/// A user reduction set up for one call: the closure, boxed at a stable address, and
/// a datatype carrying that address.
pub(crate) struct UserReduction<T> {
    op: MPI_Op,
    datatype: MPI_Datatype,
    _closure: Box<Op<T>>,
}

impl<T: Data> UserReduction<T> {
    pub(crate) fn new(op: &Op<T>, caller: usize) -> Result<Self> {
        let commutative = matches!(op.kind(), OpKind::User { commutative: true });
        let closure = Box::new(op.clone());
        let mut dup = MaybeUninit::<MPI_Datatype>::uninit();
        // SAFETY: duplicating a committed datatype; MPI writes `dup` when it succeeds.
        let rc = unsafe { mpi::ffi::MPI_Type_dup(datatype::<T>(), dup.as_mut_ptr()) };
        check_rc("a user reduction", caller, rc)?;
        // SAFETY: written by the successful MPI_Type_dup.
        let datatype = unsafe { dup.assume_init() };
        let mut reduction = UserReduction { op: user_op::<T>(commutative), datatype, _closure: closure };
        let at = &*reduction._closure as *const Op<T> as *mut c_void;
        // SAFETY: attaching the boxed closure's address to our own datatype; both live
        // until `drop` frees the datatype.
        let rc = unsafe { mpi::ffi::MPI_Type_set_attr(reduction.datatype, op_keyval(), at) };
        if let Err(e) = check_rc("a user reduction", caller, rc) {
            // SAFETY: our own datatype, used by nothing yet.
            unsafe { mpi::ffi::MPI_Type_free(&mut reduction.datatype) };
            std::mem::forget(reduction);
            return Err(e);
        }
        Ok(reduction)
    }
}

impl<T> UserReduction<T> {
    /// The op and the datatype that carries the closure, for a reduction that outlives
    /// this call (a nonblocking one keeps the `UserReduction` until it completes).
    pub(crate) fn raw(&self) -> (MPI_Op, MPI_Datatype) {
        (self.op, self.datatype)
    }
}

impl<T> Drop for UserReduction<T> {
    fn drop(&mut self) {
        // SAFETY: our own datatype, no longer used by any reduction (see `with_op`).
        unsafe { mpi::ffi::MPI_Type_free(&mut self.datatype) };
    }
}

/// The attribute key under which a reduction's datatype carries its closure.
fn op_keyval() -> c_int {
    static KEYVAL: OnceLock<c_int> = OnceLock::new();
    *KEYVAL.get_or_init(|| {
        let mut key = 0;
        // SAFETY: our own copy and delete functions (below); MPI writes the key.
        unsafe { mpi::ffi::MPI_Type_create_keyval(Some(no_copy), Some(no_delete), &mut key, std::ptr::null_mut()) };
        key
    })
}

/// A duplicate of a reduction's datatype does not carry the closure.
unsafe extern "C" fn no_copy(
    _old: MPI_Datatype,
    _key: c_int,
    _extra: *mut c_void,
    _in: *mut c_void,
    _out: *mut c_void,
    flag: *mut c_int,
) -> c_int {
    // SAFETY: MPI passes a valid flag to set.
    unsafe { *flag = 0 };
    mpi::ffi::MPI_SUCCESS as c_int
}

/// The closure belongs to its `UserReduction`, not to the attribute.
unsafe extern "C" fn no_delete(_ty: MPI_Datatype, _key: c_int, _val: *mut c_void, _extra: *mut c_void) -> c_int {
    mpi::ffi::MPI_SUCCESS as c_int
}

/// The MPI op that runs `combine::<T>`, made once per element type and order.
fn user_op<T: Data>(commutative: bool) -> MPI_Op {
    thread_local! {
        /// Never freed: freeing after `MPI_Finalize` would be an error, and there are few.
        static OPS: RefCell<HashMap<(TypeId, bool), MPI_Op>> = RefCell::new(HashMap::new());
    }
    OPS.with(|ops| {
        *ops.borrow_mut().entry((TypeId::of::<T>(), commutative)).or_insert_with(|| {
            let mut op = MaybeUninit::<MPI_Op>::uninit();
            // SAFETY: `combine::<T>` is called by MPI only on buffers of the datatype it is
            // given, which for this op is always a `UserReduction<T>`'s (see `combine`).
            unsafe {
                mpi::ffi::MPI_Op_create(Some(combine::<T>), c_int::from(commutative), op.as_mut_ptr());
                op.assume_init()
            }
        })
    })
}

/// MPI's user function: `inout[i] = in[i] op inout[i]`, where `in` comes from lower ranks.
/// The closure comes from the datatype's attribute (see `UserReduction`).
unsafe extern "C" fn combine<T: Data>(
    invec: *mut c_void,
    inoutvec: *mut c_void,
    len: *mut c_int,
    datatype: *mut MPI_Datatype,
) {
    let run = || {
        let mut attr: *mut c_void = std::ptr::null_mut();
        let mut found = 0;
        // SAFETY: MPI passes the reduction's datatype; we read our attribute of it.
        unsafe {
            mpi::ffi::MPI_Type_get_attr(*datatype, op_keyval(), (&mut attr as *mut *mut c_void).cast(), &mut found)
        };
        if found == 0 || attr.is_null() {
            eprintln!("parsci: an MPI user reduction ran on a datatype without its closure; aborting the job");
            super::runtime::abort(1);
        }
        // SAFETY: set by `UserReduction::<T>::new` to its boxed `Op<T>`, alive for the call.
        let op = unsafe { &*(attr as *const Op<T>) };
        // SAFETY: MPI passes `len` elements of the call's datatype (T) in both buffers,
        // which may be unaligned for T: they are read and written as bytes.
        let n = unsafe { *len } as usize;
        let bytes = n * std::mem::size_of::<T>();
        let mut acc: Vec<T> = vec![T::zeroed(); n];
        let mut x: Vec<T> = vec![T::zeroed(); n];
        // SAFETY: both buffers hold `bytes` bytes (see above); the copies do not overlap.
        unsafe {
            std::ptr::copy_nonoverlapping(invec as *const u8, acc.as_mut_ptr() as *mut u8, bytes);
            std::ptr::copy_nonoverlapping(inoutvec as *const u8, x.as_mut_ptr() as *mut u8, bytes);
        }
        op.apply(&mut acc, &x);
        // SAFETY: as above.
        unsafe { std::ptr::copy_nonoverlapping(acc.as_ptr() as *const u8, inoutvec as *mut u8, bytes) };
    };
    // A panic must not unwind into MPI's C code: report it and end the job.
    if let Err(panic) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)) {
        let msg = crate::job::panic_message(&*panic);
        eprintln!("a user reduction panicked inside MPI: {msg}; aborting the job");
        super::runtime::abort(1);
    }
}
