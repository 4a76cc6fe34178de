//! Collective operations: every rank of the communicator calls the same one, in the same order.

use serde::{de::DeserializeOwned, Serialize};

use crate::comm::{dispatch, Comm};
use crate::data::{Data, ObjByte, Op};
use crate::error::{Error, Result};
use crate::p2p::{decode, encode};
use crate::timing::Kind;

#[cfg(any(feature = "mpi", test))]
pub(crate) mod agree;
mod args;
mod in_place;
mod reduce_scatter;

pub(crate) use args::Caller;

/// Counts and displacements of the blocks of a `v` collective (`scatterv`, `gatherv`, ...):
/// block `i` is `buf[displs[i]..displs[i] + counts[i]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    counts: Vec<usize>,
    displs: Vec<usize>,
}

impl Layout {
    /// Blocks stored one after the other.
    pub fn from_counts(counts: &[usize]) -> Self {
        let mut displs = Vec::with_capacity(counts.len());
        let mut at = 0;
        for &c in counts {
            displs.push(at);
            at = usize::saturating_add(at, c); // absurd totals saturate, and fail the buffer checks
        }
        Layout { counts: counts.to_vec(), displs }
    }

    /// Blocks at explicit displacements. They may leave gaps; they may overlap only in a
    /// layout that is read from (a receive layout with overlapping blocks is refused by
    /// the collective).
    ///
    /// ```
    /// use parsci_comm::Layout;
    /// assert!(Layout::new(&[2, 2], &[4, 0]).is_ok());
    /// assert!(Layout::new(&[1, 1], &[0]).is_err());
    /// assert!(Layout::new(&[2, 1], &[0, usize::MAX]).is_err());
    /// ```
    pub fn new(counts: &[usize], displs: &[usize]) -> Result<Self, String> {
        if counts.len() != displs.len() {
            return Err(format!("{} counts but {} displacements", counts.len(), displs.len()));
        }
        if let Some(i) = (0..counts.len()).find(|&i| displs[i].checked_add(counts[i]).is_none()) {
            return Err(format!(
                "block {i} (displacement {}, count {}) ends past the largest index",
                displs[i], counts[i]
            ));
        }
        Ok(Layout { counts: counts.to_vec(), displs: displs.to_vec() })
    }

    /// True if two non-empty blocks share an element.
    pub fn overlaps(&self) -> bool {
        let mut blocks: Vec<(usize, usize)> =
            self.counts.iter().zip(&self.displs).filter(|(c, _)| **c > 0).map(|(&c, &d)| (d, d + c)).collect();
        blocks.sort_unstable();
        blocks.windows(2).any(|w| w[1].0 < w[0].1)
    }

    /// `n` items split into `parts` contiguous blocks as evenly as possible
    /// (the first `n % parts` blocks get one more).
    ///
    /// ```
    /// let l = parsci_comm::Layout::balanced(10, 4);
    /// assert_eq!(l.counts(), &[3, 3, 2, 2]);
    /// assert_eq!(l.displs(), &[0, 3, 6, 8]);
    /// ```
    pub fn balanced(n: usize, parts: usize) -> Self {
        let parts = parts.max(1);
        let counts: Vec<usize> = (0..parts).map(|i| n / parts + usize::from(i < n % parts)).collect();
        Self::from_counts(&counts)
    }

    /// Elements per block.
    pub fn counts(&self) -> &[usize] {
        &self.counts
    }
    /// Where each block starts.
    pub fn displs(&self) -> &[usize] {
        &self.displs
    }
    /// The buffer length the layout needs: the end of its furthest block.
    pub fn extent(&self) -> usize {
        self.counts.iter().zip(&self.displs).map(|(&c, &d)| c.saturating_add(d)).max().unwrap_or(0)
    }
    /// The range of block `i`.
    pub fn range(&self, i: usize) -> std::ops::Range<usize> {
        self.displs[i]..self.displs[i] + self.counts[i]
    }
}

/// Typed collectives (buffers of plain data).
impl Comm {
    /// Waits until every rank has called `barrier`.
    pub fn barrier(&self) -> Result<()> {
        let _t = self.traced(Kind::Collective, "barrier", crate::p2p::PROC_NULL, -1, 0);
        dispatch!(self, c => c.barrier())
    }

    /// Copies `buf` of `root` into `buf` of every rank (all pass the same length).
    pub fn bcast<T: Data>(&self, buf: &mut [T], root: usize) -> Result<()> {
        let _t = self.traced(Kind::Collective, "bcast", root, -1, std::mem::size_of_val(buf));
        dispatch!(self, c => c.bcast(buf, root))
    }

    /// Root's `send` (length `size * recv.len()`, ignored elsewhere) is cut into equal blocks;
    /// rank `i` receives block `i`.
    pub fn scatter<T: Data>(&self, send: Option<&[T]>, recv: &mut [T], root: usize) -> Result<()> {
        let _t = self.traced(Kind::Collective, "scatter", root, -1, std::mem::size_of_val(recv));
        dispatch!(self, c => c.scatter(send, recv, root))
    }

    /// Rank `i` receives block `i` of root's `send` as laid out by root's `layout`;
    /// `recv` must hold at least `layout.counts()[i]` elements.
    pub fn scatterv<T: Data>(&self, send: Option<(&[T], &Layout)>, recv: &mut [T], root: usize) -> Result<()> {
        let _t = self.traced(Kind::Collective, "scatterv", root, -1, std::mem::size_of_val(recv));
        dispatch!(self, c => c.scatterv(send, recv, root))
    }

    /// Root receives every rank's `send` (all of one length) in rank order into `recv`
    /// (length `size * send.len()`, only significant at root).
    pub fn gather<T: Data>(&self, send: &[T], recv: Option<&mut [T]>, root: usize) -> Result<()> {
        let _t = self.traced(Kind::Collective, "gather", root, -1, std::mem::size_of_val(send));
        dispatch!(self, c => c.gather(send, recv, root))
    }

    /// Root receives rank `i`'s `send` into block `i` of `recv` as laid out by `layout`.
    pub fn gatherv<T: Data>(&self, send: &[T], recv: Option<(&mut [T], &Layout)>, root: usize) -> Result<()> {
        let _t = self.traced(Kind::Collective, "gatherv", root, -1, std::mem::size_of_val(send));
        dispatch!(self, c => c.gatherv(send, recv, root))
    }

    /// Every rank receives every rank's `send` in rank order.
    pub fn allgather<T: Data>(&self, send: &[T], recv: &mut [T]) -> Result<()> {
        let _t = self.traced(Kind::Collective, "allgather", crate::p2p::PROC_NULL, -1, std::mem::size_of_val(send));
        dispatch!(self, c => c.allgather(send, recv))
    }

    /// Every rank receives rank `i`'s `send` into block `i` of `recv` (same layout everywhere).
    pub fn allgatherv<T: Data>(&self, send: &[T], recv: &mut [T], layout: &Layout) -> Result<()> {
        let _t = self.traced(Kind::Collective, "allgatherv", crate::p2p::PROC_NULL, -1, std::mem::size_of_val(send));
        dispatch!(self, c => c.allgatherv(send, recv, layout))
    }

    /// Root receives `send(0) op send(1) op ... op send(size-1)`, elementwise.
    ///
    /// ```
    /// use parsci_comm::{launch, Backend, Op};
    /// let out = launch(Backend::Threads(4), |comm| {
    ///     let mine = [comm.rank() as f64, 1.0];
    ///     let mut total = [0.0; 2];
    ///     let root = comm.rank() == 0;
    ///     comm.reduce(&mine, root.then_some(&mut total[..]), &Op::sum(), 0)?;
    ///     Ok::<_, parsci_comm::Error>(total)
    /// })
    /// .unwrap();
    /// assert_eq!(out.root(), Some(&[6.0, 4.0]));
    /// ```
    pub fn reduce<T: Data>(&self, send: &[T], recv: Option<&mut [T]>, op: &Op<T>, root: usize) -> Result<()> {
        let _t = self.traced(Kind::Collective, "reduce", root, -1, std::mem::size_of_val(send));
        dispatch!(self, c => c.reduce(send, recv, op, root))
    }

    /// Every rank receives `send(0) op ... op send(size-1)`; the same bits everywhere.
    pub fn allreduce<T: Data>(&self, send: &[T], recv: &mut [T], op: &Op<T>) -> Result<()> {
        let _t = self.traced(Kind::Collective, "allreduce", crate::p2p::PROC_NULL, -1, std::mem::size_of_val(send));
        dispatch!(self, c => c.allreduce(send, recv, op))
    }

    /// Rank `i` receives `send(0) op ... op send(i)` (inclusive prefix).
    pub fn scan<T: Data>(&self, send: &[T], recv: &mut [T], op: &Op<T>) -> Result<()> {
        let _t = self.traced(Kind::Collective, "scan", crate::p2p::PROC_NULL, -1, std::mem::size_of_val(send));
        dispatch!(self, c => c.scan(send, recv, op))
    }

    /// Rank `i > 0` receives `send(0) op ... op send(i-1)`; rank 0's `recv` is left as it is.
    pub fn exscan<T: Data>(&self, send: &[T], recv: &mut [T], op: &Op<T>) -> Result<()> {
        let _t = self.traced(Kind::Collective, "exscan", crate::p2p::PROC_NULL, -1, std::mem::size_of_val(send));
        dispatch!(self, c => c.exscan(send, recv, op))
    }

    /// Block `j` of rank `i`'s `send` lands in block `i` of rank `j`'s `recv` (equal blocks).
    pub fn alltoall<T: Data>(&self, send: &[T], recv: &mut [T]) -> Result<()> {
        let _t = self.traced(Kind::Collective, "alltoall", crate::p2p::PROC_NULL, -1, std::mem::size_of_val(send));
        dispatch!(self, c => c.alltoall(send, recv))
    }

    /// As `alltoall` with per-peer layouts: block `j` of `send_layout` goes to rank `j`,
    /// block `i` of `recv_layout` comes from rank `i` (their counts must agree pairwise).
    pub fn alltoallv<T: Data>(
        &self,
        send: &[T],
        send_layout: &Layout,
        recv: &mut [T],
        recv_layout: &Layout,
    ) -> Result<()> {
        let _t = self.traced(Kind::Collective, "alltoallv", crate::p2p::PROC_NULL, -1, std::mem::size_of_val(send));
        dispatch!(self, c => c.alltoallv(send, send_layout, recv, recv_layout))
    }
}

/// A length that says "the sender failed" in the object collectives' length exchanges.
const FAILED: u64 = u64::MAX;

/// Object collectives (any serde value, like mpi4py's lowercase `bcast`, `gather`, ...).
/// They are built on the typed collectives, so every backend has them.
impl Comm {
    /// Root passes `Some(value)`, the others `None`; every rank gets the value.
    ///
    /// ```
    /// use parsci_comm::{launch, Backend};
    /// let out = launch(Backend::Threads(3), |comm| {
    ///     let cfg = (comm.rank() == 0).then(|| ("demo".to_string(), 0.05));
    ///     comm.bcast_obj(cfg, 0)
    /// })
    /// .unwrap();
    /// assert!(out.into_vec().iter().all(|c| c == &("demo".to_string(), 0.05)));
    /// ```
    pub fn bcast_obj<T: Serialize + DeserializeOwned>(&self, value: Option<T>, root: usize) -> Result<T> {
        let _t = self.traced(Kind::Collective, "bcast_obj", root, -1, 0);
        self.check_root("bcast_obj", root)?;
        let me = self.rank();
        // The root's own failure (no value, or one that cannot be encoded) travels in the
        // length, so that every rank returns an error instead of waiting.
        let mut failure = None;
        let mut bytes = Vec::new();
        if me == root {
            match value.as_ref().map(|v| encode(v, "bcast_obj", me, root, -1)) {
                Some(Ok(b)) => bytes = b,
                Some(Err(e)) => failure = Some(e),
                None => failure = Some(self.root_missing("bcast_obj", "the value to broadcast")),
            }
        }
        let mut len = [if failure.is_some() { FAILED } else { bytes.len() as u64 }];
        self.bcast(&mut len, root)?;
        if let Some(e) = failure {
            return Err(e);
        }
        if len[0] == FAILED {
            return Err(self.root_failed("bcast_obj", root));
        }
        if me == root {
            self.bcast(&mut bytes, root)?;
            return Ok(value.expect("checked above"));
        }
        bytes.resize(len[0] as usize, ObjByte(0));
        self.bcast(&mut bytes, root)?;
        decode(&bytes, "bcast_obj", me, root, -1)
    }

    /// Root passes one value per rank; rank `i` gets value `i`.
    pub fn scatter_obj<T: Serialize + DeserializeOwned>(&self, values: Option<Vec<T>>, root: usize) -> Result<T> {
        let _t = self.traced(Kind::Collective, "scatter_obj", root, -1, 0);
        self.check_root("scatter_obj", root)?;
        let (me, size) = (self.rank(), self.size());
        // One length per rank, then a flag telling whether the root failed.
        let mut counts = vec![0u64; size + 1];
        let mut flat = Vec::new();
        let mut failure = None;
        if me == root {
            match &values {
                None => failure = Some(self.root_missing("scatter_obj", "one value per rank")),
                Some(values) if values.len() != size => {
                    let msg = format!("root passed {} values for {size} ranks", values.len());
                    failure = Some(Error::InvalidArgument { op: "scatter_obj", caller: me, msg });
                }
                Some(values) => {
                    for (i, v) in values.iter().enumerate() {
                        match encode(v, "scatter_obj", me, i, -1) {
                            Ok(b) => {
                                counts[i] = b.len() as u64;
                                flat.extend_from_slice(&b);
                            }
                            Err(e) => {
                                failure = Some(e);
                                break;
                            }
                        }
                    }
                }
            }
            counts[size] = u64::from(failure.is_some());
        }
        self.bcast(&mut counts, root)?;
        if let Some(e) = failure {
            return Err(e);
        }
        if counts[size] != 0 {
            return Err(self.root_failed("scatter_obj", root));
        }
        let layout = byte_layout(&counts[..size]);
        let mut mine = vec![ObjByte(0); layout.counts()[me]];
        self.scatterv((me == root).then_some((&flat[..], &layout)), &mut mine, root)?;
        decode(&mine, "scatter_obj", me, root, -1)
    }

    /// Root gets every rank's value in rank order; the others get `None`.
    pub fn gather_obj<T: Serialize + DeserializeOwned>(&self, value: &T, root: usize) -> Result<Option<Vec<T>>> {
        let _t = self.traced(Kind::Collective, "gather_obj", root, -1, 0);
        self.check_root("gather_obj", root)?;
        let (me, size) = (self.rank(), self.size());
        let bytes = encode(value, "gather_obj", me, root, -1)?;
        // Only the root needs the counts: a vector of `size` on every rank is O(size^2) in all.
        let mut counts = if me == root { vec![0u64; size] } else { Vec::new() };
        self.gather(&[bytes.len() as u64], (me == root).then_some(&mut counts[..]), root)?;
        if me != root {
            self.gatherv(&bytes, None, root)?;
            return Ok(None);
        }
        let layout = byte_layout(&counts);
        let mut all = vec![ObjByte(0); layout.extent()];
        self.gatherv(&bytes, Some((&mut all, &layout)), root)?;
        decode_blocks(&all, &layout, "gather_obj", me).map(Some)
    }

    /// Every rank gets every rank's value in rank order.
    pub fn allgather_obj<T: Serialize + DeserializeOwned>(&self, value: &T) -> Result<Vec<T>> {
        let _t = self.traced(Kind::Collective, "allgather_obj", crate::p2p::PROC_NULL, -1, 0);
        let (me, size) = (self.rank(), self.size());
        let bytes = encode(value, "allgather_obj", me, me, -1)?;
        let mut counts = vec![0u64; size];
        self.allgather(&[bytes.len() as u64], &mut counts)?;
        let layout = byte_layout(&counts);
        let mut all = vec![ObjByte(0); layout.extent()];
        self.allgatherv(&bytes, &mut all, &layout)?;
        decode_blocks(&all, &layout, "allgather_obj", me)
    }

    /// Root gets `f(...f(f(v0, v1), v2)..., v(size-1))`; the others get `None`.
    pub fn reduce_obj<T, F>(&self, value: &T, f: F, root: usize) -> Result<Option<T>>
    where
        T: Serialize + DeserializeOwned,
        F: Fn(T, T) -> T,
    {
        let _t = self.traced(Kind::Collective, "reduce_obj", root, -1, 0);
        Ok(self.gather_obj(value, root)?.map(|all| fold(all, f)))
    }

    /// Rank `i` gets `f(...f(v0, v1)..., vi)`: the inclusive prefix, combined in rank
    /// order (mpi4py's lowercase `scan`). Every rank sees every value (one `allgather_obj`):
    /// meant for small objects.
    ///
    /// ```
    /// use parsci_comm::{launch, Backend};
    /// let out = launch(Backend::Threads(3), |comm| {
    ///     let word = ["a", "b", "c"][comm.rank()].to_string();
    ///     let before = comm.exscan_obj(&word, |x, y| x + &y)?;
    ///     let upto = comm.scan_obj(&word, |x, y| x + &y)?;
    ///     Ok::<_, parsci_comm::Error>((before, upto))
    /// })
    /// .unwrap();
    /// assert_eq!(out.get(2), Some(&(Some("ab".to_string()), "abc".to_string())));
    /// assert_eq!(out.get(0), Some(&(None, "a".to_string())));
    /// ```
    pub fn scan_obj<T, F>(&self, value: &T, f: F) -> Result<T>
    where
        T: Serialize + DeserializeOwned,
        F: Fn(T, T) -> T,
    {
        let _t = self.traced(Kind::Collective, "scan_obj", crate::p2p::PROC_NULL, -1, 0);
        let mut all = self.allgather_obj(value)?;
        all.truncate(self.rank() + 1);
        Ok(fold(all, f))
    }

    /// Rank `i > 0` gets `f(...f(v0, v1)..., v(i-1))`, rank 0 `None`: the exclusive prefix,
    /// combined in rank order. As [`scan_obj`](Comm::scan_obj), for small objects.
    pub fn exscan_obj<T, F>(&self, value: &T, f: F) -> Result<Option<T>>
    where
        T: Serialize + DeserializeOwned,
        F: Fn(T, T) -> T,
    {
        let _t = self.traced(Kind::Collective, "exscan_obj", crate::p2p::PROC_NULL, -1, 0);
        let mut all = self.allgather_obj(value)?;
        all.truncate(self.rank());
        Ok((!all.is_empty()).then(|| fold(all, f)))
    }

    /// Every rank gets `f(...f(f(v0, v1), v2)..., v(size-1))`, combined in rank order.
    pub fn allreduce_obj<T, F>(&self, value: &T, f: F) -> Result<T>
    where
        T: Serialize + DeserializeOwned,
        F: Fn(T, T) -> T,
    {
        let _t = self.traced(Kind::Collective, "allreduce_obj", crate::p2p::PROC_NULL, -1, 0);
        Ok(fold(self.allgather_obj(value)?, f))
    }

    /// Rank `i` sends `values[j]` to rank `j` and gets back one value from every rank, in rank order.
    pub fn alltoall_obj<T: Serialize + DeserializeOwned>(&self, values: Vec<T>) -> Result<Vec<T>> {
        let _t = self.traced(Kind::Collective, "alltoall_obj", crate::p2p::PROC_NULL, -1, 0);
        let (me, size) = (self.rank(), self.size());
        // A rank that cannot send (wrong number of values, or one that cannot be encoded)
        // sends FAILED as every length, so that every rank returns an error instead of waiting.
        let mut failure = None;
        let mut flat = Vec::new();
        let mut send_counts = vec![0u64; size];
        if values.len() != size {
            let msg = format!("passed {} values for {size} ranks", values.len());
            failure = Some(Error::InvalidArgument { op: "alltoall_obj", caller: me, msg });
        } else {
            for (j, v) in values.iter().enumerate() {
                match encode(v, "alltoall_obj", me, j, -1) {
                    Ok(b) => {
                        send_counts[j] = b.len() as u64;
                        flat.extend_from_slice(&b);
                    }
                    Err(e) => {
                        failure = Some(e);
                        break;
                    }
                }
            }
        }
        if failure.is_some() {
            send_counts.fill(FAILED);
        }
        let mut recv_counts = vec![0u64; size];
        self.alltoall(&send_counts, &mut recv_counts)?;
        if let Some(e) = failure {
            return Err(e);
        }
        let failed: Vec<usize> = (0..size).filter(|&i| recv_counts[i] == FAILED).collect();
        if !failed.is_empty() {
            let details = format!("alltoall_obj: ranks {failed:?} could not send their values (see their errors)");
            return Err(Error::CollectiveMismatch { caller: me, details });
        }
        let send_layout = byte_layout(&send_counts);
        let recv_layout = byte_layout(&recv_counts);
        let mut all = vec![ObjByte(0); recv_layout.extent()];
        self.alltoallv(&flat, &send_layout, &mut all, &recv_layout)?;
        decode_blocks(&all, &recv_layout, "alltoall_obj", me)
    }

    fn check_root(&self, op: &'static str, root: usize) -> Result<()> {
        Caller { rank: self.rank(), size: self.size() }.root(op, root).map_or(Ok(()), Err)
    }

    fn root_missing(&self, op: &'static str, what: &str) -> Error {
        let msg = format!("the root must pass Some({what})");
        Error::InvalidArgument { op, caller: self.rank(), msg }
    }

    /// What the other ranks get when the root of an object collective rejected its arguments.
    fn root_failed(&self, op: &'static str, root: usize) -> Error {
        let details = format!("rank {root} (the root) rejected its arguments to {op} (see its error)");
        Error::CollectiveMismatch { caller: self.rank(), details }
    }
}

/// The layout of encoded objects of these byte lengths, one after the other.
fn byte_layout(lengths: &[u64]) -> Layout {
    Layout::from_counts(&lengths.iter().map(|&n| n as usize).collect::<Vec<_>>())
}

/// Decodes block `i` of `all` (sent by rank `i`) for every block of `layout`.
fn decode_blocks<T: DeserializeOwned>(all: &[ObjByte], layout: &Layout, op: &'static str, me: usize) -> Result<Vec<T>> {
    (0..layout.counts().len()).map(|i| decode(&all[layout.range(i)], op, me, i, -1)).collect()
}

fn fold<T>(all: Vec<T>, f: impl Fn(T, T) -> T) -> T {
    let mut it = all.into_iter();
    let first = it.next().expect("a communicator has at least one rank");
    it.fold(first, f)
}
