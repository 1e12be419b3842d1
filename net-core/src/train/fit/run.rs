//! The run under way: a value made from the settings, whose methods are its
//! phases — preparing (or resuming), the steps with an evaluation at each
//! epoch's start, the checkpoints, the last evaluation, and the end.

use std::collections::BTreeMap;
use std::sync::mpsc;
use std::time::Instant;

use super::destination::Destination;
use super::early::EarlyWatch;
use super::error::FitError;
use super::evaluation::{EVAL_CHUNK, Evaluations, Evaluator, Snapshot};
use super::labels::check_targets;
use super::progress::Progress;
use super::records::{EpochRecord, History, Stopped};
use super::settings::{Fit, TrainAccuracy};
use crate::data::BatchError;
use crate::data::Samples;
use crate::io::{CheckpointMeta, RecordedEvaluation, save_checkpoint};
use crate::network::Network;
use crate::scalar::Scalar;
use crate::stop::StopFlag;
use crate::train::batches::iters_per_epoch;
use crate::train::eval::evaluate;
use crate::train::samples::TargetBatch;
use crate::train::schedule::Schedule;
use crate::train::trainer::Trainer;

impl<T: Scalar, V> Fit<'_, T, V> {
    /// Trains `net` on `train`: the whole run. Returns its history; a run
    /// stopped by its [`StopFlag`] returns too, with
    /// [`Stopped::Interrupted`], after saving its checkpoint.
    ///
    /// # Errors
    /// A setting out of range, 0 epochs or 0 steps included
    /// ([`FitError::NothingToTrain`]) (before any step), a label of the
    /// training or the validation data that is not one of the network's
    /// classes ([`FitError::Targets`], naming the sample and the label:
    /// every sample is checked before any step), a checkpoint that cannot
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
        self.validate(train.len())?;
        check_targets::<T, N, D>(train, "training")?;
        if let Some(validation) = self.validation {
            check_targets::<T, N, V>(validation, "validation")?;
        }
        let on_epoch = self.on_epoch.take();
        let mut run = Run::prepare(&self, net, train)?;
        let progress = Progress::new(self.progress, run.total, run.start);
        let evaluator = Evaluator {
            validation: self.validation,
            validation_name: self.validation_name,
            train,
            train_accuracy: self.train_accuracy,
            stop: &self.stop,
            progress: &progress,
            on_epoch,
        };
        let watch = EarlyWatch::new(self.early_stopping.filter(|_| self.validation.is_some()));
        let outcome = std::thread::scope(|scope| {
            run.alongside(evaluator.spawn::<T, N>(scope, watch), &progress)
        });
        progress.finish();
        let (stopped, epochs) = outcome?;
        run.finish(stopped, epochs)
    }
}

/// A run under way: what it trains, with what, and how far it is.
struct Run<'r, T: Scalar, N: Network<T>, D: Samples<T, N::In>> {
    net: &'r mut N,
    train: &'r D,
    trainer: Trainer<T, N::In, D::Targets>,
    schedule: Schedule,
    /// The optimizer's rate, that the schedule scales.
    base_rate: f64,
    train_accuracy: TrainAccuracy,
    stop: &'r StopFlag,
    checkpoint: Option<Destination>,
    /// The settings the checkpoints record, by name.
    settings: BTreeMap<String, String>,
    data_name: Option<&'r str>,
    /// What the validation set is called, in the evaluations the
    /// checkpoints record.
    validation_name: &'static str,
    /// The seed of the batches, which the checkpoints record.
    seed: u64,
    /// The step the run started from (0, or a checkpoint's).
    start: usize,
    total: usize,
    per_epoch: usize,
    /// Steps done, counting those before `start`.
    done: usize,
    /// The rate of the last step.
    learning_rate: f64,
    losses: MeanLoss,
    /// Seconds spent in steps, evaluations aside.
    train_seconds: f64,
}

impl<'r, T, N, D> Run<'r, T, N, D>
where
    T: Scalar,
    N: Network<T> + Clone,
    D: Samples<T, N::In>,
    D::Targets: TargetBatch<T, N::Out>,
{
    /// The run that `fit` sets on `net` and `train`, the optimizer
    /// restored from the checkpoint it resumes, its checkpoint file
    /// locked.
    fn prepare<V>(fit: &'r Fit<'_, T, V>, net: &'r mut N, train: &'r D) -> Result<Self, FitError> {
        let len = train.len();
        let start = fit.start();
        let seed = fit.seed;
        let mut optimizer = fit.optimizer.clone();
        if let Some(checkpoint) = &fit.resume {
            optimizer.restore(
                net,
                &checkpoint.optimizer,
                checkpoint.iteration,
                &checkpoint.state_entries(),
            )?;
        }
        let base_rate = optimizer.learning_rate();
        let trainer = Trainer::new(optimizer, fit.batch_size, fit.sampling, seed, len)?;
        Ok(Run {
            net,
            train,
            trainer,
            schedule: fit.schedule,
            base_rate,
            train_accuracy: fit.train_accuracy,
            stop: &fit.stop,
            checkpoint: fit
                .checkpoint
                .as_deref()
                .map(Destination::open)
                .transpose()?,
            settings: fit.run_settings().recorded(),
            data_name: fit.data_name.as_deref(),
            validation_name: fit.validation_name,
            seed,
            start,
            total: fit.total_steps(len),
            per_epoch: iters_per_epoch(len, fit.batch_size),
            done: start,
            learning_rate: base_rate,
            losses: MeanLoss::default(),
            train_seconds: 0.0,
        })
    }

    /// Trains to the run's end while the evaluating thread measures, then
    /// closes that thread: why the run ended, and its records. A run that
    /// ends early gets back its best weights when early stopping says so.
    fn alongside(
        &mut self,
        mut evaluations: Evaluations<'_, N>,
        progress: &Progress,
    ) -> Result<(Stopped, Vec<EpochRecord>), FitError> {
        let ended = self.steps(&mut evaluations, progress)?;
        let stopped = match ended {
            _ if self.stop.is_raised() => Stopped::Interrupted,
            Some(stopped) => stopped,
            None => {
                // The evaluating thread returned early: its error says why.
                evaluations.close()?;
                return Err(FitError::EvaluationThread);
            }
        };
        if stopped != Stopped::Interrupted {
            self.last_evaluation(&mut evaluations)?;
        }
        let mut returned = evaluations.close()?;
        if let Stopped::EarlyStopping { .. } = stopped {
            if let Some(best) = returned.watch.take_best() {
                *self.net = best;
            }
        }
        Ok((stopped, returned.history))
    }

    /// The steps, from the start to the end, with an evaluation and a
    /// checkpoint at each epoch's start, until early stopping or a stop
    /// request: why they ended, or `None` when the evaluating thread
    /// returned early.
    fn steps(
        &mut self,
        evaluations: &mut Evaluations<'_, N>,
        progress: &Progress,
    ) -> Result<Option<Stopped>, FitError> {
        for iteration in self.start..self.total {
            if iteration % self.per_epoch == 0 {
                // At most one evaluation runs while the training goes on,
                // so copies of the network do not pile up and early
                // stopping is at most one epoch late.
                if !evaluations.wait() {
                    return Ok(None);
                }
                if let Some(stopped) = evaluations.early_stop() {
                    return Ok(Some(stopped));
                }
                if !evaluations.send(self.snapshot(iteration / self.per_epoch, None)) {
                    return Ok(None);
                }
                if self.done > self.start {
                    self.checkpoint(None)?;
                }
            }
            self.step(iteration, progress)?;
            evaluations.take_ready();
            if self.stop.is_raised() {
                return Ok(Some(Stopped::Interrupted));
            }
            if let Some(stopped) = evaluations.early_stop() {
                return Ok(Some(stopped));
            }
        }
        Ok(Some(Stopped::Finished))
    }

    /// Step `iteration`, at the rate the schedule gives it.
    fn step(&mut self, iteration: usize, progress: &Progress) -> Result<(), FitError> {
        self.learning_rate =
            self.base_rate * self.schedule.factor(iteration, self.total, self.per_epoch);
        self.trainer
            .optimizer_mut()
            .set_learning_rate(self.learning_rate);
        let started = Instant::now();
        let loss = self.trainer.step(self.net, self.train, iteration)?.as_f64();
        self.train_seconds += started.elapsed().as_secs_f64();
        self.done = iteration + 1;
        self.losses.add(loss);
        progress.step(self.done, loss);
        Ok(())
    }

    /// A copy of the network to evaluate after `epoch` epochs, with the
    /// mean loss of the steps since the last one.
    fn snapshot(
        &mut self,
        epoch: usize,
        train_acc: Option<mpsc::Receiver<Result<f64, BatchError>>>,
    ) -> Snapshot<N> {
        Snapshot {
            epoch,
            iteration: self.done,
            learning_rate: self.learning_rate,
            train_loss: self.losses.take(),
            train_acc,
            net: self.net.clone(),
        }
    }

    /// The evaluation at the end. Both cores are free now: the training
    /// accuracy, when asked for, is measured here while the other thread
    /// measures the validation set.
    fn last_evaluation(&mut self, evaluations: &mut Evaluations<'_, N>) -> Result<(), FitError> {
        let measured = self.train_accuracy != TrainAccuracy::Never;
        let (report, train_acc) = mpsc::channel();
        let epoch = self.done.div_ceil(self.per_epoch);
        let snapshot = self.snapshot(epoch, measured.then_some(train_acc));
        if !evaluations.send(snapshot) {
            return Err(FitError::EvaluationThread);
        }
        if measured {
            // A closed channel means the evaluating thread failed; closing
            // it reports its error.
            let _ = report.send(evaluate(self.net, self.train, EVAL_CHUNK));
        }
        Ok(())
    }

    /// Writes the checkpoint of the steps done, when the run has a path
    /// for one, with how these weights did when that is known.
    fn checkpoint(&self, evaluation: Option<&RecordedEvaluation>) -> Result<(), FitError> {
        let Some(destination) = &self.checkpoint else {
            return Ok(());
        };
        destination.before_write()?;
        let optimizer = self.trainer.optimizer();
        let meta = CheckpointMeta {
            iteration: self.done as u64,
            seed: self.seed,
            optimizer: optimizer.method().name(),
            dataset: self.data_name,
            settings: Some(&self.settings),
            evaluation,
        };
        save_checkpoint(
            &*self.net,
            &meta,
            &optimizer.state_tensors(),
            destination.path(),
        )?;
        Ok(())
    }

    /// The end: the last checkpoint, which file stays at its path, and
    /// the history.
    fn finish(mut self, stopped: Stopped, epochs: Vec<EpochRecord>) -> Result<History, FitError> {
        let ended = self.final_evaluation(stopped, &epochs);
        self.checkpoint(ended.as_ref())?;
        let replacement = match self.checkpoint.take() {
            Some(destination) => destination.settle(stopped, ended.as_ref())?,
            None => None,
        };
        Ok(History {
            epochs,
            start: self.start,
            iterations: self.done,
            total: self.total,
            train_seconds: self.train_seconds,
            stopped,
            replacement,
        })
    }

    /// How the weights the run ends with did on the validation set: those
    /// of the last evaluation, or of the best one when early stopping
    /// brought them back; unknown when the run was interrupted.
    fn final_evaluation(
        &self,
        stopped: Stopped,
        epochs: &[EpochRecord],
    ) -> Option<RecordedEvaluation> {
        let record = match stopped {
            Stopped::Finished => epochs.last(),
            Stopped::EarlyStopping { best_epoch } => {
                epochs.iter().find(|record| record.epoch == best_epoch)
            }
            Stopped::Interrupted => None,
        }?;
        Some(RecordedEvaluation {
            data: self.validation_name.to_owned(),
            loss: record.val_loss?,
            accuracy: record.val_acc,
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
