//! Softmax with cross-entropy loss, the classifier's last layer.

use nalgebra::{Const, Dyn, OMatrix};

use crate::kernels::SoftmaxRows;
use crate::loss::mean_residual;
use crate::{BatchStorage, LossLayer, Scalar, Targets};

/// Softmax over `N` classes followed by the cross-entropy error.
///
/// - Softmax subtracts each row's maximum first, so that scores of ±1e4 stay
///   finite.
/// - The loss is the cross-entropy `−Σ t·log y`, averaged over the batch.
///   The book guards the logarithm with `log(y + 1e-7)`; here `log y` is
///   computed as `x − max − log Σ exp(x − max)`, whose sum is at least 1,
///   so the logarithm never sees zero and the loss stays finite without
///   bending the gradient (the gradient check reaches 1e-10, not 1e-7).
/// - Backward is `(y − t) / batch_size`.
///
/// Targets may be one-hot rows or class indices.
#[derive(Clone, Debug)]
pub struct SoftmaxWithLoss<T: Scalar, const N: usize> {
    y: OMatrix<T, Dyn, Const<N>>,
    dx: OMatrix<T, Dyn, Const<N>>,
    rows: SoftmaxRows<T>,
}

impl<T: Scalar, const N: usize> Default for SoftmaxWithLoss<T, N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Scalar, const N: usize> SoftmaxWithLoss<T, N> {
    /// A new layer.
    pub fn new() -> Self {
        SoftmaxWithLoss {
            y: BatchStorage::zeros(0),
            dx: BatchStorage::zeros(0),
            rows: SoftmaxRows::default(),
        }
    }

    /// Writes the row-wise softmax of `x` into `self.y`. The
    /// [`Softmax`](crate::Softmax) layer's forward pass as well.
    pub(crate) fn softmax(&mut self, x: &OMatrix<T, Dyn, Const<N>>) {
        let rows = x.nrows();
        self.y.set_batch_size(rows);
        self.rows.softmax(x.as_slice(), rows, self.y.as_mut_slice());
    }
}

impl<T: Scalar, const N: usize> LossLayer<T> for SoftmaxWithLoss<T, N> {
    type In = Const<N>;

    fn new() -> Self {
        SoftmaxWithLoss::new()
    }

    fn forward(&mut self, x: &OMatrix<T, Dyn, Const<N>>, t: Targets<'_, T, Const<N>>) -> T {
        let rows = x.nrows();
        t.assert_fits(rows, N);
        self.softmax(x);
        // log yₙⱼ = (xₙⱼ − maxₙ) − log Σⱼ exp(xₙⱼ − maxₙ), and the sum is at
        // least 1: the logarithm never sees zero.
        let log_y = |n: usize, x: T| x - self.rows.row_max[n] - self.rows.row_sum[n].ln();
        let mut total = T::zero();
        match t {
            Targets::Classes(classes) => {
                for (n, &c) in classes.iter().enumerate() {
                    total -= log_y(n, x[(n, c)]);
                }
            }
            Targets::Dense(t) => {
                for (x_col, t_col) in x.column_iter().zip(t.column_iter()) {
                    for (n, (&x, &t)) in x_col.iter().zip(t_col.iter()).enumerate() {
                        if t != T::zero() {
                            total -= t * log_y(n, x);
                        }
                    }
                }
            }
        }
        total / T::of_f64(rows as f64)
    }

    fn backward(&mut self, t: Targets<'_, T, Const<N>>) -> &OMatrix<T, Dyn, Const<N>> {
        let rows = self.y.nrows();
        t.assert_fits(rows, N);
        match t {
            // (y − t) / batch_size with t one-hot: y · (1 / batch_size)
            // (y − 0 is exactly y) but at the target, where it is
            // (y − 1) · (1 / batch_size): the same bits as one-hot rows
            // through `mean_residual`, without a look-up per entry.
            Targets::Classes(classes) => {
                self.dx.set_batch_size(rows);
                let scale = T::one() / T::of_f64(rows as f64);
                let (dx, y) = (self.dx.as_mut_slice(), self.y.as_slice());
                for (dx, &y) in dx.iter_mut().zip(y) {
                    *dx = y * scale;
                }
                for (n, &c) in classes.iter().enumerate() {
                    let at = c * rows + n;
                    dx[at] = (y[at] - T::one()) * scale;
                }
            }
            Targets::Dense(_) => mean_residual(&self.y, t, &mut self.dx),
        }
        &self.dx
    }

    fn output(&self) -> &OMatrix<T, Dyn, Const<N>> {
        &self.y
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Scores = OMatrix<f64, Dyn, Const<3>>;

    #[test]
    fn softmax_rows_sum_to_one_and_match_the_book() {
        // The book's softmax example: a = [0.3, 2.9, 4.0] gives
        // [0.01821127, 0.24519181, 0.73659691].
        let mut layer = SoftmaxWithLoss::<f64, 3>::new();
        let x = Scores::from_row_slice(&[0.3, 2.9, 4.0]);
        layer.forward(&x, Targets::Classes(&[2]));
        let y = layer.output();
        let expected = [
            0.018_211_273_295_547_53,
            0.245_191_812_935_073_92,
            0.736_596_913_769_378_6,
        ];
        for (a, b) in y.iter().zip(expected) {
            assert!((a - b).abs() < 1e-12, "{a} vs {b}");
        }
    }

    #[test]
    fn loss_and_gradient_for_one_hot_and_class_targets_agree() {
        let x = Scores::from_row_slice(&[0.3, 2.9, 4.0, 1.0, 1.0, 1.0]);
        let one_hot = Scores::from_row_slice(&[0.0, 0.0, 1.0, 1.0, 0.0, 0.0]);
        let mut a = SoftmaxWithLoss::<f64, 3>::new();
        let mut b = SoftmaxWithLoss::<f64, 3>::new();
        let loss_a = a.forward(&x, (&one_hot).into());
        let loss_b = b.forward(&x, Targets::Classes(&[2, 0]));
        // −(log(0.7366) + log(1/3)) / 2
        let expected = -(0.736_596_913_769_378_6f64.ln() + (1.0f64 / 3.0).ln()) / 2.0;
        assert!((loss_a - expected).abs() < 1e-12);
        assert!((loss_b - expected).abs() < 1e-12);

        let da = a.backward((&one_hot).into()).clone();
        let db = b.backward(Targets::Classes(&[2, 0]));
        assert_eq!(&da, db);
        // (y − t) / 2
        assert!((da[(0, 2)] - (0.736_596_913_769_378_6 - 1.0) / 2.0).abs() < 1e-12);
        assert!((da[(1, 1)] - (1.0 / 3.0) / 2.0).abs() < 1e-12);
    }

    #[test]
    fn huge_scores_stay_finite() {
        let mut layer = SoftmaxWithLoss::<f32, 3>::new();
        let x = OMatrix::<f32, Dyn, Const<3>>::from_row_slice(&[1e4, -1e4, 0.0, -1e4, -1e4, -1e4]);
        let loss = layer.forward(&x, Targets::Classes(&[1, 0]));
        assert!(loss.is_finite(), "loss {loss}");
        assert!(layer.output().iter().all(|y| y.is_finite()));
        assert!(
            layer
                .backward(Targets::Classes(&[1, 0]))
                .iter()
                .all(|d| d.is_finite())
        );
    }

    #[test]
    #[should_panic(expected = "the network scores 3 classes (0 to 2)")]
    fn class_index_out_of_range_is_reported() {
        let mut layer = SoftmaxWithLoss::<f64, 3>::new();
        layer.forward(
            &Scores::from_row_slice(&[0.0, 0.0, 0.0]),
            Targets::Classes(&[3]),
        );
    }
}
