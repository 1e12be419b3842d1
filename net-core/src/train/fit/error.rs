//! Why a run did not start, or stopped with an error.

use crate::data::BatchError;
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
    /// The checkpoint to resume from was trained on other data.
    #[error(
        "the checkpoint was trained on {recorded}, but this run's data is {this}: resume it on the same data"
    )]
    OtherData {
        /// The data the checkpoint records.
        recorded: String,
        /// The data of this run.
        this: String,
    },
    /// An evaluation could not gather its samples.
    #[error("evaluation failed: {0}")]
    Evaluation(BatchError),
    /// The thread that evaluates stopped without a result (it panicked).
    #[error("the evaluating thread stopped unexpectedly")]
    EvaluationThread,
}
