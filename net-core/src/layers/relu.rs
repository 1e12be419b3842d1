//! The ReLU activation.

use core::marker::PhantomData;

use rand::RngCore;

use crate::{Batch, BatchStorage, Init, InitBefore, Layer, Scalar, Shape};

/// `y = max(x, 0)`, element by element, for any sample shape `S`.
///
/// Forward keeps a mask of the inputs that were `≤ 0`; backward sends no
/// gradient through them: `dx = dout` where the mask is off, `0` where it
/// is on.
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
    mask: Vec<bool>,
    out: Batch<T, S>,
    dx: Batch<T, S>,
    shape: PhantomData<S>,
}

impl<T: Scalar, S: Shape> Relu<T, S> {
    /// A new ReLU; it has no parameters.
    pub fn new() -> Self {
        Relu {
            mask: Vec::new(),
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
    const INIT_BEFORE: InitBefore = InitBefore::Is(Init::He);

    fn init(_rng: &mut dyn RngCore, _init: Init) -> Self {
        Self::new()
    }

    fn forward(&mut self, x: &Batch<T, S>) -> &Batch<T, S> {
        self.out.set_size_like(x);
        self.mask.resize(x.as_slice().len(), false);
        let out = self.out.as_mut_slice();
        for ((y, masked), &x) in out.iter_mut().zip(&mut self.mask).zip(x.as_slice()) {
            *masked = x <= T::zero();
            *y = if *masked { T::zero() } else { x };
        }
        &self.out
    }

    fn output(&self) -> &Batch<T, S> {
        &self.out
    }

    fn backward(&mut self, _x: &Batch<T, S>, dout: &Batch<T, S>) -> &Batch<T, S> {
        self.dx.set_size_like(dout);
        let dx = self.dx.as_mut_slice();
        for ((dx, &masked), &dout) in dx.iter_mut().zip(&self.mask).zip(dout.as_slice()) {
            *dx = if masked { T::zero() } else { dout };
        }
        &self.dx
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
}
