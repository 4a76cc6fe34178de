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
/// communicator: each rank owns a contiguous block of rows. Destroyed on drop, unless
/// PETSc lent it to a closure (a SNES Jacobian's matrix).
pub struct Matrix<'p> {
    pub(crate) raw: sys::Mat,
    /// Whether dropping it destroys the PETSc object.
    owned: bool,
    _petsc: PhantomData<&'p Petsc<'p>>,
}

/// A grid point of a DMDA's matrix, by its global grid indices (`MatStencil`): `i` along
/// x, `j` along y, component `c` (0 with one unknown per point). A ghost point of a
/// periodic grid may be `-1` or the grid's size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stencil {
    /// Index along x.
    pub i: isize,
    /// Index along y.
    pub j: isize,
    /// Component.
    pub c: usize,
}

impl Stencil {
    /// Point (i, j), component 0.
    pub fn at(i: isize, j: isize) -> Stencil {
        Stencil { i, j, c: 0 }
    }

    fn raw(self) -> Result<sys::MatStencil> {
        let int = |v: isize| {
            sys::PetscInt::try_from(v).map_err(|_| Error::InvalidArgument(format!("stencil index {v} out of range")))
        };
        Ok(sys::MatStencil { k: 0, j: int(self.j)?, i: int(self.i)?, c: sys::petsc_int(self.c, "component")? })
    }
}

impl std::fmt::Debug for Matrix<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Matrix")
    }
}

impl<'p> Matrix<'p> {
    /// Takes ownership of a matrix PETSc created.
    pub(crate) fn owned(raw: sys::Mat) -> Matrix<'p> {
        Matrix { raw, owned: true, _petsc: PhantomData }
    }

    /// A matrix PETSc owns and lends for a call: dropping it leaves it alone.
    pub(crate) fn borrowed(raw: sys::Mat) -> Matrix<'p> {
        Matrix { raw, owned: false, _petsc: PhantomData }
    }

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
        let a = Matrix::owned(raw);
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
        // A stencil's row fits on the stack: no allocation per call in assembly loops.
        let (mut r_small, mut c_small) = ([0; SMALL], [0; SMALL]);
        let (mut r_big, mut c_big) = (Vec::new(), Vec::new());
        let r = petsc_indices(rows, &mut r_small, &mut r_big)?;
        let c = petsc_indices(cols, &mut c_small, &mut c_big)?;
        let (nr, nc) = (sys::petsc_int(r.len(), "row count")?, sys::petsc_int(c.len(), "column count")?);
        let mode = match mode {
            InsertMode::Insert => sys::InsertMode_INSERT_VALUES,
            InsertMode::Add => sys::InsertMode_ADD_VALUES,
        };
        // SAFETY: a live matrix; the slices hold nr, nc and nr*nc elements (checked above).
        let code = unsafe { sys::MatSetValues(self.raw, nr, r.as_ptr(), nc, c.as_ptr(), values.as_ptr(), mode) };
        check(code, "MatSetValues")
    }

    /// Sets row `row` at columns `cols` of a DMDA's matrix (made by
    /// [`Dmda::create_matrix`](crate::Dmda::create_matrix)), by grid points.
    pub fn set_values_stencil(
        &mut self,
        row: Stencil,
        cols: &[Stencil],
        values: &[f64],
        mode: InsertMode,
    ) -> Result<()> {
        if values.len() != cols.len() {
            return Err(Error::InvalidArgument(format!(
                "set_values_stencil: {} values for {} columns",
                values.len(),
                cols.len()
            )));
        }
        let r = row.raw()?;
        let zero = sys::MatStencil { k: 0, j: 0, i: 0, c: 0 };
        let (mut small, big): ([sys::MatStencil; SMALL], Vec<_>);
        let c: &[sys::MatStencil] = if cols.len() <= SMALL {
            small = [zero; SMALL];
            for (to, s) in small.iter_mut().zip(cols) {
                *to = s.raw()?;
            }
            &small[..cols.len()]
        } else {
            big = cols.iter().map(|s| s.raw()).collect::<Result<Vec<_>>>()?;
            &big
        };
        let nc = sys::petsc_int(c.len(), "column count")?;
        let mode = match mode {
            InsertMode::Insert => sys::InsertMode_INSERT_VALUES,
            InsertMode::Add => sys::InsertMode_ADD_VALUES,
        };
        // SAFETY: a live matrix; one row stencil, `nc` column stencils and `nc` values.
        let code = unsafe { sys::MatSetValuesStencil(self.raw, 1, &r, nc, c.as_ptr(), values.as_ptr(), mode) };
        check(code, "MatSetValuesStencil")
    }

    /// Sets every stored entry to zero (keeping the nonzero structure). Collective.
    pub fn zero_entries(&mut self) -> Result<()> {
        // SAFETY: a live matrix.
        check(unsafe { sys::MatZeroEntries(self.raw) }, "MatZeroEntries")
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

/// How many indices [`petsc_indices`] converts on the stack.
const SMALL: usize = 16;

/// `indices` as PetscInts, in `small` when they fit, else in `big`.
fn petsc_indices<'b>(
    indices: &[usize],
    small: &'b mut [sys::PetscInt; SMALL],
    big: &'b mut Vec<sys::PetscInt>,
) -> Result<&'b [sys::PetscInt]> {
    if indices.len() <= SMALL {
        for (to, &i) in small.iter_mut().zip(indices) {
            *to = sys::petsc_int(i, "index")?;
        }
        Ok(&small[..indices.len()])
    } else {
        *big = indices.iter().map(|&i| sys::petsc_int(i, "index")).collect::<Result<Vec<_>>>()?;
        Ok(big)
    }
}

impl Drop for Matrix<'_> {
    fn drop(&mut self) {
        if self.owned {
            // SAFETY: the matrix is live, ours, and dropped once (a KSP or SNES using it
            // holds its own reference).
            let _ = check(unsafe { sys::MatDestroy(&mut self.raw) }, "MatDestroy");
        }
    }
}
