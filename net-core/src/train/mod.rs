//! Training: batches of samples, the book's step, and a driver for whole
//! runs.
//!
//! - [`Samples`]: where batches come from — a split of MNIST
//!   ([`ImageSamples`], from [`Mnist::train_samples`](crate::data::Mnist::train_samples)),
//!   or data of one's own held in memory ([`InMemory`]).
//! - [`Batches`]: shuffled epochs or the book's random draws, gathered into
//!   buffers allocated once.
//! - [`Trainer`]: one step of the book's loop — a batch, backpropagation,
//!   the optimizer's update — resumable at any iteration.
//! - [`Fit`]: a whole run — epochs, evaluation, a progress bar, learning-rate
//!   [`Schedule`]s, early stopping, checkpoints, Ctrl-C — giving a
//!   [`History`].

mod batches;
mod eval;
mod fit;
mod samples;
mod schedule;
mod trainer;

pub use batches::{BatchOf, Batches, Sampling};
pub use eval::{evaluate, loss_and_accuracy, mean_loss};
pub use fit::{
    EarlyStopping, EpochRecord, Fit, FitError, History, NoValidation, RecordedSettings,
    Replacement, Setting, SettingChange, StopFlag, Stopped, TrainAccuracy, previous_path,
};
// Where they always were for training code; they live in `data`, which
// implements them for MNIST.
pub use crate::data::{ImageSamples, Samples};
pub use samples::{InMemory, Labels, SamplesError, TargetBatch, ValueRows, Values};
pub use schedule::{Decay, Schedule};
pub use trainer::{TrainError, Trainer};
