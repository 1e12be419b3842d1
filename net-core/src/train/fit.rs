//! A whole training run, as Keras' `fit` gives one: epochs of steps, an
//! evaluation after each, a learning-rate schedule, early stopping,
//! checkpoints, and a clean stop on request.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Instant;

use super::batches::{Sampling, check_batch_size, iters_per_epoch};
use super::progress::Progress;
use super::{Samples, Schedule, TargetBatch, TrainError, Trainer, evaluate, loss_and_accuracy};
use crate::data::BatchError;
use crate::io::{Checkpoint, CheckpointMeta, IoError, check_writable, save_checkpoint};
use crate::optim::{Optimizer, StateError};
use crate::{Batch, Network, Scalar, Shape};

/// Samples per forward pass when evaluating.
const EVAL_CHUNK: usize = 500;

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
    optimizer: Optimizer<T>,
    length: Length,
    batch_size: usize,
    sampling: Sampling,
    seed: u64,
    schedule: Schedule,
    validation: Option<&'a V>,
    validation_name: &'static str,
    train_accuracy: TrainAccuracy,
    early_stopping: Option<EarlyStopping>,
    checkpoint: Option<PathBuf>,
    resume: Option<Checkpoint<T>>,
    data_name: Option<String>,
    progress: bool,
    stop: StopFlag,
    on_epoch: Option<EpochCallback<'a>>,
}

/// What [`Fit::on_epoch`] calls with each evaluation's record.
type EpochCallback<'a> = Box<dyn FnMut(&EpochRecord) + Send + 'a>;

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

/// When a run stops before its end: after `patience` evaluations in a row
/// whose validation loss is not below the best by more than `min_delta`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EarlyStopping {
    /// Evaluations without improvement before stopping.
    pub patience: usize,
    /// The least decrease of the validation loss that counts.
    pub min_delta: f64,
    /// Whether the network gets back the weights of its best evaluation.
    pub restore_best: bool,
}

impl EarlyStopping {
    /// Stops after `patience` evaluations without improvement and restores
    /// the best weights.
    pub fn after(patience: usize) -> Self {
        EarlyStopping {
            patience,
            min_delta: 0.0,
            restore_best: true,
        }
    }
}

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
    /// Its [`StopFlag`] was raised (Ctrl-C); it stopped after the step
    /// under way and saved its checkpoint.
    Interrupted,
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
}

impl History {
    /// The last evaluation.
    pub fn last(&self) -> Option<&EpochRecord> {
        self.epochs.last()
    }
}

/// A flag that stops a run after the step under way: raise it from
/// another thread, or from Ctrl-C with [`StopFlag::on_ctrl_c`].
#[derive(Clone, Debug, Default)]
pub struct StopFlag(Arc<AtomicUsize>);

impl StopFlag {
    /// A flag not raised.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks the run to stop after the step under way.
    pub fn raise(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }

    /// Whether the flag was raised.
    pub fn is_raised(&self) -> bool {
        self.0.load(Ordering::SeqCst) > 0
    }

    /// A flag that Ctrl-C raises: the first press stops the run after its
    /// step (it saves its checkpoint and returns), the second ends the
    /// process at once with status 130, as a shell expects of an
    /// interrupted program. A process has one such handler.
    ///
    /// # Errors
    /// When a handler is already set, or the platform refuses one.
    #[cfg(feature = "ctrl-c")]
    pub fn on_ctrl_c() -> Result<Self, ctrlc::Error> {
        let flag = StopFlag::new();
        let raised = flag.clone();
        ctrlc::set_handler(move || {
            if raised.0.fetch_add(1, Ordering::SeqCst) > 0 {
                eprintln!("\ninterrupted again: exiting at once");
                std::process::exit(130);
            }
        })?;
        Ok(flag)
    }
}

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
            data_name: None,
            progress: true,
            stop: StopFlag::new(),
            on_epoch: None,
        }
    }
}

impl<'a, T: Scalar, V> Fit<'a, T, V> {
    /// Runs `epochs` epochs of the training data (the book's
    /// `iter_per_epoch = max(train_size / batch_size, 1)` steps each).
    pub fn epochs(mut self, epochs: usize) -> Self {
        self.length = Length::Epochs(epochs);
        self
    }

    /// Runs `steps` steps in all (the book's `iters_num`), counting those
    /// of a checkpoint resumed.
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

    /// Writes a checkpoint (weights, optimizer state, iteration, seed) to
    /// `path` after each epoch, at the end, and when stopped by the
    /// [`StopFlag`]. That `path` can be written is checked before the
    /// first step.
    pub fn checkpoint(mut self, path: impl Into<PathBuf>) -> Self {
        self.checkpoint = Some(path.into());
        self
    }

    /// Continues from `checkpoint`, loaded into the network with
    /// [`load_checkpoint`](crate::io::load_checkpoint): its optimizer
    /// state, its iteration and its seed. The run then takes the same
    /// batches, at the same rates, as one that never stopped.
    pub fn resume(mut self, checkpoint: Checkpoint<T>) -> Self {
        self.resume = Some(checkpoint);
        self
    }

    /// Names the training data (such as `"MNIST"`) in the checkpoints, and
    /// refuses to resume a checkpoint that names other data.
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
    /// rate, the weight decay, the batch size, the schedule — as
    /// [`run`](Fit::run) does first: a program can refuse bad settings
    /// before it loads anything.
    pub fn check_settings(&self) -> Result<(), FitError> {
        let rate = self.optimizer.learning_rate();
        if !(rate > 0.0 && rate.is_finite()) {
            return Err(TrainError::LearningRate(rate).into());
        }
        let lambda = self.optimizer.weight_decay();
        if !(lambda >= 0.0 && lambda.is_finite()) {
            return Err(TrainError::WeightDecay(lambda).into());
        }
        if self.batch_size == 0 {
            return Err(TrainError::EmptyBatch.into());
        }
        self.schedule.validate().map_err(FitError::Schedule)
    }

    /// Checks every setting against a training set of `train_len` samples.
    fn validate(&self, train_len: usize) -> Result<(), FitError> {
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
            if let (Some(recorded), Some(this)) = (&checkpoint.dataset, &self.data_name) {
                if recorded != this {
                    return Err(FitError::OtherData {
                        recorded: recorded.clone(),
                        this: this.clone(),
                    });
                }
            }
        }
        if let Some(path) = &self.checkpoint {
            check_writable(path)?;
        }
        Ok(())
    }
}

/// What the training thread hands to the evaluating thread: a copy of the
/// network at an evaluation.
struct Snapshot<N> {
    epoch: usize,
    iteration: usize,
    learning_rate: f64,
    train_loss: Option<f64>,
    /// At the end, the training thread measures the training accuracy
    /// itself, in parallel, and sends it here.
    train_acc: Option<mpsc::Receiver<Result<f64, BatchError>>>,
    net: N,
}

impl<'a, T: Scalar, V> Fit<'a, T, V> {
    /// Trains `net` on `train`: the whole run. Returns its history; a run
    /// stopped by its [`StopFlag`] returns too, with
    /// [`Stopped::Interrupted`], after saving its checkpoint.
    ///
    /// # Errors
    /// A setting out of range (before any step), a checkpoint that cannot
    /// be written (its destination is checked before any step), a loss
    /// that is not finite (the parameters keep their values from before
    /// that step), or data that cannot be gathered.
    pub fn run<N, D>(mut self, net: &mut N, train: &D) -> Result<History, FitError>
    where
        N: Network<T> + Clone + Send,
        D: Samples<T, N::In> + Sync,
        D::Targets: TargetBatch<T, N::Out>,
        V: Samples<T, N::In, Targets: TargetBatch<T, N::Out>> + Sync,
    {
        let len = train.len();
        self.validate(len)?;
        let total = self.total_steps(len);
        let per_epoch = iters_per_epoch(len, self.batch_size);
        let (mut start, mut seed) = (0, self.seed);
        let mut optimizer = self.optimizer.clone();
        if let Some(checkpoint) = &self.resume {
            optimizer.restore(net, checkpoint)?;
            start = usize::try_from(checkpoint.iteration).unwrap_or(usize::MAX);
            seed = checkpoint.seed;
        }
        let base_rate = optimizer.learning_rate();
        let mut trainer = Trainer::<T, N::In, D::Targets>::with_optimizer(
            optimizer,
            self.batch_size,
            self.sampling,
            seed,
            len,
        )?;
        let progress = Progress::new(self.progress, total, start);
        let save = |net: &N, trainer: &Trainer<T, N::In, D::Targets>, done: usize| {
            let Some(path) = &self.checkpoint else {
                return Ok::<(), FitError>(());
            };
            let meta = CheckpointMeta {
                iteration: done as u64,
                seed,
                optimizer: trainer.optimizer().method().name(),
                dataset: self.data_name.as_deref(),
            };
            save_checkpoint(net, &meta, &trainer.optimizer().state_tensors(), path)?;
            Ok(())
        };
        let (validation, train_accuracy) = (self.validation, self.train_accuracy);
        let validation_name = self.validation_name;
        let early = self.early_stopping.filter(|_| validation.is_some());
        let stop = &self.stop;
        let mut on_epoch = self.on_epoch.take();

        let outcome = std::thread::scope(|scope| -> Result<_, FitError> {
            let (snapshots, inbox) = mpsc::channel::<Snapshot<N>>();
            let (results, outbox) = mpsc::channel::<(EpochRecord, N)>();
            let progress = &progress;
            let evaluator = scope.spawn(move || -> Result<(), FitError> {
                for snapshot in inbox {
                    if stop.is_raised() {
                        break; // Stopping: no more evaluations.
                    }
                    let mut net = snapshot.net;
                    let (val_loss, val_acc) = match validation {
                        Some(data) => {
                            let (loss, acc) = loss_and_accuracy(&mut net, data, EVAL_CHUNK)
                                .map_err(FitError::Evaluation)?;
                            (Some(loss), Some(acc))
                        }
                        None => (None, None),
                    };
                    let train_acc = match snapshot.train_acc {
                        Some(measured) => Some(
                            measured
                                .recv()
                                .map_err(|_| FitError::EvaluationThread)?
                                .map_err(FitError::Evaluation)?,
                        ),
                        None if train_accuracy == TrainAccuracy::EachEpoch => Some(
                            evaluate(&mut net, train, EVAL_CHUNK).map_err(FitError::Evaluation)?,
                        ),
                        None => None,
                    };
                    let record = EpochRecord {
                        epoch: snapshot.epoch,
                        iteration: snapshot.iteration,
                        learning_rate: snapshot.learning_rate,
                        train_loss: snapshot.train_loss,
                        train_acc,
                        val_loss,
                        val_acc,
                    };
                    progress.epoch(&record, validation_name);
                    if let Some(f) = on_epoch.as_mut() {
                        f(&record);
                    }
                    // The training thread may have returned already.
                    let _ = results.send((record, net));
                }
                Ok(())
            });

            let mut back = Returned::new(early);
            let mut train_seconds = 0.0;
            let mut losses = MeanLoss::default();
            let mut learning_rate = base_rate;
            let mut done = start;
            let mut stopped = Stopped::Finished;
            let mut evaluator_gone = false;
            'steps: for iteration in start..total {
                if iteration % per_epoch == 0 {
                    // At most one evaluation runs while the training goes
                    // on, so copies of the network do not pile up and early
                    // stopping is at most one epoch late.
                    while back.pending > 0 {
                        let Ok(evaluation) = outbox.recv() else {
                            evaluator_gone = true;
                            break 'steps;
                        };
                        back.take(evaluation);
                    }
                    if let Some(best_epoch) = back.watch.exhausted() {
                        stopped = Stopped::EarlyStopping { best_epoch };
                        break;
                    }
                    let train_loss = losses.take();
                    let snapshot = Snapshot {
                        epoch: iteration / per_epoch,
                        iteration,
                        learning_rate,
                        train_loss,
                        train_acc: None,
                        net: net.clone(),
                    };
                    if snapshots.send(snapshot).is_err() {
                        evaluator_gone = true;
                        break;
                    }
                    back.pending += 1;
                    if done > start {
                        save(net, &trainer, done)?;
                    }
                }
                learning_rate = base_rate * self.schedule.factor(iteration, total, per_epoch);
                trainer.optimizer_mut().set_learning_rate(learning_rate);
                let step = Instant::now();
                let loss = trainer.step(net, train, iteration)?.as_f64();
                train_seconds += step.elapsed().as_secs_f64();
                done = iteration + 1;
                losses.add(loss);
                progress.step(done, loss);
                outbox
                    .try_iter()
                    .for_each(|evaluation| back.take(evaluation));
                if stop.is_raised() {
                    break;
                }
                if let Some(best_epoch) = back.watch.exhausted() {
                    stopped = Stopped::EarlyStopping { best_epoch };
                    break;
                }
            }
            if stop.is_raised() {
                stopped = Stopped::Interrupted;
            } else if evaluator_gone {
                // The evaluating thread returned early: its error says why.
                drop(snapshots);
                evaluator.join().map_err(|_| FitError::EvaluationThread)??;
                return Err(FitError::EvaluationThread);
            }
            if stopped == Stopped::Interrupted {
                drop(snapshots);
                evaluator.join().map_err(|_| FitError::EvaluationThread)??;
                outbox
                    .try_iter()
                    .for_each(|evaluation| back.take(evaluation));
                save(net, &trainer, done)?;
                return Ok((back.history, train_seconds, done, stopped));
            }
            // Both cores are free now: the training accuracy is measured
            // here while the other thread measures the validation set.
            let (report, measured) = mpsc::channel();
            let train_loss = losses.take();
            snapshots
                .send(Snapshot {
                    epoch: done.div_ceil(per_epoch),
                    iteration: done,
                    learning_rate,
                    train_loss,
                    train_acc: (train_accuracy != TrainAccuracy::Never).then_some(measured),
                    net: net.clone(),
                })
                .map_err(|_| FitError::EvaluationThread)?;
            if train_accuracy != TrainAccuracy::Never {
                // A closed channel means the evaluating thread failed; the
                // join below reports its error.
                let _ = report.send(evaluate(net, train, EVAL_CHUNK));
            }
            drop(snapshots);
            evaluator.join().map_err(|_| FitError::EvaluationThread)??;
            outbox
                .try_iter()
                .for_each(|evaluation| back.take(evaluation));
            if let Stopped::EarlyStopping { .. } = stopped {
                if let Some(best) = back.watch.take_best() {
                    *net = best;
                }
            }
            Ok((back.history, train_seconds, done, stopped))
        });
        progress.finish();
        let (epochs, train_seconds, iterations, stopped) = outcome?;
        if stopped != Stopped::Interrupted {
            save(net, &trainer, iterations)?;
        }
        Ok(History {
            epochs,
            start,
            iterations,
            total,
            train_seconds,
            stopped,
        })
    }
}

/// The mean of the losses since the last evaluation.
#[derive(Default)]
struct MeanLoss {
    sum: f64,
    count: usize,
}

impl MeanLoss {
    fn add(&mut self, loss: f64) {
        self.sum += loss;
        self.count += 1;
    }

    /// The mean so far (`None` with no step), starting afresh.
    fn take(&mut self) -> Option<f64> {
        let mean = (self.count > 0).then(|| self.sum / self.count as f64);
        *self = MeanLoss::default();
        mean
    }
}

/// The evaluations that came back from the evaluating thread: the history,
/// early stopping's watch over it, and how many are still out.
struct Returned<N> {
    history: Vec<EpochRecord>,
    watch: EarlyWatch<N>,
    pending: usize,
}

impl<N> Returned<N> {
    fn new(early_stopping: Option<EarlyStopping>) -> Self {
        Returned {
            history: Vec::new(),
            watch: EarlyWatch::new(early_stopping),
            pending: 0,
        }
    }

    /// Takes in an evaluation's record and the network it measured.
    fn take(&mut self, (record, evaluated): (EpochRecord, N)) {
        self.pending = self.pending.saturating_sub(1);
        self.watch.see(&record, evaluated);
        self.history.push(record);
    }
}

/// Early stopping's watch over the validation loss: the best evaluation so
/// far, its network, and how many evaluations have not improved on it.
struct EarlyWatch<N> {
    settings: Option<EarlyStopping>,
    best: Option<(f64, usize, Option<N>)>,
    stale: usize,
}

impl<N> EarlyWatch<N> {
    fn new(settings: Option<EarlyStopping>) -> Self {
        EarlyWatch {
            settings,
            best: None,
            stale: 0,
        }
    }

    /// Takes in an evaluation of the network `evaluated`.
    fn see(&mut self, record: &EpochRecord, evaluated: N) {
        let (Some(settings), Some(loss)) = (self.settings, record.val_loss) else {
            return;
        };
        let improved = match &self.best {
            Some((best, ..)) => loss < best - settings.min_delta,
            None => true,
        };
        if improved {
            let kept = settings.restore_best.then_some(evaluated);
            self.best = Some((loss, record.epoch, kept));
            self.stale = 0;
        } else {
            self.stale += 1;
        }
    }

    /// The best epoch, once `patience` evaluations in a row have not
    /// improved on it.
    fn exhausted(&self) -> Option<usize> {
        let settings = self.settings?;
        let (_, epoch, _) = self.best.as_ref()?;
        (self.stale >= settings.patience.max(1)).then_some(*epoch)
    }

    /// The best network, kept when the settings say to restore it.
    fn take_best(&mut self) -> Option<N> {
        self.best.take().and_then(|(_, _, net)| net)
    }
}
