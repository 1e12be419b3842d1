//! Missing dataset files fetched from the mirrors, with a progress bar on
//! a terminal (and a progress line every few seconds elsewhere), and the
//! flags that bound a download: `--download-min-bytes N` and
//! `--download-window SECS`.

use std::io::IsTerminal;
use std::path::Path;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use staticnet::data::{DataError, Dataset, DownloadEvent, DownloadLimits, ensure_downloaded_with};
use staticnet::train::StopFlag;

/// How often a download that is not on a terminal reports its progress,
/// once it has taken that long.
const PROGRESS_EVERY: Duration = Duration::from_secs(5);

/// The flags of the downloads: a mirror is given up when fewer than
/// `--download-min-bytes` arrive in `--download-window` seconds (or it
/// does not answer within them); a download that keeps that rate is never
/// cut short.
#[derive(clap::Args, Debug, Clone)]
pub struct DownloadArgs {
    /// Give up a mirror that delivers fewer than N bytes in a
    /// --download-window.
    #[arg(long, value_name = "N", default_value_t = DownloadLimits::DEFAULT.min_bytes)]
    pub download_min_bytes: u64,
    /// The window, in seconds, --download-min-bytes are counted over; also
    /// the longest wait for a mirror to answer.
    #[arg(
        long,
        value_name = "SECS",
        default_value = "30",
        value_parser = parse_window
    )]
    pub download_window: Duration,
}

impl DownloadArgs {
    /// The limits the flags set.
    pub fn limits(&self) -> DownloadLimits {
        DownloadLimits::new(self.download_min_bytes, self.download_window)
    }
}

/// `--download-window`: seconds, above 0 (decimals allowed).
fn parse_window(text: &str) -> Result<Duration, String> {
    let secs: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a number of seconds"))?;
    if secs.is_nan() || secs <= 0.0 || secs.is_infinite() {
        return Err(format!("`{text}`: the window must be above 0 seconds"));
    }
    Duration::try_from_secs_f64(secs).map_err(|e| format!("`{text}`: {e}"))
}

/// `bytes` for people: `812 B`, `45.3 kB`, `9.9 MB`.
fn human(bytes: f64) -> String {
    if bytes >= 1e6 {
        format!("{:.1} MB", bytes / 1e6)
    } else if bytes >= 1e3 {
        format!("{:.1} kB", bytes / 1e3)
    } else {
        format!("{bytes:.0} B")
    }
}

/// Downloads the files of `dataset` missing in `dir` (none when all are
/// there) within the limits of `flags`, saying what it does unless
/// `quiet`. A raised `stop` ends the download under way and removes its
/// partial file (the error then says so, see
/// [`DataError::is_interrupted`]).
pub fn fetch_missing_files(
    dir: &Path,
    dataset: Dataset,
    mirrors: &[String],
    flags: &DownloadArgs,
    stop: Option<&StopFlag>,
    quiet: bool,
) -> Result<(), DataError> {
    let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
        let style = ProgressStyle::with_template(
            "{msg:28} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}",
        )
        .expect("the template is valid");
        ProgressBar::new(0).with_style(style.progress_chars("=> "))
    });
    // Without a bar: when the file started, and when it was last reported.
    let mut started = Instant::now();
    let mut reported = started;
    let say = |line: String| match &bar {
        Some(bar) => bar.suspend(|| eprintln!("{line}")),
        None => eprintln!("{line}"),
    };
    let result =
        ensure_downloaded_with(dir, dataset, mirrors, &flags.limits(), stop, &mut |event| {
            match event {
                DownloadEvent::Started { file, url, total } => {
                    started = Instant::now();
                    reported = started;
                    match &bar {
                        Some(bar) => {
                            bar.reset();
                            bar.set_length(total.unwrap_or(0));
                            bar.set_message(file.to_string());
                        }
                        None if !quiet => eprintln!("downloading {url}"),
                        None => {}
                    }
                }
                DownloadEvent::Progress { file, bytes, total } => match &bar {
                    Some(bar) => bar.set_position(bytes),
                    None if !quiet && reported.elapsed() >= PROGRESS_EVERY => {
                        reported = Instant::now();
                        let secs = started.elapsed().as_secs_f64();
                        let of = match total {
                            Some(total) if total > 0 => format!(
                                " of {} ({:.0}%)",
                                human(total as f64),
                                100.0 * bytes as f64 / total as f64
                            ),
                            _ => String::new(),
                        };
                        eprintln!(
                            "{file}: {}{of} in {secs:.0} s, {}/s",
                            human(bytes as f64),
                            human(bytes as f64 / secs.max(1e-3))
                        );
                    }
                    None => {}
                },
                DownloadEvent::MirrorFailed { url, reason, .. } if !quiet => {
                    say(format!("{url} failed: {reason}"));
                }
                DownloadEvent::Finished { path, bytes, .. } if !quiet => {
                    if let Some(bar) = &bar {
                        bar.finish_and_clear();
                    }
                    eprintln!(
                        "saved {} ({bytes} bytes, checksum verified)",
                        path.display()
                    );
                }
                _ => {}
            }
        });
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    result
}
