//! The checkpoint file a run writes: locked for the whole run, and the
//! file it replaces kept beside it (`run.previous.ckpt`) until the run has
//! ended at least as well, so that a run that diverges without a NaN, or
//! stops, never leaves a worse checkpoint in place of a better one.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::error::FitError;
use super::records::{Replacement, Stopped};
use crate::files::FileLock;
use crate::io::{RecordedEvaluation, read_header};

/// How much worse than the file it replaces a run may end and still
/// replace it: one percentage point of accuracy, or, for a net without
/// accuracies, 10 % of loss — the noise between two good runs, far from a
/// run that diverged.
const ACCURACY_MARGIN: f64 = 0.01;
const LOSS_MARGIN: f64 = 1.1;

/// The checkpoint file of a run under way.
pub(super) struct Destination {
    path: PathBuf,
    _lock: FileLock,
    /// Where the file this run replaces is kept while it runs, and how it
    /// did; `None` when there was no file.
    replaced: Option<(PathBuf, Option<RecordedEvaluation>)>,
}

impl Destination {
    /// Locks `path` for this run and notes the file it will replace: one
    /// an interrupted run left aside (still the one to beat), else the
    /// file at `path`.
    ///
    /// # Errors
    /// [`FitError::Lock`] when another run writes `path`.
    pub(super) fn open(path: &Path) -> Result<Destination, FitError> {
        let lock = FileLock::acquire(path)?;
        let kept = previous_path(path);
        let replaced = [&kept, path]
            .into_iter()
            .find(|file| file.exists())
            .map(|file| (kept.clone(), evaluation_of(file)));
        Ok(Destination {
            path: path.to_path_buf(),
            _lock: lock,
            replaced,
        })
    }

    /// The file's path.
    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    /// Keeps the file this run replaces aside before the run's first
    /// write over it.
    pub(super) fn before_write(&self) -> Result<(), FitError> {
        match &self.replaced {
            Some((kept, _)) if !kept.exists() && self.path.exists() => keep_aside(&self.path, kept)
                .map_err(|source| FitError::File {
                    action: "keep the checkpoint this run replaces at",
                    path: kept.clone(),
                    source,
                }),
            _ => Ok(()),
        }
    }

    /// Settles which file stays at the path once the run has `stopped`,
    /// its weights measured as `ended` (when they were).
    pub(super) fn settle(
        self,
        stopped: Stopped,
        ended: Option<&RecordedEvaluation>,
    ) -> Result<Option<Replacement>, FitError> {
        let Some((kept, previous)) = self.replaced else {
            return Ok(None);
        };
        if !kept.exists() {
            // Nothing was written over the file.
            return Ok(None);
        }
        if stopped == Stopped::Interrupted {
            return Ok(Some(Replacement::Pending { previous: kept }));
        }
        let file_error = |action, path: &Path| {
            let path = path.to_path_buf();
            move |source| FitError::File {
                action,
                path,
                source,
            }
        };
        match (ended, previous) {
            (Some(ended), Some(previous)) if is_worse(ended, &previous) => {
                let this_run = worse_path(&self.path);
                fs::rename(&self.path, &this_run)
                    .map_err(file_error("move this run's checkpoint to", &this_run))?;
                fs::rename(&kept, &self.path)
                    .map_err(file_error("put the better checkpoint back at", &self.path))?;
                Ok(Some(Replacement::KeptPrevious {
                    this_run,
                    previous,
                    ended: ended.clone(),
                }))
            }
            _ => {
                fs::remove_file(&kept).map_err(file_error("remove", &kept))?;
                Ok(Some(Replacement::Replaced))
            }
        }
    }
}

/// Whether a run that `ended` so did worse than the `previous` file, by
/// more than the margins; evaluations of different data do not compare.
fn is_worse(ended: &RecordedEvaluation, previous: &RecordedEvaluation) -> bool {
    if ended.data != previous.data {
        return false;
    }
    if !ended.loss.is_finite() {
        return true;
    }
    match (ended.accuracy, previous.accuracy) {
        (Some(ended), Some(previous)) => ended < previous - ACCURACY_MARGIN,
        _ => ended.loss > previous.loss * LOSS_MARGIN,
    }
}

/// How the file at `path` did, as it records (nothing for a file that does
/// not say, or cannot be read).
fn evaluation_of(path: &Path) -> Option<RecordedEvaluation> {
    read_header(path).ok()?.evaluation
}

/// Keeps the file at `path` at `kept` while a new one is written at
/// `path`: a second name for the same file where the file system allows
/// it, else a copy.
fn keep_aside(path: &Path, kept: &Path) -> io::Result<()> {
    fs::hard_link(path, kept).or_else(|_| fs::copy(path, kept).map(drop))
}

/// `run.ckpt` → `run.previous.ckpt`.
pub fn previous_path(path: &Path) -> PathBuf {
    beside(path, "previous")
}

/// `run.ckpt` → `run.worse.ckpt`.
fn worse_path(path: &Path) -> PathBuf {
    beside(path, "worse")
}

/// The path of `path` with `tag` before its extension.
fn beside(path: &Path, tag: &str) -> PathBuf {
    let stem = path.file_stem().unwrap_or_default().to_string_lossy();
    let name = match path.extension() {
        Some(ext) => format!("{stem}.{tag}.{}", ext.to_string_lossy()),
        None => format!("{stem}.{tag}"),
    };
    path.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn evaluation(loss: f64, accuracy: Option<f64>) -> RecordedEvaluation {
        RecordedEvaluation {
            data: "test".to_owned(),
            loss,
            accuracy,
        }
    }

    #[test]
    fn worse_is_beyond_the_noise_of_two_good_runs() {
        let good = evaluation(0.25, Some(0.93));
        assert!(!is_worse(&evaluation(0.26, Some(0.925)), &good));
        assert!(is_worse(&evaluation(2.3, Some(0.10)), &good));
        assert!(is_worse(&evaluation(f64::NAN, Some(0.93)), &good));
        // Without accuracies, the loss decides.
        assert!(!is_worse(&evaluation(0.27, None), &evaluation(0.25, None)));
        assert!(is_worse(&evaluation(0.30, None), &evaluation(0.25, None)));
        // Other data does not compare.
        let other = RecordedEvaluation {
            data: "val".to_owned(),
            ..evaluation(9.0, Some(0.1))
        };
        assert!(!is_worse(&other, &good));
    }

    #[test]
    fn side_files_keep_the_extension() {
        assert_eq!(
            previous_path(Path::new("runs/net.safetensors")),
            Path::new("runs/net.previous.safetensors")
        );
        assert_eq!(worse_path(Path::new("ckpt")), Path::new("ckpt.worse"));
    }
}
