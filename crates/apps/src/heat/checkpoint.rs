//! Checkpoints: the field at a step, with the parameters that produced it, written
//! durably (temporary file, fsync, rename) and verified by a checksum when read back.
//!
//! Layout: the line `PARSCI-HEAT-CHECKPOINT`, a little-endian `u32` header length, the
//! header as JSON ([`Header`]), the `ny x nx` field as little-endian `f64`, and a `u64`
//! checksum of the header and the field.

use std::io::Read;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::params::{invalid, Boundary};
use super::Heat;
use crate::error::Result;
use crate::files::{npy, write_durably};

const MAGIC: &[u8] = b"PARSCI-HEAT-CHECKPOINT\n";
const VERSION: u32 = 1;

/// What a checkpoint records besides the field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    /// The format's version.
    pub version: u32,
    /// Cells per row.
    pub nx: usize,
    /// Rows.
    pub ny: usize,
    /// The diffusivity.
    pub alpha: f64,
    /// The time step.
    pub dt: f64,
    /// The cell size.
    pub h: f64,
    /// The boundary along x.
    pub bc_x: Boundary,
    /// The boundary along y.
    pub bc_y: Boundary,
    /// The Dirichlet value.
    pub wall: f64,
    /// The steps done.
    pub step: usize,
    /// The snapshots' colour scale, kept so that a resumed run's frames match.
    pub scale: [f64; 2],
}

impl Header {
    /// The header of a run of `p` at `step`.
    pub fn of(p: &Heat, step: usize, scale: [f64; 2]) -> Header {
        Header {
            version: VERSION,
            nx: p.nx,
            ny: p.ny,
            alpha: p.alpha,
            dt: p.time_step(),
            h: p.spacing(),
            bc_x: p.bc_x,
            bc_y: p.bc_y,
            wall: p.wall,
            step,
            scale,
        }
    }

    /// An error naming every parameter of `p` that differs from the checkpoint's.
    pub fn check_matches(&self, p: &Heat, path: &Path) -> Result<()> {
        let want = Header::of(p, self.step, self.scale);
        let mut diffs = Vec::new();
        let mut differ = |name: &str, a: String, b: String| {
            if a != b {
                diffs.push(format!("{name} {a} (this run: {b})"));
            }
        };
        differ("grid", format!("{} x {}", self.nx, self.ny), format!("{} x {}", want.nx, want.ny));
        differ("alpha", self.alpha.to_string(), want.alpha.to_string());
        differ("dt", self.dt.to_string(), want.dt.to_string());
        differ("cell size", self.h.to_string(), want.h.to_string());
        differ("x boundary", format!("{:?}", self.bc_x), format!("{:?}", want.bc_x));
        differ("y boundary", format!("{:?}", self.bc_y), format!("{:?}", want.bc_y));
        differ("wall value", self.wall.to_string(), want.wall.to_string());
        if !diffs.is_empty() {
            return Err(invalid(format!(
                "{} was written by another run: {}; restart with that run's parameters",
                path.display(),
                diffs.join(", ")
            )));
        }
        if self.step > p.steps {
            return Err(invalid(format!(
                "{} is at step {}, past the {} steps asked; ask for at least {} steps",
                path.display(),
                self.step,
                p.steps,
                self.step
            )));
        }
        Ok(())
    }
}

/// Writes a checkpoint durably: the old file stays whole until the new one is.
pub fn write(path: &Path, header: &Header, field: &[f64]) -> std::io::Result<()> {
    let json = serde_json::to_vec(header).map_err(std::io::Error::other)?;
    let mut sum = Checksum::default();
    sum.add(&json);
    write_durably(path, |w| {
        w.write_all(MAGIC)?;
        w.write_all(&(json.len() as u32).to_le_bytes())?;
        w.write_all(&json)?;
        npy::le_pieces(field, |bytes| {
            sum.add(bytes);
            w.write_all(bytes)
        })?;
        w.write_all(&sum.finish().to_le_bytes())
    })
}

/// Reads and checks a checkpoint's header and its length (not the checksum).
pub fn read_header(path: &Path) -> Result<Header> {
    let (header, _, _) = open(path)?;
    Ok(header)
}

/// Reads a checkpoint whole, checking its length and checksum.
pub fn read(path: &Path) -> Result<(Header, Vec<f64>)> {
    let (header, json, mut r) = open(path)?;
    let n = header.nx * header.ny;
    let mut sum = Checksum::default();
    sum.add(&json);
    let mut field = Vec::with_capacity(n);
    let mut buf = vec![0u8; 1 << 16];
    while field.len() < n {
        let take = (n - field.len()).min(buf.len() / 8) * 8;
        r.read_exact(&mut buf[..take]).map_err(|e| bad(path, format!("cannot read its field: {e}")))?;
        sum.add(&buf[..take]);
        field.extend(buf[..take].chunks_exact(8).map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes"))));
    }
    let mut stored = [0u8; 8];
    r.read_exact(&mut stored).map_err(|e| bad(path, format!("cannot read its checksum: {e}")))?;
    if u64::from_le_bytes(stored) != sum.finish() {
        return Err(bad(path, "its checksum does not match its contents: the file is corrupted".into()));
    }
    Ok((header, field))
}

/// Opens a checkpoint: checks the magic line, parses the header and checks the file's
/// length against the grid. Returns the header, its bytes, and the reader at the field.
fn open(path: &Path) -> Result<(Header, Vec<u8>, impl Read)> {
    let file = std::fs::File::open(path).map_err(|e| invalid(format!("cannot open {}: {e}", path.display())))?;
    let len = file.metadata().map_err(|e| bad(path, e.to_string()))?.len();
    let mut r = std::io::BufReader::with_capacity(1 << 16, file);
    let mut magic = vec![0u8; MAGIC.len()];
    if r.read_exact(&mut magic).is_err() || magic != MAGIC {
        return Err(bad(path, "it is not a parsci heat checkpoint".into()));
    }
    let mut l = [0u8; 4];
    r.read_exact(&mut l).map_err(|_| bad(path, "it is truncated (in its header)".into()))?;
    let hlen = u32::from_le_bytes(l) as u64;
    if hlen > 1 << 16 || (MAGIC.len() as u64 + 4 + hlen) > len {
        return Err(bad(path, "it is truncated or corrupted (its header length is wrong)".into()));
    }
    let mut json = vec![0u8; hlen as usize];
    r.read_exact(&mut json).map_err(|_| bad(path, "it is truncated (in its header)".into()))?;
    let header: Header =
        serde_json::from_slice(&json).map_err(|e| bad(path, format!("its header is corrupted ({e})")))?;
    if header.version != VERSION {
        return Err(bad(path, format!("it has format version {}, this parsci reads {VERSION}", header.version)));
    }
    let cells = header.nx.checked_mul(header.ny).filter(|&n| n > 0 && n <= super::params::MAX_CELLS);
    let cells = cells.ok_or_else(|| bad(path, format!("its grid {} x {} is corrupted", header.nx, header.ny)))?;
    let want = MAGIC.len() as u64 + 4 + hlen + 8 * cells as u64 + 8;
    if len != want {
        let what = if len < want { "truncated" } else { "longer than its grid" };
        return Err(bad(
            path,
            format!("it is {what}: {len} bytes, a {} x {} checkpoint has {want}", header.nx, header.ny),
        ));
    }
    Ok((header, json, r))
}

fn bad(path: &Path, msg: String) -> crate::error::Error {
    invalid(format!("checkpoint {}: {msg}", path.display()))
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
