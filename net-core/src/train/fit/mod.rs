//! A whole training run, as Keras' `fit` gives one: epochs of steps, an
//! evaluation after each, a learning-rate schedule, early stopping,
//! checkpoints, and a clean stop on request.
//!
//! Its rooms: the settings ([`Fit`]), what a run records ([`History`]),
//! stopping from outside ([`StopFlag`]), early stopping
//! ([`EarlyStopping`]), the errors ([`FitError`]), how checkpoints record a run's settings ([`Setting`]), the checkpoint
//! file a run locks and guards (`destination`), the run under way
//! (`run`: one method per phase), the evaluating thread (`evaluation`),
//! and what a run shows while it trains (`progress`).

mod destination;
mod early;
mod error;
mod evaluation;
mod labels;
mod progress;
mod recipe;
mod records;
mod run;
mod settings;

pub use crate::stop::StopFlag;
pub use destination::previous_path;
pub use early::EarlyStopping;
pub use error::FitError;
pub use recipe::{RecordedSettings, Setting, SettingChange};
pub use records::{EpochRecord, History, Replacement, Stopped};
pub use settings::{Fit, NoValidation, TrainAccuracy};
