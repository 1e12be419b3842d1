//! Where batches come from: a set of samples with their targets, as class
//! labels or as values.

use core::marker::PhantomData;

use crate::data::mnist::check_indices;
use crate::data::{BatchError, BatchLayout, Mnist, Split};
use crate::{Batch, BatchStorage, Chw, Const, FixedShape, Network, Scalar, Shape, Targets};

/// A set of samples with their targets: a split of MNIST
/// ([`ImageSamples`]), data of one's own ([`InMemory`]), or any type that
/// can copy samples into a batch.
pub trait Samples<T: Scalar, S: Shape> {
    /// What a batch's targets are gathered into: class indices
    /// (`Vec<usize>`) or values ([`Values`]).
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

/// A split of an image dataset as flat samples of `N` pixels
/// (`Const<784>`, the book's `flatten=True`) or as images (`Chw<U1, U28,
/// U28>`, `flatten=False`), scaled to `[0, 1]` when `normalize` is set (the
/// book's `normalize=True`). [`Mnist::train_samples`] and
/// [`Mnist::test_samples`] make one with the dataset's
/// [`LoadOptions`](crate::data::LoadOptions).
#[derive(Clone, Copy, Debug)]
pub struct ImageSamples<'a> {
    /// The images and labels.
    pub split: &'a Split,
    /// Whether pixels are divided by 255.
    pub normalize: bool,
}

impl Mnist {
    /// The training images and labels, normalized as the options given to
    /// [`load_mnist`](crate::data::load_mnist) say.
    pub fn train_samples(&self) -> ImageSamples<'_> {
        ImageSamples {
            split: &self.train,
            normalize: self.options.normalize,
        }
    }

    /// The test images and labels, normalized as the options given to
    /// [`load_mnist`](crate::data::load_mnist) say.
    pub fn test_samples(&self) -> ImageSamples<'_> {
        ImageSamples {
            split: &self.test,
            normalize: self.options.normalize,
        }
    }
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
    type Targets = Vec<usize>;

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
    type Targets = Vec<usize>;

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
