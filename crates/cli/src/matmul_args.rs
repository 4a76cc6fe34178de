//! The arguments of `matmul` and their conversion to the library's parameters.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use parsci_apps::matmul::{source, Matmul, Strategy, DEFAULT_PANEL, LESSON_SHAPE};

use crate::heat_args::parse_procs;
use crate::programs::parse_count;

/// `matmul [M K N] [options]`.
#[derive(Debug, Clone, Args)]
pub struct MatmulArgs {
    /// Rows of A and C [default: the lesson's 300, or read from --input]
    #[arg(value_name = "M", value_parser = parse_count)]
    pub m: Option<usize>,
    /// Columns of A, rows of B [default: 400]
    #[arg(value_name = "K", value_parser = parse_count)]
    pub k: Option<usize>,
    /// Columns of B and C [default: 500]
    #[arg(value_name = "N", value_parser = parse_count)]
    pub n: Option<usize>,
    /// How the work and the matrices are shared among the ranks
    #[arg(long, value_enum, default_value_t = MatmulStrategyArg::Summa)]
    pub strategy: MatmulStrategyArg,
    /// SUMMA's process grid PXxPY (ranks along C's columns by ranks along its rows)
    /// [default: the most square, as MPI_Dims_create]
    #[arg(long, value_name = "PXxPY", value_parser = parse_procs)]
    pub procs: Option<[usize; 2]>,
    /// SUMMA's panel width: columns of A (rows of B) broadcast per step
    #[arg(long, value_name = "K", default_value_t = DEFAULT_PANEL, value_parser = parse_count)]
    pub panel: usize,
    /// Seed of the random matrices (elements uniform in [-1, 1))
    #[arg(long, default_value_t = 2024)]
    pub seed: u64,
    /// The lesson's matrices: every element of A and B is 1/sqrt(K), so C is all ones
    #[arg(long, conflicts_with = "input")]
    pub lesson: bool,
    /// Read A and B from .npy files (2-D float64); M K N come from them
    #[arg(long, num_args = 2, value_names = ["A.npy", "B.npy"])]
    pub input: Option<Vec<PathBuf>>,
    /// Write C as a .npy file (SUMMA: every rank writes its own block into it)
    #[arg(long, short = 'o', value_name = "C.npy")]
    pub output: Option<PathBuf>,
}

/// The strategies, as on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MatmulStrategyArg {
    /// The lesson's first version: broadcast A and B, sum full-size partial C's on rank 0
    BcastReduce,
    /// The lesson's second version: scatter A's rows, broadcast B, gather C's rows
    ScatterGather,
    /// SUMMA on a 2-D process grid: A, B and C in blocks, panels broadcast along rows and columns
    Summa,
}

impl MatmulArgs {
    /// The library's parameters; the shape comes from M K N, the files, or the lesson.
    pub fn params(&self) -> Result<Matmul, String> {
        let given = match (self.m, self.k, self.n) {
            (Some(m), Some(k), Some(n)) => Some([m, k, n]),
            (None, None, None) => None,
            _ => return Err("matmul takes M K N (all three) or none of them".into()),
        };
        let input = match self.input.as_deref() {
            Some([a, b]) => Some([a.clone(), b.clone()]),
            Some(_) => return Err("--input takes two files: A.npy B.npy".into()),
            None => None,
        };
        let [m, k, n] = match (&input, given) {
            (Some([a, b]), None) => {
                let (ha, hb) =
                    (source::header(a).map_err(|e| e.to_string())?, source::header(b).map_err(|e| e.to_string())?);
                [ha.rows, ha.cols, hb.cols]
            }
            (_, Some(shape)) => shape,
            (None, None) => LESSON_SHAPE,
        };
        Ok(Matmul {
            m,
            k,
            n,
            strategy: match self.strategy {
                MatmulStrategyArg::BcastReduce => Strategy::BcastReduce,
                MatmulStrategyArg::ScatterGather => Strategy::ScatterGather,
                MatmulStrategyArg::Summa => Strategy::Summa,
            },
            procs: self.procs,
            panel: self.panel,
            seed: self.seed,
            lesson: self.lesson,
            input,
            output: self.output.clone(),
        })
    }
}
