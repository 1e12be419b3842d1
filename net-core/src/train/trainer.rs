//! The book's training loop: random mini-batches and an optimizer's
//! update (SGD unless chosen otherwise), with every buffer allocated once.

use super::batches::{BatchPlan, Sampling, check_batch_size};
use super::samples::TargetBatch;
use crate::data::BatchError;
use crate::data::Samples;
use crate::network::Network;
use crate::optim::{Optimizer, weight_decay_penalty};
use crate::scalar::Scalar;
use crate::shape::{Batch, BatchStorage, Shape};
use crate::targets::TargetsError;

/// Why training did not start or did not go on.
#[derive(Debug, thiserror::Error, PartialEq)]
#[non_exhaustive]
pub enum TrainError {
    /// The learning rate is not a positive number.
    #[error("the learning rate must be a positive number, not {0}")]
    LearningRate(f64),
    /// The weight decay is negative or not a number.
    #[error("the weight decay must be 0 or a positive number, not {0}")]
    WeightDecay(f64),
    /// The batch size is zero.
    #[error("the batch size must be at least 1")]
    EmptyBatch,
    /// The batch size exceeds the training set.
    #[error("the batch size {batch_size} is larger than the training set ({train_len} samples)")]
    BatchLargerThanData {
        /// The batch size asked for.
        batch_size: usize,
        /// The number of training samples.
        train_len: usize,
    },
    /// The loss became NaN or infinite; the parameters were left as they
    /// were before that step.
    #[error(
        "the loss became {loss} at iteration {iteration}: training diverged (try a smaller learning rate); the parameters were not updated"
    )]
    NonFiniteLoss {
        /// The iteration (from 0) whose loss was not finite.
        iteration: usize,
        /// The loss, as `f64`.
        loss: f64,
    },
    /// A batch could not be gathered from the data.
    #[error(transparent)]
    Batch(#[from] BatchError),
    /// A batch's targets do not fit the network, such as a label that is
    /// not one of its classes: the step was not taken. A sample is named
    /// by its index in the data, not in the batch.
    #[error("iteration {iteration}: {source}")]
    Targets {
        /// The iteration (from 0) whose batch it is.
        iteration: usize,
        /// What does not fit, the sample named by its index in the data.
        source: TargetsError,
    },
}

/// `error`, a sample of a batch named by its index in the data: the batch
/// holds the samples `indices`.
pub(crate) fn in_data(error: TargetsError, indices: &[usize]) -> TargetsError {
    match error {
        TargetsError::ClassOutOfRange {
            sample,
            class,
            classes,
        } => TargetsError::ClassOutOfRange {
            sample: indices.get(sample).copied().unwrap_or(sample),
            class,
            classes,
        },
        other => other,
    }
}

/// Runs training steps on a network, reusing one set of buffers: after
/// the first step, a step allocates nothing. `Y` is what the data's
/// targets are gathered into: class indices unless said otherwise (see
/// [`Samples::Targets`]).
pub struct Trainer<T: Scalar, S: Shape, Y = Vec<usize>> {
    optimizer: Optimizer<T>,
    plan: BatchPlan,
    indices: Vec<usize>,
    /// The next step's mini-batch, drawn (and prefetched) by the step
    /// before it.
    next: DrawnBatch,
    x: Batch<T, S>,
    targets: Y,
}

impl<T: Scalar, S: Shape, Y: Default> Trainer<T, S, Y> {
    /// A trainer that updates with `optimizer`, taking batches of
    /// `batch_size` samples of `train_len`, chosen as `sampling` says from
    /// `seed`. The settings are checked here, before any work is done.
    ///
    /// # Errors
    /// A learning rate that is not positive, a negative weight decay, an
    /// empty batch, or a batch larger than the data.
    pub fn new(
        optimizer: Optimizer<T>,
        batch_size: usize,
        sampling: Sampling,
        seed: u64,
        train_len: usize,
    ) -> Result<Self, TrainError> {
        check_optimizer(&optimizer)?;
        check_batch_size(batch_size, train_len)?;
        Ok(Trainer {
            optimizer,
            plan: BatchPlan::new(sampling, seed, batch_size),
            indices: vec![0; batch_size],
            next: DrawnBatch {
                iteration: usize::MAX,
                len: 0,
                indices: vec![0; batch_size],
            },
            x: BatchStorage::zeros(batch_size),
            targets: Y::default(),
        })
    }

    /// The optimizer, with its state (to save in a checkpoint).
    pub fn optimizer(&self) -> &Optimizer<T> {
        &self.optimizer
    }

    /// The optimizer, mutably (to restore its state from a checkpoint).
    pub fn optimizer_mut(&mut self) -> &mut Optimizer<T> {
        &mut self.optimizer
    }

    /// Step `iteration` of the book's loop: draws a mini-batch (the same
    /// one for the same seed and iteration, so that runs can be resumed),
    /// backpropagates, and updates the parameters. Returns the loss of the
    /// batch before the update, with the weight-decay penalty
    /// `½·λ·ΣW²` added when there is one (as the book's `loss` does).
    ///
    /// A loss that is NaN or infinite stops here, before the update.
    ///
    /// # Errors
    /// A batch that cannot be gathered, targets that do not fit the
    /// network (a label that is not one of its classes:
    /// [`TrainError::Targets`], checked before the forward pass), or a
    /// loss that is not finite; the parameters are left as they were.
    pub fn step<N, D>(&mut self, net: &mut N, data: &D, iteration: usize) -> Result<T, TrainError>
    where
        N: Network<T, In = S>,
        D: Samples<T, S, Targets = Y>,
        Y: TargetBatch<T, N::Out>,
    {
        let len = data.len();
        if (self.next.iteration, self.next.len) == (iteration, len) {
            core::mem::swap(&mut self.indices, &mut self.next.indices);
        } else {
            self.plan.fill(iteration, len, &mut self.indices);
        }
        data.gather(&self.indices, &mut self.x, &mut self.targets)?;
        // A label the network does not score is an error, not a panic in
        // the loss.
        if let Err(error) = self.targets.targets().check(self.x.batch_size()) {
            return Err(TrainError::Targets {
                iteration,
                source: in_data(error, &self.indices),
            });
        }
        // The next batch's samples are random reads of a large array: they
        // are asked for now, and arrive while this step computes.
        self.plan.fill(iteration + 1, len, &mut self.next.indices);
        (self.next.iteration, self.next.len) = (iteration + 1, len);
        data.prefetch(&self.next.indices);
        // The penalty is that of the weights before the update.
        let weight_decay = self.optimizer.weight_decay();
        let penalty =
            (weight_decay > 0.0).then(|| T::of_f64(weight_decay_penalty(net, weight_decay)));
        let loss = self
            .optimizer
            .train_step(net, &self.x, self.targets.targets());
        if !loss.is_finite() {
            return Err(TrainError::NonFiniteLoss {
                iteration,
                loss: loss.as_f64(),
            });
        }
        Ok(penalty.map_or(loss, |penalty| loss + penalty))
    }
}

/// Checks the settings of `optimizer` that a step relies on: a positive
/// learning rate, and a weight decay of 0 or more.
pub(crate) fn check_optimizer<T: Scalar>(optimizer: &Optimizer<T>) -> Result<(), TrainError> {
    let rate = optimizer.learning_rate();
    if !(rate > 0.0 && rate.is_finite()) {
        return Err(TrainError::LearningRate(rate));
    }
    let lambda = optimizer.weight_decay();
    if !(lambda >= 0.0 && lambda.is_finite()) {
        return Err(TrainError::WeightDecay(lambda));
    }
    Ok(())
}

/// The mini-batch of `iteration` from `len` samples.
struct DrawnBatch {
    iteration: usize,
    len: usize,
    indices: Vec<usize>,
}

#[cfg(test)]
mod tests {
    use nalgebra::Const;

    use super::*;
    use crate::train::batches::iters_per_epoch;

    fn trainer(optimizer: Optimizer<f32>, batch_size: usize, len: usize) -> Result<(), TrainError> {
        Trainer::<f32, Const<784>>::new(optimizer, batch_size, Sampling::Draws, 0, len).map(drop)
    }

    #[test]
    fn bad_settings_are_rejected_before_training() {
        let sgd = Optimizer::sgd;
        assert_eq!(
            trainer(sgd(0.0), 100, 60_000),
            Err(TrainError::LearningRate(0.0))
        );
        assert_eq!(
            trainer(sgd(-0.1), 100, 60_000),
            Err(TrainError::LearningRate(-0.1))
        );
        assert!(matches!(
            trainer(sgd(f64::NAN), 100, 60_000),
            Err(TrainError::LearningRate(_))
        ));
        assert_eq!(trainer(sgd(0.1), 0, 60_000), Err(TrainError::EmptyBatch));
        assert_eq!(
            trainer(sgd(0.1), 101, 100),
            Err(TrainError::BatchLargerThanData {
                batch_size: 101,
                train_len: 100
            })
        );
        assert_eq!(
            trainer(sgd(0.1).with_weight_decay(-1e-3), 100, 60_000),
            Err(TrainError::WeightDecay(-1e-3))
        );
        assert_eq!(trainer(sgd(0.1), 100, 60_000), Ok(()));
        assert_eq!(iters_per_epoch(60_000, 100), 600);
    }
}
