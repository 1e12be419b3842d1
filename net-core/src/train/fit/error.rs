//! Why a run did not start, or stopped with an error.

use std::path::PathBuf;

use super::recipe::SettingChange;
use crate::data::BatchError;
use crate::files::LockError;
use crate::io::IoError;
use crate::optim::StateError;
use crate::targets::TargetsError;
use crate::train::trainer::TrainError;

/// Why a run did not start, or stopped with an error. A run that stops
/// with an error has not saved the step that failed: the last checkpoint
/// written is intact.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FitError {
    /// A setting is out of range, a batch could not be gathered, or the
    /// loss diverged.
    #[error(transparent)]
    Train(#[from] TrainError),
    /// The run is asked for 0 epochs or 0 steps: it would train nothing.
    #[error("a run of 0 {unit} trains nothing: ask for at least 1")]
    NothingToTrain {
        /// `"epochs"` or `"steps"`, as the run was asked.
        unit: &'static str,
    },
    /// The training or the validation data holds targets that do not fit
    /// the network, such as a label that is not one of its classes:
    /// checked on every sample before the first step. A sample is named by
    /// its index in the data.
    #[error("the {data} data does not fit the network: {source}")]
    Targets {
        /// `"training"` or `"validation"`.
        data: &'static str,
        /// What does not fit, naming the sample and its label.
        source: TargetsError,
    },
    /// The learning-rate schedule's settings are out of range.
    #[error("{0}")]
    Schedule(String),
    /// A checkpoint could not be written, or the destination cannot be.
    #[error(transparent)]
    Io(#[from] IoError),
    /// The checkpoint to resume from holds another optimizer's state.
    #[error(transparent)]
    State(#[from] StateError),
    /// The checkpoint to resume from is already at or beyond the run's
    /// last step.
    #[error(
        "the checkpoint is at iteration {at}, and this run ends at iteration {total}: nothing to train (ask for more steps)"
    )]
    AlreadyTrained {
        /// The checkpoint's iteration.
        at: u64,
        /// The run's last step.
        total: usize,
    },
    /// The checkpoint to resume from was made with other settings than
    /// this run's (its batch size, sampling, seed, optimizer, learning
    /// rate, weight decay, schedule or dataset), and the run was not
    /// allowed to change them ([`Fit::allow_change`](super::Fit::allow_change)).
    #[error(
        "the checkpoint was made with other settings than this run's: {}; resume it with the checkpoint's settings, or allow each change on purpose",
        list(changes)
    )]
    SettingsChanged {
        /// Every setting that differs, in the order of [`Setting::ALL`](super::Setting::ALL).
        changes: Vec<SettingChange>,
    },
    /// The checkpoint path holds a checkpoint this run does not resume
    /// from, and the run was not allowed to write over it
    /// ([`Fit::overwrite`](super::Fit::overwrite)).
    #[error(
        "{} holds a checkpoint{} that this run does not resume from: writing over it would lose it; resume it, write elsewhere, or allow overwriting it",
        .path.display(),
        .iteration.map_or(String::new(), |at| format!(" at iteration {at}"))
    )]
    WouldOverwrite {
        /// The checkpoint path.
        path: PathBuf,
        /// The existing checkpoint's iteration, when its header says.
        iteration: Option<u64>,
    },
    /// Another run writes the same checkpoint.
    #[error(transparent)]
    Lock(#[from] LockError),
    /// A checkpoint file could not be kept aside or put back.
    #[error("cannot {action} {}: {source}", .path.display())]
    File {
        /// What was being done, such as `"remove"`.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// What failed.
        source: std::io::Error,
    },
    /// An evaluation could not gather its samples.
    #[error("evaluation failed: {0}")]
    Evaluation(BatchError),
    /// The thread that evaluates stopped without a result (it panicked).
    #[error("the evaluating thread stopped unexpectedly")]
    EvaluationThread,
}

/// `a; b; c`.
fn list(changes: &[SettingChange]) -> String {
    let texts: Vec<String> = changes.iter().map(ToString::to_string).collect();
    texts.join("; ")
}
