//! A run's settings: [`Fit`], its builder methods, and their checks.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::early::EarlyStopping;
use super::error::FitError;
use super::recipe::{RunSettings, Setting};
use super::records::EpochRecord;
use crate::data::BatchError;
use crate::data::Samples;
use crate::io::{Checkpoint, check_writable, read_header};
use crate::optim::Optimizer;
use crate::scalar::Scalar;
use crate::shape::{Batch, Shape};
use crate::stop::StopFlag;
use crate::train::batches::{Sampling, check_batch_size, iters_per_epoch};
use crate::train::schedule::Schedule;
use crate::train::trainer::{TrainError, check_optimizer};

/// A training run: the settings, then [`run`](Fit::run) on a network and
/// its data. Every setting has a default but the optimizer. With the
/// `staticnet` crate (the README's first program, tested there):
///
/// ```ignore
/// use staticnet::prelude::*;
/// use staticnet::data::{LoadOptions, load_mnist};
/// use staticnet::train::{Fit, Schedule};
///
/// network! { pub struct Net<Affine<784, 100>, Relu, Affine<100, 10>, SoftmaxWithLoss> }
///
/// let mnist = load_mnist("data/mnist", &LoadOptions::default())?;
/// let mut net = Net::init(&mut StdRng::seed_from_u64(0), Init::He);
/// let history = Fit::new(Optimizer::adam(0.001))
///     .epochs(3)
///     .schedule(Schedule::cosine())
///     .validation(&mnist.test_samples())
///     .run(&mut net, &mnist.train_samples())?;
/// println!("test accuracy {:.4}", history.last().and_then(|e| e.val_acc).unwrap_or(0.0));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Evaluations run on a copy of the network on another thread while the
/// training goes on, so the network must be `Clone + Send` (a network that
/// `network!` declares is).
pub struct Fit<'a, T: Scalar, V = NoValidation> {
    pub(super) optimizer: Optimizer<T>,
    length: Length,
    pub(super) batch_size: usize,
    pub(super) sampling: Sampling,
    pub(super) seed: u64,
    pub(super) schedule: Schedule,
    pub(super) validation: Option<&'a V>,
    pub(super) validation_name: &'static str,
    pub(super) train_accuracy: TrainAccuracy,
    pub(super) early_stopping: Option<EarlyStopping>,
    pub(super) checkpoint: Option<PathBuf>,
    pub(super) resume: Option<Checkpoint<T>>,
    pub(super) allowed_changes: BTreeSet<Setting>,
    pub(super) overwrite: bool,
    pub(super) data_name: Option<String>,
    pub(super) progress: bool,
    pub(super) stop: StopFlag,
    pub(super) on_epoch: Option<EpochCallback<'a>>,
}

/// What [`Fit::on_epoch`] calls with each evaluation's record.
pub(super) type EpochCallback<'a> = Box<dyn FnMut(&EpochRecord) + Send + 'a>;

/// How long a run is.
#[derive(Clone, Copy, Debug)]
enum Length {
    Epochs(usize),
    Steps(usize),
}

/// When a [`Fit`] measures the accuracy on the whole training set.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TrainAccuracy {
    /// Never.
    #[default]
    Never,
    /// At the last evaluation only (on the training thread, while the
    /// other thread measures the validation set).
    AtEnd,
    /// At every evaluation, as the book's loop does.
    EachEpoch,
}

/// The validation set of a [`Fit`] that has none: no samples.
#[derive(Clone, Copy, Debug)]
pub struct NoValidation;

impl<T: Scalar, S: Shape> Samples<T, S> for NoValidation {
    type Targets = Vec<usize>;

    fn len(&self) -> usize {
        0
    }

    fn gather(
        &self,
        indices: &[usize],
        _: &mut Batch<T, S>,
        _: &mut Vec<usize>,
    ) -> Result<(), BatchError> {
        match indices.first() {
            Some(&index) => Err(BatchError::IndexOutOfRange {
                position: 0,
                index,
                len: 0,
            }),
            None => Ok(()),
        }
    }
}

impl<'a, T: Scalar> Fit<'a, T> {
    /// A run with `optimizer`, for one epoch of batches of 100, the book's
    /// random draws from seed 0, a constant rate, with a progress bar and
    /// no validation set.
    pub fn new(optimizer: Optimizer<T>) -> Self {
        Fit {
            optimizer,
            length: Length::Epochs(1),
            batch_size: 100,
            sampling: Sampling::Draws,
            seed: 0,
            schedule: Schedule::constant(),
            validation: None,
            validation_name: "val",
            train_accuracy: TrainAccuracy::Never,
            early_stopping: None,
            checkpoint: None,
            resume: None,
            allowed_changes: BTreeSet::new(),
            overwrite: false,
            data_name: None,
            progress: true,
            stop: StopFlag::new(),
            on_epoch: None,
        }
    }
}

impl<'a, T: Scalar, V> Fit<'a, T, V> {
    /// Runs `epochs` epochs of the training data (the book's
    /// `iter_per_epoch = max(train_size / batch_size, 1)` steps each); at
    /// least 1 ([`run`](Fit::run) refuses 0 before any step).
    pub fn epochs(mut self, epochs: usize) -> Self {
        self.length = Length::Epochs(epochs);
        self
    }

    /// Runs `steps` steps in all (the book's `iters_num`), counting those
    /// of a checkpoint resumed; at least 1 ([`run`](Fit::run) refuses 0
    /// before any step).
    pub fn steps(mut self, steps: usize) -> Self {
        self.length = Length::Steps(steps);
        self
    }

    /// Samples per mini-batch.
    pub fn batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size;
        self
    }

    /// How batches are drawn: the book's random draws (the default) or
    /// shuffled epochs.
    pub fn sampling(mut self, sampling: Sampling) -> Self {
        self.sampling = sampling;
        self
    }

    /// The seed of every batch.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The learning rate of each step, as a factor of the optimizer's.
    pub fn schedule(mut self, schedule: Schedule) -> Self {
        self.schedule = schedule;
        self
    }

    /// Evaluates on `validation` before the first step, after each epoch
    /// and at the end.
    pub fn validation<W>(self, validation: &'a W) -> Fit<'a, T, W> {
        Fit {
            optimizer: self.optimizer,
            length: self.length,
            batch_size: self.batch_size,
            sampling: self.sampling,
            seed: self.seed,
            schedule: self.schedule,
            validation: Some(validation),
            validation_name: self.validation_name,
            train_accuracy: self.train_accuracy,
            early_stopping: self.early_stopping,
            checkpoint: self.checkpoint,
            resume: self.resume,
            allowed_changes: self.allowed_changes,
            overwrite: self.overwrite,
            data_name: self.data_name,
            progress: self.progress,
            stop: self.stop,
            on_epoch: self.on_epoch,
        }
    }

    /// What the progress lines call the validation set (`"val"` unless
    /// said): `"test"` when it is the test set, as in the book.
    pub fn validation_name(mut self, name: &'static str) -> Self {
        self.validation_name = name;
        self
    }

    /// Also measures the accuracy on the whole training set: at each
    /// evaluation (as the book's loop does), or at the end only. A pass
    /// over the training set costs as much as one over the validation set
    /// times their ratio of sizes.
    pub fn train_accuracy(mut self, when: TrainAccuracy) -> Self {
        self.train_accuracy = when;
        self
    }

    /// Stops early when the validation loss stops improving (it needs a
    /// validation set).
    pub fn early_stopping(mut self, early_stopping: EarlyStopping) -> Self {
        self.early_stopping = Some(early_stopping);
        self
    }

    /// Writes a checkpoint (weights, optimizer state, the settings of
    /// [`Setting`], and how the weights did on the validation set when
    /// they were measured) to `path` after each epoch, at the end, and
    /// when stopped by the [`StopFlag`].
    ///
    /// The file is locked for the run: a second run writing it is refused
    /// before any step, naming the holder. A file already at `path` is
    /// refused before any step too, unless the run resumes it or is
    /// allowed to [`overwrite`](Fit::overwrite) it; the file it replaces
    /// is kept beside it (`run.previous.ckpt`) until the run ends, and
    /// stays in place, the run's own checkpoint moved to
    /// `run.worse.ckpt`, when the run ends worse on the validation set (by
    /// more than a percentage point of accuracy, or 10 % of loss without
    /// accuracies): [`History::replacement`](super::History::replacement)
    /// says which. That `path` can be written is checked before the first
    /// step.
    pub fn checkpoint(mut self, path: impl Into<PathBuf>) -> Self {
        self.checkpoint = Some(path.into());
        self
    }

    /// Lets the run write its checkpoint over a file it does not resume
    /// from (`false` by default).
    pub fn overwrite(mut self, allowed: bool) -> Self {
        self.overwrite = allowed;
        self
    }

    /// Continues from `checkpoint`, loaded into the network with
    /// [`load_checkpoint`](crate::io::load_checkpoint): its optimizer
    /// state and its iteration. The run then takes the same batches, at
    /// the same rates, as one that never stopped: a run whose settings
    /// differ from those the checkpoint records (see [`Setting`]) is
    /// refused before any step with [`FitError::SettingsChanged`], naming
    /// each difference, unless each is allowed with
    /// [`allow_change`](Fit::allow_change).
    pub fn resume(mut self, checkpoint: Checkpoint<T>) -> Self {
        self.resume = Some(checkpoint);
        self
    }

    /// Lets a resumed run change `setting` on purpose (a smaller learning
    /// rate to fine-tune, another dataset); may be called for several.
    pub fn allow_change(mut self, setting: Setting) -> Self {
        self.allowed_changes.insert(setting);
        self
    }

    /// Names the training data (such as `"MNIST"`) in the checkpoints; a
    /// resume of a checkpoint that names other data is refused unless
    /// allowed ([`Setting::Dataset`]).
    pub fn data_name(mut self, name: impl Into<String>) -> Self {
        self.data_name = Some(name.into());
        self
    }

    /// Shows a progress bar on a terminal, or one line per evaluation
    /// elsewhere (`true`, the default); nothing with `false`.
    pub fn progress(mut self, shown: bool) -> Self {
        self.progress = shown;
        self
    }

    /// Stops after the step under way when `flag` is raised.
    pub fn stop_flag(mut self, flag: StopFlag) -> Self {
        self.stop = flag;
        self
    }

    /// Calls `f` with each evaluation's record, from the evaluating thread.
    pub fn on_epoch(mut self, f: impl FnMut(&EpochRecord) + Send + 'a) -> Self {
        self.on_epoch = Some(Box::new(f));
        self
    }

    /// The steps of the run on a training set of `train_len` samples.
    pub fn total_steps(&self, train_len: usize) -> usize {
        match self.length {
            Length::Epochs(epochs) => {
                epochs.saturating_mul(iters_per_epoch(train_len, self.batch_size))
            }
            Length::Steps(steps) => steps,
        }
    }

    /// Checks the settings that do not depend on the data — the learning
    /// rate, the weight decay, the batch size, the schedule, the resume,
    /// the checkpoint path — as [`run`](Fit::run) does first: a program can
    /// refuse bad settings before it loads anything.
    ///
    /// # Errors
    /// A learning rate that is not positive, a negative weight decay, an
    /// empty batch, a schedule out of range, a run of 0 epochs or 0
    /// steps ([`FitError::NothingToTrain`]), a resume that changes a
    /// setting ([`FitError::SettingsChanged`]), a checkpoint path holding a
    /// file the run may not write over ([`FitError::WouldOverwrite`]).
    pub fn check_settings(&self) -> Result<(), FitError> {
        match self.length {
            Length::Epochs(0) => return Err(FitError::NothingToTrain { unit: "epochs" }),
            Length::Steps(0) => return Err(FitError::NothingToTrain { unit: "steps" }),
            _ => {}
        }
        check_optimizer(&self.optimizer)?;
        if self.batch_size == 0 {
            return Err(TrainError::EmptyBatch.into());
        }
        self.schedule.validate().map_err(FitError::Schedule)?;
        if let Some(checkpoint) = &self.resume {
            let changes = self
                .run_settings()
                .changes_from(checkpoint, &self.allowed_changes);
            if !changes.is_empty() {
                return Err(FitError::SettingsChanged { changes });
            }
        }
        match &self.checkpoint {
            Some(path) => self.check_overwrite(path),
            None => Ok(()),
        }
    }

    /// Refuses a checkpoint path that holds a file this run neither
    /// resumes nor may overwrite.
    fn check_overwrite(&self, path: &Path) -> Result<(), FitError> {
        // Anything but a file is for `check_writable` to word.
        if self.overwrite || !path.is_file() {
            return Ok(());
        }
        let resumed = self
            .resume
            .as_ref()
            .and_then(|checkpoint| checkpoint.source.as_deref())
            .is_some_and(|source| is_same_file(source, path));
        if resumed {
            return Ok(());
        }
        Err(FitError::WouldOverwrite {
            path: path.to_path_buf(),
            iteration: read_header(path).ok().and_then(|header| header.iteration),
        })
    }

    /// The settings its checkpoints record.
    pub(super) fn run_settings(&self) -> RunSettings<'_, T> {
        RunSettings {
            batch_size: self.batch_size,
            sampling: self.sampling,
            seed: self.seed,
            optimizer: &self.optimizer,
            schedule: &self.schedule,
            data_name: self.data_name.as_deref(),
        }
    }

    /// The step the run starts from: 0, or the iteration of the
    /// checkpoint it resumes.
    pub(super) fn start(&self) -> usize {
        self.resume.as_ref().map_or(0, |checkpoint| {
            usize::try_from(checkpoint.iteration).unwrap_or(usize::MAX)
        })
    }

    /// Checks every setting against a training set of `train_len` samples.
    pub(super) fn validate(&self, train_len: usize) -> Result<(), FitError> {
        self.check_settings()?;
        check_batch_size(self.batch_size, train_len)?;
        if let Some(checkpoint) = &self.resume {
            let total = self.total_steps(train_len);
            if checkpoint.iteration >= total as u64 {
                return Err(FitError::AlreadyTrained {
                    at: checkpoint.iteration,
                    total,
                });
            }
        }
        if let Some(path) = &self.checkpoint {
            check_writable(path)?;
        }
        Ok(())
    }
}

/// Whether two existing paths name one file.
fn is_same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}
