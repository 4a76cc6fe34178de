//! Checkpoint files, for every program that has them (heat's fields, train's weights and
//! optimizer state): written durably (temporary file, fsync, rename) and verified by a
//! checksum when read back.
//!
//! Layout: a magic line naming the kind, a little-endian `u32` header length, the header
//! as JSON (the program's own type), the values as little-endian `f64`, and a `u64`
//! checksum of the header and the values.

use std::io::Read;
use std::path::Path;

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::{npy, write_durably};
use crate::error::{Error, Result};

/// A kind of checkpoint: its magic line and the program named in errors.
#[derive(Debug, Clone, Copy)]
pub struct Kind {
    /// The first line of the file (`b"PARSCI-HEAT-CHECKPOINT\n"`).
    pub magic: &'static [u8],
    /// The program (`"heat"`), which names the kind in errors too.
    pub program: &'static str,
}

/// Writes a checkpoint durably: the old file stays whole until the new one is.
pub fn write<H: Serialize>(path: &Path, kind: &Kind, header: &H, values: &[f64]) -> std::io::Result<()> {
    let json = serde_json::to_vec(header).map_err(std::io::Error::other)?;
    let mut sum = Checksum::default();
    sum.add(&json);
    write_durably(path, |w| {
        w.write_all(kind.magic)?;
        w.write_all(&(json.len() as u32).to_le_bytes())?;
        w.write_all(&json)?;
        npy::le_pieces(values, |bytes| {
            sum.add(bytes);
            w.write_all(bytes)
        })?;
        w.write_all(&sum.finish().to_le_bytes())
    })
}

/// Reads and checks a checkpoint's header and its length (not the checksum). `count`
/// checks the header (its version, its sizes) and says how many values follow it.
pub fn read_header<H: DeserializeOwned>(
    path: &Path,
    kind: &Kind,
    count: impl FnOnce(&H) -> Result<usize, String>,
) -> Result<H> {
    let (header, _, _, _) = open(path, kind, count)?;
    Ok(header)
}

/// Reads a checkpoint whole, checking its length and checksum.
pub fn read<H: DeserializeOwned>(
    path: &Path,
    kind: &Kind,
    count: impl FnOnce(&H) -> Result<usize, String>,
) -> Result<(H, Vec<f64>)> {
    let (header, json, n, mut r) = open(path, kind, count)?;
    let mut sum = Checksum::default();
    sum.add(&json);
    let mut values = Vec::with_capacity(n);
    let mut buf = vec![0u8; 1 << 16];
    while values.len() < n {
        let take = (n - values.len()).min(buf.len() / 8) * 8;
        r.read_exact(&mut buf[..take]).map_err(|e| bad(kind, path, format!("cannot read its values: {e}")))?;
        sum.add(&buf[..take]);
        values.extend(buf[..take].chunks_exact(8).map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes"))));
    }
    let mut stored = [0u8; 8];
    r.read_exact(&mut stored).map_err(|e| bad(kind, path, format!("cannot read its checksum: {e}")))?;
    if u64::from_le_bytes(stored) != sum.finish() {
        return Err(bad(kind, path, "its checksum does not match its contents: the file is corrupted".into()));
    }
    Ok((header, values))
}

/// Opens a checkpoint: checks the magic line, parses and checks the header and checks the
/// file's length. Returns the header, its bytes, the count of values, and the reader at them.
fn open<H: DeserializeOwned>(
    path: &Path,
    kind: &Kind,
    count: impl FnOnce(&H) -> Result<usize, String>,
) -> Result<(H, Vec<u8>, usize, impl Read)> {
    let program = kind.program;
    let file = std::fs::File::open(path)
        .map_err(|e| Error::InvalidInput { program, msg: format!("cannot open {}: {e}", path.display()) })?;
    let len = file.metadata().map_err(|e| bad(kind, path, e.to_string()))?.len();
    let mut r = std::io::BufReader::with_capacity(1 << 16, file);
    let mut magic = vec![0u8; kind.magic.len()];
    if r.read_exact(&mut magic).is_err() || magic != kind.magic {
        return Err(bad(kind, path, format!("it is not a parsci {program} checkpoint")));
    }
    let mut l = [0u8; 4];
    r.read_exact(&mut l).map_err(|_| bad(kind, path, "it is truncated (in its header)".into()))?;
    let hlen = u32::from_le_bytes(l) as u64;
    if hlen > 1 << 16 || (kind.magic.len() as u64 + 4 + hlen) > len {
        return Err(bad(kind, path, "it is truncated or corrupted (its header length is wrong)".into()));
    }
    let mut json = vec![0u8; hlen as usize];
    r.read_exact(&mut json).map_err(|_| bad(kind, path, "it is truncated (in its header)".into()))?;
    let header: H =
        serde_json::from_slice(&json).map_err(|e| bad(kind, path, format!("its header is corrupted ({e})")))?;
    let n = count(&header).map_err(|msg| bad(kind, path, msg))?;
    let want = kind.magic.len() as u64 + 4 + hlen + 8 * n as u64 + 8;
    if len != want {
        let what = if len < want { "truncated" } else { "longer than its header says" };
        return Err(bad(kind, path, format!("it is {what}: {len} bytes, its header makes {want}")));
    }
    Ok((header, json, n, r))
}

fn bad(kind: &Kind, path: &Path, msg: String) -> Error {
    Error::InvalidInput { program: kind.program, msg: format!("checkpoint {}: {msg}", path.display()) }
}

/// A 64-bit checksum of a byte stream fed in pieces of whole 8-byte words (every piece
/// but the last): one bijective multiply-xorshift step per word, so any change of one
/// word changes the sum.
#[derive(Debug, Default)]
struct Checksum {
    h: u64,
    bytes: u64,
}

impl Checksum {
    fn add(&mut self, bytes: &[u8]) {
        for w in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..w.len()].copy_from_slice(w);
            self.h = (self.h ^ u64::from_le_bytes(word)).wrapping_mul(0x0000_0100_0000_01b3).rotate_left(23);
        }
        self.bytes += bytes.len() as u64;
    }

    fn finish(&self) -> u64 {
        (self.h ^ self.bytes).wrapping_mul(0x9e37_79b9_7f4a_7c15)
    }
}
