//! Where `A` and `B` come from: generated (from the seed, or the lesson's values) or read
//! from `.npy` files with `npyz`. A block is made or read by itself: a file is read only
//! where the block lies (a seek per row), so no rank touches what it does not own.

use std::fs::File;
use std::io::{BufReader, Seek};
use std::ops::Range;
use std::path::Path;

use npyz::{NpyFile, Order};

use super::gen::{self, Which};
use super::params::invalid;
use super::Matmul;
use crate::error::Result;

/// The shape of a `.npy` matrix and how it is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Rows.
    pub rows: usize,
    /// Columns.
    pub cols: usize,
    /// Stored column by column.
    pub fortran_order: bool,
}

fn open(path: &Path) -> Result<NpyFile<BufReader<File>>> {
    let what = |e: std::io::Error| invalid(format!("{}: {e}", path.display()));
    let file = File::open(path).map_err(|e| invalid(format!("cannot open {}: {e}", path.display())))?;
    let len = file.metadata().map_err(what)?.len();
    let mut reader = BufReader::new(file);
    let header = NpyFile::new(&mut reader)
        .map_err(|e| invalid(format!("{}: not a readable .npy file ({e})", path.display())))?
        .header()
        .clone();
    let start = reader.stream_position().map_err(what)?;
    let npy = NpyFile::with_header(header, reader);
    let shape = npy.shape().to_vec();
    let [rows, cols] = shape[..] else {
        return Err(invalid(format!("{} holds an array of shape {shape:?}; a matrix must be 2-D", path.display())));
    };
    let descr = npy.dtype().descr().replace('\'', "");
    if !matches!(descr.as_str(), "<f8" | ">f8" | "|f8") {
        return Err(invalid(format!(
            "{} holds values of type '{descr}'; matrices must be float64 ('<f8': numpy.save(path, a.astype(float)))",
            path.display()
        )));
    }
    // The data must all be there: a file cut short is refused before the job starts.
    let need = rows.checked_mul(cols).and_then(|n| n.checked_mul(8));
    match need {
        Some(need) if start + need <= len => Ok(npy),
        _ => Err(invalid(format!(
            "{} is cut short: a {rows} x {cols} float64 matrix needs {} bytes of data, it has {}",
            path.display(),
            need.map_or("too many".to_string(), |n| n.to_string()),
            len.saturating_sub(start)
        ))),
    }
}

/// Reads and checks a file's header (shape, float64, long enough).
pub fn header(path: &Path) -> Result<Header> {
    let npy = open(path)?;
    let (rows, cols) = (npy.shape()[0] as usize, npy.shape()[1] as usize);
    Ok(Header { rows, cols, fortran_order: npy.order() == Order::Fortran })
}

/// The block `rows x cols` of the matrix in `path`, row by row: only its elements are read.
pub fn read_block(path: &Path, rows: Range<usize>, cols: Range<usize>) -> Result<Vec<f64>> {
    let npy = open(path)?;
    let (nr, nc) = (npy.shape()[0] as usize, npy.shape()[1] as usize);
    assert!(rows.end <= nr && cols.end <= nc, "the block lies in the matrix");
    let fortran = npy.order() == Order::Fortran;
    let failed = |e: std::io::Error| invalid(format!("cannot read {}: {e}", path.display()));
    let mut data = npy.data::<f64>().map_err(|e| invalid(format!("{}: {e}", path.display())))?;
    let w = cols.len();
    let mut out = vec![0.0; rows.len() * w];
    // Runs of consecutive elements in the file: rows of the block (C order) or its columns.
    let (runs, run) = if fortran { (cols.clone(), rows.clone()) } else { (rows.clone(), cols.clone()) };
    for (x, line) in runs.clone().enumerate() {
        let first = if fortran { line * nr + run.start } else { line * nc + run.start };
        data.seek_to(first as u64).map_err(failed)?;
        for y in 0..run.len() {
            let v = data.next().ok_or_else(|| failed(std::io::ErrorKind::UnexpectedEof.into()))?.map_err(failed)?;
            if !v.is_finite() {
                let (i, j) = if fortran { (run.start + y, line) } else { (line, run.start + y) };
                return Err(invalid(format!(
                    "{}: the element ({i}, {j}) is {v}; matrices must be finite",
                    path.display()
                )));
            }
            let at = if fortran { y * w + x } else { x * w + y };
            out[at] = v;
        }
    }
    Ok(out)
}

impl Matmul {
    /// The block `rows x cols` of `A` or `B`, made or read.
    pub fn block(&self, which: Which, rows: Range<usize>, cols: Range<usize>) -> Result<Vec<f64>> {
        match (&self.input, which) {
            (Some([a, _]), Which::A) => read_block(a, rows, cols),
            (Some([_, b]), Which::B) => read_block(b, rows, cols),
            _ if self.lesson => Ok(vec![1.0 / (self.k as f64).sqrt(); rows.len() * cols.len()]),
            _ => Ok(gen::block(self.seed, which, rows, cols)),
        }
    }

    /// The whole of `A` (`which = A`) or `B`.
    pub fn whole(&self, which: Which) -> Result<Vec<f64>> {
        let (r, c) = match which {
            Which::A => (self.m, self.k),
            _ => (self.k, self.n),
        };
        self.block(which, 0..r, 0..c)
    }
}
