//! `cargo bench -p parsci-bench [-- WHAT... --json --ranks N]`: the same tables as `parsci bench`.

use clap::Parser;

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    args: parsci_bench::BenchArgs,
    /// Ranks (threads).
    #[arg(long, default_value_t = 2)]
    ranks: usize,
    /// One JSON object instead of tables.
    #[arg(long)]
    json: bool,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

fn main() {
    let cli = Cli::parse();
    match parsci_bench::run(&cli.args, parsci_comm::Backend::Threads(cli.ranks), cli.json, &|_, _| {}) {
        Ok(s) => print!("{}", s.unwrap_or_default()),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    }
}
