//! A whole training run, as Keras' `fit` gives one: epochs of steps, an
//! evaluation after each, a learning-rate schedule, early stopping,
//! checkpoints, and a clean stop on request.
//!
//! Its rooms: the settings ([`Fit`]), what a run records ([`History`]),
//! stopping from outside ([`StopFlag`]), early stopping
//! ([`EarlyStopping`]), the errors ([`FitError`]), the run under way
//! (`run`: one method per phase), the evaluating thread (`evaluation`),
//! and what a run shows while it trains (`progress`).

mod early;
mod error;
mod evaluation;
mod labels;
mod progress;
mod records;
mod run;
mod settings;

pub use crate::stop::StopFlag;
pub use early::EarlyStopping;
pub use error::FitError;
pub use records::{EpochRecord, History, Stopped};
pub use settings::{Fit, NoValidation, TrainAccuracy};
