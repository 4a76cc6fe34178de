//! PETSc's distributed vectors.

use std::marker::PhantomData;
use std::ops::Range;

use crate::error::Result;
use crate::sys::{self, check};
use crate::Petsc;

/// A PETSc `Vec` on the PETSc communicator: each rank owns a contiguous range of entries.
/// Destroyed on drop.
pub struct Vector<'p> {
    pub(crate) raw: sys::Vec,
    _petsc: PhantomData<&'p Petsc<'p>>,
}

impl std::fmt::Debug for Vector<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Vector(len {})", self.len().unwrap_or(0))
    }
}

impl<'p> Vector<'p> {
    /// A vector of `len` entries, split among the ranks by PETSc (`VecCreate`,
    /// `VecSetSizes(PETSC_DECIDE, len)`, `VecSetFromOptions`). Collective.
    pub fn new(petsc: &'p Petsc<'_>, len: usize) -> Result<Vector<'p>> {
        let n = sys::petsc_int(len, "vector length")?;
        let mut raw: sys::Vec = std::ptr::null_mut();
        // SAFETY: creates a vector on PETSc's live communicator into `raw`.
        check(unsafe { sys::VecCreate(petsc.world(), &mut raw) }, "VecCreate")?;
        let v = Vector { raw, _petsc: PhantomData };
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
        Ok(Vector { raw, _petsc: PhantomData })
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
        // SAFETY: the vector is live and dropped once; VecDestroy nulls the handle.
        let _ = check(unsafe { sys::VecDestroy(&mut self.raw) }, "VecDestroy");
    }
}
