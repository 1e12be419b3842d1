//! Flattening images into feature vectors.

use core::marker::PhantomData;

use nalgebra::{Const, Dyn, OMatrix};
use rand::RngCore;

use crate::infer::{Freeze, Infer, Output};
use crate::kernels::transpose;
use crate::{Batch, BatchStorage, FixedShape, Init, Layer, Scalar};

/// Turns each sample of shape `S` (such as the `C × H × W` images of
/// [`Chw`](crate::Chw)) into a flat vector of its `N = S::NUMEL` values,
/// in the book's order (`x.reshape(N, -1)`), for an [`Affine`](crate::Affine)
/// to read.
///
/// `N` is written out because stable Rust cannot compute it from `S` in a
/// type; it is checked against `S` at compile time, where the layer is
/// built (`network!` writes it for you). Images are stored one sample after
/// the other and flat batches column-major (`N × F` as nalgebra stores
/// it), so forward is a transposing copy, and backward the copy back.
///
/// ```
/// use net_core::typenum::{U2, U3, U1};
/// use net_core::{Chw, Flatten, ImageBatch, Layer};
///
/// let mut flatten = Flatten::<f64, Chw<U1, U2, U3>, 6>::new();
/// let x = ImageBatch::from_vec((0..12).map(f64::from).collect()).expect("two samples");
/// let y = flatten.forward(&x);
/// assert_eq!(y.row(1).iter().copied().collect::<Vec<_>>(), [6.0, 7.0, 8.0, 9.0, 10.0, 11.0]);
/// ```
#[derive(Clone, Debug)]
pub struct Flatten<T: Scalar, S: FixedShape, const N: usize> {
    out: OMatrix<T, Dyn, Const<N>>,
    dx: Batch<T, S>,
    shape: PhantomData<fn() -> S>,
}

impl<T: Scalar, S: FixedShape, const N: usize> Flatten<T, S, N> {
    /// Evaluating it is what rejects an `N` other than `S::NUMEL`, at
    /// compile time.
    const FITS: () = assert!(
        S::NUMEL == N,
        "Flatten<T, S, N>: N must be the number of values of one sample of S"
    );

    /// A new flattening layer; it has no parameters.
    pub fn new() -> Self {
        let () = Self::FITS;
        Flatten {
            out: BatchStorage::zeros(0),
            dx: BatchStorage::zeros(0),
            shape: PhantomData,
        }
    }
}

impl<T: Scalar, S: FixedShape, const N: usize> Default for Flatten<T, S, N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Scalar, S: FixedShape, const N: usize> Layer<T> for Flatten<T, S, N> {
    type In = S;
    type Out = Const<N>;

    /// A copy, no products or parameters.
    fn describe(input: &crate::summary::SampleShape) -> crate::summary::Description {
        crate::summary::Description::new(
            input,
            crate::summary::SampleShape::known(&[N]),
            Some(0),
            Some(0),
        )
    }

    fn init(_rng: &mut dyn RngCore, _init: Init) -> Self {
        Self::new()
    }

    fn forward(&mut self, x: &Batch<T, S>) -> &OMatrix<T, Dyn, Const<N>> {
        let batch = x.batch_size();
        self.out.set_batch_size(batch);
        // Sample n's value j goes to row n, column j: `j·batch + n`.
        // Sample `n`'s values become row `n` of the column-major output:
        // a transpose, in blocks that stay in cache (one value at a time,
        // each write lands `batch` values from the last, and flattening
        // SimpleConvNet's 4320 values took 8% of its training step).
        transpose(x.as_slice(), N, self.out.as_mut_slice(), batch, batch, N);
        &self.out
    }

    fn output(&self) -> &OMatrix<T, Dyn, Const<N>> {
        &self.out
    }

    fn backward(&mut self, _x: &Batch<T, S>, dout: &OMatrix<T, Dyn, Const<N>>) -> &Batch<T, S> {
        let batch = dout.nrows();
        self.dx.set_batch_size(batch);
        transpose(dout.as_slice(), batch, self.dx.as_mut_slice(), N, N, batch);
        &self.dx
    }
}

/// Flatten frozen for inference ([`Freeze`]): the same transpose into
/// rows, into a caller's buffer (a copy, for a batch of one).
#[derive(Clone, Debug)]
pub struct FrozenFlatten<S, const N: usize> {
    shape: PhantomData<fn() -> S>,
}

impl<T: Scalar, S: FixedShape, const N: usize> Freeze<T> for Flatten<T, S, N> {
    type Frozen = FrozenFlatten<S, N>;

    fn freeze(&self) -> Self::Frozen {
        FrozenFlatten { shape: PhantomData }
    }
}

impl<T: Scalar, S: FixedShape, const N: usize> Infer<T> for FrozenFlatten<S, N> {
    type In = S;
    type Out = Const<N>;
    type Scratch = Output<T, Const<N>>;

    fn infer<'a>(
        &'a self,
        x: &'a Batch<T, S>,
        out: &'a mut Output<T, Const<N>>,
    ) -> &'a OMatrix<T, Dyn, Const<N>> {
        let batch = x.batch_size();
        let out = out.sized(batch);
        if batch == 1 {
            // One sample's row is its values in order.
            out.as_mut_slice().copy_from_slice(x.as_slice());
        } else {
            transpose(x.as_slice(), N, out.as_mut_slice(), batch, batch, N);
        }
        out
    }
}

/// ONNX's `Flatten` after the batch axis: the same `C × H × W` order.
impl<T: Scalar, S: FixedShape, const N: usize> crate::onnx::Export<T> for Flatten<T, S, N> {
    fn export(
        &self,
        graph: &mut crate::onnx::Graph<T>,
        x: crate::onnx::Value,
    ) -> crate::onnx::Value {
        graph.node(
            "Flatten",
            &[&x.name],
            &[crate::onnx::Attribute::Int("axis", 1)],
            vec![N],
        )
    }
}

#[cfg(test)]
mod tests {
    use typenum::{U2, U3, U4};

    use super::*;
    use crate::Chw;
    use crate::layers::check::{assert_gradients_agree, random_batch};

    #[test]
    fn gradients_match_numerical_ones() {
        let mut flatten = Flatten::<f64, Chw<U2, U3, U4>, 24>::new();
        assert_gradients_agree(&mut flatten, &random_batch::<Chw<U2, U3, U4>>(5, 7));
    }

    #[test]
    fn backward_undoes_forward() {
        let mut flatten = Flatten::<f64, Chw<U3, U2, U2>, 12>::new();
        let x = random_batch::<Chw<U3, U2, U2>>(4, 8);
        let y = flatten.forward(&x).clone();
        assert_eq!(y[(2, 5)], x.sample(2)[5]);
        assert_eq!(flatten.backward(&x, &y).as_slice(), x.as_slice());
    }
}
