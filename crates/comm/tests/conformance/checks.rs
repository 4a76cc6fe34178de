//! The conformance checks of parsci-comm, written once for every backend.
//!
//! Each check is a plain function run on every rank of a job (`launch` on the thread
//! backend, `mpirun -n N` on MPI). It computes what it expects serially, from global
//! indices (which rank produced element `i` of which message), never from its own rank
//! alone, compares, and returns `Err` with a precise message on the first mismatch.
//! Checks are correct MPI programs: they never rely on a blocking send being buffered
//! (ranks pair up sends and receives, or use `isend`), so the same list can run under a
//! real MPI.
//!
//! [`CHECKS`] lists them all; the test binaries run every entry at several sizes. A
//! runner that runs several checks in one job must give each its own communicator
//! (`comm.dup()`): checks use `ANY_SOURCE`/`ANY_TAG`, which would otherwise match the
//! next check's first messages from a rank that is already ahead.

#![allow(dead_code)] // the list is used by several binaries, each with its own subset

use std::collections::BTreeMap;
use std::fmt::{Debug, Display};

use bytemuck::{Pod, Zeroable};
use parsci_comm::{
    dims_create, wait_all, Comm, Data, Layout, Op, Request, Status, Tag, ANY_SOURCE, ANY_TAG, MAX_TAG, PROC_NULL,
};
use serde::{Deserialize, Serialize};

/// What a check returns: `Err` says what differed, where.
pub type CheckResult = Result<(), String>;

pub use super::icollectives::{icollectives, icollectives_mismatch, icollectives_overlap};
pub use super::in_place::{in_place_mismatches, in_place_reductions, reduce_scatters};
pub use super::requests::{request_sets, requests_dropped, requests_failed, requests_leaked};
pub use super::scoped::scoped_p2p;
pub use super::subgrids::{cart_sub, split_shared};
/// A conformance check: runs on every rank.
pub type Check = fn(&Comm) -> CheckResult;

/// Every check, by name. The test binaries run each at sizes 1, 2, 3, 4 and 7.
pub const CHECKS: &[(&str, Check)] = &[
    ("identity", identity),
    ("layout", layout),
    ("dims_create_matches_mpi", dims_create_matches_mpi),
    ("p2p_types", p2p_types),
    ("p2p_sizes", p2p_sizes),
    ("p2p_vec", p2p_vec),
    ("p2p_short_message", p2p_short_message),
    ("p2p_self", p2p_self),
    ("p2p_objects", p2p_objects),
    ("sendrecv_ring", sendrecv_ring),
    ("sendrecv_proc_null", sendrecv_proc_null),
    ("sendrecv_obj_ring", sendrecv_obj_ring),
    ("tags_select", tags_select),
    ("any_tag", any_tag),
    ("any_source", any_source),
    ("status_fields", status_fields),
    ("probe_then_recv", probe_then_recv),
    ("requests_dropped", requests_dropped),
    ("requests_failed", requests_failed),
    ("requests_leaked", requests_leaked),
    ("request_sets", request_sets),
    ("scoped_p2p", scoped_p2p),
    ("nonblocking", nonblocking),
    ("nonblocking_large", nonblocking_large),
    ("irecv_matches_before_recv", irecv_matches_before_recv),
    ("non_overtaking", non_overtaking),
    ("ring_overflow", ring_overflow),
    ("barrier", barrier),
    ("bcast", bcast),
    ("scatter", scatter),
    ("scatterv", scatterv),
    ("gather", gather),
    ("gatherv", gatherv),
    ("allgather", allgather),
    ("allgatherv", allgatherv),
    ("reduce_builtin_ops", reduce_builtin_ops),
    ("allreduce_builtin_ops", allreduce_builtin_ops),
    ("scan_builtin_ops", scan_builtin_ops),
    ("exscan_builtin_ops", exscan_builtin_ops),
    ("reductions_f64", reductions_f64),
    ("user_op_rank_order", user_op_rank_order),
    ("user_op_struct", user_op_struct),
    ("in_place_reductions", in_place_reductions),
    ("reduce_scatters", reduce_scatters),
    ("in_place_mismatches", in_place_mismatches),
    ("alltoall", alltoall),
    ("alltoallv", alltoallv),
    ("large_collectives", large_collectives),
    ("collective_sequence", collective_sequence),
    ("obj_bcast", obj_bcast),
    ("obj_scatter_gather", obj_scatter_gather),
    ("obj_allgather", obj_allgather),
    ("obj_reduce", obj_reduce),
    ("obj_alltoall", obj_alltoall),
    ("dup", dup),
    ("split", split),
    ("split_nested", split_nested),
    ("cart_topology", cart_topology),
    ("cart_halo_exchange", cart_halo_exchange),
    ("cart_sub", cart_sub),
    ("split_shared", split_shared),
    ("icollectives", icollectives),
    ("icollectives_overlap", icollectives_overlap),
    ("icollectives_mismatch", icollectives_mismatch),
];

// ---------------------------------------------------------------------------------------
// Helpers: error context, comparisons, data generated from global indices.
// ---------------------------------------------------------------------------------------

/// Adds what the check was doing to a communication error.
trait Ctx<T> {
    fn ctx(self, what: impl Display) -> Result<T, String>;
}

impl<T> Ctx<T> for parsci_comm::Result<T> {
    fn ctx(self, what: impl Display) -> Result<T, String> {
        self.map_err(|e| format!("{what}: {e}"))
    }
}

macro_rules! ensure {
    ($cond:expr, $($fmt:tt)+) => {
        if !$cond {
            return Err(format!($($fmt)+));
        }
    };
}

macro_rules! ensure_eq {
    ($got:expr, $want:expr, $($fmt:tt)+) => {{
        let (got, want) = (&$got, &$want);
        if got != want {
            return Err(format!("{}: got {:?}, expected {:?}", format!($($fmt)+), got, want));
        }
    }};
}

/// Compares two slices, reporting the lengths or the first differing element.
fn same<T: PartialEq + Debug>(what: impl Display, got: &[T], want: &[T]) -> CheckResult {
    if got.len() != want.len() {
        return Err(format!("{what}: got {} elements, expected {}", got.len(), want.len()));
    }
    match got.iter().zip(want).position(|(a, b)| a != b) {
        None => Ok(()),
        Some(i) => Err(format!("{what}: element {i} of {} is {:?}, expected {:?}", want.len(), got[i], want[i])),
    }
}

fn check_status(what: impl Display, st: Status, source: usize, tag: Tag, count: usize) -> CheckResult {
    let (got, want) = ((st.source, st.tag, st.count), (source, tag, count));
    ensure!(got == want, "{what}: status {st:?}, expected (source, tag, count) {want:?}");
    Ok(())
}

/// SplitMix64: a well-mixed value from any key.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The key of element `i` produced by `who` (a rank, a pair, a block) in data set `salt`.
fn key(salt: u64, who: usize, i: usize) -> u64 {
    mix(salt.wrapping_mul(0x1000_0000_01B3) ^ mix(((who as u64) << 40) ^ i as u64))
}

/// A user plain-data type, moved as opaque bytes (`DataKind::Opaque`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
#[repr(C)]
pub struct Particle {
    pub pos: [f64; 3],
    pub id: u32,
    pub kind: u32,
}
impl Data for Particle {}

/// Element types whose values can be generated from a key.
pub trait Gen: Data + PartialEq + Debug {
    fn gen(k: u64) -> Self;
}

impl Gen for u8 {
    fn gen(k: u64) -> Self {
        k as u8
    }
}
impl Gen for i16 {
    fn gen(k: u64) -> Self {
        k as i16
    }
}
impl Gen for u32 {
    fn gen(k: u64) -> Self {
        k as u32
    }
}
impl Gen for i32 {
    fn gen(k: u64) -> Self {
        k as i32
    }
}
impl Gen for i64 {
    fn gen(k: u64) -> Self {
        (k % 2001) as i64 - 1000
    }
}
impl Gen for u64 {
    fn gen(k: u64) -> Self {
        k
    }
}
impl Gen for usize {
    fn gen(k: u64) -> Self {
        k as usize
    }
}
impl Gen for f32 {
    fn gen(k: u64) -> Self {
        ((k % 4001) as f32 - 2000.0) * 0.25
    }
}
impl Gen for f64 {
    fn gen(k: u64) -> Self {
        ((k % 40001) as f64 - 20000.0) * 0.125
    }
}
impl Gen for [f64; 3] {
    fn gen(k: u64) -> Self {
        [f64::gen(k), f64::gen(mix(k)), f64::gen(mix(k ^ 1))]
    }
}
impl Gen for Particle {
    fn gen(k: u64) -> Self {
        Particle { pos: <[f64; 3]>::gen(k), id: k as u32, kind: (k >> 32) as u32 }
    }
}

/// `n` elements of data set `salt` produced by `who`.
fn data<T: Gen>(salt: u64, who: usize, n: usize) -> Vec<T> {
    (0..n).map(|i| T::gen(key(salt, who, i))).collect()
}

/// Filler for parts of a buffer that a call must leave alone.
fn fill<T: Gen>(n: usize) -> Vec<T> {
    data(0xF111, usize::MAX >> 24, n)
}

/// Element counts whose byte sizes straddle the thresholds of a typed message: empty,
/// inline (<= 16 bytes), just above, medium (1 KiB), around 32 KiB, and 1 MiB (`max_bytes`).
fn counts_for<T>(max_bytes: usize) -> Vec<usize> {
    let s = std::mem::size_of::<T>();
    let mut v: Vec<usize> = [0, 1, 8, 15, 16, 17, 64, 1024, 4096, 32767, 32768, 32769, 1 << 20]
        .iter()
        .filter(|&&b| b <= max_bytes)
        .map(|&b| b / s)
        .collect();
    v.push(1);
    v.push(2);
    v.sort_unstable();
    v.dedup();
    v
}

fn right(comm: &Comm, k: usize) -> usize {
    (comm.rank() + k) % comm.size()
}
fn left(comm: &Comm, k: usize) -> usize {
    let p = comm.size();
    (comm.rank() + p - k % p) % p
}

/// Sends `out` to the right neighbour and receives from the left one into `got`, with
/// blocking calls paired so that it cannot deadlock on any backend (odd ranks receive
/// first; on one rank the message goes to itself through `isend`).
fn ring_send_recv<T: Data>(comm: &Comm, out: &[T], got: &mut [T], tag: Tag) -> parsci_comm::Result<Status> {
    let (me, p) = (comm.rank(), comm.size());
    if p == 1 {
        let req = comm.isend(out, me, tag)?;
        let st = comm.recv(got, me, tag)?;
        req.wait()?;
        return Ok(st);
    }
    let (r, l) = ((me + 1) % p, (me + p - 1) % p);
    if me % 2 == 0 {
        comm.send(out, r, tag)?;
        comm.recv(got, l, tag)
    } else {
        let st = comm.recv(got, l, tag)?;
        comm.send(out, r, tag)?;
        Ok(st)
    }
}

// ---------------------------------------------------------------------------------------
// Identity, layouts, dims_create
// ---------------------------------------------------------------------------------------

/// rank() and size() are consistent across ranks; every rank has a processor name.
pub fn identity(comm: &Comm) -> CheckResult {
    let (me, p) = (comm.rank(), comm.size());
    ensure!(p >= 1 && me < p, "rank {me} of size {p}");
    ensure!(!comm.processor_name().is_empty(), "empty processor name");
    let mut all = vec![0u64; 2 * p];
    comm.allgather(&[me as u64, p as u64], &mut all).ctx("allgather of (rank, size)")?;
    for r in 0..p {
        ensure_eq!((all[2 * r], all[2 * r + 1]), (r as u64, p as u64), "rank {r}'s (rank, size) as seen by rank {me}");
    }
    let dbg = format!("{comm:?}");
    ensure!(dbg.contains(&format!("rank {me} of {p}")), "Debug of a Comm: {dbg}");
    Ok(())
}

/// Layout constructors and accessors (a pure computation, the same on every rank).
pub fn layout(_comm: &Comm) -> CheckResult {
    let l = Layout::from_counts(&[2, 0, 3]);
    ensure_eq!(l.counts(), &[2usize, 0, 3][..], "from_counts counts");
    ensure_eq!(l.displs(), &[0usize, 2, 2][..], "from_counts displs");
    ensure_eq!(l.extent(), 5, "from_counts extent");
    ensure_eq!(l.range(2), 2..5, "from_counts range(2)");
    let b = Layout::balanced(10, 4);
    ensure_eq!(b.counts(), &[3usize, 3, 2, 2][..], "balanced(10, 4) counts");
    ensure_eq!(b.displs(), &[0usize, 3, 6, 8][..], "balanced(10, 4) displs");
    let b = Layout::balanced(2, 4);
    ensure_eq!(b.counts(), &[1usize, 1, 0, 0][..], "balanced(2, 4) counts");
    ensure_eq!(b.extent(), 2, "balanced(2, 4) extent");
    let g = Layout::new(&[1, 2], &[5, 0]).map_err(|e| format!("Layout::new: {e}"))?;
    ensure_eq!(g.extent(), 6, "extent of blocks [5..6] and [0..2]");
    ensure_eq!(g.range(0), 5..6, "range of block 0");
    ensure!(Layout::new(&[1, 2], &[0]).is_err(), "Layout::new accepted 2 counts and 1 displacement");
    ensure_eq!(Layout::from_counts(&[]).extent(), 0, "empty layout extent");
    Ok(())
}

/// `dims_create` against results of MPICH (its test suite's `baddims.h`) and the MPI standard.
pub fn dims_create_matches_mpi(_comm: &Comm) -> CheckResult {
    let cases: &[(usize, &[usize], &[usize])] = &[
        // The examples of the MPI standard.
        (6, &[0, 0], &[3, 2]),
        (7, &[0, 0], &[7, 1]),
        (6, &[0, 3, 0], &[2, 3, 1]),
        // Small counts.
        (1, &[0, 0], &[1, 1]),
        (1, &[0, 0, 0], &[1, 1, 1]),
        (2, &[0], &[2]),
        (4, &[0, 0], &[2, 2]),
        (8, &[0, 0], &[4, 2]),
        (8, &[0, 0, 0], &[2, 2, 2]),
        (9, &[0, 0], &[3, 3]),
        (12, &[0, 0], &[4, 3]),
        (12, &[0, 0, 0], &[3, 2, 2]),
        (12, &[0, 2, 0], &[3, 2, 2]),
        (16, &[0, 0], &[4, 4]),
        (16, &[0, 0, 0], &[4, 2, 2]),
        (24, &[0, 0, 0], &[4, 3, 2]),
        (25, &[0, 0], &[5, 5]),
        (30, &[0, 0, 0], &[5, 3, 2]),
        (36, &[0, 0], &[6, 6]),
        (64, &[0, 0, 0], &[4, 4, 4]),
        (100, &[0, 0], &[10, 10]),
        (361, &[0, 0], &[19, 19]),
        // MPICH's test of balanced decompositions (test/mpi/topo/baddims.h).
        (72, &[0, 0], &[9, 8]),
        (180, &[0, 0], &[15, 12]),
        (240, &[0, 0], &[16, 15]),
        (1323, &[0, 0], &[49, 27]),
        (6125, &[0, 0], &[125, 49]),
        (140472, &[0, 0, 0], &[1951, 9, 8]),
        (140679, &[0, 0, 0], &[77, 63, 29]),
        (141120, &[0, 0, 0], &[56, 56, 45]),
        (142884, &[0, 0, 0], &[54, 54, 49]),
        // Fixed dimensions are kept.
        (12, &[3, 0], &[3, 4]),
        (12, &[0, 1, 0], &[4, 1, 3]),
        (12, &[2, 3, 2], &[2, 3, 2]),
    ];
    for &(n, dims, want) in cases {
        let got = dims_create(n, dims).map_err(|e| format!("dims_create({n}, {dims:?}): {e}"))?;
        ensure_eq!(got, want.to_vec(), "dims_create({n}, {dims:?})");
    }
    for &(n, dims) in &[(7usize, &[2usize, 0][..]), (12, &[5, 0]), (12, &[2, 2, 2]), (0, &[0, 0])] {
        ensure!(dims_create(n, dims).is_err(), "dims_create({n}, {dims:?}) should fail");
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Point-to-point: typed messages
// ---------------------------------------------------------------------------------------

fn ring_of<T: Gen>(comm: &Comm, salt: u64, n: usize, tag: Tag) -> CheckResult {
    let name = std::any::type_name::<T>();
    let out: Vec<T> = data(salt, comm.rank(), n);
    let want: Vec<T> = data(salt, left(comm, 1), n);
    let mut got = vec![T::zeroed(); n];
    let st = ring_send_recv(comm, &out, &mut got, tag).ctx(format_args!("ring of {n} {name}"))?;
    check_status(format_args!("ring of {n} {name}"), st, left(comm, 1), tag, n)?;
    same(format_args!("ring of {n} {name} from rank {}", left(comm, 1)), &got, &want)
}

/// send/recv into a slice for the primitive types, arrays and a user `#[repr(C)]` struct.
pub fn p2p_types(comm: &Comm) -> CheckResult {
    for n in [1, 3, 100] {
        ring_of::<u8>(comm, 1, n, 0)?;
        ring_of::<i16>(comm, 2, n, 1)?;
        ring_of::<u32>(comm, 3, n, 2)?;
        ring_of::<i32>(comm, 4, n, 3)?;
        ring_of::<u64>(comm, 5, n, 4)?;
        ring_of::<i64>(comm, 6, n, 5)?;
        ring_of::<usize>(comm, 7, n, 6)?;
        ring_of::<f32>(comm, 8, n, 7)?;
        ring_of::<f64>(comm, 9, n, 8)?;
        ring_of::<[f64; 3]>(comm, 10, n, 9)?;
        ring_of::<Particle>(comm, 11, n, MAX_TAG)?;
    }
    Ok(())
}

/// Message sizes across the backend's paths: empty, inline, medium, rendezvous, 1 MiB.
pub fn p2p_sizes(comm: &Comm) -> CheckResult {
    for (t, n) in counts_for::<u8>(1 << 20).into_iter().enumerate() {
        ring_of::<u8>(comm, 20, n, t as Tag)?;
    }
    for (t, n) in counts_for::<f64>(1 << 20).into_iter().enumerate() {
        ring_of::<f64>(comm, 21, n, t as Tag)?;
    }
    for (t, n) in counts_for::<Particle>(1 << 20).into_iter().enumerate() {
        ring_of::<Particle>(comm, 22, n, t as Tag)?;
    }
    for (t, n) in counts_for::<i16>(64 << 10).into_iter().enumerate() {
        ring_of::<i16>(comm, 23, n, t as Tag)?;
    }
    Ok(())
}

/// recv_vec and send_vec in every combination with send and recv.
pub fn p2p_vec(comm: &Comm) -> CheckResult {
    let (me, p) = (comm.rank(), comm.size());
    let (r, l) = (right(comm, 1), left(comm, 1));
    for (t, n) in counts_for::<f64>(1 << 20).into_iter().enumerate() {
        let tag = t as Tag;
        let want: Vec<f64> = data(30, l, n);
        // send_vec -> recv_vec, send -> recv_vec, send_vec -> recv (slice).
        for mode in 0..3 {
            let out: Vec<f64> = data(30, me, n);
            let what = format!("mode {mode}, {n} f64 from rank {l}");
            let send = |out: Vec<f64>| -> parsci_comm::Result<()> {
                match mode {
                    1 => comm.send(&out, r, tag),
                    _ => comm.send_vec(out, r, tag),
                }
            };
            let recv = || -> parsci_comm::Result<(Vec<f64>, Status)> {
                match mode {
                    2 => {
                        let mut buf = vec![0.0; n + 3];
                        let st = comm.recv(&mut buf, l, tag)?;
                        buf.truncate(st.count);
                        Ok((buf, st))
                    }
                    _ => comm.recv_vec(l, tag),
                }
            };
            let (got, st) = if p == 1 {
                // A blocking send to oneself is only safe with the receive already posted.
                if mode == 2 {
                    let mut buf = vec![0.0; n + 3];
                    let req = comm.irecv(&mut buf, me, tag).ctx(&what)?;
                    send(out).ctx(&what)?;
                    let st = req.wait().ctx(&what)?;
                    buf.truncate(st.count);
                    (buf, st)
                } else {
                    // irecv_vec is matched at its wait on MPI: the send must not block.
                    let req = comm.irecv_vec::<f64>(me, tag).ctx(&what)?;
                    let sreq = comm.isend(&out, me, tag).ctx(&what)?;
                    let got = req.wait().ctx(&what)?;
                    sreq.wait().ctx(&what)?;
                    got
                }
            } else if me % 2 == 0 {
                send(out).ctx(&what)?;
                recv().ctx(&what)?
            } else {
                let got = recv().ctx(&what)?;
                send(out).ctx(&what)?;
                got
            };
            check_status(&what, st, l, tag, n)?;
            same(&what, &got, &want)?;
        }
    }
    Ok(())
}

/// A message shorter than the receive buffer fills its start; the rest is untouched.
pub fn p2p_short_message(comm: &Comm) -> CheckResult {
    let l = left(comm, 1);
    for n in [0, 1, 2, 5, 200, 5000, 70_000] {
        let out: Vec<i32> = data(40, comm.rank(), n);
        let extra = 7;
        let mut got: Vec<i32> = fill(n + extra);
        let tail = got[n..].to_vec();
        let st = ring_send_recv(comm, &out, &mut got, 9).ctx(format_args!("{n} i32 into {}", n + extra))?;
        check_status(format_args!("{n} i32 into a larger buffer"), st, l, 9, n)?;
        same(format_args!("{n} i32 from rank {l}"), &got[..n], &data::<i32>(40, l, n))?;
        same(format_args!("the tail after {n} i32"), &got[n..], &tail)?;
    }
    Ok(())
}

/// Messages to oneself: isend + recv at every size, sendrecv with oneself, any-source.
pub fn p2p_self(comm: &Comm) -> CheckResult {
    let me = comm.rank();
    for (t, n) in counts_for::<u32>(1 << 20).into_iter().enumerate() {
        let out: Vec<u32> = data(50, me, n);
        let req = comm.isend(&out, me, t as Tag).ctx("isend to self")?;
        let (got, st) = comm.recv_vec::<u32>(ANY_SOURCE, t as Tag).ctx("recv_vec from self")?;
        req.wait().ctx("wait for isend to self")?;
        check_status(format_args!("{n} u32 to self"), st, me, t as Tag, n)?;
        same(format_args!("{n} u32 to self"), &got, &out)?;
        let mut back = vec![0u32; n];
        let st = comm.sendrecv(&out, me, 5, &mut back, me, 5).ctx("sendrecv with self")?;
        check_status(format_args!("sendrecv of {n} u32 with self"), st, me, 5, n)?;
        same(format_args!("sendrecv of {n} u32 with self"), &back, &out)?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Point-to-point: objects
// ---------------------------------------------------------------------------------------

/// A nested serde value, as a config or a result would be.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub name: String,
    pub values: Vec<f64>,
    pub tags: BTreeMap<String, Vec<u32>>,
    pub kind: Kind,
    pub pair: (i8, u64),
    pub child: Option<Box<Record>>,
}

/// An enum with every kind of variant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Kind {
    Empty,
    Scalar(f64),
    Pair { a: i32, b: String },
}

/// The record produced by `who` in data set `salt`, with `n` values and `depth` levels.
pub fn record(salt: u64, who: usize, n: usize, depth: usize) -> Record {
    let k = key(salt, who, n + depth);
    let kind = match k % 3 {
        0 => Kind::Empty,
        1 => Kind::Scalar(f64::gen(k)),
        _ => Kind::Pair { a: i32::gen(k), b: format!("b{k:x}") },
    };
    Record {
        name: format!("rank {who} / salt {salt} / {}", "é".repeat((k % 5) as usize)),
        values: data(salt, who, n),
        tags: (0..(k % 4) as usize).map(|i| (format!("t{i}"), data(salt + 1, who, i))).collect(),
        kind,
        pair: (k as i8, k),
        child: (depth > 0).then(|| Box::new(record(salt + 7, who, n / 2, depth - 1))),
    }
}

/// send_obj/recv_obj of nested values, of plain values, and of a large (> 1 MiB) value.
pub fn p2p_objects(comm: &Comm) -> CheckResult {
    let (me, p) = (comm.rank(), comm.size());
    let (r, l) = (right(comm, 1), left(comm, 1));
    for (t, n) in [0usize, 1, 10, 1000, 150_000].into_iter().enumerate() {
        let tag = t as Tag;
        let mine = record(60, me, n, 2);
        let what = format!("object of {n} values from rank {l}");
        let (got, st) = if p == 1 {
            let req = comm.isend_obj(&mine, me, tag).ctx(&what)?;
            let got = comm.recv_obj::<Record>(me, tag).ctx(&what)?;
            req.wait().ctx(&what)?;
            got
        } else if me % 2 == 0 {
            comm.send_obj(&mine, r, tag).ctx(&what)?;
            comm.recv_obj::<Record>(l, tag).ctx(&what)?
        } else {
            let got = comm.recv_obj::<Record>(l, tag).ctx(&what)?;
            comm.send_obj(&mine, r, tag).ctx(&what)?;
            got
        };
        ensure_eq!((st.source, st.tag), (l, tag), "{what}: status");
        ensure!(got == record(60, l, n, 2), "{what}: the record differs");
    }
    // Plain values, unsized values and an empty vector.
    let words = format!("from rank {me}");
    let req1 = comm.isend_obj(words.as_str(), r, 100).ctx("isend_obj of a str")?;
    let req2 = comm.isend_obj(&(me as u64, -1.5f32, vec![me; me]), r, 101).ctx("isend_obj of a tuple")?;
    let req3 = comm.isend_obj(&Vec::<u8>::new(), r, 102).ctx("isend_obj of an empty vec")?;
    let (s, _) = comm.recv_obj::<String>(l, 100).ctx("recv_obj of a String")?;
    ensure_eq!(s, format!("from rank {l}"), "string object");
    let (tup, _) = comm.recv_obj::<(u64, f32, Vec<usize>)>(l, 101).ctx("recv_obj of a tuple")?;
    ensure_eq!(tup, (l as u64, -1.5f32, vec![l; l]), "tuple object");
    let (e, _) = comm.recv_obj::<Vec<u8>>(l, 102).ctx("recv_obj of an empty vec")?;
    ensure!(e.is_empty(), "empty vec object arrived with {} bytes", e.len());
    wait_all(vec![req1, req2, req3]).ctx("wait_all of the object isends")?;
    Ok(())
}

/// sendrecv around the ring at several distances and sizes, including 1 MiB.
pub fn sendrecv_ring(comm: &Comm) -> CheckResult {
    let me = comm.rank();
    let p = comm.size();
    for k in [1, 2, p.saturating_sub(1).max(1)] {
        let (dest, src) = (right(comm, k), left(comm, k));
        for (t, n) in counts_for::<f64>(1 << 20).into_iter().enumerate() {
            let out: Vec<f64> = data(70 + k as u64, me, n);
            let mut got = vec![0.0f64; n + 1];
            let last = got[n];
            let st = comm
                .sendrecv(&out, dest, t as Tag, &mut got, src, t as Tag)
                .ctx(format_args!("sendrecv of {n} f64 at distance {k}"))?;
            let what = format!("sendrecv of {n} f64 at distance {k} from rank {src}");
            check_status(&what, st, src, t as Tag, n)?;
            same(&what, &got[..n], &data::<f64>(70 + k as u64, src, n))?;
            ensure_eq!(got[n], last, "{what}: the element past the message");
        }
        // Different send and receive tags, ANY_TAG on the receive side, u8 payload.
        let out: Vec<u8> = data(79, me, 33);
        let mut got = vec![0u8; 33];
        let st = comm.sendrecv(&out, dest, 1000 + me as Tag, &mut got, src, ANY_TAG).ctx("sendrecv with ANY_TAG")?;
        check_status("sendrecv with ANY_TAG", st, src, 1000 + src as Tag, 33)?;
        same("sendrecv with ANY_TAG", &got, &data::<u8>(79, src, 33))?;
    }
    Ok(())
}

/// PROC_NULL as a peer: sends vanish, receives return at once with an empty status.
pub fn sendrecv_proc_null(comm: &Comm) -> CheckResult {
    let (me, p) = (comm.rank(), comm.size());
    let null = Status { source: PROC_NULL, tag: ANY_TAG, count: 0, bytes: 0 };
    comm.send(&[1.0f64, 2.0], PROC_NULL, 0).ctx("send to PROC_NULL")?;
    comm.send_vec(vec![1u8; 100], PROC_NULL, 0).ctx("send_vec to PROC_NULL")?;
    comm.send_obj(&"nothing", PROC_NULL, 0).ctx("send_obj to PROC_NULL")?;
    let req = comm.isend(&[3u16; 40_000], PROC_NULL, 1).ctx("isend to PROC_NULL")?;
    req.wait().ctx("wait for an isend to PROC_NULL")?;

    let mut buf: Vec<f64> = fill(4);
    let before = buf.clone();
    let st = comm.recv(&mut buf, PROC_NULL, 0).ctx("recv from PROC_NULL")?;
    ensure_eq!(st, null, "status of a recv from PROC_NULL");
    same("buffer after a recv from PROC_NULL", &buf, &before)?;
    let (v, st) = comm.recv_vec::<f64>(PROC_NULL, ANY_TAG).ctx("recv_vec from PROC_NULL")?;
    ensure!(v.is_empty() && st == null, "recv_vec from PROC_NULL gave {} elements, {st:?}", v.len());
    ensure_eq!(comm.probe(PROC_NULL, 3).ctx("probe PROC_NULL")?, null, "probe of PROC_NULL");
    ensure_eq!(comm.iprobe(PROC_NULL, ANY_TAG).ctx("iprobe PROC_NULL")?, Some(null), "iprobe of PROC_NULL");
    let st = comm.irecv(&mut buf, PROC_NULL, 0).ctx("irecv from PROC_NULL")?.wait().ctx("wait")?;
    ensure_eq!(st, null, "irecv from PROC_NULL");
    let (v, st) = comm.irecv_vec::<u8>(PROC_NULL, 0).ctx("irecv_vec from PROC_NULL")?.wait().ctx("wait")?;
    ensure!(v.is_empty() && st == null, "irecv_vec from PROC_NULL gave {} elements, {st:?}", v.len());
    let st = comm.sendrecv(&[1i32], PROC_NULL, 0, &mut [0i32], PROC_NULL, 0).ctx("sendrecv PROC_NULL both ways")?;
    ensure_eq!(st, null, "sendrecv with PROC_NULL both ways");

    // A non-periodic chain: the first rank receives from PROC_NULL, the last sends to it.
    for n in [1usize, 300, 50_000] {
        let dest = if me + 1 < p { me + 1 } else { PROC_NULL };
        let src = if me > 0 { me - 1 } else { PROC_NULL };
        let out: Vec<i64> = data(80, me, n);
        let mut got: Vec<i64> = fill(n);
        let sentinel = got.clone();
        let st = comm.sendrecv(&out, dest, 4, &mut got, src, 4).ctx(format_args!("chain sendrecv of {n}"))?;
        if src == PROC_NULL {
            ensure_eq!(st, null, "chain sendrecv status at the first rank");
            same("chain buffer at the first rank", &got, &sentinel)?;
        } else {
            check_status("chain sendrecv", st, src, 4, n)?;
            same(format_args!("chain of {n} from rank {src}"), &got, &data::<i64>(80, src, n))?;
        }
    }
    // sendrecv_obj along the chain.
    let dest = if me + 1 < p { me + 1 } else { PROC_NULL };
    let src = if me > 0 { me - 1 } else { PROC_NULL };
    let (got, st) = comm.sendrecv_obj::<_, Record>(&record(81, me, 5, 1), dest, 6, src, 6).ctx("chain sendrecv_obj")?;
    if src == PROC_NULL {
        ensure!(got.is_none() && st.source == PROC_NULL, "sendrecv_obj from PROC_NULL gave {got:?}, {st:?}");
    } else {
        ensure!(got == Some(record(81, src, 5, 1)), "sendrecv_obj from rank {src}: the record differs");
        ensure_eq!((st.source, st.tag), (src, 6), "sendrecv_obj status");
    }
    Ok(())
}

/// sendrecv_obj around the ring.
pub fn sendrecv_obj_ring(comm: &Comm) -> CheckResult {
    let (dest, src) = (right(comm, 1), left(comm, 1));
    for n in [0usize, 7, 20_000] {
        let (got, st) = comm
            .sendrecv_obj::<_, Record>(&record(90, comm.rank(), n, 1), dest, 2, src, ANY_TAG)
            .ctx(format_args!("sendrecv_obj of {n} values"))?;
        ensure!(got == Some(record(90, src, n, 1)), "sendrecv_obj of {n} values from rank {src} differs");
        ensure_eq!((st.source, st.tag), (src, 2), "sendrecv_obj status");
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Point-to-point: matching (tags, any-source, any-tag, probe, order)
// ---------------------------------------------------------------------------------------

/// A receive with a tag takes the message with that tag, whatever the arrival order.
pub fn tags_select(comm: &Comm) -> CheckResult {
    let (me, r, l) = (comm.rank(), right(comm, 1), left(comm, 1));
    let tags: [Tag; 4] = [30, 20, 0, MAX_TAG];
    let outs: Vec<Vec<i32>> = tags.iter().map(|&t| data(100 + t as u64, me, 3 + t as usize % 7)).collect();
    let reqs = tags.iter().zip(&outs).map(|(&t, o)| comm.isend(o, r, t)).collect::<parsci_comm::Result<Vec<_>>>();
    let reqs = reqs.ctx("isend with tags")?;
    for &t in tags.iter().rev() {
        let (got, st) = comm.recv_vec::<i32>(l, t).ctx(format_args!("recv tag {t}"))?;
        let want: Vec<i32> = data(100 + t as u64, l, 3 + t as usize % 7);
        check_status(format_args!("recv tag {t}"), st, l, t, want.len())?;
        same(format_args!("message with tag {t} from rank {l}"), &got, &want)?;
    }
    wait_all(reqs).ctx("wait_all of the isends")?;
    Ok(())
}

/// ANY_TAG receives the messages of one sender in send order and reports their tags.
pub fn any_tag(comm: &Comm) -> CheckResult {
    let (me, r, l) = (comm.rank(), right(comm, 1), left(comm, 1));
    let tags: [Tag; 5] = [5, 9, 7, 9, 0];
    let mut reqs = Vec::new();
    for (i, &t) in tags.iter().enumerate() {
        reqs.push(comm.isend(&data::<u64>(110 + i as u64, me, i + 1), r, t).ctx("isend")?);
    }
    for (i, &t) in tags.iter().enumerate() {
        let mut buf = vec![0u64; 10];
        let st = comm.recv(&mut buf, l, ANY_TAG).ctx(format_args!("recv {i} with ANY_TAG"))?;
        check_status(format_args!("message {i} with ANY_TAG"), st, l, t, i + 1)?;
        same(format_args!("message {i} with ANY_TAG"), &buf[..i + 1], &data::<u64>(110 + i as u64, l, i + 1))?;
    }
    wait_all(reqs).ctx("wait_all")?;
    Ok(())
}

/// Rank 0 receives one message from every rank with ANY_SOURCE, in whatever order they
/// come; then the same to the last rank with ANY_SOURCE and ANY_TAG together.
pub fn any_source(comm: &Comm) -> CheckResult {
    let (me, p) = (comm.rank(), comm.size());
    for (round, root) in [0, p - 1].into_iter().enumerate() {
        let tag = if round == 0 { 12 } else { me as Tag };
        let n = me + 1 + 2000 * (me % 2);
        let out: Vec<i16> = data(120 + round as u64, me, n);
        let req = comm.isend(&out, root, tag).ctx("isend to the root")?;
        if me == root {
            let mut seen = vec![false; p];
            for _ in 0..p {
                let rtag = if round == 0 { 12 } else { ANY_TAG };
                let (got, st) = comm.recv_vec::<i16>(ANY_SOURCE, rtag).ctx("recv_vec from ANY_SOURCE")?;
                let s = st.source;
                ensure!(s < p && !seen[s], "round {round}: ANY_SOURCE gave source {s} (seen {seen:?})");
                seen[s] = true;
                let want_tag = if round == 0 { 12 } else { s as Tag };
                let want_n = s + 1 + 2000 * (s % 2);
                check_status(format_args!("round {round}, message of rank {s}"), st, s, want_tag, want_n)?;
                same(
                    format_args!("round {round}, message of rank {s}"),
                    &got,
                    &data::<i16>(120 + round as u64, s, want_n),
                )?;
            }
        }
        req.wait().ctx("wait for the isend")?;
        comm.barrier().ctx("barrier between rounds")?;
    }
    // ANY_SOURCE into a slice, each rank receiving from its left neighbour only.
    let out: Vec<f32> = data(125, me, 4);
    let mut got = vec![0f32; 8];
    let st = if p == 1 {
        let req = comm.isend(&out, me, 3).ctx("isend")?;
        let st = comm.recv(&mut got, ANY_SOURCE, 3).ctx("recv ANY_SOURCE")?;
        req.wait().ctx("wait")?;
        st
    } else if me % 2 == 0 {
        comm.send(&out, right(comm, 1), 3).ctx("send")?;
        comm.recv(&mut got, ANY_SOURCE, 3).ctx("recv ANY_SOURCE")?
    } else {
        let st = comm.recv(&mut got, ANY_SOURCE, 3).ctx("recv ANY_SOURCE")?;
        comm.send(&out, right(comm, 1), 3).ctx("send")?;
        st
    };
    check_status("ring with ANY_SOURCE", st, left(comm, 1), 3, 4)?;
    same("ring with ANY_SOURCE", &got[..4], &data::<f32>(125, left(comm, 1), 4))
}

/// Status fields from recv, recv_vec, probe, iprobe, irecv and irecv_vec.
pub fn status_fields(comm: &Comm) -> CheckResult {
    let (me, r, l) = (comm.rank(), right(comm, 1), left(comm, 1));
    let n_of = |rank: usize, i: usize| 1 + (rank * 3 + i * 5) % 11 + if i == 3 { 9000 } else { 0 };
    let mut reqs = Vec::new();
    for i in 0..6 {
        let out: Vec<f64> = data(130 + i as u64, me, n_of(me, i));
        reqs.push(comm.isend(&out, r, 40 + i as Tag).ctx("isend")?);
    }
    let want = |i: usize| data::<f64>(130 + i as u64, l, n_of(l, i));
    // 0: recv into a larger slice with ANY_SOURCE and ANY_TAG.
    let mut buf = vec![0.0; 20_000];
    let st = comm.recv(&mut buf, ANY_SOURCE, ANY_TAG).ctx("recv 0")?;
    check_status("recv", st, l, 40, n_of(l, 0))?;
    same("recv 0", &buf[..st.count], &want(0))?;
    // 1: probe then iprobe (both leave the message), then recv_vec.
    let st = comm.probe(l, 41).ctx("probe 1")?;
    check_status("probe", probed::<f64>(st), l, 41, n_of(l, 1))?;
    let st2 = comm.iprobe(ANY_SOURCE, 41).ctx("iprobe 1")?;
    ensure_eq!(st2, Some(st), "iprobe after probe");
    let (v, st) = comm.recv_vec::<f64>(l, 41).ctx("recv_vec 1")?;
    check_status("recv_vec", st, l, 41, n_of(l, 1))?;
    same("recv_vec 1", &v, &want(1))?;
    // 2: irecv.
    let mut buf = vec![0.0; 20];
    let st = comm.irecv(&mut buf, l, ANY_TAG).ctx("irecv 2")?.wait().ctx("wait 2")?;
    check_status("irecv", st, l, 42, n_of(l, 2))?;
    same("irecv 2", &buf[..st.count], &want(2))?;
    // 3: irecv_vec (a rendezvous-sized message).
    let (v, st) = comm.irecv_vec::<f64>(ANY_SOURCE, 43).ctx("irecv_vec 3")?.wait().ctx("wait 3")?;
    check_status("irecv_vec", st, l, 43, n_of(l, 3))?;
    same("irecv_vec 3", &v, &want(3))?;
    // 4 and 5: sendrecv receiving tag 45 while message 4 is still queued, then message 4.
    // The sendrecv's own message (tag 7) has its receive posted first: a send may
    // complete only once matched (MPI does not promise to buffer it; strict mode checks).
    let mut b7 = [0.0f64];
    let r7 = comm.irecv(&mut b7, l, 7).ctx("irecv 7")?;
    let mut buf = vec![0.0; 20];
    let st = comm.sendrecv(&[me as f64], r, 7, &mut buf, l, 45).ctx("sendrecv 5")?;
    check_status("sendrecv", st, l, 45, n_of(l, 5))?;
    same("sendrecv 5", &buf[..st.count], &want(5))?;
    let st = comm.recv(&mut buf, l, 44).ctx("recv 4")?;
    check_status("recv after a later tag", st, l, 44, n_of(l, 4))?;
    same("recv 4", &buf[..st.count], &want(4))?;
    let st = r7.wait().ctx("wait 7")?;
    check_status("recv of the sendrecv message", st, l, 7, 1)?;
    ensure_eq!(b7[0], l as f64, "sendrecv payload");
    let sts = wait_all(reqs).ctx("wait_all")?;
    ensure_eq!(sts.len(), 6, "wait_all statuses");
    Ok(())
}

/// A probe's status counted in `T`s: a probe counts bytes, on every backend.
fn probed<T>(st: Status) -> Status {
    assert_eq!(st.count, st.bytes, "a probe counts bytes");
    Status { count: st.count_as::<T>().expect("a whole number of T"), ..st }
}

/// probe/iprobe to learn a message's length, then recv of exactly that length.
pub fn probe_then_recv(comm: &Comm) -> CheckResult {
    let (me, p, r) = (comm.rank(), comm.size(), right(comm, 1));
    let n_of = |rank: usize, j: usize| [0usize, 1, 2, 17, 1000, 70_000][(rank + j) % 6];
    ensure!(
        comm.iprobe(ANY_SOURCE, 999).ctx("iprobe of an unused tag")?.is_none(),
        "iprobe found a message nobody sent"
    );
    let mut reqs = Vec::new();
    for j in 0..4 {
        reqs.push(comm.isend(&data::<u32>(140 + j as u64, me, n_of(me, j)), r, j as Tag).ctx("isend")?);
    }
    for j in 0..4 {
        // Blocking probe for the first two, a polled iprobe for the others.
        let st = if j < 2 {
            comm.probe(ANY_SOURCE, ANY_TAG).ctx("probe")?
        } else {
            let mut polls = 0u64;
            loop {
                if let Some(st) = comm.iprobe(ANY_SOURCE, ANY_TAG).ctx("iprobe")? {
                    break st;
                }
                polls += 1;
                if polls.is_multiple_of(64) {
                    std::thread::yield_now();
                }
            }
        };
        let l = left(comm, 1);
        ensure_eq!(
            (st.source, st.tag),
            (l, j as Tag),
            "probe {j}: source and tag (messages of one sender come in order)"
        );
        let st = probed::<u32>(st);
        let mut buf = vec![0u32; st.count];
        let st2 = comm.recv(&mut buf, st.source, st.tag).ctx("recv of the probed message")?;
        ensure_eq!(st2, st, "recv status after probe {j}");
        same(format_args!("probed message {j} from rank {l}"), &buf, &data::<u32>(140 + j as u64, l, n_of(l, j)))?;
    }
    wait_all(reqs).ctx("wait_all")?;
    // Probing an object message, then receiving it by the probed source and tag.
    let req = comm.isend_obj(&record(145, me, 3, 1), r, 9).ctx("isend_obj")?;
    let st = comm.probe(ANY_SOURCE, 9).ctx("probe of an object")?;
    ensure!(st.source < p && st.count > 0, "probe of an object message: {st:?}");
    let (got, _) = comm.recv_obj::<Record>(st.source, st.tag).ctx("recv_obj after probe")?;
    ensure!(got == record(145, left(comm, 1), 3, 1), "object after probe differs");
    req.wait().ctx("wait")?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Non-blocking operations and ordering
// ---------------------------------------------------------------------------------------

/// irecv from every rank, isend to every rank, wait_all; test polling; irecv_vec; objects.
pub fn nonblocking(comm: &Comm) -> CheckResult {
    let (me, p) = (comm.rank(), comm.size());
    let n_of = |from: usize, to: usize| 1 + (from * 7 + to * 3) % 13;
    let mut bufs: Vec<Vec<i64>> = (0..p).map(|src| vec![0; n_of(src, me)]).collect();
    let recvs: Vec<Request> = bufs
        .iter_mut()
        .enumerate()
        .map(|(src, b)| comm.irecv(b, src, 7))
        .collect::<parsci_comm::Result<_>>()
        .ctx("irecv")?;
    let outs: Vec<Vec<i64>> = (0..p).map(|dst| data(150 + dst as u64, me, n_of(me, dst))).collect();
    let sends: Vec<Request> = outs
        .iter()
        .enumerate()
        .map(|(dst, o)| comm.isend(o, dst, 7))
        .collect::<parsci_comm::Result<_>>()
        .ctx("isend")?;
    let sts = wait_all(recvs).ctx("wait_all of the receives")?;
    wait_all(sends).ctx("wait_all of the sends")?;
    for (src, (st, b)) in sts.iter().zip(&bufs).enumerate() {
        check_status(format_args!("irecv from rank {src}"), *st, src, 7, n_of(src, me))?;
        same(format_args!("irecv from rank {src}"), b, &data::<i64>(150 + me as u64, src, n_of(src, me)))?;
    }

    // test() until complete.
    let (r, l) = (right(comm, 1), left(comm, 1));
    let mut buf = vec![0u8; 64];
    let mut req = comm.irecv(&mut buf, l, 8).ctx("irecv to test")?;
    let sreq = comm.isend(&data::<u8>(155, me, 40), r, 8).ctx("isend")?;
    let st = loop {
        if let Some(st) = req.test().ctx("test")? {
            break st;
        }
        std::thread::yield_now();
    };
    drop(req);
    check_status("irecv completed by test", st, l, 8, 40)?;
    same("irecv completed by test", &buf[..40], &data::<u8>(155, l, 40))?;
    sreq.wait().ctx("wait")?;

    // irecv_vec polled with test, then waited.
    let mut vreq = comm.irecv_vec::<Particle>(l, 9).ctx("irecv_vec")?;
    let sreq = comm.isend(&data::<Particle>(156, me, 5), r, 9).ctx("isend")?;
    let (v, st) = loop {
        if let Some(got) = vreq.test().ctx("VecRequest::test")? {
            break got;
        }
        std::thread::yield_now();
    };
    check_status("irecv_vec completed by test", st, l, 9, 5)?;
    same("irecv_vec", &v, &data::<Particle>(156, l, 5))?;
    sreq.wait().ctx("wait")?;

    // Objects.
    let oreq = comm.irecv_obj::<Record>(l, 10).ctx("irecv_obj")?;
    let sreq = comm.isend_obj(&record(157, me, 9, 2), r, 10).ctx("isend_obj")?;
    let (got, st) = oreq.wait().ctx("ObjRequest::wait")?;
    ensure!(got == record(157, l, 9, 2), "irecv_obj: the record differs");
    ensure_eq!((st.source, st.tag), (l, 10), "irecv_obj status");
    sreq.wait().ctx("wait")?;
    let mut oreq = comm.irecv_obj::<Vec<String>>(ANY_SOURCE, 11).ctx("irecv_obj")?;
    let sreq = comm.isend_obj(&vec![format!("from {me}"); me + 1], r, 11).ctx("isend_obj")?;
    let (got, st) = loop {
        if let Some(got) = oreq.test().ctx("ObjRequest::test")? {
            break got;
        }
        std::thread::yield_now();
    };
    ensure_eq!(got, vec![format!("from {l}"); l + 1], "irecv_obj completed by test");
    ensure_eq!((st.source, st.tag), (l, 11), "irecv_obj status");
    sreq.wait().ctx("wait")?;
    Ok(())
}

/// Large messages into posted receives: irecv first, then a blocking send.
pub fn nonblocking_large(comm: &Comm) -> CheckResult {
    let (me, r, l) = (comm.rank(), right(comm, 1), left(comm, 1));
    for n in [4096usize, 4097, 1 << 17] {
        let mut buf = vec![0f64; n];
        let req = comm.irecv(&mut buf, l, 11).ctx("irecv")?;
        comm.send(&data::<f64>(160, me, n), r, 11).ctx(format_args!("send of {n} f64"))?;
        let st = req.wait().ctx("wait")?;
        check_status(format_args!("irecv of {n} f64"), st, l, 11, n)?;
        same(format_args!("irecv of {n} f64"), &buf, &data::<f64>(160, l, n))?;
        let vreq = comm.irecv_vec::<f64>(ANY_SOURCE, 12).ctx("irecv_vec")?;
        comm.send(&data::<f64>(161, me, n), r, 12).ctx(format_args!("send of {n} f64"))?;
        let (v, st) = vreq.wait().ctx("wait")?;
        check_status(format_args!("irecv_vec of {n} f64"), st, l, 12, n)?;
        same(format_args!("irecv_vec of {n} f64"), &v, &data::<f64>(161, l, n))?;
    }
    Ok(())
}

/// A receive posted with irecv matches before a later blocking receive of the same
/// pattern, and two posted receives match in the order they were posted.
pub fn irecv_matches_before_recv(comm: &Comm) -> CheckResult {
    let (me, r, l) = (comm.rank(), right(comm, 1), left(comm, 1));
    for (n, src_pat) in [(2usize, Some(l)), (300, None), (50_000, Some(l))] {
        let src = src_pat.unwrap_or(ANY_SOURCE);
        let mut first = vec![0i32; n];
        let req = comm.irecv(&mut first, src, 3).ctx("irecv")?;
        let s1 = comm.isend(&data::<i32>(170, me, n), r, 3).ctx("isend 1")?;
        let s2 = comm.isend(&data::<i32>(171, me, n), r, 3).ctx("isend 2")?;
        let mut second = vec![0i32; n];
        let st2 = comm.recv(&mut second, l, 3).ctx("blocking recv")?;
        let st1 = req.wait().ctx("wait")?;
        check_status("irecv", st1, l, 3, n)?;
        check_status("recv", st2, l, 3, n)?;
        same(format_args!("{n} i32: the earlier irecv gets the first message"), &first, &data::<i32>(170, l, n))?;
        same(format_args!("{n} i32: the later recv gets the second message"), &second, &data::<i32>(171, l, n))?;
        wait_all(vec![s1, s2]).ctx("wait_all")?;
    }
    // Two posted receives, completed in reverse order.
    let (mut a, mut b) = (vec![0u8; 8], vec![0u8; 8]);
    let ra = comm.irecv(&mut a, l, 4).ctx("irecv a")?;
    let rb = comm.irecv(&mut b, ANY_SOURCE, ANY_TAG).ctx("irecv b")?;
    let s1 = comm.isend(&data::<u8>(172, me, 8), r, 4).ctx("isend 1")?;
    let s2 = comm.isend(&data::<u8>(173, me, 8), r, 4).ctx("isend 2")?;
    let stb = rb.wait().ctx("wait b")?;
    let sta = ra.wait().ctx("wait a")?;
    check_status("first posted receive", sta, l, 4, 8)?;
    check_status("second posted receive", stb, l, 4, 8)?;
    same("first posted receive", &a, &data::<u8>(172, l, 8))?;
    same("second posted receive", &b, &data::<u8>(173, l, 8))?;
    wait_all(vec![s1, s2]).ctx("wait_all")?;
    Ok(())
}

/// The length of message `i` in the ordering checks: small, inline, medium and large mixed.
fn mixed_len(i: usize) -> usize {
    [1, 2, 130, 1, 5000, 3, 0, 64][i % 8]
}

/// Many messages between one pair with one tag arrive in order, while the receiver
/// receives concurrently with the sender (blocking sends, every payload size mixed).
pub fn non_overtaking(comm: &Comm) -> CheckResult {
    let (me, p, r, l) = (comm.rank(), comm.size(), right(comm, 1), left(comm, 1));
    const N: usize = 300;
    let msg = |from: usize, i: usize| -> Vec<f64> {
        let mut v: Vec<f64> = data(180 + i as u64, from, mixed_len(i));
        if let Some(x) = v.first_mut() {
            *x = i as f64;
        }
        v
    };
    let recv_all = || -> CheckResult {
        for i in 0..N {
            let (got, st) = comm.recv_vec::<f64>(l, 5).ctx(format_args!("recv {i}"))?;
            check_status(format_args!("message {i}"), st, l, 5, mixed_len(i))?;
            same(format_args!("message {i} of rank {l} (messages overtook each other?)"), &got, &msg(l, i))?;
        }
        Ok(())
    };
    if p == 1 {
        let reqs: Vec<Request> =
            (0..N).map(|i| comm.isend(&msg(me, i), me, 5)).collect::<parsci_comm::Result<_>>().ctx("isend")?;
        recv_all()?;
        wait_all(reqs).ctx("wait_all")?;
    } else if me % 2 == 0 {
        for i in 0..N {
            comm.send(&msg(me, i), r, 5).ctx(format_args!("send {i}"))?;
        }
        recv_all()?;
    } else {
        recv_all()?;
        for i in 0..N {
            comm.send(&msg(me, i), r, 5).ctx(format_args!("send {i}"))?;
        }
    }
    Ok(())
}

/// More messages than a channel ring holds (> 64) are queued before the receiver looks;
/// they arrive in order per tag, whatever order the tags are received in.
pub fn ring_overflow(comm: &Comm) -> CheckResult {
    let (me, r, l) = (comm.rank(), right(comm, 1), left(comm, 1));
    const N: usize = 200;
    let tag_of = |i: usize| if i.is_multiple_of(3) { 21 } else { 20 };
    let msg = |from: usize, i: usize| -> Vec<u64> {
        let mut v: Vec<u64> = data(190, from, 1 + mixed_len(i) % 100);
        v[0] = i as u64;
        v
    };
    let reqs: Vec<Request> =
        (0..N).map(|i| comm.isend(&msg(me, i), r, tag_of(i))).collect::<parsci_comm::Result<_>>().ctx("isend")?;
    comm.barrier().ctx("barrier")?;
    // Everything of tag 21 first, then tag 20.
    for tag in [21, 20] {
        for i in (0..N).filter(|&i| tag_of(i) == tag) {
            let (got, st) = comm.recv_vec::<u64>(l, tag).ctx(format_args!("recv {i}"))?;
            ensure_eq!((st.source, st.tag), (l, tag), "status of message {i}");
            same(format_args!("message {i} with tag {tag} from rank {l}"), &got, &msg(l, i))?;
        }
    }
    wait_all(reqs).ctx("wait_all")?;
    // And once more with ANY_TAG: the exact send order.
    let reqs: Vec<Request> =
        (0..N).map(|i| comm.isend(&msg(me, i), r, tag_of(i))).collect::<parsci_comm::Result<_>>().ctx("isend")?;
    comm.barrier().ctx("barrier")?;
    for i in 0..N {
        let (got, st) = comm.recv_vec::<u64>(l, ANY_TAG).ctx(format_args!("recv {i} with ANY_TAG"))?;
        ensure_eq!((st.source, st.tag), (l, tag_of(i)), "status of message {i} received with ANY_TAG");
        same(format_args!("message {i} received with ANY_TAG"), &got, &msg(l, i))?;
    }
    wait_all(reqs).ctx("wait_all")?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Typed collectives
// ---------------------------------------------------------------------------------------

/// Barriers, alone and between point-to-point rounds.
pub fn barrier(comm: &Comm) -> CheckResult {
    for _ in 0..20 {
        comm.barrier().ctx("barrier")?;
    }
    // Messages sent before a barrier are all received after it, whatever the order.
    let (me, r, l) = (comm.rank(), right(comm, 1), left(comm, 1));
    for round in 0..5u64 {
        let req = comm.isend(&[round, me as u64], r, 1).ctx("isend")?;
        comm.barrier().ctx("barrier")?;
        let mut got = [0u64; 2];
        comm.recv(&mut got, l, 1).ctx("recv")?;
        ensure_eq!(got, [round, l as u64], "message of round {round}");
        req.wait().ctx("wait")?;
        comm.barrier().ctx("barrier")?;
    }
    Ok(())
}

fn bcast_of<T: Gen>(comm: &Comm, salt: u64, n: usize) -> CheckResult {
    let (me, p) = (comm.rank(), comm.size());
    for root in 0..p {
        let mut buf: Vec<T> = if me == root { data(salt, root, n) } else { fill(n) };
        comm.bcast(&mut buf, root).ctx(format_args!("bcast of {n} from root {root}"))?;
        same(format_args!("bcast of {n} {} from root {root}", std::any::type_name::<T>()), &buf, &data(salt, root, n))?;
    }
    Ok(())
}

/// bcast from every root, of several types and sizes.
pub fn bcast(comm: &Comm) -> CheckResult {
    for n in [0usize, 1, 2, 5, 1000, 40_000] {
        bcast_of::<f64>(comm, 200, n)?;
    }
    for n in [1usize, 17, 3000] {
        bcast_of::<i32>(comm, 201, n)?;
        bcast_of::<Particle>(comm, 202, n)?;
        bcast_of::<u8>(comm, 203, n)?;
    }
    Ok(())
}

/// scatter from every root: rank `r` gets block `r` of the root's buffer.
pub fn scatter(comm: &Comm) -> CheckResult {
    let (me, p) = (comm.rank(), comm.size());
    for root in 0..p {
        for n in [0usize, 1, 3, 1000, 9000] {
            let all: Vec<i64> = data(210, root, n * p);
            let mut got: Vec<i64> = fill(n);
            let send = (me == root).then_some(&all[..]);
            comm.scatter(send, &mut got, root).ctx(format_args!("scatter of {n} per rank from root {root}"))?;
            same(
                format_args!("scatter of {n} per rank from root {root}, block {me}"),
                &got,
                &all[me * n..(me + 1) * n],
            )?;
        }
    }
    Ok(())
}

/// Uneven counts (some zero) and displacements with gaps, for the v-collectives.
fn uneven_layout(p: usize, salt: usize, big: bool) -> Layout {
    let counts: Vec<usize> =
        (0..p).map(|r| (r * 5 + salt * 3 + 1) % 4 + if big && r == p / 2 { 6000 } else { 0 }).collect();
    let mut displs = Vec::with_capacity(p);
    let mut at = 1; // a gap before the first block too
    for (r, &c) in counts.iter().enumerate() {
        displs.push(at);
        at += c + r % 3;
    }
    Layout::new(&counts, &displs).expect("as many counts as displacements")
}

/// scatterv with uneven counts, zero counts and gaps, from every root; larger receive buffers.
pub fn scatterv(comm: &Comm) -> CheckResult {
    let (me, p) = (comm.rank(), comm.size());
    for root in 0..p {
        for big in [false, true] {
            let l = uneven_layout(p, root, big);
            let all: Vec<u32> = data(220, root, l.extent());
            let mine = l.counts()[me];
            let mut got: Vec<u32> = fill(mine + 2);
            let tail = got[mine..].to_vec();
            let send = (me == root).then_some((&all[..], &l));
            comm.scatterv(send, &mut got, root).ctx(format_args!("scatterv from root {root}"))?;
            same(
                format_args!("scatterv from root {root}, block {me} of {:?}", l.counts()),
                &got[..mine],
                &all[l.range(me)],
            )?;
            same(format_args!("scatterv from root {root}: past the block"), &got[mine..], &tail)?;
        }
    }
    Ok(())
}

/// gather to every root.
pub fn gather(comm: &Comm) -> CheckResult {
    let (me, p) = (comm.rank(), comm.size());
    for root in 0..p {
        for n in [0usize, 1, 3, 1000, 9000] {
            let mine: Vec<f32> = data(230, me, n);
            let mut all: Vec<f32> = fill(n * p);
            let recv = (me == root).then_some(&mut all[..]);
            comm.gather(&mine, recv, root).ctx(format_args!("gather of {n} per rank to root {root}"))?;
            if me == root {
                for r in 0..p {
                    same(
                        format_args!("gather of {n} to root {root}, block {r}"),
                        &all[r * n..(r + 1) * n],
                        &data::<f32>(230, r, n),
                    )?;
                }
            }
        }
    }
    Ok(())
}

/// gatherv with uneven counts, zero counts and gaps (left untouched), to every root.
pub fn gatherv(comm: &Comm) -> CheckResult {
    let (me, p) = (comm.rank(), comm.size());
    for root in 0..p {
        for big in [false, true] {
            let l = uneven_layout(p, root + 1, big);
            let mine: Vec<i16> = data(240, me, l.counts()[me]);
            let mut all: Vec<i16> = fill(l.extent() + 3);
            let before = all.clone();
            let recv = (me == root).then_some((&mut all[..], &l));
            comm.gatherv(&mine, recv, root).ctx(format_args!("gatherv to root {root}"))?;
            if me == root {
                let mut want = before;
                for r in 0..p {
                    want[l.range(r)].copy_from_slice(&data::<i16>(240, r, l.counts()[r]));
                }
                same(
                    format_args!("gatherv to root {root} with counts {:?} (gaps must stay)", l.counts()),
                    &all,
                    &want,
                )?;
            }
        }
    }
    Ok(())
}

/// allgather of several sizes and types.
pub fn allgather(comm: &Comm) -> CheckResult {
    let (me, p) = (comm.rank(), comm.size());
    for n in [0usize, 1, 7, 3000] {
        let mine: Vec<Particle> = data(250, me, n);
        let mut all: Vec<Particle> = fill(n * p + 2);
        let tail = all[n * p..].to_vec();
        comm.allgather(&mine, &mut all).ctx(format_args!("allgather of {n}"))?;
        for r in 0..p {
            same(format_args!("allgather of {n}, block {r}"), &all[r * n..(r + 1) * n], &data::<Particle>(250, r, n))?;
        }
        same(format_args!("allgather of {n}: past the blocks"), &all[n * p..], &tail)?;
    }
    Ok(())
}

/// allgatherv with uneven counts, zero counts and gaps.
pub fn allgatherv(comm: &Comm) -> CheckResult {
    let (me, p) = (comm.rank(), comm.size());
    for (salt, big) in [(0usize, false), (1, true), (2, false)] {
        let l = uneven_layout(p, salt, big);
        let mine: Vec<f64> = data(260, me, l.counts()[me]);
        let mut all: Vec<f64> = fill(l.extent());
        let mut want = all.clone();
        comm.allgatherv(&mine, &mut all, &l).ctx(format_args!("allgatherv with counts {:?}", l.counts()))?;
        for r in 0..p {
            want[l.range(r)].copy_from_slice(&data::<f64>(260, r, l.counts()[r]));
        }
        same(format_args!("allgatherv with counts {:?}", l.counts()), &all, &want)?;
    }
    Ok(())
}

/// Integer element types for the built-in ops, with a serial reference of each op.
trait IntElem: Gen + Copy {
    fn small(k: u64) -> Self;
    fn ref_add(self, o: Self) -> Self;
    fn ref_mul(self, o: Self) -> Self;
}
macro_rules! int_elem {
    ($($t:ty),*) => {$(
        impl IntElem for $t {
            fn small(k: u64) -> Self { ((k % 9) as i64 - 4) as $t }
            fn ref_add(self, o: Self) -> Self { self.wrapping_add(o) }
            fn ref_mul(self, o: Self) -> Self { self.wrapping_mul(o) }
        }
    )*};
}
int_elem!(i64, u32, i16, u8, usize);

/// The built-in ops by name, with their serial reference.
/// An op with its name and its serial definition.
type NamedOp<T> = (&'static str, Op<T>, fn(T, T) -> T);

fn builtin_ops<T: IntElem + parsci_comm::Arith>() -> Vec<NamedOp<T>> {
    vec![
        ("sum", Op::sum(), T::ref_add as fn(T, T) -> T),
        ("prod", Op::prod(), T::ref_mul as fn(T, T) -> T),
        ("min", Op::min(), (|a: T, b: T| if b < a { b } else { a }) as fn(T, T) -> T),
        ("max", Op::max(), (|a: T, b: T| if b > a { b } else { a }) as fn(T, T) -> T),
    ]
}

/// Element `i` of rank `r`'s contribution to a reduction: small values, some negative
/// (wrapped around for unsigned types).
fn contrib<T: IntElem>(salt: u64, r: usize, n: usize) -> Vec<T> {
    (0..n).map(|i| T::small(key(salt, r, i))).collect()
}

/// The serial reduction of ranks `0..upto` (in rank order).
fn serial_reduce<T: IntElem>(salt: u64, upto: usize, n: usize, f: fn(T, T) -> T) -> Vec<T> {
    let mut acc = contrib::<T>(salt, 0, n);
    for r in 1..upto {
        for (a, x) in acc.iter_mut().zip(contrib::<T>(salt, r, n)) {
            *a = f(*a, x);
        }
    }
    acc
}

const REDUCE_LENS: [usize; 5] = [0, 1, 5, 2049, 5000];

fn reduce_int<T: IntElem + parsci_comm::Arith>(comm: &Comm, salt: u64) -> CheckResult {
    let (me, p) = (comm.rank(), comm.size());
    let name = std::any::type_name::<T>();
    for (opname, op, f) in builtin_ops::<T>() {
        for n in REDUCE_LENS {
            let mine = contrib::<T>(salt, me, n);
            let want = serial_reduce::<T>(salt, p, n, f);
            for root in 0..p {
                let mut out: Vec<T> = fill(n);
                let before = out.clone();
                comm.reduce(&mine, (me == root).then_some(&mut out[..]), &op, root)
                    .ctx(format_args!("reduce {opname} of {n} {name} to root {root}"))?;
                let expect = if me == root { &want } else { &before };
                same(format_args!("reduce {opname} of {n} {name} to root {root}"), &out, expect)?;
            }
        }
    }
    Ok(())
}

/// reduce with sum, prod, min and max, to every root, for several integer types.
pub fn reduce_builtin_ops(comm: &Comm) -> CheckResult {
    reduce_int::<i64>(comm, 300)?;
    reduce_int::<u32>(comm, 301)?;
    reduce_int::<i16>(comm, 302)?;
    reduce_int::<u8>(comm, 303)
}

fn allreduce_int<T: IntElem + parsci_comm::Arith>(comm: &Comm, salt: u64) -> CheckResult {
    let (me, p) = (comm.rank(), comm.size());
    let name = std::any::type_name::<T>();
    for (opname, op, f) in builtin_ops::<T>() {
        for n in REDUCE_LENS {
            let mut out: Vec<T> = fill(n + 1);
            let last = out[n];
            comm.allreduce(&contrib::<T>(salt, me, n), &mut out[..n], &op)
                .ctx(format_args!("allreduce {opname} of {n} {name}"))?;
            same(format_args!("allreduce {opname} of {n} {name}"), &out[..n], &serial_reduce::<T>(salt, p, n, f))?;
            ensure_eq!(out[n], last, "allreduce wrote past the buffer");
        }
    }
    Ok(())
}

/// allreduce with sum, prod, min and max for several integer types.
pub fn allreduce_builtin_ops(comm: &Comm) -> CheckResult {
    allreduce_int::<i64>(comm, 310)?;
    allreduce_int::<u32>(comm, 311)?;
    allreduce_int::<usize>(comm, 312)
}

fn scan_int<T: IntElem + parsci_comm::Arith>(comm: &Comm, salt: u64, exclusive: bool) -> CheckResult {
    let me = comm.rank();
    let name = std::any::type_name::<T>();
    let call = if exclusive { "exscan" } else { "scan" };
    for (opname, op, f) in builtin_ops::<T>() {
        for n in REDUCE_LENS {
            let mut out: Vec<T> = fill(n);
            let before = out.clone();
            let mine = contrib::<T>(salt, me, n);
            if exclusive { comm.exscan(&mine, &mut out, &op) } else { comm.scan(&mine, &mut out, &op) }
                .ctx(format_args!("{call} {opname} of {n} {name}"))?;
            let want = match (exclusive, me) {
                (true, 0) => before, // rank 0's buffer is left as it is
                (true, _) => serial_reduce::<T>(salt, me, n, f),
                (false, _) => serial_reduce::<T>(salt, me + 1, n, f),
            };
            same(format_args!("{call} {opname} of {n} {name} on rank {me}"), &out, &want)?;
        }
    }
    Ok(())
}

/// scan (inclusive prefix) with the built-in ops.
pub fn scan_builtin_ops(comm: &Comm) -> CheckResult {
    scan_int::<i64>(comm, 320, false)?;
    scan_int::<u32>(comm, 321, false)
}

/// exscan (exclusive prefix) with the built-in ops; rank 0's buffer is untouched.
pub fn exscan_builtin_ops(comm: &Comm) -> CheckResult {
    scan_int::<i64>(comm, 330, true)?;
    scan_int::<i16>(comm, 331, true)
}

/// f64 reductions: with values that sum exactly, every op gives the serial result; with
/// general values, allreduce gives the same bits on every rank, close to the serial sum.
pub fn reductions_f64(comm: &Comm) -> CheckResult {
    let (me, p) = (comm.rank(), comm.size());
    let n = 3000;
    let x = |r: usize| -> Vec<f64> { (0..n).map(|i| ((key(340, r, i) % 64) as f64 - 32.0) * 0.5).collect() };
    let ops: Vec<NamedOp<f64>> = vec![
        ("sum", Op::sum(), |a, b| a + b),
        ("min", Op::min(), f64::min as fn(f64, f64) -> f64),
        ("max", Op::max(), f64::max),
    ];
    for (name, op, f) in ops {
        let mut want = x(0);
        for r in 1..p {
            for (a, b) in want.iter_mut().zip(x(r)) {
                *a = f(*a, b);
            }
        }
        let mut out = vec![0.0; n];
        comm.allreduce(&x(me), &mut out, &op).ctx(format_args!("allreduce {name} of f64"))?;
        same(format_args!("allreduce {name} of f64"), &out, &want)?;
        let mut red = vec![0.0; n];
        comm.reduce(&x(me), (me == p - 1).then_some(&mut red[..]), &op, p - 1).ctx("reduce")?;
        if me == p - 1 {
            same(format_args!("reduce {name} of f64"), &red, &want)?;
        }
    }
    // Products of powers of two are exact too.
    let y =
        |r: usize| -> Vec<f64> { (0..n).map(|i| [0.5, 2.0, -1.0, 4.0, 1.0][(key(341, r, i) % 5) as usize]).collect() };
    let mut want = y(0);
    for r in 1..p {
        for (a, b) in want.iter_mut().zip(y(r)) {
            *a *= b;
        }
    }
    let mut out = vec![0.0; n];
    comm.allreduce(&y(me), &mut out, &Op::prod()).ctx("allreduce prod of f64")?;
    same("allreduce prod of f64", &out, &want)?;
    // General values: same bits everywhere, within rounding of the serial sum.
    let z = |r: usize| -> Vec<f64> { (0..n).map(|i| (key(342, r, i) as f64 / u64::MAX as f64 - 0.5) * 1e3).collect() };
    let mut out = vec![0.0; n];
    comm.allreduce(&z(me), &mut out, &Op::sum()).ctx("allreduce sum of general f64")?;
    let mut bits = vec![0u64; n * p];
    let mine: Vec<u64> = out.iter().map(|v| v.to_bits()).collect();
    comm.allgather(&mine, &mut bits).ctx("allgather of the result bits")?;
    for r in 1..p {
        ensure!(bits[r * n..(r + 1) * n] == bits[..n], "allreduce gave different bits on ranks 0 and {r}");
    }
    let all: Vec<Vec<f64>> = (0..p).map(z).collect();
    for (i, got) in out.iter().enumerate() {
        let serial: f64 = all.iter().map(|v| v[i]).sum();
        let close = (got - serial).abs() <= 1e-9 * (1.0 + serial.abs());
        ensure!(close, "allreduce sum element {i}: {got} vs serial {serial}");
    }
    Ok(())
}

/// A non-commutative, associative user op (as MPI requires): appending decimal digits,
/// `(a, 10^k) op (b, 10^m) = (a * 10^m + b, 10^(k+m))`. The result spells the ranks in order.
pub fn user_op_rank_order(comm: &Comm) -> CheckResult {
    let (me, p) = (comm.rank(), comm.size());
    let op = Op::<[u64; 2]>::user(|a, b| [a[0].wrapping_mul(b[1]).wrapping_add(b[0]), a[1].wrapping_mul(b[1])])
        .commutative(false);
    let digit = |r: usize, i: usize| [((r + i) % 10) as u64, 10];
    let n = 5000;
    let mine: Vec<[u64; 2]> = (0..n).map(|i| digit(me, i)).collect();
    let fold = |upto: usize| -> Vec<[u64; 2]> {
        (0..n)
            .map(|i| {
                let ds = (0..upto).map(|r| digit(r, i)[0]);
                [ds.fold(0, |a, d| a * 10 + d), 10u64.pow(upto as u32)]
            })
            .collect()
    };
    for root in 0..p {
        let mut out = vec![[0u64; 2]; n];
        comm.reduce(&mine, (me == root).then_some(&mut out[..]), &op, root).ctx("reduce with a user op")?;
        if me == root {
            same(format_args!("reduce with a non-commutative op to root {root}"), &out, &fold(p))?;
        }
    }
    let mut out = vec![[0u64; 2]; n];
    comm.allreduce(&mine, &mut out, &op).ctx("allreduce with a user op")?;
    same("allreduce with a non-commutative op", &out, &fold(p))?;
    comm.scan(&mine, &mut out, &op).ctx("scan with a user op")?;
    same("scan with a non-commutative op", &out, &fold(me + 1))?;
    let mut out = vec![[7u64; 2]; n];
    comm.exscan(&mine, &mut out, &op).ctx("exscan with a user op")?;
    let want = if me == 0 { vec![[7u64; 2]; n] } else { fold(me) };
    same("exscan with a non-commutative op", &out, &want)?;
    Ok(())
}

/// User ops on non-primitive elements: 2x2 integer matrix products (non-commutative) and
/// a user struct.
pub fn user_op_struct(comm: &Comm) -> CheckResult {
    let (me, p) = (comm.rank(), comm.size());
    type M = [i64; 4];
    let mul = |a: &M, b: &M| -> M {
        [a[0] * b[0] + a[1] * b[2], a[0] * b[1] + a[1] * b[3], a[2] * b[0] + a[3] * b[2], a[2] * b[1] + a[3] * b[3]]
    };
    let mat = |r: usize, i: usize| -> M { [1, ((r + i) % 3) as i64, ((r * i) % 2) as i64, 1] };
    let n = 50;
    let mine: Vec<M> = (0..n).map(|i| mat(me, i)).collect();
    // Non-commutative by default: combined in rank order on every backend.
    let op = Op::<M>::user(mul);
    let mut out = vec![[0i64; 4]; n];
    comm.allreduce(&mine, &mut out, &op).ctx("allreduce of matrices")?;
    let want: Vec<M> = (0..n).map(|i| (1..p).fold(mat(0, i), |acc, r| mul(&acc, &mat(r, i)))).collect();
    same("allreduce of 2x2 matrix products in rank order", &out, &want)?;

    let closest = Op::<Particle>::user(|a, b| {
        if b.pos[0].abs() < a.pos[0].abs() || (b.pos[0].abs() == a.pos[0].abs() && b.id < a.id) {
            *b
        } else {
            *a
        }
    });
    let mine: Vec<Particle> = data(350, me, 40);
    let mut out = vec![Particle::default(); 40];
    comm.allreduce(&mine, &mut out, &closest).ctx("allreduce of particles")?;
    for (i, got) in out.iter().enumerate() {
        let want = (0..p)
            .map(|r| data::<Particle>(350, r, 40)[i])
            .reduce(|a, b| {
                if b.pos[0].abs() < a.pos[0].abs() || (b.pos[0].abs() == a.pos[0].abs() && b.id < a.id) {
                    b
                } else {
                    a
                }
            })
            .expect("p >= 1");
        ensure_eq!(*got, want, "closest particle {i}");
    }
    Ok(())
}

/// alltoall of several block sizes.
pub fn alltoall(comm: &Comm) -> CheckResult {
    let (me, p) = (comm.rank(), comm.size());
    for n in [0usize, 1, 3, 500, 5000] {
        let send: Vec<i32> = (0..p).flat_map(|j| data::<i32>(360, me * 64 + j, n)).collect();
        let mut recv: Vec<i32> = fill(n * p);
        comm.alltoall(&send, &mut recv).ctx(format_args!("alltoall of {n} per pair"))?;
        for i in 0..p {
            same(
                format_args!("alltoall of {n}: block from rank {i}"),
                &recv[i * n..(i + 1) * n],
                &data::<i32>(360, i * 64 + me, n),
            )?;
        }
    }
    Ok(())
}

/// alltoallv with uneven counts per pair (some zero, one large) and gaps in both layouts.
pub fn alltoallv(comm: &Comm) -> CheckResult {
    let (me, p) = (comm.rank(), comm.size());
    let count = |from: usize, to: usize| (from + 2 * to) % 3 + if from == 0 && to == p - 1 { 7000 } else { 0 };
    let layout = |counts: Vec<usize>| {
        let mut displs = Vec::new();
        let mut at = 2;
        for &c in &counts {
            displs.push(at);
            at += c + 1;
        }
        Layout::new(&counts, &displs).expect("lengths agree")
    };
    let sl = layout((0..p).map(|j| count(me, j)).collect());
    let rl = layout((0..p).map(|i| count(i, me)).collect());
    let mut send: Vec<u64> = fill(sl.extent());
    for j in 0..p {
        send[sl.range(j)].copy_from_slice(&data::<u64>(370, me * 64 + j, count(me, j)));
    }
    let mut recv: Vec<u64> = fill(rl.extent() + 1);
    let mut want = recv.clone();
    comm.alltoallv(&send, &sl, &mut recv, &rl).ctx("alltoallv")?;
    for i in 0..p {
        want[rl.range(i)].copy_from_slice(&data::<u64>(370, i * 64 + me, count(i, me)));
    }
    same("alltoallv (the gaps must stay)", &recv, &want)
}

/// Collectives on large buffers (the shared-memory paths split them among ranks).
pub fn large_collectives(comm: &Comm) -> CheckResult {
    let (me, p) = (comm.rank(), comm.size());
    let n = 1 << 17;
    let mut buf: Vec<f64> = if me == 0 { data(380, 0, n) } else { vec![0.0; n] };
    comm.bcast(&mut buf, 0).ctx("bcast of 1 MiB")?;
    same("bcast of 1 MiB", &buf, &data::<f64>(380, 0, n))?;
    let mine: Vec<i64> = contrib(381, me, n);
    let mut out = vec![0i64; n];
    comm.allreduce(&mine, &mut out, &Op::sum()).ctx("allreduce of 1 MiB")?;
    same("allreduce sum of 1 MiB", &out, &serial_reduce::<i64>(381, p, n, i64::ref_add))?;
    let m = n / 8;
    let mut all = vec![0u8; m * p];
    comm.allgather(&data::<u8>(382, me, m), &mut all).ctx("allgather of large blocks")?;
    for r in 0..p {
        same(format_args!("allgather of large blocks, block {r}"), &all[r * m..(r + 1) * m], &data::<u8>(382, r, m))?;
    }
    Ok(())
}

/// Many collectives back to back, with ranks arriving at different times, interleaved
/// with point-to-point messages (exercises the reuse of collective state between calls).
pub fn collective_sequence(comm: &Comm) -> CheckResult {
    let (me, p) = (comm.rank(), comm.size());
    for it in 0..60usize {
        if (me + it) % 4 == 0 {
            std::hint::black_box((0..2000u64).sum::<u64>()); // a late rank
        }
        let root = it % p;
        let x = key(390, me, it) % 1000;
        let mut sum = [0u64];
        comm.allreduce(&[x], &mut sum, &Op::sum()).ctx(format_args!("allreduce {it}"))?;
        let want: u64 = (0..p).map(|r| key(390, r, it) % 1000).sum();
        ensure_eq!(sum[0], want, "allreduce of iteration {it}");
        let mut b = [if me == root { it as u32 * 3 } else { 0 }; 3];
        comm.bcast(&mut b, root).ctx(format_args!("bcast {it}"))?;
        ensure_eq!(b, [it as u32 * 3; 3], "bcast of iteration {it}");
        if it % 3 == 0 {
            comm.barrier().ctx("barrier")?;
        }
        let mut g = vec![0u16; p];
        comm.gather(&[me as u16 + it as u16], (me == root).then_some(&mut g[..]), root).ctx("gather")?;
        if me == root {
            ensure_eq!(g, (0..p).map(|r| r as u16 + it as u16).collect::<Vec<_>>(), "gather of iteration {it}");
        }
        let mut got = [0u64];
        comm.sendrecv(&[x], right(comm, 1), 0, &mut got, left(comm, 1), 0).ctx("sendrecv")?;
        ensure_eq!(got[0], key(390, left(comm, 1), it) % 1000, "sendrecv of iteration {it}");
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Object collectives
// ---------------------------------------------------------------------------------------

/// bcast_obj from every root, small and large values.
pub fn obj_bcast(comm: &Comm) -> CheckResult {
    let (me, p) = (comm.rank(), comm.size());
    for root in 0..p {
        for n in [0usize, 3, 50_000] {
            let v = (me == root).then(|| record(400, root, n, 2));
            let got = comm.bcast_obj(v, root).ctx(format_args!("bcast_obj of {n} values from root {root}"))?;
            ensure!(got == record(400, root, n, 2), "bcast_obj of {n} values from root {root} differs");
        }
        let s =
            comm.bcast_obj((me == root).then(|| format!("hello from {root}")), root).ctx("bcast_obj of a String")?;
        ensure_eq!(s, format!("hello from {root}"), "bcast_obj of a String");
    }
    Ok(())
}

/// scatter_obj then gather_obj, from and to every root.
pub fn obj_scatter_gather(comm: &Comm) -> CheckResult {
    let (me, p) = (comm.rank(), comm.size());
    for root in 0..p {
        let values =
            (me == root).then(|| (0..p).map(|r| record(410 + root as u64, r, r * 3, r % 3)).collect::<Vec<_>>());
        let got = comm.scatter_obj(values, root).ctx(format_args!("scatter_obj from root {root}"))?;
        ensure!(
            got == record(410 + root as u64, me, me * 3, me % 3),
            "scatter_obj from root {root}: value of rank {me} differs"
        );
        let all = comm.gather_obj(&(me, format!("r{me}"), vec![me as u8; me * 100]), root).ctx("gather_obj")?;
        if me == root {
            let want: Vec<(usize, String, Vec<u8>)> =
                (0..p).map(|r| (r, format!("r{r}"), vec![r as u8; r * 100])).collect();
            ensure!(all.as_ref() == Some(&want), "gather_obj to root {root}: got {all:?}");
        } else {
            ensure!(all.is_none(), "gather_obj gave a value to non-root rank {me}");
        }
    }
    Ok(())
}

/// allgather_obj of values of different sizes.
pub fn obj_allgather(comm: &Comm) -> CheckResult {
    let (me, p) = (comm.rank(), comm.size());
    let all = comm.allgather_obj(&record(420, me, me * 10, 1)).ctx("allgather_obj")?;
    ensure_eq!(all.len(), p, "allgather_obj length");
    for (r, v) in all.iter().enumerate() {
        ensure!(*v == record(420, r, r * 10, 1), "allgather_obj: value of rank {r} differs");
    }
    let all = comm.allgather_obj(&Option::<u8>::None).ctx("allgather_obj of None")?;
    ensure_eq!(all, vec![None; p], "allgather_obj of None");
    Ok(())
}

/// reduce_obj and allreduce_obj with a non-commutative combination (concatenation).
pub fn obj_reduce(comm: &Comm) -> CheckResult {
    let (me, p) = (comm.rank(), comm.size());
    let want = (0..p).map(|r| format!("<{r}>")).collect::<Vec<_>>().join("");
    for root in 0..p {
        let got =
            comm.reduce_obj(&format!("<{me}>"), |a, b| a + &b, root).ctx(format_args!("reduce_obj to root {root}"))?;
        if me == root {
            ensure_eq!(got, Some(want.clone()), "reduce_obj to root {root}");
        } else {
            ensure!(got.is_none(), "reduce_obj gave a value to non-root rank {me}");
        }
    }
    let got = comm.allreduce_obj(&format!("<{me}>"), |a, b| a + &b).ctx("allreduce_obj")?;
    ensure_eq!(got, want, "allreduce_obj of strings");
    let got = comm
        .allreduce_obj(&BTreeMap::from([(me, me * me)]), |mut a, b| {
            a.extend(b);
            a
        })
        .ctx("allreduce_obj of maps")?;
    ensure_eq!(got, (0..p).map(|r| (r, r * r)).collect::<BTreeMap<_, _>>(), "allreduce_obj of maps");
    // Prefixes, in rank order (concatenation is not commutative).
    let upto = |k: usize| (0..k).map(|r| format!("<{r}>")).collect::<Vec<_>>().join("");
    let got = comm.scan_obj(&format!("<{me}>"), |a, b| a + &b).ctx("scan_obj")?;
    ensure_eq!(got, upto(me + 1), "scan_obj of strings");
    let got = comm.exscan_obj(&format!("<{me}>"), |a, b| a + &b).ctx("exscan_obj")?;
    ensure_eq!(got, (me > 0).then(|| upto(me)), "exscan_obj of strings");
    Ok(())
}

/// alltoall_obj: value `j` of rank `i` lands at index `i` of rank `j`.
pub fn obj_alltoall(comm: &Comm) -> CheckResult {
    let (me, p) = (comm.rank(), comm.size());
    let values: Vec<Vec<String>> =
        (0..p).map(|j| (0..(me + j) % 3).map(|k| format!("{me}->{j}:{k}")).collect()).collect();
    let got = comm.alltoall_obj(values).ctx("alltoall_obj")?;
    let want: Vec<Vec<String>> =
        (0..p).map(|i| (0..(i + me) % 3).map(|k| format!("{i}->{me}:{k}")).collect()).collect();
    ensure_eq!(got, want, "alltoall_obj");
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Communicators and topologies
// ---------------------------------------------------------------------------------------

/// A dup has the same ranks and a separate message space; collectives on both interleave.
pub fn dup(comm: &Comm) -> CheckResult {
    let (me, p, r, l) = (comm.rank(), comm.size(), right(comm, 1), left(comm, 1));
    let d = comm.dup().ctx("dup")?;
    ensure_eq!((d.rank(), d.size()), (me, p), "rank and size of the dup");
    let s1 = comm.isend(&[1u32, me as u32], r, 0).ctx("isend on the original")?;
    let s2 = d.isend(&[2u32, me as u32], r, 0).ctx("isend on the dup")?;
    // Receive on the dup first, with wildcards: it must not see the original's message.
    let mut got = [0u32; 2];
    let st = d.recv(&mut got, ANY_SOURCE, ANY_TAG).ctx("recv on the dup")?;
    ensure_eq!((got, st.source), ([2, l as u32], l), "message on the dup");
    let st = comm.recv(&mut got, ANY_SOURCE, ANY_TAG).ctx("recv on the original")?;
    ensure_eq!((got, st.source), ([1, l as u32], l), "message on the original");
    wait_all(vec![s1, s2]).ctx("wait_all")?;
    ensure!(d.iprobe(ANY_SOURCE, ANY_TAG).ctx("iprobe")?.is_none(), "a message left on the dup");
    // Interleaved collectives on both.
    let dd = d.dup().ctx("dup of a dup")?;
    for it in 0..5u64 {
        let mut a = [0u64];
        let mut b = [0u64];
        comm.allreduce(&[me as u64 + it], &mut a, &Op::sum()).ctx("allreduce on the original")?;
        dd.allreduce(&[1], &mut b, &Op::sum()).ctx("allreduce on the dup of the dup")?;
        d.barrier().ctx("barrier on the dup")?;
        ensure_eq!((a[0], b[0]), ((p * (p - 1) / 2) as u64 + it * p as u64, p as u64), "interleaved allreduce {it}");
    }
    Ok(())
}

/// split by color with keys reversing the order, and with `None` colors.
pub fn split(comm: &Comm) -> CheckResult {
    let (me, p) = (comm.rank(), comm.size());
    // Colors me % 3, keys reverse the old order.
    let color = |r: usize| (r % 3) as u32;
    let sub = comm
        .split(Some(color(me)), -(me as i32))
        .ctx("split by rank % 3")?
        .ok_or("split gave None to a colored rank")?;
    let mut members: Vec<usize> = (0..p).filter(|&r| color(r) == color(me)).collect();
    members.reverse();
    let pos = members.iter().position(|&r| r == me).expect("a member");
    ensure_eq!((sub.rank(), sub.size()), (pos, members.len()), "rank and size in color {}", color(me));
    let mut world = vec![0u64; members.len()];
    sub.allgather(&[me as u64], &mut world).ctx("allgather in the split")?;
    ensure_eq!(world, members.iter().map(|&r| r as u64).collect::<Vec<_>>(), "old ranks in new-rank order");
    // Point-to-point inside the split uses the new ranks, with ANY_SOURCE reporting new ranks.
    let (sr, sl) = ((sub.rank() + 1) % sub.size(), (sub.rank() + sub.size() - 1) % sub.size());
    let req = sub.isend(&[me as u64], sr, 1).ctx("isend in the split")?;
    let mut got = [0u64];
    let st = sub.recv(&mut got, ANY_SOURCE, 1).ctx("recv in the split")?;
    ensure_eq!((st.source, got[0]), (sl, members[sl] as u64), "ring in the split");
    req.wait().ctx("wait")?;
    // Equal keys keep the old order; None (MPI_UNDEFINED) gives no communicator.
    let half = comm.split((me % 2 == 0).then_some(7), 0).ctx("split with None")?;
    match half {
        None => ensure!(me % 2 == 1, "rank {me} got None with a color"),
        Some(h) => {
            ensure!(me % 2 == 0, "rank {me} got a communicator with color None");
            ensure_eq!((h.rank(), h.size()), (me / 2, p.div_ceil(2)), "even ranks");
            let mut s = [0u64];
            h.allreduce(&[me as u64], &mut s, &Op::sum()).ctx("allreduce over even ranks")?;
            ensure_eq!(s[0], (0..p).step_by(2).map(|r| r as u64).sum::<u64>(), "sum over even ranks");
        }
    }
    // The parent still works after the splits.
    let mut s = [0u64];
    comm.allreduce(&[1], &mut s, &Op::sum()).ctx("allreduce on the parent")?;
    ensure_eq!(s[0], p as u64, "allreduce on the parent after split");
    Ok(())
}

/// Splits of splits, with every rank alone, and all in one.
pub fn split_nested(comm: &Comm) -> CheckResult {
    let (me, p) = (comm.rank(), comm.size());
    let lo = (me < p.div_ceil(2)) as u32;
    let a = comm.split(Some(lo), me as i32).ctx("first split")?.ok_or("None")?;
    let b = a.split(Some((a.rank() % 2) as u32), a.rank() as i32).ctx("second split")?.ok_or("None")?;
    let group_a: Vec<usize> = (0..p).filter(|&r| ((r < p.div_ceil(2)) as u32) == lo).collect();
    let group_b: Vec<usize> =
        group_a.iter().enumerate().filter(|(i, _)| i % 2 == a.rank() % 2).map(|(_, &r)| r).collect();
    let mut world = vec![0u32; b.size()];
    b.allgather(&[me as u32], &mut world).ctx("allgather in the nested split")?;
    ensure_eq!(world, group_b.iter().map(|&r| r as u32).collect::<Vec<_>>(), "members of the nested split");
    let alone = comm.split(Some(me as u32), 0).ctx("split alone")?.ok_or("None")?;
    ensure_eq!((alone.rank(), alone.size()), (0, 1), "a split of one");
    let mut x = [me as i32];
    alone.bcast(&mut x, 0).ctx("bcast alone")?;
    let all = comm.split(Some(0), 0).ctx("split all")?.ok_or("None")?;
    ensure_eq!((all.rank(), all.size()), (me, p), "a split of everyone");
    // Collectives on the three levels, in different orders per level.
    let mut s = [0u32];
    b.allreduce(&[1], &mut s, &Op::sum()).ctx("allreduce in b")?;
    ensure_eq!(s[0] as usize, group_b.len(), "size of b by allreduce");
    a.allreduce(&[1], &mut s, &Op::sum()).ctx("allreduce in a")?;
    ensure_eq!(s[0] as usize, group_a.len(), "size of a by allreduce");
    all.allreduce(&[1], &mut s, &Op::sum()).ctx("allreduce in all")?;
    ensure_eq!(s[0] as usize, p, "size of all by allreduce");
    Ok(())
}

/// Row-major coordinates of `rank` in a grid of `dims`.
fn coords_of(dims: &[usize], mut rank: usize) -> Vec<usize> {
    let mut c = vec![0; dims.len()];
    for i in (0..dims.len()).rev() {
        c[i] = rank % dims[i];
        rank /= dims[i];
    }
    c
}

fn rank_at(dims: &[usize], c: &[usize]) -> usize {
    c.iter().zip(dims).fold(0, |r, (&x, &d)| r * d + x)
}

/// The neighbour `disp` away along `dim`, serially.
fn neighbour(dims: &[usize], periods: &[bool], rank: usize, dim: usize, disp: isize) -> usize {
    let mut c = coords_of(dims, rank);
    let d = dims[dim] as isize;
    let x = c[dim] as isize + disp;
    let x = if periods[dim] {
        x.rem_euclid(d)
    } else if (0..d).contains(&x) {
        x
    } else {
        return PROC_NULL;
    };
    c[dim] = x as usize;
    rank_at(dims, &c)
}

/// cart_create on grids from dims_create, periodic or not: coords, rank_of and shift.
pub fn cart_topology(comm: &Comm) -> CheckResult {
    let (me, p) = (comm.rank(), comm.size());
    let grids: Vec<(Vec<usize>, Vec<bool>)> = vec![
        (vec![p], vec![true]),
        (vec![p], vec![false]),
        (dims_create(p, &[0, 0]).map_err(|e| e.to_string())?, vec![false, true]),
        (dims_create(p, &[0, 0, 0]).map_err(|e| e.to_string())?, vec![true, false, true]),
    ];
    for (dims, periods) in grids {
        let cart = comm
            .cart_create(&dims, &periods)
            .ctx(format_args!("cart_create {dims:?}"))?
            .ok_or("no grid communicator")?;
        ensure_eq!(cart.dims(), &dims[..], "dims");
        ensure_eq!(cart.periods(), &periods[..], "periods");
        ensure_eq!(cart.rank(), me, "cart_create keeps the rank order");
        ensure_eq!(cart.coords(), coords_of(&dims, me), "coords in {dims:?}");
        for r in 0..p {
            let c: Vec<isize> = coords_of(&dims, r).into_iter().map(|x| x as isize).collect();
            ensure_eq!(cart.rank_of(&c), Some(r), "rank_of {c:?}");
        }
        let mut too_long = vec![0isize; dims.len() + 1];
        ensure_eq!(cart.rank_of(&too_long), None, "rank_of with {} coordinates on {dims:?}", dims.len() + 1);
        too_long.truncate(dims.len() - 1);
        ensure_eq!(cart.rank_of(&too_long), None, "rank_of with {} coordinates on {dims:?}", dims.len() - 1);
        // Past a non-periodic edge: none; past a periodic one: wraps.
        for dim in 0..dims.len() {
            let mut c: Vec<isize> = vec![0; dims.len()];
            c[dim] = -1;
            let want = periods[dim].then(|| {
                let mut w = vec![0; dims.len()];
                w[dim] = dims[dim] - 1;
                rank_at(&dims, &w)
            });
            ensure_eq!(cart.rank_of(&c), want, "rank_of {c:?} on {dims:?} {periods:?}");
        }
        for dim in 0..dims.len() {
            for disp in [1isize, -1, 2, 0] {
                let want = (neighbour(&dims, &periods, me, dim, -disp), neighbour(&dims, &periods, me, dim, disp));
                ensure_eq!(
                    cart.shift(dim, disp),
                    want,
                    "shift({dim}, {disp}) on {dims:?} {periods:?} at {:?}",
                    cart.coords()
                );
            }
        }
    }
    if p > 1 {
        // A grid smaller than the communicator: the extra rank gets None.
        let cart = comm.cart_create(&[p - 1], &[false]).ctx("cart_create of p - 1")?;
        ensure_eq!(cart.is_some(), me < p - 1, "membership in a grid of {} ranks", p - 1);
        if let Some(c) = cart {
            ensure_eq!(c.size(), p - 1, "size of the smaller grid");
        }
    }
    Ok(())
}

/// A 2-d halo exchange with sendrecv: periodic in one dimension, not in the other
/// (PROC_NULL at the edges leaves the ghost cells alone).
pub fn cart_halo_exchange(comm: &Comm) -> CheckResult {
    let p = comm.size();
    let dims = dims_create(p, &[0, 0]).map_err(|e| e.to_string())?;
    let periods = [false, true];
    let cart = comm.cart_create(&dims, &periods).ctx("cart_create")?.ok_or("no grid")?;
    let (nx, ny) = (6usize, 5usize); // local interior size
    let c = cart.coords();
    // Global value of interior cell (gx, gy).
    let val = |gx: usize, gy: usize| (gx * 1000 + gy) as f64;
    // Local field with one ghost layer, row-major (nx + 2) x (ny + 2).
    let w = ny + 2;
    let ghost = -1.0;
    let mut f = vec![ghost; (nx + 2) * w];
    for i in 0..nx {
        for j in 0..ny {
            f[(i + 1) * w + j + 1] = val(c[0] * nx + i, c[1] * ny + j);
        }
    }
    // Dimension 0 (rows): send the last interior row down, receive the top ghost row from above.
    for (disp, send_row, recv_row) in [(1isize, nx, 0usize), (-1, 1, nx + 1)] {
        let (src, dst) = cart.shift(0, disp);
        let out: Vec<f64> = f[send_row * w + 1..send_row * w + 1 + ny].to_vec();
        let mut got = vec![ghost; ny];
        cart.sendrecv(&out, dst, 0, &mut got, src, 0).ctx("row halo")?;
        f[recv_row * w + 1..recv_row * w + 1 + ny].copy_from_slice(&got);
    }
    // Dimension 1 (columns, periodic).
    for (disp, send_col, recv_col) in [(1isize, ny, 0usize), (-1, 1, ny + 1)] {
        let (src, dst) = cart.shift(1, disp);
        let out: Vec<f64> = (1..=nx).map(|i| f[i * w + send_col]).collect();
        let mut got = vec![ghost; nx];
        cart.sendrecv(&out, dst, 1, &mut got, src, 1).ctx("column halo")?;
        for i in 1..=nx {
            f[i * w + recv_col] = got[i - 1];
        }
    }
    // Expected ghosts, computed from global coordinates.
    let (gx0, gy0) = (c[0] * nx, c[1] * ny);
    let (gnx, gny) = (dims[0] * nx, dims[1] * ny);
    for i in 1..=nx {
        let gx = gx0 + i - 1;
        let left_gy = (gy0 + gny - 1) % gny;
        let right_gy = (gy0 + ny) % gny;
        ensure_eq!(f[i * w], val(gx, left_gy), "left ghost of row {i} at {c:?}");
        ensure_eq!(f[i * w + ny + 1], val(gx, right_gy), "right ghost of row {i} at {c:?}");
    }
    for j in 1..=ny {
        let gy = gy0 + j - 1;
        let top = if gx0 == 0 { ghost } else { val(gx0 - 1, gy) };
        let bottom = if gx0 + nx == gnx { ghost } else { val(gx0 + nx, gy) };
        ensure_eq!(f[j], top, "top ghost of column {j} at {c:?}");
        ensure_eq!(f[(nx + 1) * w + j], bottom, "bottom ghost of column {j} at {c:?}");
    }
    Ok(())
}
