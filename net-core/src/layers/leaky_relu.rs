//! The leaky ReLU activation.

use core::marker::PhantomData;

use rand::RngCore;

use crate::{Batch, BatchStorage, Init, InitBefore, Layer, Scalar, Shape};

/// The slope for negative inputs unless told otherwise: PyTorch's
/// `negative_slope` default.
const DEFAULT_SLOPE: f64 = 0.01;

/// `y = x` for `x > 0`, `y = slope·x` otherwise, element by element, for
/// any sample shape `S` (Maas et al., 2013). The slope is 0.01 unless
/// [`with_slope`](LeakyRelu::with_slope) says otherwise.
///
/// Forward keeps a mask of the inputs that were `≤ 0`, as
/// [`Relu`](crate::Relu) does; backward lets the gradient through where
/// the mask is off and scales it by the slope where it is on:
/// `dx = dout` or `dx = slope·dout`.
///
/// ```
/// use net_core::{Const, Dyn, LeakyRelu, Layer, OMatrix};
/// let mut relu = LeakyRelu::<f64, Const<2>>::new().with_slope(0.5);
/// let x = OMatrix::<f64, Dyn, Const<2>>::from_row_slice(&[1.0, -0.5, -2.0, 3.0]);
/// let y = relu.forward(&x).clone();
/// assert_eq!(y.as_slice(), &[1.0, -1.0, -0.25, 3.0]); // column-major
/// ```
#[derive(Clone, Debug)]
pub struct LeakyRelu<T: Scalar, S: Shape> {
    slope: f64,
    mask: Vec<bool>,
    out: Batch<T, S>,
    dx: Batch<T, S>,
    shape: PhantomData<S>,
}

impl<T: Scalar, S: Shape> LeakyRelu<T, S> {
    /// A new leaky ReLU with the slope 0.01; it has no parameters.
    pub fn new() -> Self {
        LeakyRelu {
            slope: DEFAULT_SLOPE,
            mask: Vec::new(),
            out: BatchStorage::zeros(0),
            dx: BatchStorage::zeros(0),
            shape: PhantomData,
        }
    }

    /// The same layer with `slope` for the inputs `≤ 0`.
    ///
    /// # Panics
    /// When `slope` is not finite (NaN or infinite).
    pub fn with_slope(mut self, slope: f64) -> Self {
        assert!(
            slope.is_finite(),
            "a leaky ReLU slope is a finite number, not {slope}"
        );
        self.slope = slope;
        self
    }

    /// The slope for the inputs `≤ 0`.
    pub fn slope(&self) -> f64 {
        self.slope
    }
}

impl<T: Scalar, S: Shape> Default for LeakyRelu<T, S> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Scalar, S: Shape> Layer<T> for LeakyRelu<T, S> {
    type In = S;
    type Out = S;
    const INIT_BEFORE: InitBefore = InitBefore::Is(Init::He);

    /// A layer with the slope 0.01.
    fn init(_rng: &mut dyn RngCore, _init: Init) -> Self {
        Self::new()
    }

    fn forward(&mut self, x: &Batch<T, S>) -> &Batch<T, S> {
        self.out.set_batch_size(x.batch_size());
        self.mask.resize(x.as_slice().len(), false);
        let slope = T::of_f64(self.slope);
        let out = self.out.as_mut_slice();
        for ((y, masked), &x) in out.iter_mut().zip(&mut self.mask).zip(x.as_slice()) {
            *masked = x <= T::zero();
            *y = if *masked { slope * x } else { x };
        }
        &self.out
    }

    fn output(&self) -> &Batch<T, S> {
        &self.out
    }

    fn backward(&mut self, _x: &Batch<T, S>, dout: &Batch<T, S>) -> &Batch<T, S> {
        self.dx.set_batch_size(dout.batch_size());
        let slope = T::of_f64(self.slope);
        let dx = self.dx.as_mut_slice();
        for ((dx, &masked), &dout) in dx.iter_mut().zip(&self.mask).zip(dout.as_slice()) {
            *dx = if masked { slope * dout } else { dout };
        }
        &self.dx
    }
}

#[cfg(test)]
mod tests {
    use nalgebra::{Const, Dyn, OMatrix};

    use super::*;
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
