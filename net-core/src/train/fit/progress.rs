//! What a run shows while it trains: a bar on a terminal, one line per
//! epoch otherwise, or nothing.

use std::io::IsTerminal;

use super::records::EpochRecord;

/// Where progress goes.
pub(crate) enum Progress {
    /// A bar on standard error, with the epoch lines printed above it.
    #[cfg(feature = "progress")]
    Bar(indicatif::ProgressBar),
    /// One line per epoch on standard output.
    Lines,
    /// Nothing.
    Quiet,
}

impl Progress {
    /// A bar when `shown` and standard error is a terminal, lines when
    /// `shown` otherwise.
    pub(crate) fn new(shown: bool, total: usize, start: usize) -> Self {
        if !shown {
            return Progress::Quiet;
        }
        if !std::io::stderr().is_terminal() {
            return Progress::Lines;
        }
        #[cfg(feature = "progress")]
        {
            let style = indicatif::ProgressStyle::with_template(
                "[{elapsed_precise}] {bar:40} {pos}/{len} iters {msg}",
            );
            let bar = indicatif::ProgressBar::new(total as u64).with_position(start as u64);
            Progress::Bar(match style {
                Ok(style) => bar.with_style(style),
                Err(_) => bar,
            })
        }
        #[cfg(not(feature = "progress"))]
        {
            let _ = (total, start);
            Progress::Lines
        }
    }

    /// Prints `text` on a line of its own.
    pub(crate) fn line(&self, text: &str) {
        match self {
            #[cfg(feature = "progress")]
            Progress::Bar(bar) => bar.println(text),
            Progress::Lines => println!("{text}"),
            Progress::Quiet => {}
        }
    }

    /// Prints the line of an epoch's record, the validation set called
    /// `validation`.
    pub(crate) fn epoch(&self, record: &EpochRecord, validation: &str) {
        if !matches!(self, Progress::Quiet) {
            self.line(&record.line(validation));
        }
    }

    /// Shows that `done` steps are done, the last with `loss`.
    pub(crate) fn step(&self, done: usize, loss: f64) {
        #[cfg(feature = "progress")]
        if let Progress::Bar(bar) = self {
            bar.set_position(done as u64);
            if done % 100 == 0 {
                bar.set_message(format!("loss {loss:.4}"));
            }
        }
        let _ = (done, loss);
    }

    /// Takes the bar off the terminal.
    pub(crate) fn finish(&self) {
        #[cfg(feature = "progress")]
        if let Progress::Bar(bar) = self {
            bar.finish_and_clear();
        }
    }
}
