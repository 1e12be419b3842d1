//! Missing dataset files fetched from the mirrors, with a progress bar on
//! a terminal.

use std::io::IsTerminal;
use std::path::Path;

use indicatif::{ProgressBar, ProgressStyle};
use staticnet::data::{DataError, Dataset, DownloadEvent, ensure_downloaded};

/// Downloads the files of `dataset` missing in `dir` (none when all are
/// there), saying what it does unless `quiet`.
pub fn fetch_missing_files(
    dir: &Path,
    dataset: Dataset,
    mirrors: &[String],
    quiet: bool,
) -> Result<(), DataError> {
    let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
        let style = ProgressStyle::with_template(
            "{msg:28} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}",
        )
        .expect("the template is valid");
        ProgressBar::new(0).with_style(style.progress_chars("=> "))
    });
    ensure_downloaded(dir, dataset, mirrors, &mut |event| match event {
        DownloadEvent::Started { file, url, total } => match &bar {
            Some(bar) => {
                bar.reset();
                bar.set_length(total.unwrap_or(0));
                bar.set_message(file.to_string());
            }
            None if !quiet => eprintln!("downloading {url}"),
            None => {}
        },
        DownloadEvent::Progress { bytes, .. } => {
            if let Some(bar) = &bar {
                bar.set_position(bytes);
            }
        }
        DownloadEvent::MirrorFailed { url, reason, .. } if !quiet => {
            eprintln!("{url} failed: {reason}");
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
    })?;
    Ok(())
}
