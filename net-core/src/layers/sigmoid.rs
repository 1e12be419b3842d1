//! The sigmoid activation.

use core::marker::PhantomData;

use rand::RngCore;

use crate::{Batch, BatchStorage, Init, InitBefore, Layer, Scalar, Shape};

/// `y = 1 / (1 + exp(−x))`, element by element, for any sample shape `S`.
///
/// Backward needs only the forward output: `dx = dout · y · (1 − y)`.
#[derive(Clone, Debug)]
pub struct Sigmoid<T: Scalar, S: Shape> {
    out: Batch<T, S>,
    dx: Batch<T, S>,
    shape: PhantomData<S>,
}

impl<T: Scalar, S: Shape> Sigmoid<T, S> {
    /// A new sigmoid; it has no parameters.
    pub fn new() -> Self {
        Sigmoid {
            out: BatchStorage::zeros(0),
            dx: BatchStorage::zeros(0),
            shape: PhantomData,
        }
    }
}

impl<T: Scalar, S: Shape> Default for Sigmoid<T, S> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Scalar, S: Shape> Layer<T> for Sigmoid<T, S> {
    type In = S;
    type Out = S;
    const INIT_BEFORE: InitBefore = InitBefore::Is(Init::Xavier);

    fn init(_rng: &mut dyn RngCore, _init: Init) -> Self {
        Self::new()
    }

    fn forward(&mut self, x: &Batch<T, S>) -> &Batch<T, S> {
        self.out.set_size_like(x);
        for (y, &x) in self.out.as_mut_slice().iter_mut().zip(x.as_slice()) {
            *y = T::one() / (T::one() + (-x).exp());
        }
        &self.out
    }

    fn output(&self) -> &Batch<T, S> {
        &self.out
    }

    fn backward(&mut self, _x: &Batch<T, S>, dout: &Batch<T, S>) -> &Batch<T, S> {
        self.dx.set_size_like(dout);
        let dx = self.dx.as_mut_slice();
        for ((dx, &y), &dout) in dx.iter_mut().zip(self.out.as_slice()).zip(dout.as_slice()) {
            *dx = dout * y * (T::one() - y);
        }
        &self.dx
    }
}

#[cfg(test)]
mod tests {
    use nalgebra::{Const, Dyn, OMatrix};

    use super::*;

    #[test]
    fn forward_and_backward_use_the_output() {
        let mut sigmoid = Sigmoid::<f64, Const<3>>::new();
        let x = OMatrix::<f64, Dyn, Const<3>>::from_row_slice(&[0.0, 2.0, -1000.0]);
        let y = sigmoid.forward(&x).clone();
        assert_eq!(y[0], 0.5);
        assert!((y[1] - 0.880_797_077_977_882_3).abs() < 1e-15);
        assert_eq!(y[2], 0.0, "large negative inputs saturate without NaN");

        let dout = OMatrix::<f64, Dyn, Const<3>>::from_row_slice(&[1.0, 2.0, 1.0]);
        let dx = sigmoid.backward(&x, &dout);
        assert_eq!(dx[0], 0.25);
        assert!((dx[1] - 2.0 * y[1] * (1.0 - y[1])).abs() < 1e-15);
        assert_eq!(dx[2], 0.0);
    }
}
