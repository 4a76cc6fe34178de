//! The arguments of the programs with many parameters (`mandelbrot`, `taskfarm`) and
//! their conversion to the library's parameters.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use parsci_apps::mandelbrot::{KernelPath, Mandelbrot, OutputKind, Strategy};
use parsci_apps::taskfarm::TaskFarm;

/// `mandelbrot NR NI REI REF IMI IMF IMAX [options]`.
#[derive(Debug, Clone, Args)]
pub struct MandelbrotArgs {
    /// Pixels per row (the real axis)
    #[arg(value_name = "NR", value_parser = parse_count)]
    pub nr: usize,
    /// Rows (the imaginary axis)
    #[arg(value_name = "NI", value_parser = parse_count)]
    pub ni: usize,
    /// Real part of the first column
    #[arg(value_name = "REI", value_parser = parse_number)]
    pub rei: f64,
    /// End of the real range
    #[arg(value_name = "REF", value_parser = parse_number)]
    pub ref_: f64,
    /// Imaginary part of the first row
    #[arg(value_name = "IMI", value_parser = parse_number)]
    pub imi: f64,
    /// End of the imaginary range
    #[arg(value_name = "IMF", value_parser = parse_number)]
    pub imf: f64,
    /// Most iterations per pixel
    #[arg(value_name = "IMAX", value_parser = parse_imax)]
    pub imax: u32,
    /// How the rows are shared among the ranks
    #[arg(long, value_enum, default_value_t = StrategyArg::Cyclic)]
    pub strategy: StrategyArg,
    /// Rows per job of the dynamic strategy
    #[arg(long, value_name = "K", default_value_t = 4, value_parser = parse_count)]
    pub chunk: usize,
    /// The dynamic strategy's master computes chunks too (else it only hands them out)
    #[arg(long)]
    pub master_computes: bool,
    /// Write the image: FILE.png (colour) or FILE.pbm (set membership, as the Benchmarks Game)
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// The image format [default: from FILE's extension] (e.g. --output /dev/null --format pbm)
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
    /// Colour the PNG by the smooth (normalized) iteration count
    #[arg(long)]
    pub smooth: bool,
    /// The kernel's code path [default: the fastest this CPU runs]
    #[arg(long, value_enum)]
    pub kernel: Option<KernelArg>,
}

/// The strategies, as on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StrategyArg {
    /// Rank r computes rows r, r+P, r+2P, ... (the lesson's choice)
    Cyclic,
    /// Contiguous blocks of rows (shows the load imbalance)
    Block,
    /// A master-worker task farm hands out chunks of rows on request
    Dynamic,
    /// Every rank fills its rows of a zeroed image; the images are summed with a reduce
    Reduce,
}

/// The image formats, as on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// Colour PNG
    Png,
    /// Binary PBM (P4): set membership, 1 bit per pixel
    Pbm,
}

/// The kernel paths, as on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KernelArg {
    /// 8 lanes of f64 (AVX-512F)
    Avx512,
    /// 4 lanes of f64 (AVX2)
    Avx2,
    /// Plain Rust
    Portable,
}

impl MandelbrotArgs {
    /// The library's parameters.
    pub fn params(&self) -> Mandelbrot {
        Mandelbrot {
            nr: self.nr,
            ni: self.ni,
            re_min: self.rei,
            re_max: self.ref_,
            im_min: self.imi,
            im_max: self.imf,
            imax: self.imax,
            strategy: match self.strategy {
                StrategyArg::Cyclic => Strategy::Cyclic,
                StrategyArg::Block => Strategy::Block,
                StrategyArg::Dynamic => Strategy::Dynamic,
                StrategyArg::Reduce => Strategy::Reduce,
            },
            chunk: self.chunk,
            master_computes: self.master_computes,
            output: self.output.clone(),
            format: self.format.map(|f| match f {
                FormatArg::Png => OutputKind::Png,
                FormatArg::Pbm => OutputKind::Pbm,
            }),
            smooth: self.smooth,
            kernel: self.kernel.map(|k| match k {
                KernelArg::Avx512 => KernelPath::Avx512,
                KernelArg::Avx2 => KernelPath::Avx2,
                KernelArg::Portable => KernelPath::Portable,
            }),
        }
    }
}

/// `taskfarm [options]`.
#[derive(Debug, Clone, Args)]
pub struct TaskfarmArgs {
    /// Number of jobs
    #[arg(long, value_name = "N", default_value_t = 20, value_parser = parse_count)]
    pub jobs: usize,
    /// Seed of the jobs' random durations
    #[arg(long, default_value_t = 2024)]
    pub seed: u64,
    /// Shortest job, in seconds
    #[arg(long, value_name = "S", default_value_t = 1.0, value_parser = parse_number)]
    pub min_seconds: f64,
    /// Longest job, in seconds
    #[arg(long, value_name = "S", default_value_t = 5.0, value_parser = parse_number)]
    pub max_seconds: f64,
    /// Multiplies every duration (0.001 runs the lesson in milliseconds)
    #[arg(long, value_name = "X", default_value_t = 1.0, value_parser = parse_number)]
    pub time_scale: f64,
    /// The master computes jobs too (else it only hands them out)
    #[arg(long)]
    pub master_computes: bool,
}

impl TaskfarmArgs {
    /// The library's parameters.
    pub fn params(&self) -> TaskFarm {
        TaskFarm {
            jobs: self.jobs,
            seed: self.seed,
            min_seconds: self.min_seconds,
            max_seconds: self.max_seconds,
            time_scale: self.time_scale,
            master_computes: self.master_computes,
        }
    }
}

/// A whole number of at least 1.
pub(crate) fn parse_count(s: &str) -> Result<usize, String> {
    match s.trim().parse::<i128>() {
        Ok(n) if n >= 1 && n <= usize::MAX as i128 => Ok(n as usize),
        Ok(n) if n < 1 => Err(format!("must be a whole number of at least 1, got {n}")),
        Ok(_) => Err(format!("is too large: {s}")),
        Err(_) => Err(format!("must be a whole number of at least 1, got '{s}'")),
    }
}

/// IMAX: a whole number from 1 to 2^32 - 1.
fn parse_imax(s: &str) -> Result<u32, String> {
    match s.trim().parse::<i128>() {
        Ok(n) if n >= 1 && n <= u32::MAX as i128 => Ok(n as u32),
        Ok(n) => Err(format!("must be a whole number from 1 to {}, got {n}", u32::MAX)),
        Err(_) => Err(format!("must be a whole number from 1 to {}, got '{s}'", u32::MAX)),
    }
}

/// A finite number.
pub(crate) fn parse_number(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(x) if x.is_finite() => Ok(x),
        _ => Err(format!("must be a finite number, got '{s}'")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_checked() {
        assert_eq!(parse_count("200"), Ok(200));
        assert!(parse_count("0").unwrap_err().contains("at least 1"));
        assert!(parse_count("-3").unwrap_err().contains("at least 1"));
        assert!(parse_count("2.5").unwrap_err().contains("'2.5'"));
        assert_eq!(parse_imax("1000"), Ok(1000));
        assert!(parse_imax("0").is_err() && parse_imax("4294967296").is_err());
        assert_eq!(parse_number("-1.5"), Ok(-1.5));
        assert!(parse_number("nan").is_err() && parse_number("inf").is_err() && parse_number("x").is_err());
    }
}
