//! The progress line on stderr while accounts are processed.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

use crate::config::Mode;
use crate::outcome::AccountReport;
use crate::report::{ReportSink, RunSummary};

/// A progress line on stderr while accounts are processed, only when stderr is a terminal.
pub struct Progress(Option<ProgressBar>);

impl Progress {
    pub fn new(mode: Mode) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner} {prefix}: {pos} accounts done {msg}")
                    .expect("valid template"),
            );
            bar.set_prefix(mode.to_string());
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            bar
        });
        Self(bar)
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

impl ReportSink for Progress {
    fn account(&self, _run_id: &str, report: &AccountReport) {
        if let Some(bar) = &self.0 {
            bar.inc(1);
            bar.set_message(format!(
                "(last: {} {})",
                report.account_id,
                report.outcome.kind()
            ));
        }
    }

    fn summary(&self, _summary: &RunSummary) {}
}
