//! # parsci-apps: the workshop programs
//!
//! Each program lives in its own module with a serial reference, a parallel version
//! that runs on every rank (`run(comm, ...)`), and a check comparing the two. Every
//! program implements [`Program`], and [`execute`] runs one on a backend:
//!
//! ```
//! use parsci_apps::{execute, squares::Squares};
//! use parsci_comm::Backend;
//! let run = execute(&Squares, Backend::Threads(4)).unwrap();
//! print!("{}", run.text()); // "Received from process 1 : sq = 1" ... "Done in ... s"
//! ```
//!
//! Rank 0 owns terminal output: per-rank lines are gathered to rank 0 in rank order,
//! so the text is the same on every run. Results do not depend on the rank count.

pub mod bcast;
mod error;
mod execute;
pub mod files;
pub mod heat;
pub mod heat1d;
pub mod hello;
pub mod mandelbrot;
pub mod matmul;
#[cfg(feature = "petsc")]
pub mod petsc;
mod program;
pub mod progress;
pub mod rootsum;
pub mod scaling;
pub mod scatter_gather;
pub mod sendrecv;
pub mod squares;
pub mod taskfarm;
pub mod timeline;
pub mod tour;
pub mod train;

pub use error::{Error, Result};
pub use execute::{execute, execute_with, Run};
pub use program::{gather_lines, rank_tag, Output, Program};
