//! The leaky ReLU activation.

use super::elementwise::{Elementwise, ElementwiseFn};
use crate::{Init, InitBefore, Scalar, Shape};

/// The slope for negative inputs unless told otherwise: PyTorch's
/// `negative_slope` default.
const DEFAULT_SLOPE: f64 = 0.01;

/// `y = x` for `x > 0`, `y = slope·x` otherwise, element by element, for
/// any sample shape `S` (Maas et al., 2013). The slope is 0.01 unless
/// [`with_slope`](LeakyRelu::with_slope) says otherwise.
///
/// Backward lets the gradient through where the input was positive and
/// scales it by the slope where it was `≤ 0`, as [`Relu`](crate::Relu)
/// stops it: `dx = dout` or `dx = slope·dout`.
///
/// ```
/// use net_core::{Const, Dyn, LeakyRelu, Layer, OMatrix};
/// let mut relu = LeakyRelu::<f64, Const<2>>::new().with_slope(0.5);
/// let x = OMatrix::<f64, Dyn, Const<2>>::from_row_slice(&[1.0, -0.5, -2.0, 3.0]);
/// let y = relu.forward(&x).clone();
/// assert_eq!(y.as_slice(), &[1.0, -1.0, -0.25, 3.0]); // column-major
/// ```
pub type LeakyRelu<T, S> = Elementwise<T, S, LeakyReluFn>;

/// `x` or `slope·x`, and its derivative `1` or `slope`: see [`LeakyRelu`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LeakyReluFn {
    slope: f64,
}

impl Default for LeakyReluFn {
    fn default() -> Self {
        LeakyReluFn {
            slope: DEFAULT_SLOPE,
        }
    }
}

impl ElementwiseFn for LeakyReluFn {
    const INIT_BEFORE: InitBefore = InitBefore::Is(Init::He);

    fn value<T: Scalar>(&self, x: T) -> T {
        if x <= T::zero() {
            T::of_f64(self.slope) * x
        } else {
            x
        }
    }

    fn derivative<T: Scalar>(&self, x: T, _y: T) -> T {
        if x <= T::zero() {
            T::of_f64(self.slope)
        } else {
            T::one()
        }
    }
}

impl<T: Scalar, S: Shape> LeakyRelu<T, S> {
    /// The same layer with `slope` for the inputs `≤ 0`.
    ///
    /// # Panics
    /// When `slope` is not finite (NaN or infinite).
    pub fn with_slope(self, slope: f64) -> Self {
        assert!(
            slope.is_finite(),
            "a leaky ReLU slope is a finite number, not {slope}"
        );
        Self::of(LeakyReluFn { slope })
    }

    /// The slope for the inputs `≤ 0`.
    pub fn slope(&self) -> f64 {
        self.function().slope
    }
}

impl crate::onnx::ExportFn for LeakyReluFn {
    fn export<T: crate::Scalar>(
        &self,
        graph: &mut crate::onnx::Graph<T>,
        x: crate::onnx::Value,
    ) -> crate::onnx::Value {
        let alpha = crate::onnx::Attribute::Float("alpha", self.slope as f32);
        graph.node("LeakyRelu", &[&x.name], &[alpha], x.dims.clone())
    }
}

#[cfg(test)]
mod tests {
    use nalgebra::{Const, Dyn, OMatrix};

    use super::*;
    use crate::Layer;
    use crate::layers::check::{assert_gradients_agree, random_batch};

    type Rows = OMatrix<f64, Dyn, Const<2>>;

    /// The book's ReLU example, `x = [[1.0, -0.5], [-2.0, 3.0]]`, with the
    /// default slope: the negative entries are scaled by 0.01 instead of
    /// zeroed, `−0.5·0.01 = −0.005` and `−2·0.01 = −0.02`, and so are their
    /// gradients, `6·0.01 = 0.06` and `7·0.01 = 0.07`.
    #[test]
    fn scales_non_positive_inputs_in_both_passes() {
        let mut relu = LeakyRelu::<f64, Const<2>>::new();
        assert_eq!(relu.slope(), 0.01);
        let x = Rows::from_row_slice(&[1.0, -0.5, -2.0, 3.0]);
        let y = relu.forward(&x).clone();
        assert_eq!(y, Rows::from_row_slice(&[1.0, -0.005, -0.02, 3.0]));
        assert_eq!(relu.output(), &y);

        let dout = Rows::from_row_slice(&[5.0, 6.0, 7.0, 8.0]);
        let dx = relu.backward(&x, &dout);
        assert_eq!(dx, &Rows::from_row_slice(&[5.0, 0.06, 0.07, 8.0]));
    }

    /// With the slope 0.25 (exact in binary): `−2·0.25 = −0.5`, and the
    /// gradient at `x = 0` takes the slope, `4·0.25 = 1`.
    #[test]
    fn with_slope_sets_the_slope_and_zero_takes_it() {
        let mut relu = LeakyRelu::<f32, Const<2>>::new().with_slope(0.25);
        assert_eq!(relu.slope(), 0.25);
        let x = OMatrix::<f32, Dyn, Const<2>>::from_row_slice(&[-2.0, 0.0]);
        assert_eq!(relu.forward(&x).as_slice(), &[-0.5, 0.0]);
        let dout = OMatrix::<f32, Dyn, Const<2>>::from_row_slice(&[1.0, 4.0]);
        assert_eq!(relu.backward(&x, &dout).as_slice(), &[0.25, 1.0]);
    }

    #[test]
    fn init_and_default_take_the_default_slope() {
        let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(0);
        let relu = <LeakyRelu<f64, Const<2>> as Layer<f64>>::init(&mut rng, Init::He);
        assert_eq!(relu.slope(), 0.01);
        assert_eq!(LeakyRelu::<f64, Const<2>>::default().slope(), 0.01);
    }

    #[test]
    fn gradients_match_numerical_ones() {
        let x = random_batch::<Const<7>>(5, 3);
        // The derivative jumps at 0: no input may lie within the step of
        // the central differences (1e-5) of it.
        assert!(x.iter().all(|x| x.abs() > 1e-3));
        let mut relu = LeakyRelu::<f64, Const<7>>::new().with_slope(0.2);
        assert_gradients_agree(&mut relu, &x);
    }

    #[test]
    #[should_panic(expected = "a leaky ReLU slope is a finite number, not NaN")]
    fn a_nan_slope_is_refused() {
        let _ = LeakyRelu::<f32, Const<1>>::new().with_slope(f64::NAN);
    }
}
