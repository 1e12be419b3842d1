//! A run's evaluations, on a thread of their own so that the training goes
//! on meanwhile: the training thread sends copies of the network, the
//! evaluating thread measures each and sends it back with its record.

use std::sync::mpsc;
use std::thread::{Scope, ScopedJoinHandle};

use super::early::EarlyWatch;
use super::error::FitError;
use super::progress::Progress;
use super::records::{EpochRecord, Stopped};
use super::settings::{EpochCallback, TrainAccuracy};
use crate::data::BatchError;
use crate::data::Samples;
use crate::network::Network;
use crate::scalar::Scalar;
use crate::stop::StopFlag;
use crate::train::eval::{evaluate, loss_and_accuracy};
use crate::train::samples::TargetBatch;

/// Samples per forward pass when evaluating.
pub(super) const EVAL_CHUNK: usize = 500;

/// What the training thread hands to the evaluating thread: a copy of the
/// network at an evaluation.
pub(super) struct Snapshot<N> {
    pub(super) epoch: usize,
    pub(super) iteration: usize,
    pub(super) learning_rate: f64,
    pub(super) train_loss: Option<f64>,
    /// At the end, the training thread measures the training accuracy
    /// itself, in parallel, and sends it here.
    pub(super) train_acc: Option<mpsc::Receiver<Result<f64, BatchError>>>,
    pub(super) net: N,
}

/// An evaluation that came back: its record, and the network it measured.
type Evaluated<N> = (EpochRecord, N);

/// The evaluating thread's part: the data it measures, and where the
/// records go.
pub(super) struct Evaluator<'r, D, V> {
    pub(super) validation: Option<&'r V>,
    pub(super) validation_name: &'static str,
    pub(super) train: &'r D,
    pub(super) train_accuracy: TrainAccuracy,
    pub(super) stop: &'r StopFlag,
    pub(super) progress: &'r Progress,
    pub(super) on_epoch: Option<EpochCallback<'r>>,
}

impl<'r, D, V> Evaluator<'r, D, V> {
    /// Starts the evaluating thread in `scope`; `watch` is early
    /// stopping's over what comes back.
    pub(super) fn spawn<'scope, T, N>(
        self,
        scope: &'scope Scope<'scope, '_>,
        watch: EarlyWatch<N>,
    ) -> Evaluations<'scope, N>
    where
        'r: 'scope,
        T: Scalar,
        N: Network<T> + Send + 'scope,
        D: Samples<T, N::In, Targets: TargetBatch<T, N::Out>> + Sync,
        V: Samples<T, N::In, Targets: TargetBatch<T, N::Out>> + Sync,
    {
        let (snapshots, inbox) = mpsc::channel();
        let (results, outbox) = mpsc::channel();
        let thread = scope.spawn(move || self.serve(inbox, results));
        Evaluations {
            snapshots,
            results: outbox,
            thread,
            returned: Returned {
                history: Vec::new(),
                watch,
                pending: 0,
            },
        }
    }

    /// Measures each snapshot sent, until the training thread closes its
    /// end or the run is stopped.
    fn serve<T, N>(
        mut self,
        inbox: mpsc::Receiver<Snapshot<N>>,
        results: mpsc::Sender<Evaluated<N>>,
    ) -> Result<(), FitError>
    where
        T: Scalar,
        N: Network<T>,
        D: Samples<T, N::In, Targets: TargetBatch<T, N::Out>>,
        V: Samples<T, N::In, Targets: TargetBatch<T, N::Out>>,
    {
        for snapshot in inbox {
            if self.stop.is_raised() {
                break; // Stopping: no more evaluations.
            }
            let (record, net) = self.measure(snapshot)?;
            self.progress.epoch(&record, self.validation_name);
            if let Some(f) = self.on_epoch.as_mut() {
                f(&record);
            }
            // The training thread may have returned already.
            let _ = results.send((record, net));
        }
        Ok(())
    }

    /// The record of `snapshot`: the validation set's loss and accuracy,
    /// and the training set's accuracy when asked for.
    fn measure<T, N>(&self, snapshot: Snapshot<N>) -> Result<Evaluated<N>, FitError>
    where
        T: Scalar,
        N: Network<T>,
        D: Samples<T, N::In, Targets: TargetBatch<T, N::Out>>,
        V: Samples<T, N::In, Targets: TargetBatch<T, N::Out>>,
    {
        let mut net = snapshot.net;
        let (val_loss, val_acc) = match self.validation {
            Some(data) => {
                let (loss, acc) =
                    loss_and_accuracy(&mut net, data, EVAL_CHUNK).map_err(FitError::Evaluation)?;
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
            None if self.train_accuracy == TrainAccuracy::EachEpoch => {
                Some(evaluate(&mut net, self.train, EVAL_CHUNK).map_err(FitError::Evaluation)?)
            }
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
        Ok((record, net))
    }
}

/// The training thread's side of the evaluations: its channels to and from
/// the evaluating thread, the thread, and what came back.
pub(super) struct Evaluations<'scope, N> {
    snapshots: mpsc::Sender<Snapshot<N>>,
    results: mpsc::Receiver<Evaluated<N>>,
    thread: ScopedJoinHandle<'scope, Result<(), FitError>>,
    returned: Returned<N>,
}

impl<N> Evaluations<'_, N> {
    /// Sends `snapshot` to be measured; `false` when the evaluating thread
    /// has returned.
    pub(super) fn send(&mut self, snapshot: Snapshot<N>) -> bool {
        let sent = self.snapshots.send(snapshot).is_ok();
        self.returned.pending += usize::from(sent);
        sent
    }

    /// Waits for the evaluations still out; `false` when the evaluating
    /// thread returned first.
    pub(super) fn wait(&mut self) -> bool {
        while self.returned.pending > 0 {
            let Ok(evaluated) = self.results.recv() else {
                return false;
            };
            self.returned.take(evaluated);
        }
        true
    }

    /// Takes in the evaluations that are back, without waiting.
    pub(super) fn take_ready(&mut self) {
        self.results
            .try_iter()
            .for_each(|evaluated| self.returned.take(evaluated));
    }

    /// Early stopping's verdict on the evaluations back so far.
    pub(super) fn early_stop(&self) -> Option<Stopped> {
        self.returned.watch.exhausted()
    }

    /// Lets the evaluating thread finish what it was sent, joins it, and
    /// takes in the last evaluations.
    ///
    /// # Errors
    /// The evaluating thread's, or [`FitError::EvaluationThread`] when it
    /// panicked.
    pub(super) fn close(self) -> Result<Returned<N>, FitError> {
        let Evaluations {
            snapshots,
            results,
            thread,
            mut returned,
        } = self;
        drop(snapshots);
        thread.join().map_err(|_| FitError::EvaluationThread)??;
        results
            .try_iter()
            .for_each(|evaluated| returned.take(evaluated));
        Ok(returned)
    }
}

/// The evaluations that came back from the evaluating thread: the history,
/// early stopping's watch over it, and how many are still out.
pub(super) struct Returned<N> {
    pub(super) history: Vec<EpochRecord>,
    pub(super) watch: EarlyWatch<N>,
    pending: usize,
}

impl<N> Returned<N> {
    /// Takes in an evaluation's record and the network it measured.
    fn take(&mut self, (record, evaluated): Evaluated<N>) {
        self.pending = self.pending.saturating_sub(1);
        self.watch.see(&record, evaluated);
        self.history.push(record);
    }
}
