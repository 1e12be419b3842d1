//! The contract of a network's last layer, which turns scores into a loss
//! and starts the backward pass.

use nalgebra::{Const, Dyn, OMatrix};

use crate::scalar::Scalar;
use crate::shape::{Batch, BatchStorage, Shape};
use crate::targets::Targets;

/// The last layer of a network: it turns scores into a loss, and starts the
/// backward pass with `dL/dy`.
pub trait LossLayer<T: Scalar>: Sized {
    /// The shape of one sample of scores, and of one target.
    type In: Shape;

    /// A new loss layer.
    fn new() -> Self;

    /// The loss of the scores `y` against the targets `t`, averaged over the
    /// batch.
    ///
    /// # Panics
    /// When `t` holds a different number of samples than `y`, or a class
    /// index out of range.
    fn forward(&mut self, y: &Batch<T, Self::In>, t: Targets<'_, T, Self::In>) -> T;

    /// The gradient of the loss of the last forward pass with respect to
    /// its scores.
    fn backward(&mut self, t: Targets<'_, T, Self::In>) -> &Batch<T, Self::In>;

    /// The layer's output for prediction (probabilities for softmax), from
    /// the last forward pass.
    fn output(&self) -> &Batch<T, Self::In>;
}

/// `dx = (y − t) / batch_size`: the backward pass of both loss layers.
pub(crate) fn mean_residual<T: Scalar, const N: usize>(
    y: &OMatrix<T, Dyn, Const<N>>,
    t: Targets<'_, T, Const<N>>,
    dx: &mut OMatrix<T, Dyn, Const<N>>,
) {
    let rows = y.nrows();
    dx.set_batch_size(rows);
    let scale = T::one() / T::of_f64(rows as f64);
    for (j, (mut dx_col, y_col)) in dx.column_iter_mut().zip(y.column_iter()).enumerate() {
        for (n, (dx, &y)) in dx_col.iter_mut().zip(y_col.iter()).enumerate() {
            *dx = (y - t.value(n, j)) * scale;
        }
    }
}
