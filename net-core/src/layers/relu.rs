//! The ReLU activation.

use core::marker::PhantomData;

use rand::RngCore;

use crate::infer::{Freeze, Infer, Output, Pointwise};
use crate::kernels::{for_each_chunk, relu};
use crate::{Batch, BatchStorage, Init, InitBefore, Layer, Scalar, Shape};

/// `y = max(x, 0)`, element by element, for any sample shape `S`.
///
/// Backward sends no gradient through the inputs that were `≤ 0`:
/// `dx = 0` where `x ≤ 0`, `dout` elsewhere. The book keeps that `mask`
/// from forward; here backward reads it off the input `x`, which the
/// network keeps anyway. Both passes share out the values between the
/// threads (`STATICNET_NUM_THREADS`) when there are many.
///
/// ```
/// use net_core::{Const, Layer, OMatrix, Dyn, Relu};
/// let mut relu = Relu::<f64, Const<2>>::new();
/// let x = OMatrix::<f64, Dyn, Const<2>>::from_row_slice(&[1.0, -0.5, -2.0, 3.0]);
/// let y = relu.forward(&x).clone();
/// assert_eq!(y.as_slice(), &[1.0, 0.0, 0.0, 3.0]); // column-major
/// ```
#[derive(Clone, Debug)]
pub struct Relu<T: Scalar, S: Shape> {
    out: Batch<T, S>,
    dx: Batch<T, S>,
    shape: PhantomData<S>,
}

impl<T: Scalar, S: Shape> Relu<T, S> {
    /// A new ReLU; it has no parameters.
    pub fn new() -> Self {
        Relu {
            out: BatchStorage::zeros(0),
            dx: BatchStorage::zeros(0),
            shape: PhantomData,
        }
    }
}

impl<T: Scalar, S: Shape> Default for Relu<T, S> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Scalar, S: Shape> Layer<T> for Relu<T, S> {
    type In = S;
    type Out = S;

    /// Keeps its input's shape; no parameters or products.
    fn describe(input: &crate::summary::SampleShape) -> crate::summary::Description {
        crate::summary::Description::elementwise(input)
    }
    const INIT_BEFORE: InitBefore = InitBefore::Is(Init::He);

    fn init(_rng: &mut dyn RngCore, _init: Init) -> Self {
        Self::new()
    }

    fn forward(&mut self, x: &Batch<T, S>) -> &Batch<T, S> {
        self.out.set_size_like(x);
        let x = x.as_slice();
        for_each_chunk(x.len(), 1, self.out.as_mut_slice(), &|range, out| {
            for (y, &x) in out.iter_mut().zip(&x[range]) {
                *y = relu(x);
            }
        });
        &self.out
    }

    fn output(&self) -> &Batch<T, S> {
        &self.out
    }

    fn backward(&mut self, x: &Batch<T, S>, dout: &Batch<T, S>) -> &Batch<T, S> {
        self.dx.set_size_like(dout);
        let (x, dout) = (x.as_slice(), dout.as_slice());
        for_each_chunk(dout.len(), 1, self.dx.as_mut_slice(), &|range, dx| {
            for ((dx, &x), &dout) in dx.iter_mut().zip(&x[range.clone()]).zip(&dout[range]) {
                *dx = if x <= T::zero() { T::zero() } else { dout };
            }
        });
        &self.dx
    }
}

/// A ReLU frozen for inference ([`Freeze`]): `max(x, 0)` with no mask;
/// folded into an `Affine` or `Conv2d` before it, which then applies it as
/// it writes its output.
#[derive(Clone, Debug)]
pub struct FrozenRelu<S> {
    skipped: bool,
    shape: PhantomData<fn() -> S>,
}

impl<T: Scalar, S: Shape> Freeze<T> for Relu<T, S> {
    type Frozen = FrozenRelu<S>;

    fn freeze(&self) -> FrozenRelu<S> {
        FrozenRelu {
            skipped: false,
            shape: PhantomData,
        }
    }
}

impl<T: Scalar, S: Shape> Infer<T> for FrozenRelu<S> {
    type In = S;
    type Out = S;
    type Scratch = Output<T, S>;

    fn infer<'a>(&'a self, x: &'a Batch<T, S>, out: &'a mut Output<T, S>) -> &'a Batch<T, S> {
        if self.skipped {
            return x;
        }
        out.map(x, relu)
    }

    fn pointwise(&self) -> Option<Pointwise<T>> {
        (!self.skipped).then_some(Pointwise::Relu)
    }

    fn skip(&mut self) {
        self.skipped = true;
    }
}

impl<T: Scalar, S: Shape> crate::onnx::Export<T> for Relu<T, S> {
    fn export(
        &self,
        graph: &mut crate::onnx::Graph<T>,
        x: crate::onnx::Value,
    ) -> crate::onnx::Value {
        graph.node("Relu", &[&x.name], &[], x.dims.clone())
    }
}

#[cfg(test)]
mod tests {
    use nalgebra::{Const, Dyn, OMatrix};

    use super::*;

    /// The book's example: `x = [[1.0, -0.5], [-2.0, 3.0]]` masks the two
    /// negative entries.
    #[test]
    fn masks_non_positive_inputs_in_both_passes() {
        let mut relu = Relu::<f64, Const<2>>::new();
        let x = OMatrix::<f64, Dyn, Const<2>>::from_row_slice(&[1.0, -0.5, -2.0, 3.0]);
        let y = relu.forward(&x).clone();
        assert_eq!(
            y,
            OMatrix::<f64, Dyn, Const<2>>::from_row_slice(&[1.0, 0.0, 0.0, 3.0])
        );

        let dout = OMatrix::<f64, Dyn, Const<2>>::from_row_slice(&[5.0, 6.0, 7.0, 8.0]);
        let dx = relu.backward(&x, &dout);
        assert_eq!(
            dx,
            &OMatrix::<f64, Dyn, Const<2>>::from_row_slice(&[5.0, 0.0, 0.0, 8.0])
        );
    }

    #[test]
    fn zero_counts_as_masked() {
        let mut relu = Relu::<f32, Const<1>>::new();
        let x = OMatrix::<f32, Dyn, Const<1>>::from_row_slice(&[0.0]);
        relu.forward(&x);
        let dout = OMatrix::<f32, Dyn, Const<1>>::from_row_slice(&[1.0]);
        assert_eq!(relu.backward(&x, &dout)[0], 0.0);
    }

    /// A NaN is not `≤ 0`: it passes, so a broken input shows in the loss.
    #[test]
    fn a_nan_passes_through() {
        let mut relu = Relu::<f32, Const<1>>::new();
        let x = OMatrix::<f32, Dyn, Const<1>>::from_row_slice(&[f32::NAN]);
        assert!(relu.forward(&x)[0].is_nan());
    }

    /// Enough values to be shared between threads give the same result as
    /// one pass.
    #[test]
    fn a_large_batch_matches_value_by_value() {
        let mut relu = Relu::<f32, Const<100>>::new();
        let values: Vec<f32> = (0..100 * 1000)
            .map(|v| ((v * 37 % 101) as f32) - 50.0)
            .collect();
        let x = OMatrix::<f32, Dyn, Const<100>>::from_row_slice(&values);
        let y = relu.forward(&x).clone();
        let dx = relu.backward(&x, &x).clone();
        for ((&x, &y), &dx) in x.as_slice().iter().zip(y.as_slice()).zip(dx.as_slice()) {
            assert_eq!((y, dx), if x <= 0.0 { (0.0, 0.0) } else { (x, x) });
        }
    }
}
