//! Element types as MPI datatypes, reductions as MPI ops.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::ffi::c_void;
use std::os::raw::c_int;

use mpi::collective::{SystemOperation, UnsafeUserOperation};
use mpi::datatype::{Equivalence, UserDatatype};
use mpi::ffi::{MPI_Datatype, MPI_Op};
use mpi::raw::AsRaw;

use crate::data::{Data, DataKind, Op, OpKind};

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

/// Runs `f` with the MPI op for `op`: MPI's own for the built-in ops on primitives,
/// else a user op that calls `op` (set up for this call only).
#[inline]
pub(crate) fn with_op<T: Data, R>(op: &Op<T>, f: impl FnOnce(MPI_Op) -> R) -> R {
    if let Some(system) = system_op(op) {
        return f(system);
    }
    let commutative = !matches!(op.kind(), OpKind::User { commutative: false });
    // SAFETY: `combine::<T>` is called only by this call's reduction, on buffers of `T`s,
    // while CURRENT_OP points at `op` (set just below, for this call only).
    let user = unsafe { UnsafeUserOperation::new(commutative, combine::<T>) };
    let previous = CURRENT_OP.with(|c| c.replace(op as *const Op<T> as *const ()));
    let out = f(user.as_raw());
    CURRENT_OP.with(|c| c.set(previous));
    out
}

thread_local! {
    /// The `Op<T>` of the reduction in progress on this thread.
    static CURRENT_OP: Cell<*const ()> = const { Cell::new(std::ptr::null()) };
}

/// MPI's user function: `inout[i] = in[i] op inout[i]`, where `in` comes from lower ranks.
unsafe extern "C" fn combine<T: Data>(
    invec: *mut c_void,
    inoutvec: *mut c_void,
    len: *mut c_int,
    _datatype: *mut MPI_Datatype,
) {
    let run = || {
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
        // SAFETY: set by `with_op::<T>` for the call that runs this reduction.
        let op = unsafe { &*(CURRENT_OP.with(|c| c.get()) as *const Op<T>) };
        op.apply(&mut acc, &x);
        // SAFETY: as above.
        unsafe { std::ptr::copy_nonoverlapping(acc.as_ptr() as *const u8, inoutvec as *mut u8, bytes) };
    };
    // A panic must not unwind into MPI's C code: report it and end the job.
    if let Err(panic) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)) {
        let msg = crate::launch::panic_message(&*panic);
        eprintln!("a user reduction panicked inside MPI: {msg}; aborting the job");
        super::runtime::abort(1);
    }
}
