//! Scaling studies: run a program at several rank counts, then speedup, parallel
//! efficiency, the Karp-Flatt serial fraction, Amdahl's and Gustafson's laws fitted by
//! least squares, a table, CSV, JSON and plots (SVG and PNG).
//!
//! ```
//! use parsci_apps::{rootsum::RootSum, scaling::{self, ScaleOptions}};
//! let opts = ScaleOptions { ranks: vec![1, 2], repeat: 1, weak: false, fit_oversubscribed: false, cores: 2 };
//! let study = scaling::study(&RootSum { m: 10_000 }, &opts, "threads", scaling::threads_job, |_| {}).unwrap();
//! assert!(study.results_agree);
//! let text = scaling::render(&study).join("\n");
//! assert!(text.contains("Karp-Flatt") && text.contains("Amdahl fit"));
//! ```
//!
//! To support another program, implement [`Scalable`] for it (how its problem grows for
//! weak scaling, how two results are compared, its command line) in `scalable.rs`.

mod charts;
mod csv;
mod fit;
mod laws;
pub mod model;
pub mod plot;
mod run;
mod scalable;
mod stats;
mod study;
mod table;

pub use charts::{curve_ranks, laws_figure, study_figure};
pub use csv::{parse_times, to_csv};
pub use fit::{AmdahlFit, GustafsonFit};
pub use laws::{amdahl_speedup, gustafson_speedup, karp_flatt, useful_ranks};
pub use run::{study, threads_job, JobRun, Progress, ScaleOptions, MAX_STUDY_RANKS};
pub use scalable::Scalable;
pub use stats::Summary;
pub use study::{Measured, Prediction, Row, Setup, Study, PREDICT_AT};
pub use table::{align_columns, render};
