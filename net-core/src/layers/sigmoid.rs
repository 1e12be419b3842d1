//! The sigmoid activation.

use super::elementwise::{Elementwise, ElementwiseFn};
use crate::init::{Init, InitBefore};
use crate::scalar::Scalar;

/// `y = 1 / (1 + exp(−x))`, element by element, for any sample shape `S`.
///
/// Backward needs only the forward output: `dx = dout · y · (1 − y)`.
pub type Sigmoid<T, S> = Elementwise<T, S, SigmoidFn>;

/// The sigmoid and its derivative `y·(1 − y)`: see [`Sigmoid`].
#[derive(Clone, Copy, Debug, Default)]
pub struct SigmoidFn;

impl ElementwiseFn for SigmoidFn {
    const INIT_BEFORE: InitBefore = InitBefore::Is(Init::Xavier);

    fn value<T: Scalar>(&self, x: T) -> T {
        T::one() / (T::one() + (-x).exp())
    }

    fn derivative<T: Scalar>(&self, _x: T, y: T) -> T {
        y * (T::one() - y)
    }
}

impl crate::onnx::ExportFn for SigmoidFn {
    fn export<T: crate::Scalar>(
        &self,
        graph: &mut crate::onnx::Graph<T>,
        x: crate::onnx::Value,
    ) -> crate::onnx::Value {
        graph.node("Sigmoid", &[&x.name], &[], x.dims.clone())
    }
}

#[cfg(test)]
mod tests {
    use nalgebra::{Const, Dyn, OMatrix};

    use super::*;
    use crate::layer::Layer;

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
