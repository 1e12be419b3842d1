//! The hyperbolic tangent activation.

use super::elementwise::{Elementwise, ElementwiseFn};
use crate::{Init, InitBefore, Scalar};

/// `y = tanh(x) = (eˣ − e⁻ˣ) / (eˣ + e⁻ˣ)`, element by element, for any
/// sample shape `S`.
///
/// Like the sigmoid, backward needs only the forward output:
/// `dx = dout · (1 − y²)`.
///
/// ```
/// use net_core::{Const, Dyn, Layer, OMatrix, Tanh};
/// let mut tanh = Tanh::<f64, Const<2>>::new();
/// let x = OMatrix::<f64, Dyn, Const<2>>::from_row_slice(&[0.0, 0.5]);
/// let y = tanh.forward(&x).clone();
/// assert_eq!(y[0], 0.0);
/// assert!((y[1] - 0.462_117_157_260_009_74).abs() < 1e-15);
/// let dx = tanh.backward(&x, &OMatrix::<f64, Dyn, Const<2>>::from_row_slice(&[1.0, 1.0]));
/// assert_eq!(dx[0], 1.0); // 1 − tanh(0)²
/// ```
pub type Tanh<T, S> = Elementwise<T, S, TanhFn>;

/// `tanh` and its derivative `1 − y²`: see [`Tanh`].
#[derive(Clone, Copy, Debug, Default)]
pub struct TanhFn;

impl ElementwiseFn for TanhFn {
    const INIT_BEFORE: InitBefore = InitBefore::Is(Init::Xavier);

    fn value<T: Scalar>(&self, x: T) -> T {
        x.tanh()
    }

    fn derivative<T: Scalar>(&self, _x: T, y: T) -> T {
        T::one() - y * y
    }
}

impl crate::onnx::ExportFn for TanhFn {
    fn export<T: crate::Scalar>(
        &self,
        graph: &mut crate::onnx::Graph<T>,
        x: crate::onnx::Value,
    ) -> crate::onnx::Value {
        graph.node("Tanh", &[&x.name], &[], x.dims.clone())
    }
}

#[cfg(test)]
mod tests {
    use nalgebra::{Const, Dyn, OMatrix};

    use super::*;
    use crate::Layer;
    use crate::layers::check::{assert_gradients_agree, random_batch};

    type Rows = OMatrix<f64, Dyn, Const<3>>;

    /// Expected values from mpmath at 30 digits, rounded to `f64`:
    /// `tanh(0.5) = 0.462117157260009758…`, `tanh(−1) = −0.761594155955764888…`,
    /// `tanh(2) = 0.964027580075816883…`, and `1 − tanh(20) ≈ 8.5e-18`, below
    /// half an ulp of 1.
    #[test]
    fn forward_matches_reference_values_and_saturates() {
        let mut tanh = Tanh::<f64, Const<3>>::new();
        let x = Rows::from_row_slice(&[0.5, -1.0, 2.0, 0.0, 20.0, -1000.0]);
        let y = tanh.forward(&x).clone();
        let expected = Rows::from_row_slice(&[
            0.462_117_157_260_009_74,
            -0.761_594_155_955_764_9,
            0.964_027_580_075_816_9,
            0.0,
            1.0,
            -1.0,
        ]);
        for (a, b) in y.iter().zip(expected.iter()) {
            assert!((a - b).abs() < 1e-15, "{a} vs {b}");
        }
        assert_eq!(tanh.output(), &y);
    }

    /// `dx = dout · (1 − y²) = dout · sech²(x)`, with `sech²` from mpmath:
    /// `sech²(0.5) = 0.786447732965927410…`, `sech²(−1) = 0.419974341614026069…`,
    /// `sech²(2) = 0.070650824853164465…`; saturated units pass no gradient.
    #[test]
    fn backward_uses_the_output() {
        let mut tanh = Tanh::<f64, Const<3>>::new();
        let x = Rows::from_row_slice(&[0.5, -1.0, 2.0, 0.0, 20.0, -1000.0]);
        tanh.forward(&x);
        let dout = Rows::from_row_slice(&[1.0, 2.0, -3.0, 5.0, 1.0, 1.0]);
        let dx = tanh.backward(&x, &dout);
        let expected = Rows::from_row_slice(&[
            0.786_447_732_965_927_4,         // 1 · sech²(0.5)
            2.0 * 0.419_974_341_614_026_1,   // 2 · sech²(−1)
            -3.0 * 0.070_650_824_853_164_47, // −3 · sech²(2)
            5.0,                             // 5 · (1 − 0²)
            0.0,                             // 1 · (1 − 1²)
            0.0,                             // 1 · (1 − (−1)²)
        ]);
        for (a, b) in dx.iter().zip(expected.iter()) {
            assert!((a - b).abs() < 1e-15, "{a} vs {b}");
        }
    }

    #[test]
    fn gradients_match_numerical_ones() {
        let mut tanh = Tanh::<f64, Const<7>>::new();
        assert_gradients_agree(&mut tanh, &random_batch::<Const<7>>(5, 3));
    }
}
