//! Identity output with the sum-of-squares error, for regression.

use nalgebra::{Const, Dyn, OMatrix};

use crate::loss::mean_residual;
use crate::{BatchStorage, LossLayer, Scalar, Targets};

/// The regression counterpart of [`SoftmaxWithLoss`](crate::SoftmaxWithLoss):
/// the scores pass through unchanged, and the loss is half the sum of
/// squared errors, averaged over the batch: `½·Σ(y − t)² / batch_size`.
///
/// As the chapter notes, its backward has the same form as softmax with
/// cross-entropy: `(y − t) / batch_size`.
#[derive(Clone, Debug)]
pub struct IdentityWithSquaredLoss<T: Scalar, const N: usize> {
    y: OMatrix<T, Dyn, Const<N>>,
    dx: OMatrix<T, Dyn, Const<N>>,
}

impl<T: Scalar, const N: usize> Default for IdentityWithSquaredLoss<T, N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Scalar, const N: usize> IdentityWithSquaredLoss<T, N> {
    /// A new layer.
    pub fn new() -> Self {
        IdentityWithSquaredLoss {
            y: BatchStorage::zeros(0),
            dx: BatchStorage::zeros(0),
        }
    }
}

impl<T: Scalar, const N: usize> LossLayer<T> for IdentityWithSquaredLoss<T, N> {
    type In = Const<N>;

    fn new() -> Self {
        IdentityWithSquaredLoss::new()
    }

    fn forward(&mut self, x: &OMatrix<T, Dyn, Const<N>>, t: Targets<'_, T, Const<N>>) -> T {
        let rows = x.nrows();
        t.assert_fits(rows, N);
        self.y.set_batch_size(rows);
        self.y.copy_from(x);
        let mut total = T::zero();
        for (j, column) in self.y.column_iter().enumerate() {
            for (n, &y) in column.iter().enumerate() {
                let e = y - t.value(n, j);
                total += e * e;
            }
        }
        total / T::of_f64(2.0 * rows as f64)
    }

    fn backward(&mut self, t: Targets<'_, T, Const<N>>) -> &OMatrix<T, Dyn, Const<N>> {
        let rows = self.y.nrows();
        t.assert_fits(rows, N);
        mean_residual(&self.y, t, &mut self.dx);
        &self.dx
    }

    fn output(&self) -> &OMatrix<T, Dyn, Const<N>> {
        &self.y
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Rows = OMatrix<f64, Dyn, Const<2>>;

    #[test]
    fn loss_is_half_the_squared_error_per_sample_and_gradient_is_the_residual() {
        let mut layer = IdentityWithSquaredLoss::<f64, 2>::new();
        let y = Rows::from_row_slice(&[1.0, 2.0, 3.0, 5.0]);
        let t = Rows::from_row_slice(&[0.0, 2.0, 1.0, 1.0]);
        // ½·(1 + 0 + 4 + 16) / 2
        assert_eq!(layer.forward(&y, (&t).into()), 5.25);
        assert_eq!(
            layer.backward((&t).into()),
            &Rows::from_row_slice(&[0.5, 0.0, 1.0, 2.0])
        );
    }
}
