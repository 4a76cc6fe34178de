//! Fashion-MNIST in its IDX files (gzip-compressed, as Debian's package
//! `dataset-fashion-mnist` installs them): images of `rows x cols` bytes and one label
//! byte per image. A missing directory names the package; a damaged file (bad gzip, a
//! wrong magic number, a short file, labels that do not match the images) is an error
//! naming the file, never a panic.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Where Debian's package `dataset-fashion-mnist` puts the files.
pub const DEFAULT_DIR: &str = "/usr/share/datasets/fashion-mnist";

/// The four files, without `.gz`: training images and labels, test images and labels.
pub const FILES: [&str; 4] =
    ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"];

/// The classes of Fashion-MNIST.
pub const CLASSES: usize = 10;

/// Labelled images, one byte per pixel, row-major, image after image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Images {
    /// Pixel rows per image.
    pub rows: usize,
    /// Pixel columns per image.
    pub cols: usize,
    /// `len() * rows * cols` bytes.
    pub pixels: Vec<u8>,
    /// One class per image, below [`CLASSES`].
    pub labels: Vec<u8>,
}

impl Images {
    /// Images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True if there are none.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Pixels per image.
    pub fn pixels_per_image(&self) -> usize {
        self.rows * self.cols
    }

    /// Image `i`'s pixels scaled to `[0, 1]`, into `out`.
    pub fn features(&self, i: usize, out: &mut [f64]) {
        let d = self.pixels_per_image();
        out.iter_mut().zip(&self.pixels[i * d..(i + 1) * d]).for_each(|(o, &p)| *o = f64::from(p) / 255.0);
    }
}

/// The training and the test set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dataset {
    /// 60,000 images in Fashion-MNIST.
    pub train: Images,
    /// 10,000 images in Fashion-MNIST.
    pub test: Images,
}

fn data_error(path: &Path, msg: impl std::fmt::Display) -> Error {
    Error::InvalidInput { program: "train", msg: format!("{}: {msg}", path.display()) }
}

/// Reads the four files from `dir` (`NAME.gz`, or `NAME` uncompressed).
pub fn load(dir: &Path) -> Result<Dataset> {
    let read = |name: &str| -> Result<(PathBuf, Vec<u8>)> {
        let gz = dir.join(format!("{name}.gz"));
        let plain = dir.join(name);
        let (path, compressed) = if gz.exists() {
            (gz, true)
        } else if plain.exists() {
            (plain, false)
        } else {
            let msg = format!(
                "Fashion-MNIST not found: no {name}.gz in {}; install Debian's package \
                 dataset-fashion-mnist (apt-get install dataset-fashion-mnist) or pass --data DIR \
                 with the four IDX files",
                dir.display()
            );
            return Err(Error::InvalidInput { program: "train", msg });
        };
        let raw = std::fs::read(&path).map_err(|e| data_error(&path, format!("cannot read: {e}")))?;
        if !compressed {
            return Ok((path, raw));
        }
        let mut bytes = Vec::new();
        flate2::read::GzDecoder::new(&raw[..])
            .read_to_end(&mut bytes)
            .map_err(|e| data_error(&path, format!("damaged gzip data ({e})")))?;
        Ok((path, bytes))
    };
    let set = |images: &str, labels: &str| -> Result<Images> {
        let (ipath, ibytes) = read(images)?;
        let (lpath, lbytes) = read(labels)?;
        parse(&ipath, &ibytes, &lpath, &lbytes)
    };
    Ok(Dataset { train: set(FILES[0], FILES[1])?, test: set(FILES[2], FILES[3])? })
}

/// An IDX file's dimensions after checking its magic number (`0x0000_08NN`: unsigned
/// bytes in `NN` dimensions) and that its data are all there; returns the dims and the data.
fn idx<'a>(path: &Path, bytes: &'a [u8], ndims: u8) -> Result<(Vec<usize>, &'a [u8])> {
    let head = 4 + 4 * usize::from(ndims);
    if bytes.len() < head || bytes[..3] != [0, 0, 8] || bytes[3] != ndims {
        let msg = format!("not an IDX file of unsigned bytes in {ndims} dimensions (bad header)");
        return Err(data_error(path, msg));
    }
    let dims: Vec<usize> =
        bytes[4..head].chunks_exact(4).map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize).collect();
    let want = dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
    let data = &bytes[head..];
    if want != Some(data.len()) {
        let msg = format!("the header says {dims:?} ({want:?} bytes) but {} bytes follow: damaged or cut", data.len());
        return Err(data_error(path, msg));
    }
    Ok((dims, data))
}

/// Checks and joins an images file and its labels file (both decompressed).
pub fn parse(ipath: &Path, ibytes: &[u8], lpath: &Path, lbytes: &[u8]) -> Result<Images> {
    let (idims, pixels) = idx(ipath, ibytes, 3)?;
    let (ldims, labels) = idx(lpath, lbytes, 1)?;
    if idims[0] != ldims[0] {
        let msg = format!("{} labels for {} images in {}", ldims[0], idims[0], ipath.display());
        return Err(data_error(lpath, msg));
    }
    if idims[1] == 0 || idims[2] == 0 {
        return Err(data_error(ipath, "images of zero pixels"));
    }
    if let Some(i) = labels.iter().position(|&c| usize::from(c) >= CLASSES) {
        return Err(data_error(lpath, format!("label {} of image {i} is not a class 0..{CLASSES}", labels[i])));
    }
    Ok(Images { rows: idims[1], cols: idims[2], pixels: pixels.to_vec(), labels: labels.to_vec() })
}

/// The IDX bytes of `images` (for tests and tools): the images file and the labels file,
/// uncompressed.
pub fn encode(images: &Images) -> (Vec<u8>, Vec<u8>) {
    let n = images.len() as u32;
    let mut i = vec![0, 0, 8, 3];
    for d in [n, images.rows as u32, images.cols as u32] {
        i.extend(d.to_be_bytes());
    }
    i.extend(&images.pixels);
    let mut l = vec![0, 0, 8, 1];
    l.extend(n.to_be_bytes());
    l.extend(&images.labels);
    (i, l)
}

/// Writes `data` as the four gzip IDX files into `dir` (for tests: a small Fashion-MNIST).
pub fn write(dir: &Path, data: &Dataset) -> std::io::Result<()> {
    use std::io::Write;
    let (ti, tl) = encode(&data.train);
    let (si, sl) = encode(&data.test);
    for (name, bytes) in FILES.iter().zip([ti, tl, si, sl]) {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&bytes)?;
        std::fs::write(dir.join(format!("{name}.gz")), gz.finish()?)?;
    }
    Ok(())
}

/// A small learnable stand-in for Fashion-MNIST (for tests, which must not need the
/// package): `n` images of `rows x cols` whose class `c` lights a band of pixels (in
/// row-major order) of its own, over seeded noise.
pub fn synthetic(n: usize, rows: usize, cols: usize, seed: u64) -> Images {
    let mut g = crate::taskfarm::SplitMix64::new(seed);
    let mut pixels = Vec::with_capacity(n * rows * cols);
    let mut labels = Vec::with_capacity(n);
    for _ in 0..n {
        let c = (g.next_u64() % CLASSES as u64) as usize;
        labels.push(c as u8);
        for k in 0..rows * cols {
            let noise = (g.next_u64() % 100) as u8;
            let lit = k * CLASSES / (rows * cols) == c;
            pixels.push(if lit { noise + 155 } else { noise });
        }
    }
    Images { rows, cols, pixels, labels }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> Images {
        Images { rows: 2, cols: 3, pixels: (0..24).collect(), labels: vec![0, 9, 3, 1] }
    }

    #[test]
    fn encoded_files_read_back() {
        let t = tiny();
        let (i, l) = encode(&t);
        assert_eq!(parse(Path::new("i"), &i, Path::new("l"), &l).unwrap(), t);
        let mut f = [0.0; 6];
        t.features(1, &mut f);
        assert_eq!(f[0], 6.0 / 255.0);
    }

    #[test]
    fn damaged_files_are_errors_naming_the_file() {
        let (i, l) = encode(&tiny());
        let p = |ib: &[u8], lb: &[u8]| parse(Path::new("imgs"), ib, Path::new("lbls"), lb).unwrap_err().to_string();
        assert!(p(&i[..i.len() - 1], &l).contains("imgs: the header says"));
        assert!(p(&i[..7], &l).contains("bad header"));
        assert!(p(&i, &i).contains("lbls: not an IDX file"));
        let mut bad = l.clone();
        *bad.last_mut().unwrap() = 10;
        assert!(p(&i, &bad).contains("label 10 of image 3"));
        let (_, three) = encode(&Images { labels: vec![0, 1, 2], pixels: vec![0; 18], ..tiny() });
        assert!(p(&i, &three).contains("3 labels for 4 images"));
    }

    #[test]
    fn a_missing_directory_names_the_package() {
        let err = load(Path::new("/nonexistent/parsci")).unwrap_err().to_string();
        assert!(err.contains("dataset-fashion-mnist") && err.contains("--data"), "{err}");
    }

    #[test]
    fn damaged_gzip_is_an_error() {
        let dir = std::env::temp_dir().join(format!("parsci-idx-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        write(&dir, &Dataset { train: tiny(), test: tiny() }).unwrap();
        assert_eq!(load(&dir).unwrap().train, tiny());
        let f = dir.join(format!("{}.gz", FILES[2]));
        let bytes = std::fs::read(&f).unwrap();
        std::fs::write(&f, &bytes[..bytes.len() / 2]).unwrap();
        let err = load(&dir).unwrap_err().to_string();
        assert!(err.contains("t10k-images-idx3-ubyte.gz: damaged gzip"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
