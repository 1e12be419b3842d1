//! Softmax as a layer of its own, for a network's outputs as probabilities.

use nalgebra::{Const, Dyn, OMatrix};
use rand::RngCore;

use crate::infer::{Freeze, Infer, Output};
use crate::kernels::SoftmaxRows;
use crate::{BatchStorage, Init, Layer, LossLayer, Scalar, SoftmaxWithLoss};

/// `yₙⱼ = exp(xₙⱼ) / Σₖ exp(xₙₖ)` over the `N` entries of each sample (row
/// `n` of the batch): scores turned into probabilities, for inference.
///
/// - Forward subtracts each row's maximum first, as
///   [`SoftmaxWithLoss`] does (it is the same code), so that scores of
///   ±1000 stay finite.
/// - Backward is the product of the softmax's Jacobian with `dout`, row
///   by row: `dxₙᵢ = yₙᵢ · (doutₙᵢ − Σⱼ doutₙⱼ · yₙⱼ)`, from the stored
///   output.
///
/// To train a classifier, end the network with [`SoftmaxWithLoss`]
/// instead: its backward pass `(y − t) / batch_size` is simpler and
/// more accurate than this layer's followed by a cross-entropy.
///
/// ```
/// use net_core::{Layer, Softmax, batch_from_rows};
/// let mut softmax = Softmax::<f64, 3>::new();
/// let y = softmax.forward(&batch_from_rows(&[[0.0, 1.0, 2.0], [1000.0, 1001.0, 1002.0]]));
/// // Each row sums to 1, and scores shifted by a constant give the same
/// // probabilities.
/// assert!((y.row(0).sum() - 1.0).abs() < 1e-15);
/// assert!((y[(0, 2)] - y[(1, 2)]).abs() < 1e-15);
/// ```
#[derive(Clone, Debug)]
pub struct Softmax<T: Scalar, const N: usize> {
    /// The loss layer's softmax, which keeps the output (and the row
    /// statistics it needs) in buffers of its own.
    softmax: SoftmaxWithLoss<T, N>,
    /// `Σⱼ doutₙⱼ · yₙⱼ` for each row `n`.
    row_dot: Vec<T>,
    dx: OMatrix<T, Dyn, Const<N>>,
}

impl<T: Scalar, const N: usize> Softmax<T, N> {
    /// A new softmax; it has no parameters.
    pub fn new() -> Self {
        Softmax {
            softmax: SoftmaxWithLoss::new(),
            row_dot: Vec::new(),
            dx: BatchStorage::zeros(0),
        }
    }
}

impl<T: Scalar, const N: usize> Default for Softmax<T, N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Scalar, const N: usize> Layer<T> for Softmax<T, N> {
    type In = Const<N>;
    type Out = Const<N>;

    /// Keeps its input's shape; no parameters or products.
    fn describe(input: &crate::summary::SampleShape) -> crate::summary::Description {
        crate::summary::Description::elementwise(input)
    }

    fn init(_rng: &mut dyn RngCore, _init: Init) -> Self {
        Self::new()
    }

    fn forward(&mut self, x: &OMatrix<T, Dyn, Const<N>>) -> &OMatrix<T, Dyn, Const<N>> {
        self.softmax.softmax(x);
        self.softmax.output()
    }

    fn output(&self) -> &OMatrix<T, Dyn, Const<N>> {
        self.softmax.output()
    }

    fn backward(
        &mut self,
        _x: &OMatrix<T, Dyn, Const<N>>,
        dout: &OMatrix<T, Dyn, Const<N>>,
    ) -> &OMatrix<T, Dyn, Const<N>> {
        let y = self.softmax.output();
        let rows = dout.nrows();
        self.dx.set_batch_size(rows);
        let dot = &mut self.row_dot;
        dot.clear();
        dot.resize(rows, T::zero());
        // Columns are contiguous: walk whole columns, one running sum per
        // row (chunks of at least 1 entry, for the empty batch).
        let rows = rows.max(1);
        let (y, dout) = (y.as_slice(), dout.as_slice());
        for (y_col, dout_col) in y.chunks_exact(rows).zip(dout.chunks_exact(rows)) {
            for ((dot, &y), &dout) in dot.iter_mut().zip(y_col).zip(dout_col) {
                *dot += dout * y;
            }
        }
        let dx = self.dx.as_mut_slice();
        for ((dx_col, y_col), dout_col) in dx
            .chunks_exact_mut(rows)
            .zip(y.chunks_exact(rows))
            .zip(dout.chunks_exact(rows))
        {
            for (((dx, &y), &dout), &dot) in dx_col.iter_mut().zip(y_col).zip(dout_col).zip(&*dot) {
                *dx = y * (dout - dot);
            }
        }
        &self.dx
    }
}

/// Softmax frozen for inference ([`Freeze`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct FrozenSoftmax<const N: usize>;

/// The buffers of a frozen softmax.
#[derive(Debug)]
pub struct SoftmaxScratch<T: Scalar, const N: usize> {
    out: Output<T, Const<N>>,
    rows: SoftmaxRows<T>,
}

impl<T: Scalar, const N: usize> Default for SoftmaxScratch<T, N> {
    fn default() -> Self {
        SoftmaxScratch {
            out: Output::default(),
            rows: SoftmaxRows::default(),
        }
    }
}

impl<T: Scalar, const N: usize> Freeze<T> for Softmax<T, N> {
    type Frozen = FrozenSoftmax<N>;

    fn freeze(&self) -> FrozenSoftmax<N> {
        FrozenSoftmax
    }
}

impl<T: Scalar, const N: usize> Infer<T> for FrozenSoftmax<N> {
    type In = Const<N>;
    type Out = Const<N>;
    type Scratch = SoftmaxScratch<T, N>;

    fn infer<'a>(
        &'a self,
        x: &'a OMatrix<T, Dyn, Const<N>>,
        scratch: &'a mut SoftmaxScratch<T, N>,
    ) -> &'a OMatrix<T, Dyn, Const<N>> {
        let rows = x.nrows();
        let out = scratch.out.sized(rows);
        scratch.rows.softmax(x.as_slice(), rows, out.as_mut_slice());
        out
    }
}

impl<T: Scalar, const N: usize> crate::onnx::Export<T> for Softmax<T, N> {
    fn export(
        &self,
        graph: &mut crate::onnx::Graph<T>,
        x: crate::onnx::Value,
    ) -> crate::onnx::Value {
        graph.node(
            "Softmax",
            &[&x.name],
            &[crate::onnx::Attribute::Int("axis", 1)],
            x.dims.clone(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch_from_rows;
    use crate::layers::check::{assert_gradients_agree, random_batch};

    /// The book's softmax example, `a = [0.3, 2.9, 4.0]`, and `[0, 1, 2]`;
    /// expected values from mpmath at 30 digits, rounded to `f64`.
    #[test]
    fn rows_match_the_book_and_sum_to_one() {
        let mut softmax = Softmax::<f64, 3>::new();
        let x = batch_from_rows(&[[0.3, 2.9, 4.0], [0.0, 1.0, 2.0]]);
        let y = softmax.forward(&x).clone();
        let expected = batch_from_rows(&[
            [
                0.018_211_273_295_547_533, // e^0.3 / (e^0.3 + e^2.9 + e^4)
                0.245_191_812_935_073_9,   // e^2.9 / (…)
                0.736_596_913_769_378_6,   // e^4 / (…)
            ],
            [
                0.090_030_573_170_380_46, // 1 / (1 + e + e²)
                0.244_728_471_054_797_65, // e / (…)
                0.665_240_955_774_821_9,  // e² / (…)
            ],
        ]);
        for (a, b) in y.iter().zip(expected.iter()) {
            assert!((a - b).abs() < 1e-15, "{a} vs {b}");
        }
        for row in y.row_iter() {
            assert!((row.sum() - 1.0).abs() < 1e-15, "{row}");
        }
        assert_eq!(softmax.output(), &y);
    }

    /// Without the row maximum subtracted, `exp(1000)` overflows and the
    /// rows turn to NaN. With it, `[1000, 1001, 1002]` is `[0, 1, 2]`, and
    /// `[1000, 0, −1000]` is `[1, e⁻¹⁰⁰⁰, e⁻²⁰⁰⁰]`, whose `e⁻¹⁰⁰⁰ ≈ 5e-435`
    /// underflows to 0.
    #[test]
    fn large_scores_do_not_overflow() {
        let mut softmax = Softmax::<f64, 3>::new();
        let x = batch_from_rows(&[[1000.0, 1001.0, 1002.0], [1000.0, 0.0, -1000.0]]);
        let y = softmax.forward(&x).clone();
        let expected = batch_from_rows(&[
            [
                0.090_030_573_170_380_46,
                0.244_728_471_054_797_65,
                0.665_240_955_774_821_9,
            ],
            [1.0, 0.0, 0.0],
        ]);
        for (a, b) in y.iter().zip(expected.iter()) {
            assert!((a - b).abs() < 1e-15, "{a} vs {b}");
        }
        let dout = batch_from_rows(&[[1.0, -1.0, 2.0], [3.0, 1.0, -2.0]]);
        assert!(softmax.backward(&x, &dout).iter().all(|d| d.is_finite()));

        // In f32, whose `exp` clamps its argument at −87: `e⁻²ᵉ³⁰` comes out
        // as `e⁻⁸⁷ ≈ 1.6e-38` rather than 0, still a probability of nothing.
        let mut softmax = Softmax::<f32, 2>::new();
        let x = batch_from_rows(&[[1000.0f32, 1000.0], [1e30, -1e30]]);
        let y = softmax.forward(&x);
        assert_eq!((y[(0, 0)], y[(0, 1)], y[(1, 0)]), (0.5, 0.5, 1.0));
        assert!((0.0..1e-37).contains(&y[(1, 1)]), "{}", y[(1, 1)]);
    }

    /// By hand: `x = [0, 0]` gives `y = [1/2, 1/2]`, and `dout = [1, 3]`
    /// has `Σ dout·y = 2`, so `dx = [½·(1 − 2), ½·(3 − 2)] = [−½, ½]`;
    /// `x = [ln 3, 0]` gives `y = [3/4, 1/4]`, `Σ dout·y = 3/4 + 3/4 = 3/2`,
    /// `dx = [¾·(1 − 3/2), ¼·(3 − 3/2)] = [−3/8, 3/8]`. A constant `dout`
    /// (a shift of every score) has no effect: `dx = 0`.
    #[test]
    fn backward_is_the_jacobian_vector_product() {
        let mut softmax = Softmax::<f64, 2>::new();
        let x = batch_from_rows(&[[0.0, 0.0], [3.0f64.ln(), 0.0], [0.7, -0.2]]);
        softmax.forward(&x);
        let dout = batch_from_rows(&[[1.0, 3.0], [1.0, 3.0], [5.0, 5.0]]);
        let dx = softmax.backward(&x, &dout);
        let expected = batch_from_rows(&[[-0.5, 0.5], [-0.375, 0.375], [0.0, 0.0]]);
        for (a, b) in dx.iter().zip(expected.iter()) {
            assert!((a - b).abs() < 1e-15, "{a} vs {b}");
        }
    }

    #[test]
    fn gradients_match_numerical_ones() {
        let mut softmax = Softmax::<f64, 5>::new();
        assert_gradients_agree(&mut softmax, &random_batch::<Const<5>>(4, 3));
    }

    #[test]
    fn an_empty_batch_gives_an_empty_output() {
        let mut softmax = Softmax::<f64, 3>::new();
        let x = OMatrix::<f64, Dyn, Const<3>>::zeros(0);
        assert_eq!(softmax.forward(&x).nrows(), 0);
        assert_eq!(softmax.backward(&x, &x).nrows(), 0);
    }
}
