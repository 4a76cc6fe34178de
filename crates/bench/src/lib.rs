//! Communication benchmarks in the style of the OSU micro-benchmarks.

/// Options of `parsci bench`.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// Which benchmarks to run (all when empty).
    #[arg(value_name = "WHAT")]
    pub what: Vec<String>,
}

/// Runs the benchmarks on `ranks` thread ranks; returns the report (a table, or JSON).
pub fn run(args: &BenchArgs, ranks: usize, json: bool) -> Result<String, String> {
    let _ = (args, ranks, json);
    Err("not yet".into())
}
