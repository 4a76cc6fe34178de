//! NumPy's `.npy` format for 2-D fields of `f64`: written as version 1.0 (`'<f8'`,
//! C order, shape `(rows, columns)`), which `numpy.load` reads; read from versions 1 to 3,
//! `'<f8'` or `'<f4'`, C or Fortran order. A damaged file is an error, never a panic.
//!
//! ```
//! use parsci_apps::files::npy;
//! let mut bytes = Vec::new();
//! npy::write(&mut bytes, 2, 3, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
//! assert!(bytes.starts_with(b"\x93NUMPY\x01\x00"));
//! assert_eq!(npy::read(&mut bytes.as_slice()).unwrap(), (2, 3, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]));
//! ```

use std::io::{self, Read, Write};

const MAGIC: &[u8] = b"\x93NUMPY";

/// Writes a `rows x cols` array stored row by row.
pub fn write(w: &mut dyn Write, rows: usize, cols: usize, values: &[f64]) -> io::Result<()> {
    if rows.checked_mul(cols) != Some(values.len()) {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "the values do not fill the shape"));
    }
    w.write_all(&header(rows, cols))?;
    write_values(w, values)
}

/// The format 1.0 preamble and header of a `rows x cols` `'<f8'` array, padded so that
/// the data starts at a multiple of 64 bytes.
pub fn header(rows: usize, cols: usize) -> Vec<u8> {
    let mut dict = format!("{{'descr': '<f8', 'fortran_order': False, 'shape': ({rows}, {cols}), }}");
    let unpadded = MAGIC.len() + 4 + dict.len() + 1;
    dict.extend(std::iter::repeat_n(' ', unpadded.next_multiple_of(64) - unpadded));
    dict.push('\n');
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(&[1, 0]);
    out.extend_from_slice(&(dict.len() as u16).to_le_bytes());
    out.extend_from_slice(dict.as_bytes());
    out
}

/// Writes `values` as little-endian `f64`, in pieces.
pub fn write_values(w: &mut dyn Write, values: &[f64]) -> io::Result<()> {
    le_pieces(values, |bytes| w.write_all(bytes))
}

/// Hands `values` as little-endian `f64` bytes to `each`, in pieces of 64 KiB (whole
/// values, so every piece but the last is a multiple of 8 bytes).
pub fn le_pieces(values: &[f64], mut each: impl FnMut(&[u8]) -> io::Result<()>) -> io::Result<()> {
    let mut buf = Vec::with_capacity(1 << 16);
    for piece in values.chunks(1 << 13) {
        buf.clear();
        buf.extend(piece.iter().flat_map(|v| v.to_le_bytes()));
        each(&buf)?;
    }
    Ok(())
}

/// The shape and the data type of an array, from its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Rows (the first axis).
    pub rows: usize,
    /// Columns (the second axis).
    pub cols: usize,
    /// Bytes per value: 8 (`'<f8'`) or 4 (`'<f4'`).
    pub width: usize,
    /// Whether the data is stored column by column.
    pub fortran_order: bool,
}

/// Reads a header; the reader is left at the first value.
pub fn read_header(r: &mut dyn Read) -> Result<Header, String> {
    let mut pre = [0u8; 8];
    r.read_exact(&mut pre).map_err(|_| "too short to be a .npy file".to_string())?;
    if &pre[..6] != MAGIC {
        return Err("not a .npy file (it does not start with \\x93NUMPY)".into());
    }
    let len = match pre[6] {
        1 => {
            let mut l = [0u8; 2];
            r.read_exact(&mut l).map_err(|_| "its header is cut short".to_string())?;
            u16::from_le_bytes(l) as usize
        }
        2 | 3 => {
            let mut l = [0u8; 4];
            r.read_exact(&mut l).map_err(|_| "its header is cut short".to_string())?;
            u32::from_le_bytes(l) as usize
        }
        v => return Err(format!("format version {v}.{} is not supported (1 to 3 are)", pre[7])),
    };
    if len > 1 << 20 {
        return Err(format!("its header claims {len} bytes, more than any .npy header has"));
    }
    let mut dict = vec![0u8; len];
    r.read_exact(&mut dict).map_err(|_| "its header is cut short".to_string())?;
    let dict = String::from_utf8(dict).map_err(|_| "its header is not text".to_string())?;
    parse_dict(&dict)
}

/// Parses `{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }`.
fn parse_dict(dict: &str) -> Result<Header, String> {
    let value = |key: &str| -> Result<&str, String> {
        let at = dict.find(&format!("'{key}'")).ok_or_else(|| format!("its header has no '{key}'"))?;
        let rest = dict[at + key.len() + 2..].trim_start();
        Ok(rest.strip_prefix(':').ok_or_else(|| format!("its header's '{key}' has no value"))?.trim_start())
    };
    let descr = value("descr")?;
    let width = if descr.starts_with("'<f8'") || descr.starts_with("'|f8'") {
        8
    } else if descr.starts_with("'<f4'") {
        4
    } else {
        let d = descr.split(',').next().unwrap_or(descr);
        return Err(format!("its values are {d}; a field must be little-endian float64 ('<f8') or float32 ('<f4')"));
    };
    let fortran_order = match value("fortran_order")? {
        v if v.starts_with("False") => false,
        v if v.starts_with("True") => true,
        _ => return Err("its header's 'fortran_order' is neither True nor False".into()),
    };
    let shape = value("shape")?;
    let inner = shape.strip_prefix('(').and_then(|s| s.split(')').next()).ok_or("its header's shape is not a tuple")?;
    let dims: Vec<usize> = inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<usize>().map_err(|_| format!("its shape ({inner}) is not whole numbers")))
        .collect::<Result<_, _>>()?;
    let [rows, cols] = dims[..] else {
        return Err(format!("its shape is ({inner}); a field must be 2-D (rows, columns)"));
    };
    Ok(Header { rows, cols, width, fortran_order })
}

/// Reads a 2-D array: `(rows, cols, values row by row)`.
pub fn read(r: &mut dyn Read) -> Result<(usize, usize, Vec<f64>), String> {
    let h = read_header(r)?;
    let n = h.rows.checked_mul(h.cols).filter(|n| n.checked_mul(h.width).is_some());
    let n = n.ok_or_else(|| format!("its shape ({}, {}) is too large", h.rows, h.cols))?;
    let mut bytes = Vec::new();
    r.take((n * h.width) as u64 + 1).read_to_end(&mut bytes).map_err(|e| format!("cannot read its values: {e}"))?;
    if bytes.len() != n * h.width {
        let what = if bytes.len() < n * h.width { "cut short" } else { "longer than its shape" };
        return Err(format!("it is {what}: ({}, {}) values need {} bytes of data", h.rows, h.cols, n * h.width));
    }
    let mut values: Vec<f64> = if h.width == 8 {
        bytes.chunks_exact(8).map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes"))).collect()
    } else {
        bytes.chunks_exact(4).map(|b| f64::from(f32::from_le_bytes(b.try_into().expect("4 bytes")))).collect()
    };
    if h.fortran_order {
        let col_major = std::mem::take(&mut values);
        values = (0..n).map(|k| col_major[(k % h.cols) * h.rows + k / h.cols]).collect();
    }
    Ok((h.rows, h.cols, values))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_is_aligned_and_parses() {
        for (r, c) in [(1, 1), (3, 4), (4000, 4000), (123456789, 7)] {
            let h = header(r, c);
            assert_eq!(h.len() % 64, 0);
            assert_eq!(*h.last().unwrap(), b'\n');
            let parsed = read_header(&mut h.as_slice()).unwrap();
            assert_eq!(parsed, Header { rows: r, cols: c, width: 8, fortran_order: false });
        }
    }

    /// A version 1.0 file with the header `dict` and the bytes `data`.
    fn file(dict: &str, data: &[u8]) -> Vec<u8> {
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&[1, 0]);
        bytes.extend_from_slice(&(dict.len() as u16).to_le_bytes());
        bytes.extend_from_slice(dict.as_bytes());
        bytes.extend_from_slice(data);
        bytes
    }

    #[test]
    fn other_layouts_are_read() {
        // Column-major [[1, 2, 3], [4, 5, 6]] in float32.
        let data: Vec<u8> = [1.0f32, 4.0, 2.0, 5.0, 3.0, 6.0].iter().flat_map(|v| v.to_le_bytes()).collect();
        let bytes = file("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", &data);
        assert_eq!(read(&mut bytes.as_slice()).unwrap(), (2, 3, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]));
    }

    #[test]
    fn damaged_files_are_refused() {
        let mut good = Vec::new();
        write(&mut good, 2, 2, &[1.0; 4]).unwrap();
        let err = |b: &[u8]| read(&mut &b[..]).unwrap_err();
        assert!(err(&good[..good.len() - 1]).contains("cut short"));
        assert!(err(&good[..20]).contains("cut short"));
        assert!(err(&[good.as_slice(), &[0]].concat()).contains("longer"));
        assert!(err(b"hello").contains("too short"));
        assert!(err(b"PK\x03\x04 zipped data").contains("not a .npy"));
        let data = [0u8; 32];
        assert!(err(&file("{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2, 2), }", &data)).contains("2-D"));
        assert!(err(&file("{'descr': '<i8', 'fortran_order': False, 'shape': (2, 2), }", &data)).contains("'<i8'"));
        assert!(err(&file("{'descr': '<f8', 'shape': (2, 2), }", &data)).contains("fortran_order"));
        assert!(err(&file("{'descr': '<f8', 'fortran_order': False, 'shape': (2, x), }", &data)).contains("whole"));
        let huge = "{'descr': '<f8', 'fortran_order': False, 'shape': (18446744073709551615, 2), }";
        assert!(err(&file(huge, &data)).contains("too large"));
        assert!(write(&mut Vec::new(), 2, 3, &[0.0; 5]).is_err());
    }
}
