//! Atomic file writes: the file appears whole or not at all.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::Path;

/// Writes a file through `write` into a temporary file next to `path`, then renames it
/// to `path`; on any error the temporary file is removed and `path` is untouched.
pub fn write_atomically(path: &Path, write: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> io::Result<()> {
    write_via_temporary(path, false, write)
}

/// [`write_atomically`], and durable: the data is flushed to the disk (`fsync`) before the
/// rename, and the directory after it, so that a crash leaves the old file or the new
/// one, whole. For checkpoints; images and fields skip the cost of the flush.
pub fn write_durably(path: &Path, write: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> io::Result<()> {
    write_via_temporary(path, true, write)
}

fn write_via_temporary(
    path: &Path,
    durable: bool,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    let name = path.file_name().ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file name"))?;
    let tmp = path.with_file_name(format!(".{}.{}.tmp", name.to_string_lossy(), std::process::id()));
    let result = (|| {
        let mut w = BufWriter::with_capacity(1 << 16, File::create(&tmp)?);
        write(&mut w)?;
        let file = w.into_inner().map_err(|e| e.into_error())?;
        if durable {
            file.sync_all()?;
        }
        std::fs::rename(&tmp, path)?;
        if durable {
            let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
            File::open(dir)?.sync_all()?;
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Writes `path` atomically ([`write_atomically`]), except when it is an existing
/// device or pipe (`/dev/null`, a FIFO), which is written directly.
pub fn write_file(path: &Path, write: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> io::Result<()> {
    match std::fs::metadata(path) {
        Ok(m) if !m.is_file() && !m.is_dir() => {
            let mut w = BufWriter::with_capacity(1 << 16, OpenOptions::new().write(true).open(path)?);
            write(&mut w)?;
            w.flush()
        }
        _ => write_atomically(path, write),
    }
}
