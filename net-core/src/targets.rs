//! What a batch is measured against: one-hot rows, regression targets or
//! class indices, and the error when they do not fit the batch.

use nalgebra::{Const, Dyn, OMatrix};

use crate::scalar::Scalar;
use crate::shape::{Batch, BatchStorage, FixedShape, Shape};

/// The targets of a batch: one row of values per sample (one-hot labels,
/// or regression targets), or one class index per sample.
#[derive(Debug)]
pub enum Targets<'a, T: Scalar, S: Shape> {
    /// One row per sample, such as one-hot labels.
    Dense(&'a Batch<T, S>),
    /// The index of the correct class of each sample.
    Classes(&'a [usize]),
}

impl<T: Scalar, S: Shape> Clone for Targets<'_, T, S> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: Scalar, S: Shape> Copy for Targets<'_, T, S> {}

impl<T: Scalar, S: Shape> Targets<'_, T, S> {
    /// The number of samples.
    pub fn batch_size(&self) -> usize {
        match self {
            Targets::Dense(t) => t.batch_size(),
            Targets::Classes(t) => t.len(),
        }
    }

    /// The target value of feature `j` of sample `n` (1 or 0 for class
    /// indices). Dense targets are stored as a column-major `N × F` matrix.
    #[inline]
    pub fn value(&self, n: usize, j: usize) -> T {
        match self {
            Targets::Dense(t) => t.as_slice()[j * t.batch_size() + n],
            Targets::Classes(t) => {
                if t[n] == j {
                    T::one()
                } else {
                    T::zero()
                }
            }
        }
    }

    /// The class of sample `n`: its index, or the largest entry of its row.
    pub fn class(&self, n: usize) -> usize {
        match self {
            Targets::Dense(t) => {
                let rows = t.batch_size();
                argmax_row(t.as_slice(), rows, n)
            }
            Targets::Classes(t) => t[n],
        }
    }

    /// The count and the classes, as [`check`](Targets::check) checks them
    /// (an empty batch allowed).
    fn check_fit(&self, batch_size: usize, classes: usize) -> Result<(), TargetsError> {
        if self.batch_size() != batch_size {
            return Err(TargetsError::Count {
                targets: self.batch_size(),
                batch: batch_size,
            });
        }
        if let Targets::Classes(t) = self {
            if let Some((sample, &class)) = t.iter().enumerate().find(|&(_, &c)| c >= classes) {
                return Err(TargetsError::ClassOutOfRange {
                    sample,
                    class,
                    classes,
                });
            }
        }
        Ok(())
    }

    pub(crate) fn assert_fits(&self, batch_size: usize, classes: usize) {
        if let Err(error) = self.check_fit(batch_size, classes) {
            panic!("{error}");
        }
    }
}

impl<T: Scalar, S: FixedShape> Targets<'_, T, S> {
    /// Checks the targets against a batch of `batch_size` samples, scored
    /// over `S`'s classes: the checks the `try_` methods of
    /// [`Network`](crate::Network) make before they compute.
    ///
    /// # Errors
    /// An empty batch, targets for another number of samples, or a class
    /// index that is not one of the `S::NUMEL` outputs.
    pub fn check(&self, batch_size: usize) -> Result<(), TargetsError> {
        if batch_size == 0 {
            return Err(TargetsError::EmptyBatch);
        }
        self.check_fit(batch_size, S::NUMEL)
    }
}

/// Targets that do not fit their batch: what the `try_` methods of
/// [`Network`](crate::Network) return instead of panicking.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TargetsError {
    /// The batch holds no sample: its loss would be 0/0.
    #[error("the batch is empty: there is no sample to measure")]
    EmptyBatch,
    /// The targets are for another number of samples.
    #[error("the targets hold {targets} samples but the batch holds {batch}")]
    Count {
        /// Samples the targets hold.
        targets: usize,
        /// Samples the batch holds.
        batch: usize,
    },
    /// A class index is not one of the network's outputs.
    #[error("sample {sample} is labeled class {class}, but the network scores {classes} classes (0 to {})", classes.saturating_sub(1))]
    ClassOutOfRange {
        /// The sample.
        sample: usize,
        /// Its class.
        class: usize,
        /// The number of outputs.
        classes: usize,
    },
}

/// The class of each sample of the scores `y`: the index of its highest
/// score ([`argmax_row`]).
pub(crate) fn classes_of<T: Scalar, S: Shape>(y: &Batch<T, S>) -> impl Iterator<Item = usize> + '_ {
    let rows = y.batch_size();
    (0..rows).map(move |n| argmax_row(y.as_slice(), rows, n))
}

/// The column of the largest entry of row `n` of a column-major matrix with
/// `rows` rows (the first one on ties, as NumPy's `argmax`).
pub(crate) fn argmax_row<T: Scalar>(values: &[T], rows: usize, n: usize) -> usize {
    let mut best = 0;
    let mut best_value = T::NEG_INFINITY;
    for (j, &v) in values[n..].iter().step_by(rows.max(1)).enumerate() {
        if v > best_value {
            best = j;
            best_value = v;
        }
    }
    best
}

impl<'a, T: Scalar, const N: usize> From<&'a OMatrix<T, Dyn, Const<N>>>
    for Targets<'a, T, Const<N>>
{
    fn from(t: &'a OMatrix<T, Dyn, Const<N>>) -> Self {
        Targets::Dense(t)
    }
}

impl<'a, T: Scalar, S: Shape> From<&'a [usize]> for Targets<'a, T, S> {
    fn from(t: &'a [usize]) -> Self {
        Targets::Classes(t)
    }
}

impl<'a, T: Scalar, S: Shape> From<&'a Vec<usize>> for Targets<'a, T, S> {
    fn from(t: &'a Vec<usize>) -> Self {
        Targets::Classes(t)
    }
}

impl<'a, T: Scalar, S: Shape, const K: usize> From<&'a [usize; K]> for Targets<'a, T, S> {
    fn from(t: &'a [usize; K]) -> Self {
        Targets::Classes(t)
    }
}
