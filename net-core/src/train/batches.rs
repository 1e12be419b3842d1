//! Mini-batches: which samples each step reads, and a batch iterator that
//! gathers them into buffers allocated once.

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use super::TrainError;
use crate::data::BatchError;
use crate::data::Samples;
use crate::{Batch, BatchStorage, Scalar, Shape};

/// How the samples of each mini-batch are chosen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Sampling {
    /// The book's `np.random.choice(train_size, batch_size)`: every batch
    /// drawn at random, with replacement, independently of the others.
    #[default]
    Draws,
    /// Shuffled epochs: each epoch visits every sample once, in an order of
    /// its own (the samples left over after the last whole batch wait for
    /// the next epoch's order).
    Shuffled,
}

/// Which samples the mini-batch of each iteration holds: a function of the
/// seed and the iteration only, so that a run can be repeated and resumed.
#[derive(Clone, Debug)]
pub(crate) struct BatchPlan {
    sampling: Sampling,
    seed: u64,
    batch_size: usize,
    /// The order of the epoch `order_epoch`, for shuffled epochs.
    order: Vec<usize>,
    order_epoch: Option<(usize, usize)>,
}

impl BatchPlan {
    pub(crate) fn new(sampling: Sampling, seed: u64, batch_size: usize) -> Self {
        BatchPlan {
            sampling,
            seed,
            batch_size,
            order: Vec::new(),
            order_epoch: None,
        }
    }

    pub(crate) fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// Fills `indices` (`batch_size` long) with the mini-batch of
    /// `iteration`, drawn from `len` samples.
    pub(crate) fn fill(&mut self, iteration: usize, len: usize, indices: &mut [usize]) {
        match self.sampling {
            Sampling::Draws => {
                let mut rng = batch_rng(self.seed, iteration);
                for index in indices {
                    *index = rng.random_range(0..len);
                }
            }
            Sampling::Shuffled => {
                let per_epoch = iters_per_epoch(len, self.batch_size);
                let epoch = iteration / per_epoch;
                if self.order_epoch != Some((epoch, len)) {
                    self.order.clear();
                    self.order.extend(0..len);
                    // A stream of its own, apart from the draws' seeds.
                    let mut rng = batch_rng(!self.seed, epoch);
                    self.order.shuffle(&mut rng);
                    self.order_epoch = Some((epoch, len));
                }
                let start = (iteration % per_epoch) * self.batch_size;
                indices.copy_from_slice(&self.order[start..][..indices.len()]);
            }
        }
    }
}

/// Steps per epoch: the book's `max(train_size / batch_size, 1)`.
pub(crate) fn iters_per_epoch(len: usize, batch_size: usize) -> usize {
    (len / batch_size.max(1)).max(1)
}

/// The generator of the mini-batch of `iteration`: a function of the seed
/// and the iteration only.
fn batch_rng(seed: u64, iteration: usize) -> StdRng {
    // Golden-ratio stride, so that nearby (seed, iteration) pairs give
    // unrelated seeds.
    StdRng::seed_from_u64(seed ^ (iteration as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

/// Mini-batches of a set of samples, gathered into buffers allocated once:
/// after the first batch, the iterator allocates nothing.
///
/// A batch borrows the iterator's buffers, so it is read with `while let`
/// rather than `for`:
///
/// ```
/// use net_core::Const;
/// use net_core::train::{Batches, InMemory, Labels, Sampling};
///
/// let data: InMemory<f32, Const<2>, Labels> =
///     InMemory::with_labels(vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0], vec![0, 1, 0], 2)?;
/// let mut batches = Batches::new(&data, 1, Sampling::Shuffled, 7)?.epochs(2);
/// let mut seen = 0;
/// while let Some(batch) = batches.next() {
///     let (x, labels) = batch?;
///     assert_eq!((x.nrows(), labels.len()), (1, 1));
///     seen += 1;
/// }
/// assert_eq!(seen, 6); // two epochs of three samples
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Batches<'d, T: Scalar, S: Shape, D: Samples<T, S>> {
    data: &'d D,
    plan: BatchPlan,
    indices: Vec<usize>,
    x: Batch<T, S>,
    targets: D::Targets,
    iteration: usize,
    end: Option<usize>,
}

impl<'d, T: Scalar, S: Shape, D: Samples<T, S>> Batches<'d, T, S, D> {
    /// Batches of `batch_size` samples of `data`, chosen as `sampling`
    /// says from `seed`, without end (see [`epochs`](Batches::epochs)).
    ///
    /// # Errors
    /// An empty batch, or a batch larger than the data.
    pub fn new(
        data: &'d D,
        batch_size: usize,
        sampling: Sampling,
        seed: u64,
    ) -> Result<Self, TrainError> {
        check_batch_size(batch_size, data.len())?;
        Ok(Batches {
            data,
            plan: BatchPlan::new(sampling, seed, batch_size),
            indices: vec![0; batch_size],
            x: BatchStorage::zeros(batch_size),
            targets: D::Targets::default(),
            iteration: 0,
            end: None,
        })
    }

    /// Ends after `epochs` epochs of the data.
    pub fn epochs(mut self, epochs: usize) -> Self {
        self.end = Some(epochs.saturating_mul(self.iters_per_epoch()));
        self
    }

    /// Batches per epoch: the book's `max(train_size / batch_size, 1)`.
    pub fn iters_per_epoch(&self) -> usize {
        iters_per_epoch(self.data.len(), self.plan.batch_size())
    }

    /// The number of batches given so far.
    pub fn iteration(&self) -> usize {
        self.iteration
    }

    /// The next batch: its inputs and its targets. `None` at the end.
    #[allow(clippy::should_implement_trait)] // A batch borrows the iterator.
    pub fn next(&mut self) -> Option<Result<BatchOf<'_, T, S, D>, BatchError>> {
        if self.end.is_some_and(|end| self.iteration >= end) {
            return None;
        }
        self.plan
            .fill(self.iteration, self.data.len(), &mut self.indices);
        self.iteration += 1;
        Some(
            self.data
                .gather(&self.indices, &mut self.x, &mut self.targets)
                .map(|()| (&self.x, &self.targets)),
        )
    }
}

/// A batch that [`Batches`] gives: its inputs and its targets.
pub type BatchOf<'b, T, S, D> = (&'b Batch<T, S>, &'b <D as Samples<T, S>>::Targets);

/// A batch of at least one sample, and no more than the data holds.
pub(crate) fn check_batch_size(batch_size: usize, len: usize) -> Result<(), TrainError> {
    if batch_size == 0 {
        return Err(TrainError::EmptyBatch);
    }
    if batch_size > len {
        return Err(TrainError::BatchLargerThanData {
            batch_size,
            train_len: len,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batches_of(sampling: Sampling, seed: u64, iterations: usize) -> Vec<Vec<usize>> {
        let mut plan = BatchPlan::new(sampling, seed, 4);
        (0..iterations)
            .map(|iteration| {
                let mut indices = vec![0; 4];
                plan.fill(iteration, 10, &mut indices);
                indices
            })
            .collect()
    }

    #[test]
    fn batches_depend_only_on_seed_and_iteration() {
        for sampling in [Sampling::Draws, Sampling::Shuffled] {
            let run = batches_of(sampling, 1, 8);
            assert_eq!(run, batches_of(sampling, 1, 8));
            assert_ne!(run, batches_of(sampling, 2, 8));
            // Resuming at iteration 5 gives the batch of an unbroken run.
            let mut resumed = BatchPlan::new(sampling, 1, 4);
            let mut indices = vec![0; 4];
            resumed.fill(5, 10, &mut indices);
            assert_eq!(indices, run[5]);
        }
    }

    #[test]
    fn a_shuffled_epoch_visits_samples_once() {
        // 10 samples, batches of 4: two batches an epoch, 8 distinct
        // samples, and a new order the next epoch.
        let run = batches_of(Sampling::Shuffled, 3, 4);
        let mut epoch: Vec<usize> = run[0].iter().chain(&run[1]).copied().collect();
        epoch.sort_unstable();
        epoch.dedup();
        assert_eq!(epoch.len(), 8);
        assert_ne!(run[0..2], run[2..4]);
    }
}
