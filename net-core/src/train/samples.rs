//! Samples of one's own, held in memory, and the targets a batch gathers:
//! class labels or values. (The [`Samples`] trait and MNIST's samples live
//! in `data`.)

use core::marker::PhantomData;

use crate::data::{BatchError, Samples, check_indices};
use crate::{Batch, BatchStorage, FixedShape, Scalar, Shape, Targets};

/// A batch's gathered targets, as the loss layer of a network with output
/// shape `O` reads them.
pub trait TargetBatch<T: Scalar, O: Shape> {
    /// The targets, to pass to [`Network`](crate::Network)'s methods.
    fn targets(&self) -> Targets<'_, T, O>;
}

impl<T: Scalar, O: Shape> TargetBatch<T, O> for Vec<usize> {
    fn targets(&self) -> Targets<'_, T, O> {
        Targets::Classes(self)
    }
}

/// The target values of a batch, one row of shape `O` per sample: what a
/// regression's loss (such as
/// [`IdentityWithSquaredLoss`](crate::IdentityWithSquaredLoss)) compares
/// the output with.
#[derive(Clone, Debug)]
pub struct Values<T: Scalar, O: Shape>(pub Batch<T, O>);

impl<T: Scalar, O: Shape> Default for Values<T, O> {
    fn default() -> Self {
        Values(BatchStorage::zeros(0))
    }
}

impl<T: Scalar, O: Shape> TargetBatch<T, O> for Values<T, O> {
    fn targets(&self) -> Targets<'_, T, O> {
        Targets::Dense(&self.0)
    }
}

/// Samples of one's own, held in memory: inputs of shape `S`, sample after
/// sample as NumPy holds an `(N, …)` array, with class labels
/// ([`InMemory::with_labels`]) or target values
/// ([`InMemory::with_values`]).
///
/// ```
/// use net_core::Const;
/// use net_core::train::{InMemory, ValueRows};
///
/// // y = 2x on three samples: one input and one output each.
/// let data: InMemory<f64, Const<1>, ValueRows<f64, Const<1>>> =
///     InMemory::with_values(vec![0.0, 0.5, 1.0], vec![0.0, 1.0, 2.0])?;
/// assert_eq!(data.len(), 3);
///
/// let short = InMemory::<f64, Const<2>, _>::with_labels(vec![0.0; 5], vec![0, 1], 2);
/// assert_eq!(
///     short.unwrap_err().to_string(),
///     "the inputs hold 5 values, which is not a whole number of samples of 2 values each"
/// );
/// # Ok::<(), net_core::train::SamplesError>(())
/// ```
#[derive(Clone, Debug)]
pub struct InMemory<T: Scalar, S: Shape, Y> {
    inputs: Vec<T>,
    targets: Y,
    len: usize,
    shape: PhantomData<S>,
}

/// The class labels of [`InMemory`] samples.
#[derive(Clone, Debug)]
pub struct Labels(Vec<usize>);

/// The target values of [`InMemory`] samples: `O::NUMEL` per sample.
#[derive(Clone, Debug)]
pub struct ValueRows<T: Scalar, O: Shape> {
    values: Vec<T>,
    shape: PhantomData<O>,
}

/// Why in-memory samples could not be made: their counts disagree.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SamplesError {
    /// The inputs are not a whole number of samples.
    #[error(
        "the inputs hold {values} values, which is not a whole number of samples of {per_sample} values each"
    )]
    PartialSample {
        /// The number of input values.
        values: usize,
        /// The values of one sample of the input shape.
        per_sample: usize,
    },
    /// The labels and the inputs count different samples.
    #[error("the inputs hold {inputs} samples but there are {labels} labels")]
    LabelCount {
        /// Samples in the inputs.
        inputs: usize,
        /// Labels given.
        labels: usize,
    },
    /// A label names a class that does not exist.
    #[error("label {label} (sample {sample}) is not one of the {classes} classes 0..{classes}")]
    ClassOutOfRange {
        /// The sample.
        sample: usize,
        /// Its label.
        label: usize,
        /// The number of classes.
        classes: usize,
    },
    /// The target values do not give one row per sample.
    #[error(
        "the inputs hold {inputs} samples, which need {expected} target values ({per_sample} each), but {values} were given"
    )]
    ValueCount {
        /// Samples in the inputs.
        inputs: usize,
        /// The target values needed.
        expected: usize,
        /// The target values of one sample.
        per_sample: usize,
        /// The target values given.
        values: usize,
    },
    /// A value is NaN or infinite.
    #[error("the {what} hold a value that is not finite, at position {position}")]
    NonFinite {
        /// `"inputs"` or `"target values"`.
        what: &'static str,
        /// Its position in the flat array.
        position: usize,
    },
}

impl<T: Scalar, S: FixedShape, Y> InMemory<T, S, Y> {
    /// The number of samples.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no samples.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Checks the inputs and counts their samples.
    fn count_samples(inputs: &[T]) -> Result<usize, SamplesError> {
        let per_sample = S::NUMEL;
        if per_sample == 0 || inputs.len() % per_sample != 0 {
            return Err(SamplesError::PartialSample {
                values: inputs.len(),
                per_sample,
            });
        }
        check_finite("inputs", inputs)?;
        Ok(inputs.len() / per_sample)
    }

    /// The inputs `indices` into `x`.
    fn gather_inputs(&self, indices: &[usize], x: &mut Batch<T, S>) -> Result<(), BatchError> {
        check_indices(indices, self.len)?;
        let per_sample = S::NUMEL;
        for (n, &index) in indices.iter().enumerate() {
            x.set_sample(n, &self.inputs[index * per_sample..][..per_sample]);
        }
        Ok(())
    }
}

impl<T: Scalar, S: FixedShape> InMemory<T, S, Labels> {
    /// Samples `inputs` (flat, sample after sample) labeled with one of
    /// `classes` classes each. Every count is checked: a partial sample,
    /// fewer or more labels than samples, a label of no class, or a value
    /// that is not finite is an error naming the numbers.
    pub fn with_labels(
        inputs: impl Into<Vec<T>>,
        labels: impl Into<Vec<usize>>,
        classes: usize,
    ) -> Result<Self, SamplesError> {
        let (inputs, labels) = (inputs.into(), labels.into());
        let len = Self::count_samples(&inputs)?;
        if labels.len() != len {
            return Err(SamplesError::LabelCount {
                inputs: len,
                labels: labels.len(),
            });
        }
        if let Some((sample, &label)) = labels.iter().enumerate().find(|&(_, &l)| l >= classes) {
            return Err(SamplesError::ClassOutOfRange {
                sample,
                label,
                classes,
            });
        }
        Ok(InMemory {
            inputs,
            targets: Labels(labels),
            len,
            shape: PhantomData,
        })
    }
}

impl<T: Scalar, S: FixedShape, O: FixedShape> InMemory<T, S, ValueRows<T, O>> {
    /// Samples `inputs` (flat, sample after sample) with target `values`
    /// of shape `O` each (flat, sample after sample): a regression's data.
    /// Every count is checked, as in [`with_labels`](InMemory::with_labels).
    pub fn with_values(
        inputs: impl Into<Vec<T>>,
        values: impl Into<Vec<T>>,
    ) -> Result<Self, SamplesError> {
        let (inputs, values) = (inputs.into(), values.into());
        let len = Self::count_samples(&inputs)?;
        let expected = len * O::NUMEL;
        if values.len() != expected {
            return Err(SamplesError::ValueCount {
                inputs: len,
                expected,
                per_sample: O::NUMEL,
                values: values.len(),
            });
        }
        check_finite("target values", &values)?;
        Ok(InMemory {
            inputs,
            targets: ValueRows {
                values,
                shape: PhantomData,
            },
            len,
            shape: PhantomData,
        })
    }
}

impl<T: Scalar, S: FixedShape> Samples<T, S> for InMemory<T, S, Labels> {
    type Targets = Vec<usize>;

    fn len(&self) -> usize {
        self.len
    }

    fn gather(
        &self,
        indices: &[usize],
        x: &mut Batch<T, S>,
        labels: &mut Vec<usize>,
    ) -> Result<(), BatchError> {
        self.gather_inputs(indices, x)?;
        labels.clear();
        labels.extend(indices.iter().map(|&i| self.targets.0[i]));
        Ok(())
    }
}

impl<T: Scalar, S: FixedShape, O: FixedShape> Samples<T, S> for InMemory<T, S, ValueRows<T, O>> {
    type Targets = Values<T, O>;

    fn len(&self) -> usize {
        self.len
    }

    fn gather(
        &self,
        indices: &[usize],
        x: &mut Batch<T, S>,
        targets: &mut Values<T, O>,
    ) -> Result<(), BatchError> {
        self.gather_inputs(indices, x)?;
        targets.0.set_batch_size(indices.len());
        let per_sample = O::NUMEL;
        for (n, &index) in indices.iter().enumerate() {
            targets
                .0
                .set_sample(n, &self.targets.values[index * per_sample..][..per_sample]);
        }
        Ok(())
    }
}

fn check_finite<T: Scalar>(what: &'static str, values: &[T]) -> Result<(), SamplesError> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(position) => Err(SamplesError::NonFinite { what, position }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Const;

    #[test]
    fn in_memory_samples_gather_rows_and_labels() {
        let data = InMemory::<f64, Const<2>, _>::with_labels(
            vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
            vec![2, 0, 1],
            3,
        )
        .unwrap();
        let mut x: Batch<f64, Const<2>> = BatchStorage::zeros(2);
        let mut labels = Vec::new();
        data.gather(&[2, 0], &mut x, &mut labels).unwrap();
        assert_eq!(x[(0, 0)], 5.0);
        assert_eq!(x[(0, 1)], 6.0);
        assert_eq!(x[(1, 1)], 2.0);
        assert_eq!(labels, [1, 2]);
        assert_eq!(
            data.gather(&[3], &mut x, &mut labels),
            Err(BatchError::IndexOutOfRange {
                position: 0,
                index: 3,
                len: 3
            })
        );
    }

    #[test]
    fn in_memory_counts_are_checked() {
        type Flat2 = InMemory<f32, Const<2>, Labels>;
        assert_eq!(
            Flat2::with_labels(vec![0.0; 4], vec![0], 2).unwrap_err(),
            SamplesError::LabelCount {
                inputs: 2,
                labels: 1
            }
        );
        assert_eq!(
            Flat2::with_labels(vec![0.0; 4], vec![0, 7], 2).unwrap_err(),
            SamplesError::ClassOutOfRange {
                sample: 1,
                label: 7,
                classes: 2
            }
        );
        assert_eq!(
            Flat2::with_labels(vec![0.0, f32::NAN], vec![0], 2).unwrap_err(),
            SamplesError::NonFinite {
                what: "inputs",
                position: 1
            }
        );
        let values = InMemory::<f32, Const<2>, ValueRows<f32, Const<3>>>::with_values(
            vec![0.0; 4],
            vec![0.0; 5],
        );
        assert_eq!(
            values.unwrap_err().to_string(),
            "the inputs hold 2 samples, which need 6 target values (3 each), but 5 were given"
        );
    }

    #[test]
    fn in_memory_values_gather_as_dense_targets() {
        let data = InMemory::<f64, Const<1>, ValueRows<f64, Const<2>>>::with_values(
            vec![0.5, 1.5],
            vec![1.0, 2.0, 3.0, 4.0],
        )
        .unwrap();
        let mut x: Batch<f64, Const<1>> = BatchStorage::zeros(1);
        let mut values = Values::default();
        data.gather(&[1], &mut x, &mut values).unwrap();
        assert_eq!(x[(0, 0)], 1.5);
        let targets: Targets<'_, f64, Const<2>> = values.targets();
        assert_eq!((targets.value(0, 0), targets.value(0, 1)), (3.0, 4.0));
    }
}
