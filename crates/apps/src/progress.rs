//! Progress bars for long runs (heat's steps, scaling studies): drawn on stderr by rank 0
//! only, only when stderr is a terminal, and never when the command line prints JSON.
//! The command line turns them on ([`enable`]); a library user gets none unless it asks.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::Duration;

static WANTED: AtomicBool = AtomicBool::new(false);

/// Turns the bars on for this process (the command line: unless `--json`).
pub fn enable(on: bool) {
    WANTED.store(on, Relaxed);
}

/// True if a bar would be drawn by rank 0 now.
pub fn shown() -> bool {
    WANTED.load(Relaxed) && std::io::stderr().is_terminal()
}

/// A bar of `total` steps, or a bar that draws nothing (not rank 0, not wanted, not a terminal).
pub struct Bar(Option<indicatif::ProgressBar>);

impl Bar {
    /// A bar for `what` (e.g. "heat steps") on `rank`; only rank 0's is drawn.
    pub fn new(rank: usize, total: u64, what: &str) -> Bar {
        if rank != 0 || !shown() {
            return Bar(None);
        }
        let style = indicatif::ProgressStyle::with_template(
            "{prefix} [{bar:30}] {pos}/{len} {msg} ({elapsed}, about {eta} left)",
        )
        .expect("a valid template")
        .progress_chars("=> ");
        let bar = indicatif::ProgressBar::new(total).with_style(style).with_prefix(what.to_string());
        bar.enable_steady_tick(Duration::from_millis(200));
        Bar(Some(bar))
    }

    /// Advances by `n`.
    pub fn inc(&self, n: u64) {
        if let Some(b) = &self.0 {
            b.inc(n);
        }
    }

    /// Sets the text after the counts.
    pub fn message(&self, text: String) {
        if let Some(b) = &self.0 {
            b.set_message(text);
        }
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        // Cleared, so that the program's own output follows on a clean line.
        if let Some(b) = &self.0 {
            b.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_is_drawn_unless_wanted_on_rank_0_and_a_terminal() {
        enable(false);
        assert!(Bar::new(0, 10, "x").0.is_none());
        enable(true);
        assert!(Bar::new(1, 10, "x").0.is_none(), "only rank 0 draws");
        // Under the test harness stderr is captured, not a terminal.
        assert_eq!(Bar::new(0, 10, "x").0.is_some(), std::io::stderr().is_terminal());
        enable(false);
    }
}
