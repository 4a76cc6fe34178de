//! PETSc's sparse matrices (AIJ: compressed rows), assembled by the rows a rank owns.

use std::marker::PhantomData;
use std::ops::Range;

use crate::error::{Error, Result};
use crate::sys::{self, check};
use crate::{Petsc, Vector};

/// How [`Matrix::set_values`] combines a value with what the entry holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InsertMode {
    /// Replace the entry (`INSERT_VALUES`).
    Insert,
    /// Add to the entry (`ADD_VALUES`).
    Add,
}

/// A PETSc `Mat` (AIJ by default; `-mat_type` may choose another) on the PETSc
/// communicator: each rank owns a contiguous block of rows. Destroyed on drop.
pub struct Matrix<'p> {
    pub(crate) raw: sys::Mat,
    _petsc: PhantomData<&'p Petsc<'p>>,
}

impl std::fmt::Debug for Matrix<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Matrix")
    }
}

impl<'p> Matrix<'p> {
    /// A `rows` x `cols` sparse matrix, its rows split among the ranks by PETSc, with room
    /// for `per_row` entries a row in the owned columns and `per_row_off` in the others
    /// (`MatCreate`, `MatSetSizes`, `MatSetFromOptions`, AIJ preallocation). Collective.
    pub fn aij(
        petsc: &'p Petsc<'_>,
        rows: usize,
        cols: usize,
        per_row: usize,
        per_row_off: usize,
    ) -> Result<Matrix<'p>> {
        let (m, n) = (sys::petsc_int(rows, "row count")?, sys::petsc_int(cols, "column count")?);
        let (d, o) = (sys::petsc_int(per_row, "entries per row")?, sys::petsc_int(per_row_off, "entries per row")?);
        let mut raw: sys::Mat = std::ptr::null_mut();
        // SAFETY: creates a matrix on PETSc's live communicator into `raw`.
        check(unsafe { sys::MatCreate(petsc.world(), &mut raw) }, "MatCreate")?;
        let a = Matrix { raw, _petsc: PhantomData };
        // SAFETY: `a.raw` is a matrix just created; the calls below configure it.
        check(unsafe { sys::MatSetSizes(a.raw, sys::PETSC_DECIDE, sys::PETSC_DECIDE, m, n) }, "MatSetSizes")?;
        // SAFETY: as above.
        check(unsafe { sys::MatSetFromOptions(a.raw) }, "MatSetFromOptions")?;
        // SAFETY: as above; each preallocation is ignored by the other matrix types.
        let code = unsafe { sys::MatMPIAIJSetPreallocation(a.raw, d, std::ptr::null(), o, std::ptr::null()) };
        check(code, "MatMPIAIJSetPreallocation")?;
        // SAFETY: as above.
        check(unsafe { sys::MatSeqAIJSetPreallocation(a.raw, d, std::ptr::null()) }, "MatSeqAIJSetPreallocation")?;
        Ok(a)
    }

    /// The global rows this rank owns.
    pub fn ownership_range(&self) -> Result<Range<usize>> {
        let (mut lo, mut hi) = (0, 0);
        // SAFETY: a live matrix; writes two PetscInts.
        check(unsafe { sys::MatGetOwnershipRange(self.raw, &mut lo, &mut hi) }, "MatGetOwnershipRange")?;
        Ok(sys::from_petsc_int(lo)..sys::from_petsc_int(hi))
    }

    /// Sets the block `rows` x `cols` from `values` (row by row). Rows owned by another
    /// rank are sent to it at [`assemble`](Self::assemble).
    pub fn set_values(&mut self, rows: &[usize], cols: &[usize], values: &[f64], mode: InsertMode) -> Result<()> {
        if values.len() != rows.len() * cols.len() {
            return Err(Error::InvalidArgument(format!(
                "set_values: {} values for {} rows x {} columns",
                values.len(),
                rows.len(),
                cols.len()
            )));
        }
        let ix = |v: &[usize]| v.iter().map(|&i| sys::petsc_int(i, "index")).collect::<Result<Vec<_>>>();
        let (r, c) = (ix(rows)?, ix(cols)?);
        let (nr, nc) = (sys::petsc_int(r.len(), "row count")?, sys::petsc_int(c.len(), "column count")?);
        let mode = match mode {
            InsertMode::Insert => sys::InsertMode_INSERT_VALUES,
            InsertMode::Add => sys::InsertMode_ADD_VALUES,
        };
        // SAFETY: a live matrix; the slices hold nr, nc and nr*nc elements (checked above).
        let code = unsafe { sys::MatSetValues(self.raw, nr, r.as_ptr(), nc, c.as_ptr(), values.as_ptr(), mode) };
        check(code, "MatSetValues")
    }

    /// Final assembly: entries set for other ranks' rows travel to them. Collective.
    pub fn assemble(&mut self) -> Result<()> {
        // SAFETY: a live matrix.
        check(unsafe { sys::MatAssemblyBegin(self.raw, sys::MatAssemblyType_MAT_FINAL_ASSEMBLY) }, "MatAssemblyBegin")?;
        // SAFETY: as above, after MatAssemblyBegin.
        check(unsafe { sys::MatAssemblyEnd(self.raw, sys::MatAssemblyType_MAT_FINAL_ASSEMBLY) }, "MatAssemblyEnd")
    }

    /// Tells PETSc the matrix is symmetric (`MAT_SYMMETRIC`).
    pub fn set_symmetric(&mut self, symmetric: bool) -> Result<()> {
        let flag = if symmetric { sys::PetscBool::PETSC_TRUE } else { sys::PetscBool::PETSC_FALSE };
        // SAFETY: a live matrix.
        check(unsafe { sys::MatSetOption(self.raw, sys::MatOption_MAT_SYMMETRIC, flag) }, "MatSetOption")
    }

    /// `y = A x`. Collective.
    pub fn mult(&self, x: &Vector<'_>, y: &mut Vector<'_>) -> Result<()> {
        // SAFETY: a live assembled matrix and two live vectors; PETSc checks the layouts.
        check(unsafe { sys::MatMult(self.raw, x.raw, y.raw) }, "MatMult")
    }
}

impl Drop for Matrix<'_> {
    fn drop(&mut self) {
        // SAFETY: the matrix is live and dropped once (a KSP using it holds its own reference).
        let _ = check(unsafe { sys::MatDestroy(&mut self.raw) }, "MatDestroy");
    }
}
