//! Where batches come from: the [`Samples`] a training run or an
//! evaluation gathers its batches from, and why a batch could not be
//! gathered. Datasets implement it here; training stands on it.

use crate::{Batch, BatchStorage, Network, Scalar, Shape};

/// A set of samples with their targets: a split of MNIST
/// ([`ImageSamples`](super::ImageSamples)), data of one's own
/// (`train::InMemory`), or any type that can copy samples into a batch.
pub trait Samples<T: Scalar, S: Shape> {
    /// What a batch's targets are gathered into: class indices
    /// (`Vec<usize>`) or values (`train::Values`).
    type Targets: Default;

    /// The number of samples.
    fn len(&self) -> usize;

    /// Whether there are no samples.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Writes the samples `indices` into `x` (already sized to
    /// `indices.len()` samples) and their targets into `targets`.
    fn gather(
        &self,
        indices: &[usize],
        x: &mut Batch<T, S>,
        targets: &mut Self::Targets,
    ) -> Result<(), BatchError>;

    /// The samples `indices` as a new batch for `net` (which fixes the
    /// scalar and the shape), with their targets: for a look at a few
    /// samples (training reuses its buffers instead).
    fn batch_for<N>(
        &self,
        net: &N,
        indices: &[usize],
    ) -> Result<(Batch<T, S>, Self::Targets), BatchError>
    where
        N: Network<T, In = S>,
    {
        let _ = net;
        let mut x = BatchStorage::zeros(indices.len());
        let mut targets = Self::Targets::default();
        self.gather(indices, &mut x, &mut targets)?;
        Ok((x, targets))
    }

    /// A hint that the samples `indices` will be gathered next: the
    /// trainer gives each step's successor while the step computes. The
    /// default does nothing.
    fn prefetch(&self, indices: &[usize]) {
        let _ = indices;
    }
}

/// A batch could not be gathered. Nothing was written to the buffers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BatchError {
    /// A sample index is out of range.
    #[error(
        "sample index {index} (at position {position} of the batch) is out of range: the split holds {len} samples"
    )]
    IndexOutOfRange {
        /// The position of the index in the list of indices.
        position: usize,
        /// The index.
        index: usize,
        /// The number of samples in the split.
        len: usize,
    },
    /// The output buffer has the wrong length.
    #[error("the {buffer} buffer holds {actual} values but the batch needs {expected}")]
    BufferSize {
        /// Which buffer: `"images"`, `"labels"` or `"one-hot"`.
        buffer: &'static str,
        /// The length needed (`usize::MAX` on overflow).
        expected: usize,
        /// The buffer's length.
        actual: usize,
    },
}

/// The first index of `indices` that is not below `len`, as an error.
pub(crate) fn check_indices(indices: &[usize], len: usize) -> Result<(), BatchError> {
    match indices.iter().enumerate().find(|&(_, &i)| i >= len) {
        Some((position, &index)) => Err(BatchError::IndexOutOfRange {
            position,
            index,
            len,
        }),
        None => Ok(()),
    }
}
