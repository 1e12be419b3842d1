//! What a run measured at each evaluation, and how it ended.

use std::fmt;
use std::path::PathBuf;

use crate::io::RecordedEvaluation;

/// What one evaluation measured, at an epoch's end (and before the first
/// step).
#[derive(Clone, Debug, PartialEq)]
pub struct EpochRecord {
    /// Whole epochs done (an evaluation at the end of a run that stops
    /// within an epoch counts it).
    pub epoch: usize,
    /// Steps done.
    pub iteration: usize,
    /// The learning rate of the last step.
    pub learning_rate: f64,
    /// The mean loss of the steps since the last evaluation (`None`
    /// before the first step).
    pub train_loss: Option<f64>,
    /// The accuracy on the whole training set, when asked for.
    pub train_acc: Option<f64>,
    /// The mean loss on the validation set, when there is one.
    pub val_loss: Option<f64>,
    /// The accuracy on the validation set, when there is one.
    pub val_acc: Option<f64>,
}

impl EpochRecord {
    /// The record as one line, the validation set called `validation`
    /// (such as `"test"`): `epoch   1  iter    600  loss 0.7281  train acc
    /// 0.9028  test acc 0.9059  test loss 0.3279`, what was not measured
    /// left out.
    pub fn line(&self, validation: &str) -> String {
        let mut line = format!("epoch {:>3}  iter {:>6}", self.epoch, self.iteration);
        let fields = [
            ("loss", None, self.train_loss),
            ("train acc", None, self.train_acc),
            (validation, Some("acc"), self.val_acc),
            (validation, Some("loss"), self.val_loss),
        ];
        for (name, what, value) in fields {
            if let Some(value) = value {
                let what = what.map(|w| format!(" {w}")).unwrap_or_default();
                line.push_str(&format!("  {name}{what} {value:.4}"));
            }
        }
        line
    }
}

impl fmt::Display for EpochRecord {
    /// The [`line`](EpochRecord::line) with the validation set called
    /// `val`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.line("val"))
    }
}

/// Why a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stopped {
    /// It took all its steps.
    Finished,
    /// Early stopping ended it; the best evaluation was at `best_epoch`.
    EarlyStopping {
        /// The epoch of the lowest validation loss.
        best_epoch: usize,
    },
    /// Its [`StopFlag`](crate::stop::StopFlag) was raised (Ctrl-C, SIGTERM); it stopped after the step
    /// under way and saved its checkpoint.
    Interrupted,
}

/// What became of the file a run's checkpoint replaced.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Replacement {
    /// The run ended at least as well as the file it replaced (or one of
    /// them was not measured): the run's checkpoint is in its place.
    Replaced,
    /// The run ended worse than the file it would have replaced: that file
    /// is back in its place, and the run's own checkpoint is at
    /// `this_run`.
    KeptPrevious {
        /// Where the run's checkpoint is.
        this_run: PathBuf,
        /// How the kept file did.
        previous: RecordedEvaluation,
        /// How the run ended.
        ended: RecordedEvaluation,
    },
    /// The run stopped before its end: its checkpoint is in place, to be
    /// resumed, and the file it replaces waits at `previous` until a run
    /// ends; that run compares itself with it.
    Pending {
        /// Where the replaced file waits.
        previous: PathBuf,
    },
}

/// What a run did: one record per evaluation, and how it ended.
#[derive(Clone, Debug, PartialEq)]
pub struct History {
    /// The evaluations, in order.
    pub epochs: Vec<EpochRecord>,
    /// The step the run started from (0, or a checkpoint's).
    pub start: usize,
    /// Steps done at the end, counting those before `start`.
    pub iterations: usize,
    /// The steps asked for.
    pub total: usize,
    /// Seconds spent in training steps, evaluations aside.
    pub train_seconds: f64,
    /// Why the run ended.
    pub stopped: Stopped,
    /// What became of the checkpoint file the run wrote over, when there
    /// was one.
    pub replacement: Option<Replacement>,
}

impl History {
    /// The last evaluation.
    pub fn last(&self) -> Option<&EpochRecord> {
        self.epochs.last()
    }
}
