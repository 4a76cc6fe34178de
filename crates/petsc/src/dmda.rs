//! PETSc's structured grids (DMDA, 2-D): the grid split into one rectangular patch per
//! rank, global vectors (each rank's patch, no ghosts), local vectors (the patch with its
//! ghost points) and the ghost exchange between them.

use std::marker::PhantomData;

use crate::error::{Error, Result};
use crate::sys::{self, check};
use crate::{Matrix, Petsc, Vector};

/// What lies beyond the grid's edge in one direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Boundary {
    /// Nothing: the edge points are the last (`DM_BOUNDARY_NONE`).
    #[default]
    None,
    /// The grid wraps around (`DM_BOUNDARY_PERIODIC`).
    Periodic,
}

/// Which neighbours a point's stencil reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StencilShape {
    /// Along the axes only (5 points at width 1: `DMDA_STENCIL_STAR`).
    #[default]
    Star,
    /// The whole square around the point (9 points at width 1: `DMDA_STENCIL_BOX`).
    Box,
}

/// The parameters of a 2-D DMDA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DmdaSpec {
    /// Grid points along x (`-da_grid_x` overrides it).
    pub nx: usize,
    /// Grid points along y (`-da_grid_y` overrides it).
    pub ny: usize,
    /// Unknowns per grid point.
    pub dof: usize,
    /// How far the stencil reaches: the ghost layer's width.
    pub width: usize,
    /// The stencil's shape.
    pub shape: StencilShape,
    /// Beyond the edges along x and along y.
    pub boundary: [Boundary; 2],
}

impl DmdaSpec {
    /// An `nx` x `ny` grid, one unknown per point, a star stencil of width 1, no wrap.
    pub fn new(nx: usize, ny: usize) -> DmdaSpec {
        DmdaSpec { nx, ny, dof: 1, width: 1, shape: StencilShape::Star, boundary: [Boundary::None; 2] }
    }
}

/// A rectangle of grid points in global indices (`x0..x0+nx` by `y0..y0+ny`; a periodic
/// grid's ghosts may start at -1), and where point (i, j) lies in an array of it, stored
/// row by row (x fastest), as a DMDA's vectors are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Patch {
    /// First index along x.
    pub x0: isize,
    /// First index along y.
    pub y0: isize,
    /// Points along x.
    pub nx: usize,
    /// Points along y.
    pub ny: usize,
}

impl Patch {
    /// The position of point (i, j) in an array of this patch (times `dof`, plus the
    /// component, with several unknowns per point).
    ///
    /// # Panics
    /// If (i, j) is outside the patch.
    #[track_caller]
    #[inline]
    pub fn index(&self, i: isize, j: isize) -> usize {
        let (di, dj) = (i - self.x0, j - self.y0);
        assert!(
            di >= 0 && dj >= 0 && (di as usize) < self.nx && (dj as usize) < self.ny,
            "point ({i}, {j}) outside the patch {self:?}"
        );
        dj as usize * self.nx + di as usize
    }

    /// The points of the patch, row by row: `(i, j)` in array order.
    pub fn points(&self) -> impl Iterator<Item = (isize, isize)> + '_ {
        let (x0, nx) = (self.x0, self.nx as isize);
        (self.y0..self.y0 + self.ny as isize).flat_map(move |j| (x0..x0 + nx).map(move |i| (i, j)))
    }

    /// The number of points.
    pub fn len(&self) -> usize {
        self.nx * self.ny
    }

    /// Whether the patch has no points.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The grid as this rank sees it (`DMDALocalInfo`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DmdaInfo {
    /// Grid points along x, over all ranks.
    pub nx: usize,
    /// Grid points along y, over all ranks.
    pub ny: usize,
    /// Unknowns per point.
    pub dof: usize,
    /// The points this rank owns: the layout of its part of a global vector.
    pub owned: Patch,
    /// The owned points and their ghosts: the layout of a local vector.
    pub ghosted: Patch,
}

/// A 2-D structured grid distributed over the PETSc communicator (`DMDA`). Destroyed on
/// drop (solvers using it keep their own reference).
pub struct Dmda<'p> {
    pub(crate) raw: sys::DM,
    info: DmdaInfo,
    _petsc: PhantomData<&'p Petsc<'p>>,
}

impl std::fmt::Debug for Dmda<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Dmda({:?})", self.info)
    }
}

impl<'p> Dmda<'p> {
    /// A 2-D grid split among the ranks by PETSc (`DMDACreate2d`, then the options
    /// database: `-da_grid_x`, `-da_refine`, `-da_processors_x`, ...). Collective.
    pub fn new_2d(petsc: &'p Petsc<'_>, spec: DmdaSpec) -> Result<Dmda<'p>> {
        if spec.nx == 0 || spec.ny == 0 || spec.dof == 0 {
            return Err(Error::InvalidArgument(format!(
                "a DMDA needs at least one point and one unknown per point, got {} x {} with {}",
                spec.nx, spec.ny, spec.dof
            )));
        }
        let bound = |b: Boundary| match b {
            Boundary::None => sys::DMBoundaryType_DM_BOUNDARY_NONE,
            Boundary::Periodic => sys::DMBoundaryType_DM_BOUNDARY_PERIODIC,
        };
        let shape = match spec.shape {
            StencilShape::Star => sys::DMDAStencilType_DMDA_STENCIL_STAR,
            StencilShape::Box => sys::DMDAStencilType_DMDA_STENCIL_BOX,
        };
        let (nx, ny) = (sys::petsc_int(spec.nx, "grid size")?, sys::petsc_int(spec.ny, "grid size")?);
        let (dof, width) = (sys::petsc_int(spec.dof, "unknowns per point")?, sys::petsc_int(spec.width, "width")?);
        let mut raw: sys::DM = std::ptr::null_mut();
        // SAFETY: creates a DMDA on PETSc's live communicator into `raw`; null ownership
        // arrays let PETSc choose the split.
        let code = unsafe {
            sys::DMDACreate2d(
                petsc.world(),
                bound(spec.boundary[0]),
                bound(spec.boundary[1]),
                shape,
                nx,
                ny,
                sys::PETSC_DECIDE,
                sys::PETSC_DECIDE,
                dof,
                width,
                std::ptr::null(),
                std::ptr::null(),
                &mut raw,
            )
        };
        check(code, "DMDACreate2d")?;
        let mut da = Dmda { raw, info: DmdaInfo::empty(), _petsc: PhantomData };
        // SAFETY: a DMDA just created, configured before its set-up.
        check(unsafe { sys::DMSetFromOptions(da.raw) }, "DMSetFromOptions")?;
        // SAFETY: as above.
        check(unsafe { sys::DMSetUp(da.raw) }, "DMSetUp")?;
        da.info = da.local_info()?;
        Ok(da)
    }

    fn local_info(&self) -> Result<DmdaInfo> {
        // SAFETY: DMDALocalInfo is plain data, and PETSc fills it in.
        let mut l: sys::DMDALocalInfo = unsafe { std::mem::zeroed() };
        // SAFETY: a set-up DMDA; writes one DMDALocalInfo.
        check(unsafe { sys::DMDAGetLocalInfo(self.raw, &mut l) }, "DMDAGetLocalInfo")?;
        let n = sys::from_petsc_int;
        let patch = |x0: sys::PetscInt, y0: sys::PetscInt, nx: sys::PetscInt, ny: sys::PetscInt| Patch {
            x0: x0 as isize,
            y0: y0 as isize,
            nx: n(nx),
            ny: n(ny),
        };
        Ok(DmdaInfo {
            nx: n(l.mx),
            ny: n(l.my),
            dof: n(l.dof),
            owned: patch(l.xs, l.ys, l.xm, l.ym),
            ghosted: patch(l.gxs, l.gys, l.gxm, l.gym),
        })
    }

    /// The grid and this rank's part of it.
    pub fn info(&self) -> &DmdaInfo {
        &self.info
    }

    /// A global vector (each rank's owned points, no ghosts), zero. Collective.
    pub fn global_vector(&self) -> Result<Vector<'p>> {
        let mut raw: sys::Vec = std::ptr::null_mut();
        // SAFETY: a set-up DMDA; PETSc creates the vector into `raw`.
        check(unsafe { sys::DMCreateGlobalVector(self.raw, &mut raw) }, "DMCreateGlobalVector")?;
        Ok(Vector::owned(raw))
    }

    /// A local vector (this rank's points and their ghosts), zero. Not collective.
    pub fn local_vector(&self) -> Result<Vector<'p>> {
        let mut raw: sys::Vec = std::ptr::null_mut();
        // SAFETY: a set-up DMDA; PETSc creates the vector into `raw`.
        check(unsafe { sys::DMCreateLocalVector(self.raw, &mut raw) }, "DMCreateLocalVector")?;
        Ok(Vector::owned(raw))
    }

    /// The ghost exchange: `local` gets `global`'s owned values and its neighbours' values
    /// at the ghost points (`DMGlobalToLocal`, `INSERT_VALUES`). Collective.
    pub fn global_to_local(&self, global: &Vector<'_>, local: &mut Vector<'_>) -> Result<()> {
        let insert = sys::InsertMode_INSERT_VALUES;
        // SAFETY: a set-up DMDA and two live vectors; PETSc checks that they are its own.
        check(unsafe { sys::DMGlobalToLocalBegin(self.raw, global.raw, insert, local.raw) }, "DMGlobalToLocalBegin")?;
        // SAFETY: as above, after the begin.
        check(unsafe { sys::DMGlobalToLocalEnd(self.raw, global.raw, insert, local.raw) }, "DMGlobalToLocalEnd")
    }

    /// The owned values of `local` into `global` (`DMLocalToGlobal`, `INSERT_VALUES`:
    /// ghosts are dropped). Collective. PETSc refuses it (an error) on a grid that wraps
    /// around along x while split along x.
    pub fn local_to_global(&self, local: &Vector<'_>, global: &mut Vector<'_>) -> Result<()> {
        let insert = sys::InsertMode_INSERT_VALUES;
        // SAFETY: a set-up DMDA and two live vectors; PETSc checks that they are its own.
        check(unsafe { sys::DMLocalToGlobalBegin(self.raw, local.raw, insert, global.raw) }, "DMLocalToGlobalBegin")?;
        // SAFETY: as above, after the begin.
        check(unsafe { sys::DMLocalToGlobalEnd(self.raw, local.raw, insert, global.raw) }, "DMLocalToGlobalEnd")
    }

    /// A matrix with the grid's layout and the stencil's nonzero pattern, filled with
    /// [`Matrix::set_values_stencil`] (`DMCreateMatrix`; `-dm_mat_type` chooses the
    /// format). Collective.
    pub fn create_matrix(&self) -> Result<Matrix<'p>> {
        let mut raw: sys::Mat = std::ptr::null_mut();
        // SAFETY: a set-up DMDA; PETSc creates the matrix into `raw`.
        check(unsafe { sys::DMCreateMatrix(self.raw, &mut raw) }, "DMCreateMatrix")?;
        Ok(Matrix::owned(raw))
    }

    /// A global vector's values in the grid's natural order (row by row over the whole
    /// grid, whatever the split) on rank 0; an empty `Vec` on the other ranks. Collective.
    pub fn gather_natural(&self, global: &Vector<'_>) -> Result<Vec<f64>> {
        let mut raw: sys::Vec = std::ptr::null_mut();
        // SAFETY: a set-up DMDA; PETSc creates the natural-order vector into `raw`.
        check(unsafe { sys::DMDACreateNaturalVector(self.raw, &mut raw) }, "DMDACreateNaturalVector")?;
        let natural = Vector::owned(raw);
        let insert = sys::InsertMode_INSERT_VALUES;
        // SAFETY: a set-up DMDA, one of its global vectors and its natural vector.
        let code = unsafe { sys::DMDAGlobalToNaturalBegin(self.raw, global.raw, insert, natural.raw) };
        check(code, "DMDAGlobalToNaturalBegin")?;
        // SAFETY: as above, after the begin.
        let code = unsafe { sys::DMDAGlobalToNaturalEnd(self.raw, global.raw, insert, natural.raw) };
        check(code, "DMDAGlobalToNaturalEnd")?;
        natural.gather_to_zero()
    }
}

impl DmdaInfo {
    fn empty() -> DmdaInfo {
        let p = Patch { x0: 0, y0: 0, nx: 0, ny: 0 };
        DmdaInfo { nx: 0, ny: 0, dof: 0, owned: p, ghosted: p }
    }
}

impl Drop for Dmda<'_> {
    fn drop(&mut self) {
        // SAFETY: the DM is live, ours, and dropped once (users keep their own references).
        let _ = check(unsafe { sys::DMDestroy(&mut self.raw) }, "DMDestroy");
    }
}
