//! Checks of the reductions in place (`allreduce_in_place`, `reduce_in_place`,
//! `scan_in_place`, `exscan_in_place`) and of reduce-scatter (`reduce_scatter_block`,
//! `reduce_scatter`) against serial references, at lengths on both sides of the thread
//! backend's staging limit (1 KiB) and of the MPI backend's agreement limit (2 KiB), and
//! their mismatch errors.
//!
//! Rank order is checked with a non-commutative user op that MPI may still regroup
//! (MPI requires associativity): composing affine maps `x -> m x + c`, kept as `[m, c]`.
//! (`a * 3 + b` would not do: it is not associative, so a tree-shaped reduction may
//! rightly give another result than the serial fold.)

use parsci_comm::{Comm, Error, Op};

use super::checks::CheckResult;

fn ctx<T>(r: parsci_comm::Result<T>, what: impl std::fmt::Display) -> Result<T, String> {
    r.map_err(|e| format!("{what}: {e}"))
}

fn same<T: PartialEq + std::fmt::Debug>(what: impl std::fmt::Display, got: &[T], want: &[T]) -> CheckResult {
    if got.len() != want.len() {
        return Err(format!("{what}: got {} elements, expected {}", got.len(), want.len()));
    }
    match got.iter().zip(want).position(|(a, b)| a != b) {
        None => Ok(()),
        Some(i) => Err(format!("{what}: element {i} of {} is {:?}, expected {:?}", want.len(), got[i], want[i])),
    }
}

/// Element `i` of rank `r`'s contribution in data set `salt`: small values, some negative.
fn val(salt: u64, r: usize, i: usize) -> i64 {
    let mut z = salt.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ ((r as u64) << 40) ^ i as u64;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    ((z ^ (z >> 31)) % 9) as i64 - 4
}

/// An affine map `x -> m x + c` as `[m, c]`; `then(f, g)` is `g` after `f`.
type Affine = [u64; 2];

fn then(f: &Affine, g: &Affine) -> Affine {
    [f[0].wrapping_mul(g[0]), g[0].wrapping_mul(f[1]).wrapping_add(g[1])]
}

fn affine(salt: u64, r: usize, i: usize) -> Affine {
    [(val(salt, r, i) + 7) as u64 * 2 + 1, (val(salt ^ 1, r, i) + 4) as u64 + 10 * r as u64]
}

/// An op with its name and its serial definition.
type NamedOp<T> = (&'static str, Op<T>, fn(&T, &T) -> T);

/// A typed element with its contributions and ops, so that one check covers both.
trait Elem: parsci_comm::Data + PartialEq + std::fmt::Debug {
    fn of(salt: u64, r: usize, i: usize) -> Self;
    /// The ops to check, with their serial definitions.
    fn ops() -> Vec<NamedOp<Self>>;
    fn filler() -> Self;
}

impl Elem for i64 {
    fn of(salt: u64, r: usize, i: usize) -> Self {
        val(salt, r, i)
    }
    fn ops() -> Vec<NamedOp<Self>> {
        vec![
            ("sum", Op::sum(), |a, b| a.wrapping_add(*b)),
            ("prod", Op::prod(), |a, b| a.wrapping_mul(*b)),
            ("min", Op::min(), |a, b| *a.min(b)),
            ("max", Op::max(), |a, b| *a.max(b)),
        ]
    }
    fn filler() -> Self {
        -77
    }
}

impl Elem for Affine {
    fn of(salt: u64, r: usize, i: usize) -> Self {
        affine(salt, r, i)
    }
    fn ops() -> Vec<NamedOp<Self>> {
        vec![("affine composition (non-commutative)", Op::user(then), then)]
    }
    fn filler() -> Self {
        [77, 77]
    }
}

fn contrib<T: Elem>(salt: u64, r: usize, n: usize) -> Vec<T> {
    (0..n).map(|i| T::of(salt, r, i)).collect()
}

/// Elements `range` of the fold of ranks `from..upto`'s contributions, in rank order.
fn fold<T: Elem>(salt: u64, upto: usize, range: std::ops::Range<usize>, f: fn(&T, &T) -> T) -> Vec<T> {
    range.map(|i| (1..upto).fold(T::of(salt, 0, i), |acc, r| f(&acc, &T::of(salt, r, i)))).collect()
}

/// Lengths around the staging limit (1 KiB) and the agreement limit (2 KiB) of 8- and
/// 16-byte elements, and beyond one reduction chunk (16 KiB).
const LENS: [usize; 10] = [0, 1, 5, 64, 127, 129, 255, 256, 2049, 5000];

fn in_place_of<T: Elem>(comm: &Comm, salt: u64) -> CheckResult {
    let (me, p) = (comm.rank(), comm.size());
    let ty = std::any::type_name::<T>();
    for (name, op, f) in T::ops() {
        for n in LENS {
            let what = |call: &str| format!("{call} {name} of {n} {ty} at {p} ranks");
            let mine = contrib::<T>(salt, me, n);
            let total = fold(salt, p, 0..n, f);
            // The out-of-place form, for the bits.
            let mut out = vec![T::filler(); n];
            ctx(comm.allreduce(&mine, &mut out, &op), what("allreduce"))?;
            let mut buf = mine.clone();
            ctx(comm.allreduce_in_place(&mut buf, &op), what("allreduce_in_place"))?;
            same(what("allreduce_in_place"), &buf, &total)?;
            same(what("allreduce_in_place against allreduce"), &buf, &out)?;
            for root in [0, p - 1, p / 2] {
                let mut buf = mine.clone();
                ctx(comm.reduce_in_place(&mut buf, &op, root), what("reduce_in_place"))?;
                let want = if me == root { &total } else { &mine };
                same(format!("{} to root {root} on rank {me}", what("reduce_in_place")), &buf, want)?;
            }
            let mut buf = mine.clone();
            ctx(comm.scan_in_place(&mut buf, &op), what("scan_in_place"))?;
            same(format!("{} on rank {me}", what("scan_in_place")), &buf, &fold(salt, me + 1, 0..n, f))?;
            let mut buf = mine.clone();
            ctx(comm.exscan_in_place(&mut buf, &op), what("exscan_in_place"))?;
            let want = if me == 0 { mine.clone() } else { fold(salt, me, 0..n, f) };
            same(format!("{} on rank {me} (rank 0's left as it is)", what("exscan_in_place")), &buf, &want)?;
        }
    }
    Ok(())
}

/// The reductions in place against serial references and against the out-of-place forms.
pub fn in_place_reductions(comm: &Comm) -> CheckResult {
    in_place_of::<i64>(comm, 400)?;
    in_place_of::<Affine>(comm, 401)?;
    // General f64 values: the same bits as the out-of-place allreduce, on every rank.
    let (me, n) = (comm.rank(), 3000);
    let x: Vec<f64> = (0..n).map(|i| val(402, me, i) as f64 * 0.1 + (i as f64).sqrt()).collect();
    let mut out = vec![0.0; n];
    ctx(comm.allreduce(&x, &mut out, &Op::sum()), "allreduce of f64")?;
    let mut buf = x.clone();
    ctx(comm.allreduce_in_place(&mut buf, &Op::sum()), "allreduce_in_place of f64")?;
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    same("allreduce_in_place of f64 against allreduce (bits)", &bits(&buf), &bits(&out))
}

fn reduce_scatter_of<T: Elem>(comm: &Comm, salt: u64) -> CheckResult {
    let (me, p) = (comm.rank(), comm.size());
    let ty = std::any::type_name::<T>();
    for (name, op, f) in T::ops() {
        // Blocks whose whole send buffer is below and above 1 KiB and 2 KiB.
        for k in [0usize, 1, 3, 16, 40, 300, 3000] {
            let what = format!("reduce_scatter_block {name} of {p} blocks of {k} {ty}");
            let mut recv = vec![T::filler(); k];
            ctx(comm.reduce_scatter_block(&contrib::<T>(salt, me, p * k), &mut recv, &op), &what)?;
            same(format!("{what} on rank {me}"), &recv, &fold(salt, p, me * k..(me + 1) * k, f))?;
        }
        // Uneven blocks (some empty, one large), into buffers longer than the block.
        for big in [0usize, 20, 3000] {
            let counts: Vec<usize> = (0..p).map(|r| (r * 7 + 3) % 5 + if r == p / 2 { big } else { 0 }).collect();
            let total: usize = counts.iter().sum();
            let start: usize = counts[..me].iter().sum();
            let what = format!("reduce_scatter {name} of {counts:?} {ty}");
            let mut recv = vec![T::filler(); counts[me] + 2];
            ctx(comm.reduce_scatter(&contrib::<T>(salt, me, total), &mut recv, &counts, &op), &what)?;
            let mut want = fold(salt, p, start..start + counts[me], f);
            want.extend([T::filler(), T::filler()]);
            same(format!("{what} on rank {me} (the rest of the buffer left as it is)"), &recv, &want)?;
        }
    }
    Ok(())
}

/// reduce_scatter_block and reduce_scatter against serial references.
pub fn reduce_scatters(comm: &Comm) -> CheckResult {
    reduce_scatter_of::<i64>(comm, 410)?;
    reduce_scatter_of::<Affine>(comm, 411)
}

/// Expects every rank's error to be a `CollectiveMismatch` whose details contain `parts`.
fn mismatch(comm: &Comm, what: &str, r: parsci_comm::Result<()>, parts: &[&str]) -> CheckResult {
    match r {
        Err(Error::CollectiveMismatch { caller, details }) if caller == comm.rank() => {
            match parts.iter().find(|s| !details.contains(**s)) {
                None => Ok(()),
                Some(s) => Err(format!("{what}: the error says {details:?}, without {s:?}")),
            }
        }
        other => Err(format!("{what}: expected a CollectiveMismatch on rank {}, got {other:?}", comm.rank())),
    }
}

/// Mismatched calls of the new collectives: every rank gets `CollectiveMismatch`, on both
/// backends (with or without the agreement check: these are all agreed on, being large or
/// a `reduce_scatter`), and the communicator still works after.
pub fn in_place_mismatches(comm: &Comm) -> CheckResult {
    let (me, p) = (comm.rank(), comm.size());
    if p == 1 {
        return Ok(());
    }
    // Different lengths (above 2 KiB).
    let mut buf = vec![1i64; 300 + usize::from(me == p - 1)];
    let r = comm.allreduce_in_place(&mut buf, &Op::sum());
    mismatch(comm, "allreduce_in_place of different lengths", r, &["allreduce_in_place", "passes 301"])?;
    // In place on one rank, out of place on the others.
    let mut buf = vec![1i64; 300];
    let r = if me == 0 {
        comm.allreduce_in_place(&mut buf, &Op::sum())
    } else {
        comm.allreduce(&vec![1i64; 300], &mut buf, &Op::sum())
    };
    mismatch(
        comm,
        "allreduce_in_place against allreduce",
        r,
        &["rank 0 called allreduce_in_place", "rank 1 called allreduce"],
    )?;
    // Different ops.
    let op = if me == 0 { Op::sum() } else { Op::max() };
    let r = comm.scan_in_place(&mut buf, &op);
    mismatch(comm, "scan_in_place with different ops", r, &["scan_in_place", "different operations"])?;
    // Different roots.
    let r = comm.reduce_in_place(&mut buf, &Op::sum(), me.min(1));
    mismatch(comm, "reduce_in_place with different roots", r, &["reduce_in_place", "different roots"])?;
    // reduce_scatter_block: different block lengths (send buffers above 2 KiB).
    let k = 300 + usize::from(me == p - 1);
    let r = comm.reduce_scatter_block(&vec![1i64; p * k], &mut vec![0i64; k], &Op::sum());
    mismatch(comm, "reduce_scatter_block of different lengths", r, &["reduce_scatter_block"])?;
    // reduce_scatter: different counts, of any size.
    let mut counts = vec![1usize; p];
    counts[me] += usize::from(me == 0);
    counts[p - 1] += usize::from(me == 1);
    let total = counts.iter().sum();
    let r = comm.reduce_scatter(&vec![1i64; total], &mut [0i64; 2], &counts, &Op::sum());
    mismatch(
        comm,
        "reduce_scatter with different counts",
        r,
        &["reduce_scatter: ranks 0 and 1 pass different counts"],
    )?;
    // reduce_scatter: one rank's buffer is too small for its block: that rank's own
    // error, and on the others a mismatch naming it.
    let counts = vec![2usize; p];
    let mut recv = vec![0i64; if me == p - 1 { 1 } else { 2 }];
    let r = comm.reduce_scatter(&vec![1i64; 2 * p], &mut recv, &counts, &Op::sum());
    if me == p - 1 {
        match r {
            Err(Error::InvalidArgument { op: "reduce_scatter", .. }) => {}
            other => {
                return Err(format!("reduce_scatter into a short buffer: expected InvalidArgument, got {other:?}"))
            }
        }
    } else {
        let rejected = format!("rank {} rejected its arguments to reduce_scatter", p - 1);
        mismatch(comm, "reduce_scatter, another rank's short buffer", r, &[&rejected])?;
    }
    // The communicator still works.
    let mut x = [1u32];
    ctx(comm.allreduce_in_place(&mut x, &Op::sum()), "allreduce_in_place after the mismatches")?;
    if x[0] as usize != p {
        return Err(format!("allreduce_in_place after the mismatches gave {}, expected {p}", x[0]));
    }
    Ok(())
}
