//! How a run's checkpoints say their weights were made — batch size,
//! sampling, seed, optimizer and its settings, schedule, dataset — and the
//! list of what a resume would change.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::io::Checkpoint;
use crate::optim::{Method, Optimizer};
use crate::scalar::Scalar;
use crate::train::batches::Sampling;
use crate::train::schedule::{Decay, Schedule};

/// A setting of a run that its checkpoints record, and that a resume must
/// keep unless allowed to change it
/// ([`Fit::allow_change`](super::Fit::allow_change)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Setting {
    /// The batch size.
    BatchSize,
    /// How batches are drawn.
    Sampling,
    /// The seed of the batches.
    Seed,
    /// The optimizer's method and its settings (such as Adam's β₁, β₂).
    Optimizer,
    /// The optimizer's base learning rate.
    LearningRate,
    /// The optimizer's weight decay.
    WeightDecay,
    /// The learning-rate schedule, its warm-up included.
    Schedule,
    /// What the training data is called.
    Dataset,
}

impl Setting {
    /// Every setting, in the order messages list them.
    pub const ALL: [Setting; 8] = [
        Setting::BatchSize,
        Setting::Sampling,
        Setting::Seed,
        Setting::Optimizer,
        Setting::LearningRate,
        Setting::WeightDecay,
        Setting::Schedule,
        Setting::Dataset,
    ];

    /// The setting in words, as messages name it: `"batch size"`.
    pub fn describe(self) -> &'static str {
        match self {
            Setting::BatchSize => "batch size",
            Setting::Sampling => "sampling",
            Setting::Seed => "seed",
            Setting::Optimizer => "optimizer",
            Setting::LearningRate => "learning rate",
            Setting::WeightDecay => "weight decay",
            Setting::Schedule => "schedule",
            Setting::Dataset => "dataset",
        }
    }

    /// Its name in a checkpoint's recorded settings, for those recorded
    /// there (the seed and the dataset have entries of their own).
    fn key(self) -> Option<&'static str> {
        Some(match self {
            Setting::BatchSize => "batch_size",
            Setting::Sampling => "sampling",
            Setting::Optimizer => "optimizer",
            Setting::LearningRate => "learning_rate",
            Setting::WeightDecay => "weight_decay",
            Setting::Schedule => "schedule",
            Setting::Seed | Setting::Dataset => return None,
        })
    }
}

impl fmt::Display for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// A setting that a resume would change: its value in the checkpoint and
/// in this run, as text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SettingChange {
    /// Which setting.
    pub setting: Setting,
    /// Its value in the checkpoint.
    pub recorded: String,
    /// Its value in this run.
    pub this_run: String,
}

impl fmt::Display for SettingChange {
    /// `batch size 50 in the checkpoint, 100 in this run`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} in the checkpoint, {} in this run",
            self.setting, self.recorded, self.this_run
        )
    }
}

/// The settings a checkpoint records, read back: what a program that
/// resumes it can take for the settings its user did not give, so that
/// the resumed run is the run the checkpoint came from. A setting the file
/// does not record (or records in words this version does not read) is
/// `None`.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct RecordedSettings {
    /// The batch size.
    pub batch_size: Option<usize>,
    /// How batches were drawn.
    pub sampling: Option<Sampling>,
    /// The seed of the batches.
    pub seed: Option<u64>,
    /// The optimizer's method with its settings.
    pub method: Option<Method>,
    /// The optimizer's base learning rate.
    pub learning_rate: Option<f64>,
    /// The optimizer's weight decay.
    pub weight_decay: Option<f64>,
    /// The learning-rate schedule, with its warm-up.
    pub schedule: Option<Schedule>,
}

impl RecordedSettings {
    /// The settings `checkpoint` records.
    pub fn of<T>(checkpoint: &Checkpoint<T>) -> RecordedSettings {
        let text = |setting: Setting| setting.key().and_then(|key| checkpoint.settings.get(key));
        let number = |setting| text(setting)?.parse().ok();
        RecordedSettings {
            batch_size: text(Setting::BatchSize).and_then(|t| t.parse().ok()),
            sampling: text(Setting::Sampling).and_then(|t| parse_sampling(t)),
            seed: Some(checkpoint.seed),
            method: text(Setting::Optimizer).and_then(|t| parse_method(t)),
            learning_rate: number(Setting::LearningRate),
            weight_decay: number(Setting::WeightDecay),
            schedule: text(Setting::Schedule).and_then(|t| parse_schedule(t)),
        }
    }
}

/// A run's settings, as its checkpoints record them.
pub(super) struct RunSettings<'a, T: Scalar> {
    pub(super) batch_size: usize,
    pub(super) sampling: Sampling,
    pub(super) seed: u64,
    pub(super) optimizer: &'a Optimizer<T>,
    pub(super) schedule: &'a Schedule,
    pub(super) data_name: Option<&'a str>,
}

impl<T: Scalar> RunSettings<'_, T> {
    /// The value of `setting`, as checkpoints record it (`None`: a
    /// dataset the run does not name).
    fn value_of(&self, setting: Setting) -> Option<String> {
        Some(match setting {
            Setting::BatchSize => self.batch_size.to_string(),
            Setting::Sampling => sampling_text(self.sampling).to_owned(),
            Setting::Seed => self.seed.to_string(),
            Setting::Optimizer => method_text(self.optimizer.method()),
            Setting::LearningRate => self.optimizer.learning_rate().to_string(),
            Setting::WeightDecay => self.optimizer.weight_decay().to_string(),
            Setting::Schedule => schedule_text(self.schedule),
            Setting::Dataset => self.data_name?.to_owned(),
        })
    }

    /// The settings a checkpoint records under names of their own (the
    /// seed and the dataset aside).
    pub(super) fn recorded(&self) -> BTreeMap<String, String> {
        Setting::ALL
            .into_iter()
            .filter_map(|setting| Some((setting.key()?.to_owned(), self.value_of(setting)?)))
            .collect()
    }

    /// What resuming `checkpoint` would change, the `allowed` changes
    /// aside; a setting the checkpoint does not record (a file from before
    /// they were recorded) is not compared.
    pub(super) fn changes_from(
        &self,
        checkpoint: &Checkpoint<T>,
        allowed: &BTreeSet<Setting>,
    ) -> Vec<SettingChange> {
        Setting::ALL
            .into_iter()
            .filter(|setting| !allowed.contains(setting))
            .filter_map(|setting| {
                let recorded = recorded_value(checkpoint, setting)?;
                let this_run = self.value_of(setting)?;
                (recorded != this_run).then_some(SettingChange {
                    setting,
                    recorded,
                    this_run,
                })
            })
            .collect()
    }
}
/// The value of `setting` that `checkpoint` records.
fn recorded_value<T>(checkpoint: &Checkpoint<T>, setting: Setting) -> Option<String> {
    match setting.key() {
        Some(key) => checkpoint.settings.get(key).cloned(),
        None if setting == Setting::Seed => Some(checkpoint.seed.to_string()),
        None => checkpoint.dataset.clone(),
    }
}

fn sampling_text(sampling: Sampling) -> &'static str {
    match sampling {
        Sampling::Draws => "random draws",
        Sampling::Shuffled => "shuffled epochs",
    }
}

/// `adam (β₁ 0.9, β₂ 0.999)`, `sgd`.
fn method_text(method: Method) -> String {
    let name = method.name();
    match method {
        Method::Momentum { momentum } | Method::Nesterov { momentum } => {
            format!("{name} (momentum {momentum})")
        }
        Method::RmsProp { decay_rate } => format!("{name} (decay rate {decay_rate})"),
        Method::Adam { beta1, beta2 } => format!("{name} (β₁ {beta1}, β₂ {beta2})"),
        _ => name.to_owned(),
    }
}

/// `cosine down to 0×, after 100 warm-up steps`.
fn schedule_text(schedule: &Schedule) -> String {
    let decay = match schedule.decay {
        Decay::Constant => "constant".to_owned(),
        Decay::Step { epochs, factor } => format!("×{factor} every {epochs} epochs"),
        Decay::Cosine { floor } => format!("cosine down to {floor}×"),
    };
    match schedule.warmup {
        0 => decay,
        steps => format!("{decay}, after {steps} warm-up steps"),
    }
}

fn parse_sampling(text: &str) -> Option<Sampling> {
    [Sampling::Draws, Sampling::Shuffled]
        .into_iter()
        .find(|&sampling| sampling_text(sampling) == text)
}

/// The method [`method_text`] wrote.
fn parse_method(text: &str) -> Option<Method> {
    let (name, numbers) = match text.split_once(" (") {
        Some((name, rest)) => (name, numbers_in(rest.strip_suffix(')')?)?),
        None => (text, Vec::new()),
    };
    let method = match (Method::from_name(name)?, &numbers[..]) {
        (Method::Momentum { .. }, &[momentum]) => Method::Momentum { momentum },
        (Method::Nesterov { .. }, &[momentum]) => Method::Nesterov { momentum },
        (Method::RmsProp { .. }, &[decay_rate]) => Method::RmsProp { decay_rate },
        (Method::Adam { .. }, &[beta1, beta2]) => Method::Adam { beta1, beta2 },
        (method @ (Method::Sgd | Method::AdaGrad), []) => method,
        _ => return None,
    };
    // Only what `method_text` writes is read back.
    (method_text(method) == text).then_some(method)
}

/// The numbers of `β₁ 0.9, β₂ 0.999`: the last word of each part.
fn numbers_in(text: &str) -> Option<Vec<f64>> {
    text.split(", ")
        .map(|part| part.rsplit(' ').next()?.parse().ok())
        .collect()
}

/// The schedule [`schedule_text`] wrote.
fn parse_schedule(text: &str) -> Option<Schedule> {
    let (decay, warmup) = match text.split_once(", after ") {
        Some((decay, rest)) => (decay, rest.strip_suffix(" warm-up steps")?.parse().ok()?),
        None => (text, 0),
    };
    let decay = if decay == "constant" {
        Decay::Constant
    } else if let Some(floor) = decay.strip_prefix("cosine down to ") {
        Decay::Cosine {
            floor: floor.strip_suffix('×')?.parse().ok()?,
        }
    } else {
        let (factor, epochs) = decay.strip_prefix('×')?.split_once(" every ")?;
        Decay::Step {
            epochs: epochs.strip_suffix(" epochs")?.parse().ok()?,
            factor: factor.parse().ok()?,
        }
    };
    let schedule = Schedule { warmup, decay };
    (schedule_text(&schedule) == text).then_some(schedule)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_read_as_a_person_writes_them() {
        let optimizer = Optimizer::<f32>::adam(0.001).with_weight_decay(0.01);
        let settings = RunSettings {
            batch_size: 50,
            sampling: Sampling::Shuffled,
            seed: 0,
            optimizer: &optimizer,
            schedule: &Schedule::cosine().with_warmup(100),
            data_name: Some("MNIST"),
        };
        let expected = [
            ("batch_size", "50"),
            ("sampling", "shuffled epochs"),
            ("optimizer", "adam (β₁ 0.9, β₂ 0.999)"),
            ("learning_rate", "0.001"),
            ("weight_decay", "0.01"),
            ("schedule", "cosine down to 0×, after 100 warm-up steps"),
        ]
        .map(|(name, value)| (name.to_owned(), value.to_owned()));
        assert_eq!(settings.recorded(), BTreeMap::from(expected));
    }

    #[test]
    fn what_is_recorded_reads_back() {
        let methods = [
            Method::Sgd,
            Method::Momentum { momentum: 0.95 },
            Method::Nesterov { momentum: 0.9 },
            Method::AdaGrad,
            Method::RmsProp { decay_rate: 0.99 },
            Method::Adam {
                beta1: 0.8,
                beta2: 0.999,
            },
        ];
        for method in methods {
            assert_eq!(parse_method(&method_text(method)), Some(method));
        }
        let schedules = [
            Schedule::constant(),
            Schedule::cosine().with_warmup(100),
            Schedule {
                warmup: 0,
                decay: Decay::Cosine { floor: 0.05 },
            },
            Schedule::step_decay(3, 0.1).with_warmup(7),
        ];
        for schedule in schedules {
            assert_eq!(parse_schedule(&schedule_text(&schedule)), Some(schedule));
        }
        for sampling in [Sampling::Draws, Sampling::Shuffled] {
            assert_eq!(parse_sampling(sampling_text(sampling)), Some(sampling));
        }
        assert_eq!(parse_method("adam (β₁ 0.9)"), None);
        assert_eq!(parse_schedule("linear"), None);
    }
}
