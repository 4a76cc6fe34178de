//! PETSc's distributed vectors.

use std::marker::PhantomData;
use std::ops::{Deref, DerefMut, Range};

use crate::error::Result;
use crate::sys::{self, check};
use crate::Petsc;

/// A PETSc `Vec` on the PETSc communicator: each rank owns a contiguous range of entries
/// (a DMDA's local vectors are sequential: one rank's patch with its ghosts).
/// Destroyed on drop, unless PETSc lent it to a closure (a SNES residual's vectors).
pub struct Vector<'p> {
    pub(crate) raw: sys::Vec,
    /// Whether dropping it destroys the PETSc object (false for PETSc's own vectors
    /// handed to a closure).
    owned: bool,
    _petsc: PhantomData<&'p Petsc<'p>>,
}

impl std::fmt::Debug for Vector<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Vector(len {})", self.len().unwrap_or(0))
    }
}

impl<'p> Vector<'p> {
    /// Takes ownership of a vector PETSc created.
    pub(crate) fn owned(raw: sys::Vec) -> Vector<'p> {
        Vector { raw, owned: true, _petsc: PhantomData }
    }

    /// A vector PETSc owns and lends for a call: dropping it leaves it alone.
    pub(crate) fn borrowed(raw: sys::Vec) -> Vector<'p> {
        Vector { raw, owned: false, _petsc: PhantomData }
    }

    /// A vector of `len` entries, split among the ranks by PETSc (`VecCreate`,
    /// `VecSetSizes(PETSC_DECIDE, len)`, `VecSetFromOptions`). Collective.
    pub fn new(petsc: &'p Petsc<'_>, len: usize) -> Result<Vector<'p>> {
        let n = sys::petsc_int(len, "vector length")?;
        let mut raw: sys::Vec = std::ptr::null_mut();
        // SAFETY: creates a vector on PETSc's live communicator into `raw`.
        check(unsafe { sys::VecCreate(petsc.world(), &mut raw) }, "VecCreate")?;
        let v = Vector::owned(raw);
        // SAFETY: `v.raw` is a vector just created.
        check(unsafe { sys::VecSetSizes(v.raw, sys::PETSC_DECIDE, n) }, "VecSetSizes")?;
        // SAFETY: as above.
        check(unsafe { sys::VecSetFromOptions(v.raw) }, "VecSetFromOptions")?;
        Ok(v)
    }

    /// A vector of the same layout (values not copied). Collective.
    pub fn duplicate(&self) -> Result<Vector<'p>> {
        let mut raw: sys::Vec = std::ptr::null_mut();
        // SAFETY: `self.raw` is a live vector; the copy goes into `raw`.
        check(unsafe { sys::VecDuplicate(self.raw, &mut raw) }, "VecDuplicate")?;
        Ok(Vector::owned(raw))
    }

    /// The global length.
    pub fn len(&self) -> Result<usize> {
        let mut n = 0;
        // SAFETY: a live vector; writes one PetscInt.
        check(unsafe { sys::VecGetSize(self.raw, &mut n) }, "VecGetSize")?;
        Ok(sys::from_petsc_int(n))
    }

    /// Whether the vector has no entries.
    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.len()? == 0)
    }

    /// The global indices of the entries this rank owns.
    pub fn ownership_range(&self) -> Result<Range<usize>> {
        let (mut lo, mut hi) = (0, 0);
        // SAFETY: a live vector; writes two PetscInts.
        check(unsafe { sys::VecGetOwnershipRange(self.raw, &mut lo, &mut hi) }, "VecGetOwnershipRange")?;
        Ok(sys::from_petsc_int(lo)..sys::from_petsc_int(hi))
    }

    /// Sets every entry to `value`. Collective.
    pub fn set(&mut self, value: f64) -> Result<()> {
        // SAFETY: a live vector.
        check(unsafe { sys::VecSet(self.raw, value) }, "VecSet")
    }

    /// `self += alpha * x`. Collective.
    pub fn axpy(&mut self, alpha: f64, x: &Vector<'_>) -> Result<()> {
        // SAFETY: two live vectors; PETSc checks that their layouts agree.
        check(unsafe { sys::VecAXPY(self.raw, alpha, x.raw) }, "VecAXPY")
    }

    /// The number of entries this rank holds.
    pub fn local_len(&self) -> Result<usize> {
        let mut n = 0;
        // SAFETY: a live vector; writes one PetscInt.
        check(unsafe { sys::VecGetLocalSize(self.raw, &mut n) }, "VecGetLocalSize")?;
        Ok(sys::from_petsc_int(n))
    }

    /// This rank's entries, to read (`VecGetArrayRead`). Not collective.
    pub fn read(&self) -> Result<VecRead<'_>> {
        let len = self.local_len()?;
        let mut ptr: *const f64 = std::ptr::null();
        // SAFETY: a live vector; PETSc writes a pointer to its local array.
        check(unsafe { sys::VecGetArrayRead(self.raw, &mut ptr) }, "VecGetArrayRead")?;
        Ok(VecRead { raw: self.raw, ptr, len, _vec: PhantomData })
    }

    /// This rank's entries, to write (`VecGetArray`). Not collective.
    pub fn write(&mut self) -> Result<VecWrite<'_>> {
        let len = self.local_len()?;
        let mut ptr: *mut f64 = std::ptr::null_mut();
        // SAFETY: a live vector; PETSc writes a pointer to its local array.
        check(unsafe { sys::VecGetArray(self.raw, &mut ptr) }, "VecGetArray")?;
        Ok(VecWrite { raw: self.raw, ptr, len, _vec: PhantomData })
    }

    /// Copies `x` into `self` (same layout). Collective.
    pub fn copy_from(&mut self, x: &Vector<'_>) -> Result<()> {
        // SAFETY: two live vectors; PETSc checks their layouts.
        check(unsafe { sys::VecCopy(x.raw, self.raw) }, "VecCopy")
    }

    /// Every entry, in this vector's global order, on rank 0; an empty `Vec` on the other
    /// ranks. Collective.
    pub fn gather_to_zero(&self) -> Result<std::vec::Vec<f64>> {
        let mut scatter: sys::VecScatter = std::ptr::null_mut();
        let mut all: sys::Vec = std::ptr::null_mut();
        // SAFETY: a live vector; PETSc creates a scatter and a vector on rank 0 holding all.
        check(unsafe { sys::VecScatterCreateToZero(self.raw, &mut scatter, &mut all) }, "VecScatterCreateToZero")?;
        let all = Vector::owned(all);
        let (insert, forward) = (sys::InsertMode_INSERT_VALUES, sys::ScatterMode_SCATTER_FORWARD);
        let scatter_both = || {
            // SAFETY: the scatter was made for these two vectors.
            let code = unsafe { sys::VecScatterBegin(scatter, self.raw, all.raw, insert, forward) };
            check(code, "VecScatterBegin")?;
            // SAFETY: as above, after VecScatterBegin.
            check(unsafe { sys::VecScatterEnd(scatter, self.raw, all.raw, insert, forward) }, "VecScatterEnd")
        };
        let r = scatter_both();
        // SAFETY: the scatter is ours and used no more.
        unsafe { sys::VecScatterDestroy(&mut scatter) };
        r?;
        let values = all.read()?.to_vec();
        Ok(values)
    }

    /// The largest absolute entry. Collective.
    pub fn norm_inf(&self) -> Result<f64> {
        let mut norm = 0.0;
        // SAFETY: a live vector; writes one PetscReal.
        check(unsafe { sys::VecNorm(self.raw, sys::NormType_NORM_INFINITY, &mut norm) }, "VecNorm")?;
        Ok(norm)
    }

    /// The largest entry (`-inf` for an empty vector). Collective.
    pub fn max(&self) -> Result<f64> {
        let mut max = 0.0;
        // SAFETY: a live vector; writes one PetscReal (and no index: null).
        check(unsafe { sys::VecMax(self.raw, std::ptr::null_mut(), &mut max) }, "VecMax")?;
        Ok(max)
    }

    /// The smallest entry (`inf` for an empty vector). Collective.
    pub fn min(&self) -> Result<f64> {
        let mut min = 0.0;
        // SAFETY: a live vector; writes one PetscReal (and no index: null).
        check(unsafe { sys::VecMin(self.raw, std::ptr::null_mut(), &mut min) }, "VecMin")?;
        Ok(min)
    }

    /// The sum of the entries. Collective.
    pub fn sum(&self) -> Result<f64> {
        let mut sum = 0.0;
        // SAFETY: a live vector; writes one PetscScalar.
        check(unsafe { sys::VecSum(self.raw, &mut sum) }, "VecSum")?;
        Ok(sum)
    }

    /// The 2-norm. Collective.
    pub fn norm2(&self) -> Result<f64> {
        let mut norm = 0.0;
        // SAFETY: a live vector; writes one PetscReal.
        check(unsafe { sys::VecNorm(self.raw, sys::NormType_NORM_2, &mut norm) }, "VecNorm")?;
        Ok(norm)
    }
}

impl Drop for Vector<'_> {
    fn drop(&mut self) {
        if self.owned {
            // SAFETY: the vector is live, ours, and dropped once; VecDestroy nulls the handle.
            let _ = check(unsafe { sys::VecDestroy(&mut self.raw) }, "VecDestroy");
        }
    }
}

/// The entries a rank holds of a [`Vector`], read-only (`VecGetArrayRead`); given back
/// to PETSc on drop.
pub struct VecRead<'v> {
    raw: sys::Vec,
    ptr: *const f64,
    len: usize,
    _vec: PhantomData<&'v ()>,
}

impl Deref for VecRead<'_> {
    type Target = [f64];
    fn deref(&self) -> &[f64] {
        if self.len == 0 {
            return &[];
        }
        // SAFETY: PETSc's array of the vector's `len` local entries, valid until restored
        // on drop; the vector is borrowed shared, so nothing writes it meanwhile.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

impl Drop for VecRead<'_> {
    fn drop(&mut self) {
        // SAFETY: gives back the array taken by VecGetArrayRead on this live vector.
        let _ = check(unsafe { sys::VecRestoreArrayRead(self.raw, &mut self.ptr) }, "VecRestoreArrayRead");
    }
}

/// The entries a rank holds of a [`Vector`], writable (`VecGetArray`); given back to
/// PETSc on drop.
pub struct VecWrite<'v> {
    raw: sys::Vec,
    ptr: *mut f64,
    len: usize,
    _vec: PhantomData<&'v mut ()>,
}

impl Deref for VecWrite<'_> {
    type Target = [f64];
    fn deref(&self) -> &[f64] {
        if self.len == 0 {
            return &[];
        }
        // SAFETY: as for VecRead; the vector is borrowed exclusively.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

impl DerefMut for VecWrite<'_> {
    fn deref_mut(&mut self) -> &mut [f64] {
        if self.len == 0 {
            return &mut [];
        }
        // SAFETY: PETSc's array of `len` local entries, ours alone until restored on drop
        // (the vector is borrowed exclusively).
        unsafe { std::slice::from_raw_parts_mut(self.ptr, self.len) }
    }
}

impl Drop for VecWrite<'_> {
    fn drop(&mut self) {
        // SAFETY: gives back the array taken by VecGetArray on this live vector.
        let _ = check(unsafe { sys::VecRestoreArray(self.raw, &mut self.ptr) }, "VecRestoreArray");
    }
}
