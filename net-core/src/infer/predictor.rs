//! A frozen network and the scratch memory of one caller.

use super::{FoldList, Infer};
use crate::kernels::{SoftmaxRows, alone};
use crate::targets::{argmax_row, classes_of};
use crate::{Batch, BatchStorage, FixedShape, Scalar, Shape};

/// A trained network frozen for inference ([`FreezeNetwork::freeze`]):
/// its layers `B` (a chain of [`Infer`]s, folded), read through `&self`.
/// It is `Send + Sync`: share it by reference with
/// [`std::thread::scope`], or in an [`Arc`](std::sync::Arc); each caller
/// brings its own [`Scratch`].
///
/// Scores come out as the loss layer read them in the training struct;
/// [`probabilities`](Predictor::probabilities) is their softmax, as
/// `SoftmaxWithLoss` computes it. Every method exists for a batch and for
/// one sample given as a slice (`…_sample`), which runs the batch-of-one
/// paths of the layers (an `Affine` as one vector–matrix product over the
/// nonzero inputs).
///
/// [`FreezeNetwork::freeze`]: super::FreezeNetwork::freeze
#[derive(Clone, Debug)]
pub struct Predictor<T: Scalar, B: Infer<T>> {
    layers: B,
    _scalar: core::marker::PhantomData<fn() -> T>,
}

/// The buffers of one caller of a [`Predictor`]: every layer's output, the
/// probabilities, the classes and a sample's batch. Sized by the first
/// call at a batch size and reused, so that the calls after it at that
/// size allocate nothing (a call at another size sizes it anew: keep one
/// per batch size that alternates). Make one per thread with
/// [`Predictor::scratch`].
pub struct Scratch<T: Scalar, B: Infer<T>> {
    layers: B::Scratch,
    probabilities: Batch<T, B::Out>,
    softmax: SoftmaxRows<T>,
    classes: Vec<usize>,
    sample: Batch<T, B::In>,
}

impl<T: Scalar, B: Infer<T>> Default for Scratch<T, B> {
    fn default() -> Self {
        Scratch {
            layers: B::Scratch::default(),
            probabilities: BatchStorage::zeros(0),
            softmax: SoftmaxRows::default(),
            classes: Vec::new(),
            sample: BatchStorage::zeros(0),
        }
    }
}

impl<T: Scalar, B: Infer<T>> core::fmt::Debug for Scratch<T, B> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Scratch").finish_non_exhaustive()
    }
}

impl<T: Scalar, B> Predictor<T, B>
where
    B: Infer<T>,
    B::In: FixedShape,
    B::Out: FixedShape,
{
    /// A predictor over the frozen `layers`, folding each pointwise layer
    /// into the one before it where that is exact (see [`Infer::absorb`]).
    pub fn new(mut layers: B) -> Self {
        FoldList::fold(&mut layers);
        Predictor {
            layers,
            _scalar: core::marker::PhantomData,
        }
    }

    /// The frozen layers on `x`, every product on the calling thread: the
    /// callers are the threads.
    fn run<'s>(
        &'s self,
        x: &'s Batch<T, B::In>,
        layers: &'s mut B::Scratch,
    ) -> &'s Batch<T, B::Out> {
        alone(|| self.layers.infer(x, layers))
    }

    /// The frozen layers.
    pub fn layers(&self) -> &B {
        &self.layers
    }

    /// Empty buffers for one caller.
    pub fn scratch(&self) -> Scratch<T, B> {
        Scratch::default()
    }

    /// The scores for `x`: what the training struct's
    /// [`predict`](crate::Network::predict) returns.
    pub fn predict<'s>(
        &'s self,
        x: &'s Batch<T, B::In>,
        scratch: &'s mut Scratch<T, B>,
    ) -> &'s Batch<T, B::Out> {
        self.run(x, &mut scratch.layers)
    }

    /// The softmax of the scores, row by row: each sample's probability of
    /// each class.
    pub fn probabilities<'s>(
        &'s self,
        x: &'s Batch<T, B::In>,
        scratch: &'s mut Scratch<T, B>,
    ) -> &'s Batch<T, B::Out> {
        let Scratch {
            layers,
            probabilities,
            softmax,
            ..
        } = scratch;
        softmax_into::<T, B::Out>(self.run(x, layers), probabilities, softmax)
    }

    /// The class of each sample of `x`: the index of its highest score.
    pub fn classify<'s>(
        &'s self,
        x: &'s Batch<T, B::In>,
        scratch: &'s mut Scratch<T, B>,
    ) -> &'s [usize] {
        let y = self.run(x, &mut scratch.layers);
        scratch.classes.clear();
        scratch.classes.extend(classes_of::<T, B::Out>(y));
        &scratch.classes
    }

    /// The scores of one sample, given as its values in order.
    ///
    /// # Errors
    /// When `sample` does not hold exactly one sample's values.
    pub fn predict_sample<'s>(
        &'s self,
        sample: &[T],
        scratch: &'s mut Scratch<T, B>,
    ) -> Result<&'s [T], SampleLength> {
        let Scratch {
            layers, sample: x, ..
        } = scratch;
        load_sample::<T, B::In>(x, sample)?;
        Ok(self.run(x, layers).as_slice())
    }

    /// The probabilities of one sample, as
    /// [`probabilities`](Predictor::probabilities).
    ///
    /// # Errors
    /// When `sample` does not hold exactly one sample's values.
    pub fn probabilities_sample<'s>(
        &'s self,
        sample: &[T],
        scratch: &'s mut Scratch<T, B>,
    ) -> Result<&'s [T], SampleLength> {
        let Scratch {
            layers,
            probabilities,
            softmax,
            sample: x,
            ..
        } = scratch;
        load_sample::<T, B::In>(x, sample)?;
        Ok(softmax_into::<T, B::Out>(self.run(x, layers), probabilities, softmax).as_slice())
    }

    /// The class of one sample: the index of its highest score.
    ///
    /// # Errors
    /// When `sample` does not hold exactly one sample's values.
    pub fn classify_sample(
        &self,
        sample: &[T],
        scratch: &mut Scratch<T, B>,
    ) -> Result<usize, SampleLength> {
        let scores = self.predict_sample(sample, scratch)?;
        Ok(argmax_row(scores, 1, 0))
    }
}

/// `probabilities ←` the row-wise softmax of the scores `y`.
fn softmax_into<'p, T: Scalar, S: Shape>(
    y: &Batch<T, S>,
    probabilities: &'p mut Batch<T, S>,
    softmax: &mut SoftmaxRows<T>,
) -> &'p Batch<T, S> {
    let rows = y.batch_size();
    probabilities.set_batch_size(rows);
    softmax.softmax(y.as_slice(), rows, probabilities.as_mut_slice());
    probabilities
}

/// `batch ←` one sample of `values`.
fn load_sample<T: Scalar, S: FixedShape>(
    batch: &mut Batch<T, S>,
    values: &[T],
) -> Result<(), SampleLength> {
    if values.len() != S::NUMEL {
        return Err(SampleLength {
            given: values.len(),
            expected: S::NUMEL,
        });
    }
    batch.set_batch_size(1);
    batch.as_mut_slice().copy_from_slice(values);
    Ok(())
}

/// A sample given as a slice of another length than the network's input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("a sample of this network holds {expected} values, not {given}")]
pub struct SampleLength {
    /// The number of values given.
    pub given: usize,
    /// The number of values in one sample.
    pub expected: usize,
}
