//! Each rank's recorder: fixed-size binary records in a bounded buffer, spilled to a
//! temporary file when full, so that a long trace costs disk, not memory.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Instant;

use bytemuck::{Pod, Zeroable};

/// Records kept in memory per rank before they go to the spill file (3 MiB).
const BUFFERED: usize = 1 << 16;

/// What a record is.
pub(crate) mod what {
    pub const CALL_BEGIN: u8 = 0;
    pub const CALL_END: u8 = 1;
    pub const SPAN_BEGIN: u8 = 2;
    pub const SPAN_END: u8 = 3;
    pub const SEND: u8 = 4;
    pub const RECV: u8 = 5;
}

/// "No rank" in a record (`PROC_NULL`, no peer); `ANY` is a wildcard source.
pub(crate) const NO_RANK: u32 = u32::MAX;
pub(crate) const ANY_RANK: u32 = u32::MAX - 1;

/// One event, 48 bytes with no padding. For calls `src` is the peer (world rank) and
/// `seq` the collective's instance on its communicator; for messages `src`/`dst` are
/// world ranks and `seq` the message's number among those of (comm, src, dst, tag).
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
pub(crate) struct Rec {
    pub ts: u64,
    pub bytes: u64,
    pub comm: u64,
    pub seq: u64,
    pub src: u32,
    pub dst: u32,
    pub tag: i32,
    pub name: u16,
    pub what: u8,
    pub kind: u8,
}

/// The process's trace clock: every thread rank shares it; MPI ranks are aligned later.
pub(crate) fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// Nanoseconds since [`epoch`].
#[inline]
pub(crate) fn now_ns() -> u64 {
    u64::try_from(epoch().elapsed().as_nanos()).unwrap_or(u64::MAX)
}

/// One rank's events.
pub(crate) struct Recorder {
    pub rank: u32,
    buf: Vec<Rec>,
    spill: Option<(PathBuf, BufWriter<File>)>,
    spilled: u64,
    error: Option<String>,
    pub names: Vec<&'static str>,
    /// Next message number by (comm, src, dst, tag, is_recv).
    seqs: HashMap<(u64, u32, u32, i32, bool), u64>,
}

impl Recorder {
    pub fn new(rank: u32) -> Self {
        Recorder {
            rank,
            buf: Vec::with_capacity(BUFFERED),
            spill: None,
            spilled: 0,
            error: None,
            names: Vec::new(),
            seqs: HashMap::new(),
        }
    }

    /// The index of `name` in the name table.
    pub fn name(&mut self, name: &'static str) -> u16 {
        if let Some(i) = self.names.iter().rposition(|n| std::ptr::eq(*n, name) || *n == name) {
            return i as u16;
        }
        self.names.push(name);
        (self.names.len() - 1).min(u16::MAX as usize) as u16
    }

    /// The next number of a message on (comm, src, dst, tag) in one direction.
    pub fn next_seq(&mut self, comm: u64, src: u32, dst: u32, tag: i32, recv: bool) -> u64 {
        let n = self.seqs.entry((comm, src, dst, tag, recv)).or_insert(0);
        *n += 1;
        *n
    }

    pub fn push(&mut self, r: Rec) {
        self.buf.push(r);
        if self.buf.len() == BUFFERED {
            self.spill_buffer();
        }
    }

    fn spill_buffer(&mut self) {
        if self.error.is_some() {
            self.buf.clear();
            return;
        }
        if self.spill.is_none() {
            let path = std::env::temp_dir().join(format!(
                "parsci-trace-{}-{}-{}.bin",
                std::process::id(),
                self.rank,
                now_ns()
            ));
            match File::options().read(true).write(true).create_new(true).open(&path) {
                Ok(f) => self.spill = Some((path, BufWriter::with_capacity(1 << 20, f))),
                Err(e) => {
                    self.error = Some(format!("could not create {}: {e}", path.display()));
                    self.buf.clear();
                    return;
                }
            }
        }
        let (path, w) = self.spill.as_mut().expect("just opened");
        if let Err(e) = w.write_all(bytemuck::cast_slice(&self.buf)) {
            self.error = Some(format!("could not write {}: {e}", path.display()));
        }
        self.spilled += self.buf.len() as u64;
        self.buf.clear();
    }

    /// The number of records so far.
    pub fn len(&self) -> u64 {
        self.spilled + self.buf.len() as u64
    }

    /// Calls `each` on chunks of the records in order: the spilled ones, then the buffer.
    pub fn drain(&mut self, mut each: impl FnMut(&[Rec]) -> crate::Result<()>) -> crate::Result<()> {
        if let Some(e) = &self.error {
            return Err(crate::Error::Trace(e.clone()));
        }
        if let Some((path, w)) = self.spill.take() {
            let io = |e: std::io::Error| crate::Error::Trace(format!("could not read back {}: {e}", path.display()));
            let mut f = w.into_inner().map_err(|e| io(e.into_error()))?;
            use std::io::Seek;
            f.seek(std::io::SeekFrom::Start(0)).map_err(io)?;
            let mut chunk = vec![Rec::zeroed(); BUFFERED];
            let mut left = self.spilled as usize;
            while left > 0 {
                let n = left.min(BUFFERED);
                f.read_exact(bytemuck::cast_slice_mut(&mut chunk[..n])).map_err(io)?;
                each(&chunk[..n])?;
                left -= n;
            }
            drop(f);
            let _ = std::fs::remove_file(&path);
        }
        each(&self.buf)
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        if let Some((path, _)) = self.spill.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

thread_local! {
    static RECORDER: RefCell<Option<Box<Recorder>>> = const { RefCell::new(None) };
}

/// Runs `f` on this rank's recorder, if it records.
#[inline]
pub(crate) fn with<R>(f: impl FnOnce(&mut Recorder) -> R) -> Option<R> {
    RECORDER.with(|r| r.borrow_mut().as_mut().map(|r| f(r)))
}

/// Installs (or, with `None`, takes away) this rank's recorder.
pub(crate) fn install(r: Option<Box<Recorder>>) -> Option<Box<Recorder>> {
    RECORDER.with(|slot| std::mem::replace(&mut *slot.borrow_mut(), r))
}
