//! The book's training loop: random mini-batches and an optimizer's
//! update (SGD unless chosen otherwise), with every buffer allocated once.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::data::{BatchError, BatchLayout, Split};
use crate::optim::{Method, Optimizer, weight_decay_penalty};
use crate::{Batch, BatchStorage, Chw, Const, Network, Scalar, Shape, Targets};

/// The settings of a training run, as in the book's `train_neuralnet.py`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TrainConfig {
    /// The number of SGD steps (the book: 10000).
    pub iters: usize,
    /// Samples per mini-batch (the book: 100).
    pub batch_size: usize,
    /// The learning rate (the book: 0.1 for SGD).
    pub learning_rate: f64,
    /// The update rule (the book's chapter 4: [`Method::Sgd`]).
    pub optimizer: Method,
    /// The weight decay `λ` of the L2 penalty `½·λ·ΣW²` (0 for none).
    pub weight_decay: f64,
    /// Seeds the choice of every mini-batch, so that a run can be repeated
    /// and resumed.
    pub seed: u64,
}

impl TrainConfig {
    /// The book's settings.
    pub const BOOK: TrainConfig = TrainConfig {
        iters: 10_000,
        batch_size: 100,
        learning_rate: 0.1,
        optimizer: Method::Sgd,
        weight_decay: 0.0,
        seed: 0,
    };

    /// Checks the settings against a training set of `train_len` samples,
    /// before any training starts.
    pub fn validate(&self, train_len: usize) -> Result<(), TrainError> {
        if !(self.learning_rate > 0.0 && self.learning_rate.is_finite()) {
            return Err(TrainError::LearningRate(self.learning_rate));
        }
        if !(self.weight_decay >= 0.0 && self.weight_decay.is_finite()) {
            return Err(TrainError::WeightDecay(self.weight_decay));
        }
        if self.batch_size == 0 {
            return Err(TrainError::EmptyBatch);
        }
        if self.batch_size > train_len {
            return Err(TrainError::BatchLargerThanData {
                batch_size: self.batch_size,
                train_len,
            });
        }
        Ok(())
    }

    /// Steps per epoch: the book's `max(train_size / batch_size, 1)`.
    pub fn iters_per_epoch(&self, train_len: usize) -> usize {
        (train_len / self.batch_size.max(1)).max(1)
    }
}

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
}

/// Where mini-batches come from: a set of samples with class labels.
pub trait Samples<T: Scalar, S: Shape> {
    /// The number of samples.
    fn len(&self) -> usize;

    /// Whether there are no samples.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Writes the samples `indices` into `x` (already sized to
    /// `indices.len()` rows) and their classes into `labels`.
    fn gather(
        &self,
        indices: &[usize],
        x: &mut Batch<T, S>,
        labels: &mut Vec<usize>,
    ) -> Result<(), BatchError>;

    /// A hint that the samples `indices` will be gathered next: the
    /// trainer gives each step's successor while the step computes. The
    /// default does nothing.
    fn prefetch(&self, indices: &[usize]) {
        let _ = indices;
    }
}

/// A split of an image dataset as flat samples of `N` pixels
/// (`Const<784>`, the book's `flatten=True`) or as images (`Chw<U1, U28,
/// U28>`, `flatten=False`), scaled to `[0, 1]` when `normalize` is set (the
/// book's `normalize=True`).
#[derive(Clone, Copy, Debug)]
pub struct ImageSamples<'a> {
    /// The images and labels.
    pub split: &'a Split,
    /// Whether pixels are divided by 255.
    pub normalize: bool,
}

impl ImageSamples<'_> {
    /// The images `indices` into `images`, laid out as `layout`, and their
    /// classes into `labels`: the gather of both sample shapes.
    fn gather_into<T: Scalar>(
        &self,
        indices: &[usize],
        images: &mut [T],
        layout: BatchLayout,
        labels: &mut Vec<usize>,
    ) -> Result<(), BatchError> {
        self.split
            .gather_batch(indices, self.normalize, images, layout)?;
        self.split.gather_labels_vec(indices, labels)
    }
}

impl<T: Scalar, const N: usize> Samples<T, Const<N>> for ImageSamples<'_> {
    fn len(&self) -> usize {
        self.split.len()
    }

    fn gather(
        &self,
        indices: &[usize],
        x: &mut Batch<T, Const<N>>,
        labels: &mut Vec<usize>,
    ) -> Result<(), BatchError> {
        self.gather_into(indices, x.as_mut_slice(), BatchLayout::ColumnMajor, labels)
    }

    fn prefetch(&self, indices: &[usize]) {
        self.split.prefetch(indices);
    }
}

impl<T: Scalar, C, H, W> Samples<T, Chw<C, H, W>> for ImageSamples<'_>
where
    Chw<C, H, W>: Shape,
{
    fn len(&self) -> usize {
        self.split.len()
    }

    fn gather(
        &self,
        indices: &[usize],
        x: &mut Batch<T, Chw<C, H, W>>,
        labels: &mut Vec<usize>,
    ) -> Result<(), BatchError> {
        self.gather_into(indices, x.as_mut_slice(), BatchLayout::RowMajor, labels)
    }

    fn prefetch(&self, indices: &[usize]) {
        self.split.prefetch(indices);
    }
}

/// Runs training steps on a network, reusing one set of buffers: after
/// the first step, a step allocates nothing.
pub struct Trainer<T: Scalar, S: Shape> {
    config: TrainConfig,
    optimizer: Optimizer<T>,
    indices: Vec<usize>,
    /// The next step's mini-batch, drawn (and prefetched) by the step
    /// before it.
    next: DrawnBatch,
    x: Batch<T, S>,
    labels: Vec<usize>,
}

impl<T: Scalar, S: Shape> Trainer<T, S> {
    /// A trainer for a training set of `train_len` samples; the settings
    /// are checked here, before any work is done.
    pub fn new(config: TrainConfig, train_len: usize) -> Result<Self, TrainError> {
        config.validate(train_len)?;
        Ok(Trainer {
            config,
            optimizer: Optimizer::new(config.optimizer, config.learning_rate)
                .with_weight_decay(config.weight_decay),
            indices: vec![0; config.batch_size],
            next: DrawnBatch {
                iteration: usize::MAX,
                len: 0,
                indices: vec![0; config.batch_size],
            },
            x: BatchStorage::zeros(config.batch_size),
            labels: Vec::with_capacity(config.batch_size),
        })
    }

    /// The settings.
    pub fn config(&self) -> &TrainConfig {
        &self.config
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
    pub fn step<N, D>(&mut self, net: &mut N, data: &D, iteration: usize) -> Result<T, TrainError>
    where
        N: Network<T, In = S>,
        N::Out: Shape,
        D: Samples<T, S>,
    {
        let (seed, len) = (self.config.seed, data.len());
        if (self.next.iteration, self.next.len) == (iteration, len) {
            core::mem::swap(&mut self.indices, &mut self.next.indices);
        } else {
            draw_batch(seed, iteration, len, &mut self.indices);
        }
        data.gather(&self.indices, &mut self.x, &mut self.labels)?;
        // The next batch's samples are random reads of a large array: they
        // are asked for now, and arrive while this step computes.
        draw_batch(seed, iteration + 1, len, &mut self.next.indices);
        (self.next.iteration, self.next.len) = (iteration + 1, len);
        data.prefetch(&self.next.indices);
        // The penalty is that of the weights before the update.
        let penalty = (self.config.weight_decay > 0.0)
            .then(|| T::of_f64(weight_decay_penalty(net, self.config.weight_decay)));
        let loss = self
            .optimizer
            .train_step(net, &self.x, Targets::Classes(&self.labels));
        if !loss.is_finite() {
            return Err(TrainError::NonFiniteLoss {
                iteration,
                loss: loss.as_f64(),
            });
        }
        Ok(penalty.map_or(loss, |penalty| loss + penalty))
    }
}

/// The mini-batch of `iteration` from `len` samples.
struct DrawnBatch {
    iteration: usize,
    len: usize,
    indices: Vec<usize>,
}

/// Fills `indices` with the mini-batch of `iteration`, drawn from `len`
/// samples: a function of the seed and the iteration only.
fn draw_batch(seed: u64, iteration: usize, len: usize, indices: &mut [usize]) {
    let mut rng = batch_rng(seed, iteration);
    for index in indices {
        *index = rng.random_range(0..len);
    }
}

/// The generator of the mini-batch of `iteration`: a function of the seed
/// and the iteration only.
fn batch_rng(seed: u64, iteration: usize) -> StdRng {
    // Golden-ratio stride, so that nearby (seed, iteration) pairs give
    // unrelated seeds.
    StdRng::seed_from_u64(seed ^ (iteration as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

/// The accuracy of `net` on all of `data`, in chunks of `chunk` samples.
pub fn evaluate<T, S, N, D>(net: &mut N, data: &D, chunk: usize) -> Result<f64, BatchError>
where
    T: Scalar,
    S: Shape,
    N: Network<T, In = S>,
    D: Samples<T, S>,
{
    let [accuracy] = mean_over_chunks(data, chunk, |x, labels| [net.accuracy(x, labels)])?;
    Ok(accuracy)
}

/// The mean loss of `net` on all of `data`, in chunks of `chunk` samples.
pub fn mean_loss<T, S, N, D>(net: &mut N, data: &D, chunk: usize) -> Result<f64, BatchError>
where
    T: Scalar,
    S: Shape,
    N: Network<T, In = S>,
    D: Samples<T, S>,
{
    let [loss] = mean_over_chunks(data, chunk, |x, labels| [net.loss(x, labels).as_f64()])?;
    Ok(loss)
}

/// The mean loss and the accuracy of `net` on all of `data`, in chunks of
/// `chunk` samples, from one forward pass per chunk.
pub fn loss_and_accuracy<T, S, N, D>(
    net: &mut N,
    data: &D,
    chunk: usize,
) -> Result<(f64, f64), BatchError>
where
    T: Scalar,
    S: Shape,
    N: Network<T, In = S>,
    D: Samples<T, S>,
{
    let [loss, accuracy] = mean_over_chunks(data, chunk, |x, labels| {
        let (loss, accuracy) = net.loss_and_accuracy(x, labels);
        [loss.as_f64(), accuracy]
    })?;
    Ok((loss, accuracy))
}

/// The means of `per_chunk` (`K` per-sample means over one chunk) over all
/// of `data`, each chunk weighted by its size.
fn mean_over_chunks<T, S, D, const K: usize>(
    data: &D,
    chunk: usize,
    mut per_chunk: impl FnMut(&Batch<T, S>, &Vec<usize>) -> [f64; K],
) -> Result<[f64; K], BatchError>
where
    T: Scalar,
    S: Shape,
    D: Samples<T, S>,
{
    let len = data.len();
    let chunk = chunk.max(1);
    let mut x: Batch<T, S> = BatchStorage::zeros(chunk.min(len));
    let mut labels = Vec::with_capacity(chunk);
    let mut indices = Vec::with_capacity(chunk);
    let mut totals = [0.0; K];
    let mut start = 0;
    while start < len {
        let end = (start + chunk).min(len);
        indices.clear();
        indices.extend(start..end);
        x.set_batch_size(end - start);
        data.gather(&indices, &mut x, &mut labels)?;
        for (total, mean) in totals.iter_mut().zip(per_chunk(&x, &labels)) {
            *total += mean * (end - start) as f64;
        }
        start = end;
    }
    Ok(totals.map(|total| if len == 0 { 0.0 } else { total / len as f64 }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_settings_are_rejected_before_training() {
        let book = TrainConfig::BOOK;
        assert_eq!(
            TrainConfig {
                learning_rate: 0.0,
                ..book
            }
            .validate(60_000),
            Err(TrainError::LearningRate(0.0))
        );
        assert_eq!(
            TrainConfig {
                learning_rate: -0.1,
                ..book
            }
            .validate(60_000),
            Err(TrainError::LearningRate(-0.1))
        );
        assert!(matches!(
            TrainConfig {
                learning_rate: f64::NAN,
                ..book
            }
            .validate(60_000),
            Err(TrainError::LearningRate(_))
        ));
        assert_eq!(
            TrainConfig {
                batch_size: 0,
                ..book
            }
            .validate(60_000),
            Err(TrainError::EmptyBatch)
        );
        assert_eq!(
            TrainConfig {
                batch_size: 101,
                ..book
            }
            .validate(100),
            Err(TrainError::BatchLargerThanData {
                batch_size: 101,
                train_len: 100
            })
        );
        assert_eq!(
            TrainConfig {
                weight_decay: -1e-3,
                ..book
            }
            .validate(60_000),
            Err(TrainError::WeightDecay(-1e-3))
        );
        assert_eq!(book.validate(60_000), Ok(()));
        assert_eq!(book.iters_per_epoch(60_000), 600);
    }

    #[test]
    fn batches_depend_only_on_seed_and_iteration() {
        let draw = |seed, iteration| -> Vec<usize> {
            let mut indices = vec![0; 5];
            draw_batch(seed, iteration, 1000, &mut indices);
            indices
        };
        assert_eq!(draw(1, 7), draw(1, 7));
        assert_ne!(draw(1, 7), draw(1, 8));
        assert_ne!(draw(1, 7), draw(2, 7));
    }
}
