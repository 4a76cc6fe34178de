//! Cartesian process topologies for domain decomposition (MPI's `Dims_create`, `Cart_*`).

use std::ops::Deref;

use crate::comm::{Comm, CommImpl};
use crate::error::{Error, Result};
use crate::p2p::PROC_NULL;
use crate::timing::Kind;

/// A balanced grid of `nnodes` ranks in `dims.len()` dimensions, as `MPI_Dims_create`:
/// entries of `dims` that are non-zero are kept, the zero ones are filled so that the
/// product is `nnodes` and the filled sizes are as close as possible (smallest difference
/// between the largest and the smallest, as MPICH), in non-increasing order.
///
/// ```
/// use parsci_comm::dims_create;
/// assert_eq!(dims_create(12, &[0, 0]).unwrap(), vec![4, 3]);
/// assert_eq!(dims_create(7, &[0, 0]).unwrap(), vec![7, 1]);
/// assert_eq!(dims_create(12, &[0, 2, 0]).unwrap(), vec![3, 2, 2]);
/// assert_eq!(dims_create(72, &[0, 0]).unwrap(), vec![9, 8]);
/// assert!(dims_create(7, &[2, 0]).is_err());
/// ```
pub fn dims_create(nnodes: usize, dims: &[usize]) -> Result<Vec<usize>, String> {
    if nnodes == 0 {
        return Err("dims_create: the number of ranks must be at least 1".into());
    }
    let fixed: usize = dims.iter().filter(|&&d| d > 0).product();
    if !nnodes.is_multiple_of(fixed) {
        return Err(format!("dims_create: {nnodes} ranks cannot be split with fixed dimensions {dims:?}"));
    }
    let free = dims.iter().filter(|&&d| d == 0).count();
    if free == 0 {
        return if fixed == nnodes {
            Ok(dims.to_vec())
        } else {
            Err(format!("dims_create: dimensions {dims:?} hold {fixed} ranks, not {nnodes}"))
        };
    }
    let sizes = balanced_factors(nnodes / fixed, free);
    let mut it = sizes.into_iter();
    Ok(dims.iter().map(|&d| if d > 0 { d } else { it.next().expect("one size per free dim") }).collect())
}

/// `m` as a product of `k` factors in non-increasing order, as close to each other as
/// possible: the smallest spread (largest minus smallest factor), then the smallest largest
/// factor. An exact search over the divisors of `m` (dealing prime factors greedily gives
/// 12 x 6 for 72 where MPI gives 9 x 8).
fn balanced_factors(m: usize, k: usize) -> Vec<usize> {
    let mut divisors: Vec<usize> = vec![1];
    for p in prime_factors(m) {
        let more: Vec<usize> =
            divisors.iter().filter_map(|d| d.checked_mul(p)).filter(|d| m.is_multiple_of(*d)).collect();
        divisors.extend(more);
        divisors.sort_unstable();
        divisors.dedup();
    }
    divisors.reverse(); // largest first
    let mut best: Option<Vec<usize>> = None;
    let mut current = Vec::with_capacity(k);
    search_factors(m, k, usize::MAX, &divisors, &mut current, &mut best);
    best.expect("m = m x 1 x ... x 1 is always a candidate")
}

fn search_factors(
    m: usize,
    k: usize,
    max: usize,
    divisors: &[usize],
    current: &mut Vec<usize>,
    best: &mut Option<Vec<usize>>,
) {
    if k == 0 {
        if m == 1 {
            let score = |v: &[usize]| (v[0] - v[v.len() - 1], v[0]);
            if best.as_ref().is_none_or(|b| score(current) < score(b)) {
                *best = Some(current.clone());
            }
        }
        return;
    }
    for &d in divisors.iter().filter(|&&d| d <= max && m.is_multiple_of(d)) {
        // Factors come in non-increasing order, so the first of k must reach the k-th root.
        if d.checked_pow(k as u32).is_some_and(|dk| dk < m) {
            break;
        }
        current.push(d);
        search_factors(m / d, k - 1, d, divisors, current, best);
        current.pop();
    }
}

fn prime_factors(mut n: usize) -> Vec<usize> {
    let mut out = Vec::new();
    let mut p = 2;
    while p * p <= n {
        while n.is_multiple_of(p) {
            out.push(p);
            n /= p;
        }
        p += 1;
    }
    if n > 1 {
        out.push(n);
    }
    out
}

/// A communicator whose ranks are laid out on a grid (row-major, as MPI).
/// It dereferences to its [`Comm`] for communication.
///
/// ```
/// use parsci_comm::{launch, Backend, PROC_NULL};
/// let out = launch(Backend::Threads(4), |comm| {
///     let cart = comm.cart_create(&[2, 2], &[false, true])?.unwrap();
///     Ok::<_, parsci_comm::Error>((cart.coords(), cart.shift(0, 1), cart.shift(1, 1)))
/// })
/// .unwrap();
/// let v = out.into_vec();
/// assert_eq!(v[0], (vec![0, 0], (PROC_NULL, 2), (1, 1)));
/// assert_eq!(v[3], (vec![1, 1], (1, PROC_NULL), (2, 2)));
/// ```
#[derive(Debug)]
pub struct CartComm {
    comm: Comm,
    dims: Vec<usize>,
    periods: Vec<bool>,
}

impl Deref for CartComm {
    type Target = Comm;
    fn deref(&self) -> &Comm {
        &self.comm
    }
}

impl Comm {
    /// Lays the ranks out on a grid of `dims` (see [`dims_create`]) with periodic
    /// (wrap-around) dimensions where `periods` says so. Collective. Ranks beyond the
    /// grid's size get `None`. Ranks keep their order (no reordering).
    pub fn cart_create(&self, dims: &[usize], periods: &[bool]) -> Result<Option<CartComm>> {
        let _t = self.traced(Kind::Collective, "cart_create", crate::p2p::PROC_NULL, -1, 0);
        let caller = self.rank();
        let invalid = |msg: String| Error::InvalidArgument { op: "cart_create", caller, msg };
        if dims.len() != periods.len() {
            return Err(invalid(format!("{} dimensions but {} periodicity flags", dims.len(), periods.len())));
        }
        if dims.contains(&0) {
            return Err(invalid(format!("dimensions {dims:?} contain a zero; fill them with dims_create first")));
        }
        let cells: usize = dims.iter().product();
        if cells > self.size() {
            return Err(invalid(format!(
                "a {dims:?} grid needs {cells} ranks but the communicator has {}",
                self.size()
            )));
        }
        let comm = match &self.inner {
            CommImpl::Threads(_) => self.split((caller < cells).then_some(0), caller as i32)?,
            #[cfg(feature = "mpi")]
            CommImpl::Mpi(c) => self.derive_trace(c.cart_create(dims, periods)?.map(Comm::from_mpi))?,
        };
        Ok(comm.map(|comm| CartComm { comm, dims: dims.to_vec(), periods: periods.to_vec() }))
    }
}

impl CartComm {
    /// The grid's size in each dimension.
    pub fn dims(&self) -> &[usize] {
        &self.dims
    }
    /// Which dimensions wrap around.
    pub fn periods(&self) -> &[bool] {
        &self.periods
    }
    /// This rank's coordinates.
    pub fn coords(&self) -> Vec<usize> {
        self.coords_of(self.rank())
    }
    /// The coordinates of `rank` (row-major: the last dimension varies fastest).
    pub fn coords_of(&self, rank: usize) -> Vec<usize> {
        #[cfg(feature = "mpi")]
        if let CommImpl::Mpi(c) = &self.comm.inner {
            if rank < self.size() {
                return c.cart_coords(rank).expect("an MPI Cartesian communicator");
            }
        }
        let mut rest = rank;
        let mut c = vec![0; self.dims.len()];
        for (i, &d) in self.dims.iter().enumerate().rev() {
            c[i] = rest % d;
            rest /= d;
        }
        c
    }
    /// The rank at `coords`, or `None` if they fall outside a non-periodic dimension
    /// (or are not one coordinate per dimension). Periodic coordinates wrap.
    pub fn rank_of(&self, coords: &[isize]) -> Option<usize> {
        if coords.len() != self.dims.len() {
            return None;
        }
        let mut r = 0usize;
        for ((&c, &d), &p) in coords.iter().zip(&self.dims).zip(&self.periods) {
            let d = d as isize;
            let c = if p {
                c.rem_euclid(d)
            } else if (0..d).contains(&c) {
                c
            } else {
                return None;
            };
            r = r * d as usize + c as usize;
        }
        Some(r)
    }
    /// The neighbours `disp` steps away along `dim`: `(source, dest)` as `MPI_Cart_shift`,
    /// i.e. the rank `-disp` away and the rank `+disp` away, [`PROC_NULL`] past a non-periodic edge.
    ///
    /// # Panics
    /// If `dim` is not a dimension of the grid.
    #[track_caller]
    pub fn shift(&self, dim: usize, disp: isize) -> (usize, usize) {
        assert!(dim < self.dims.len(), "shift: dimension {dim} of a {}-d grid", self.dims.len());
        #[cfg(feature = "mpi")]
        if let CommImpl::Mpi(c) = &self.comm.inner {
            let (s, d) = c.cart_shift(dim, disp).expect("an MPI Cartesian communicator");
            return (s.unwrap_or(PROC_NULL), d.unwrap_or(PROC_NULL));
        }
        let me: Vec<isize> = self.coords().into_iter().map(|c| c as isize).collect();
        let at = |delta: isize| {
            let mut c = me.clone();
            c[dim] += delta;
            self.rank_of(&c).unwrap_or(PROC_NULL)
        };
        (at(-disp), at(disp))
    }
    /// The plain communicator of the grid.
    pub fn comm(&self) -> &Comm {
        &self.comm
    }

    /// The sub-grids that keep the dimensions `retain` says (MPI's `Cart_sub`): each rank
    /// gets the grid of the ranks that share its coordinates in the other dimensions,
    /// ranked row-major by the kept coordinates. On a 2-D grid, `sub(&[false, true])` is
    /// this rank's row and `sub(&[true, false])` its column. Collective.
    ///
    /// ```
    /// use parsci_comm::{launch, Backend};
    /// let out = launch(Backend::Threads(6), |comm| {
    ///     let grid = comm.cart_create(&[2, 3], &[false, false])?.unwrap();
    ///     let row = grid.sub(&[false, true])?;
    ///     let col = grid.sub(&[true, false])?;
    ///     Ok::<_, parsci_comm::Error>((row.dims().to_vec(), row.rank(), col.dims().to_vec(), col.rank()))
    /// })
    /// .unwrap();
    /// // Rank 4 is at (1, 1): second in its row of 3, second in its column of 2.
    /// assert_eq!(out.get(4), Some(&(vec![3], 1, vec![2], 1)));
    /// ```
    pub fn sub(&self, retain: &[bool]) -> Result<CartComm> {
        let _t = self.comm.traced(Kind::Collective, "cart_sub", crate::p2p::PROC_NULL, -1, 0);
        if retain.len() != self.dims.len() {
            let msg = format!("{} flags for a {}-d grid: one per dimension", retain.len(), self.dims.len());
            return Err(Error::InvalidArgument { op: "cart_sub", caller: self.rank(), msg });
        }
        let pick = |keep: bool| -> (Vec<usize>, Vec<bool>) {
            let kept = (0..retain.len()).filter(|&d| retain[d] == keep);
            kept.map(|d| (self.dims[d], self.periods[d])).unzip()
        };
        let (dims, periods) = pick(true);
        let comm = match &self.comm.inner {
            CommImpl::Threads(_) => {
                // Ranks that agree on the dropped coordinates form one sub-grid; within
                // it, they are ordered row-major by the kept ones (their order here).
                let coords = self.coords();
                let (dropped, _) = pick(false);
                let mut color = 0usize;
                for (d, &n) in (0..retain.len()).filter(|&d| !retain[d]).zip(&dropped) {
                    color = color * n + coords[d];
                }
                let color = u32::try_from(color).expect("a grid's cell count fits a u32");
                self.comm.split(Some(color), self.rank() as i32)?.expect("every rank has a color")
            }
            #[cfg(feature = "mpi")]
            CommImpl::Mpi(c) => {
                let sub = Comm::from_mpi(c.cart_sub(retain).expect("an MPI Cartesian communicator"));
                self.comm.derive_trace(Some(sub))?.expect("a communicator")
            }
        };
        Ok(CartComm { comm, dims, periods })
    }
}
