//! `parsci trace FILE.json`: the profile and wait states of a trace, and its timeline.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use parsci_comm::trace::{Profile, Trace};

use crate::args::GlobalArgs;
use crate::commands::{print, CliError};

/// `trace FILE.json [--png timeline.png] [--from MS] [--to MS] [--top N]`.
#[derive(Debug, Clone, Args)]
pub struct TraceArgs {
    /// A trace written with --trace
    #[arg(value_name = "FILE.json")]
    pub file: PathBuf,
    /// Draw the ranks' timelines with message arrows and the communication matrix
    #[arg(long, value_name = "FILE.png")]
    pub png: Option<PathBuf>,
    /// The picture's time window starts here (ms from the trace's start)
    #[arg(long, value_name = "MS", value_parser = crate::programs::parse_number)]
    pub from: Option<f64>,
    /// The picture's time window ends here (ms from the trace's start)
    #[arg(long, value_name = "MS", value_parser = crate::programs::parse_number)]
    pub to: Option<f64>,
    /// How many operations, call sites and worst waits to list
    #[arg(long, value_name = "N", default_value_t = 10, value_parser = crate::programs::parse_count)]
    pub top: usize,
}

impl TraceArgs {
    /// Reads the trace, prints its profile, draws the picture if asked.
    pub fn run(&self, g: &GlobalArgs) -> Result<ExitCode, CliError> {
        let trace = Trace::read(&self.file)?;
        let profile = Profile::of(&trace);
        if g.json {
            print(&(serde_json::to_string_pretty(&profile)? + "\n"))?;
        } else {
            let mut text = format!(
                "{}: {} ranks, {} calls, {} messages\n\n",
                self.file.display(),
                trace.ranks.len(),
                trace.ranks.iter().map(|r| r.calls.len()).sum::<usize>(),
                trace.messages.len()
            );
            for p in trace.problems.iter().take(5) {
                text += &format!("warning: {p}\n");
            }
            text += &profile.text(self.top);
            print(&text)?;
        }
        if let Some(png) = &self.png {
            let window = (self.from.map(|ms| ms * 1e3), self.to.map(|ms| ms * 1e3));
            parsci_apps::timeline::draw(&trace, &profile, window, png)?;
            if !g.json {
                eprintln!("parsci: timeline written to {}", png.display());
            }
        }
        Ok(ExitCode::SUCCESS)
    }
}
