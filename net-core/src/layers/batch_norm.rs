//! Batch normalization: the book's `BatchNormalization` layer.

use core::marker::PhantomData;

use nalgebra::Const;
use rand::RngCore;

use crate::infer::{Freeze, Infer, Output, Pointwise};
use crate::{
    Batch, BatchStorage, BufferMut, BufferRef, FixedShape, Init, InitBefore, Layer, ParamMut,
    ParamName, ParamRef, ParamShape, Scalar,
};

/// Added to the variance before its square root, unless the declaration
/// says otherwise (`BatchNorm<1e-5>`, PyTorch's). The book writes `10e-7`,
/// which is `1e-6`; the same value keeps the layer's numbers the book's.
pub const EPSILON: f64 = 10e-7;

/// How much of the running mean and variance each training batch keeps:
/// the book's `momentum=0.9`.
pub const MOMENTUM: f64 = 0.9;

/// `y = γ·x̂ + β`, where `x̂` is each feature normalized to mean 0 and
/// variance 1 (Ioffe and Szegedy, 2015), for a batch of samples of shape
/// `S`; `γ` (`gamma`) and `β` (`beta`) are learned, one per feature,
/// starting at 1 and 0.
///
/// - In training mode `x̂ = (x − μ) / √(σ² + ε)` with the batch's own mean
///   `μ` and variance `σ²`, and the running mean and variance move towards
///   them: `running ← 0.9·running + 0.1·batch`.
/// - In inference mode the running mean and variance stand in for the
///   batch's, so a sample's output does not depend on the rest of its
///   batch.
///
/// Backward (training mode) is the book's, through `x̂`, `σ` and `μ`:
/// `dβ = Σ dout`, `dγ = Σ x̂·dout`, and for `dx`
/// `dxc = γ·dout/σ + (2/N)·xc·dvar`, `dx = dxc − mean(dxc)` with
/// `dvar = −½·Σ(γ·dout·xc)/σ³`.
///
/// Inside `network!` (written `BatchNorm`), the k-th batch normalization's
/// parameters are `gammak` and `betak`. The running mean and variance are
/// not parameters: they are not trained, and weight files do not hold
/// them.
///
/// ```
/// use net_core::{BatchNorm, Const, Layer, batch_from_rows};
/// let mut bn = BatchNorm::<f64, Const<1>>::new();
/// let y = bn.forward(&batch_from_rows(&[[1.0], [3.0]])).clone();
/// assert!((y[0] + 1.0).abs() < 1e-5 && (y[1] - 1.0).abs() < 1e-5);
/// ```
#[derive(Clone, Debug)]
pub struct BatchNorm<T: Scalar, S: FixedShape> {
    gamma: Vec<T>,
    beta: Vec<T>,
    dgamma: Vec<T>,
    dbeta: Vec<T>,
    running_mean: Vec<T>,
    running_var: Vec<T>,
    epsilon: f64,
    training: bool,
    /// `x − μ` and `x̂` of the last training forward, and each feature's
    /// `√(σ² + ε)`: what backward needs.
    xc: Batch<T, S>,
    xn: Batch<T, S>,
    std: Vec<T>,
    out: Batch<T, S>,
    dx: Batch<T, S>,
    shape: PhantomData<S>,
}

impl<T: Scalar, S: FixedShape> BatchNorm<T, S> {
    /// A layer with `γ = 1`, `β = 0`, running mean 0 and running variance
    /// 0 (as the book's, whose running statistics start as zeros), in
    /// training mode.
    pub fn new() -> Self {
        let features = S::NUMEL;
        BatchNorm {
            gamma: vec![T::one(); features],
            beta: vec![T::zero(); features],
            dgamma: vec![T::zero(); features],
            dbeta: vec![T::zero(); features],
            running_mean: vec![T::zero(); features],
            running_var: vec![T::zero(); features],
            epsilon: EPSILON,
            training: true,
            xc: BatchStorage::zeros(0),
            xn: BatchStorage::zeros(0),
            std: vec![T::zero(); features],
            out: BatchStorage::zeros(0),
            dx: BatchStorage::zeros(0),
            shape: PhantomData,
        }
    }

    /// The same layer adding `epsilon` to the variance before its square
    /// root (the declaration's `BatchNorm<1e-5>`; PyTorch's default).
    ///
    /// # Panics
    /// When `epsilon` is not in `[0, 1)`: `network!` checks the value it
    /// is given at compile time.
    pub fn with_epsilon(mut self, epsilon: f64) -> Self {
        assert!(
            (0.0..1.0).contains(&epsilon),
            "a batch normalization epsilon is in [0, 1), not {epsilon}"
        );
        self.epsilon = epsilon;
        self
    }

    /// What is added to the variance before its square root.
    pub fn epsilon(&self) -> f64 {
        self.epsilon
    }

    /// `γ`, one per feature.
    pub fn gamma(&self) -> &[T] {
        &self.gamma
    }

    /// `β`, one per feature.
    pub fn beta(&self) -> &[T] {
        &self.beta
    }

    /// The running mean of each feature, used in inference mode.
    pub fn running_mean(&self) -> &[T] {
        &self.running_mean
    }

    /// The running variance of each feature, used in inference mode.
    pub fn running_var(&self) -> &[T] {
        &self.running_var
    }

    /// Whether the layer is in training mode.
    pub fn is_training(&self) -> bool {
        self.training
    }

    fn param_names() -> [ParamName; 2] {
        [ParamName::new("gamma"), ParamName::new("beta")]
    }
}

impl<T: Scalar, S: FixedShape> Default for BatchNorm<T, S> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Scalar, const N: usize> Layer<T> for BatchNorm<T, Const<N>> {
    type In = Const<N>;
    type Out = Const<N>;

    /// `γ` and `β`, `N` each (the running statistics are buffers, not
    /// parameters); a scale and a shift per value, no products.
    fn describe(input: &crate::summary::SampleShape) -> crate::summary::Description {
        crate::summary::Description::new(input, input.clone(), Some(2 * N), Some(0))
    }
    const INIT_BEFORE: InitBefore = InitBefore::LookPast;

    fn init(_rng: &mut dyn RngCore, _init: Init) -> Self {
        Self::new()
    }

    fn set_training(&mut self, training: bool) {
        self.training = training;
    }

    fn forward(&mut self, x: &Batch<T, Const<N>>) -> &Batch<T, Const<N>> {
        let rows = x.batch_size();
        self.out.set_batch_size(rows);
        // Column-major: each feature's values over the batch are one
        // contiguous column.
        let height = rows.max(1);
        if !self.training {
            let stats = [
                &self.gamma,
                &self.beta,
                &self.running_mean,
                &self.running_var,
            ];
            normalize(
                x.as_slice(),
                height,
                self.out.as_mut_slice(),
                stats.map(|s| &s[..]),
                self.epsilon,
            );
            return &self.out;
        }
        let columns = x.as_slice().chunks_exact(height);
        let outs = self.out.as_mut_slice().chunks_exact_mut(height);
        self.xc.set_batch_size(rows);
        self.xn.set_batch_size(rows);
        let (epsilon, momentum) = (T::of_f64(self.epsilon), T::of_f64(MOMENTUM));
        let count = T::of_f64(rows as f64);
        let xcs = self.xc.as_mut_slice().chunks_exact_mut(height);
        let xns = self.xn.as_mut_slice().chunks_exact_mut(height);
        for (j, (((column, out), xc), xn)) in columns.zip(outs).zip(xcs).zip(xns).enumerate() {
            let mean = column.iter().fold(T::zero(), |sum, &x| sum + x) / count;
            for (xc, &x) in xc.iter_mut().zip(column) {
                *xc = x - mean;
            }
            let var = xc.iter().fold(T::zero(), |sum, &c| sum + c * c) / count;
            let std = (var + epsilon).sqrt();
            self.std[j] = std;
            let (gamma, beta) = (self.gamma[j], self.beta[j]);
            for ((y, xn), &xc) in out.iter_mut().zip(xn.iter_mut()).zip(xc.iter()) {
                *xn = xc / std;
                *y = gamma * *xn + beta;
            }
            let keep = T::one() - momentum;
            self.running_mean[j] = momentum * self.running_mean[j] + keep * mean;
            self.running_var[j] = momentum * self.running_var[j] + keep * var;
        }
        &self.out
    }

    /// The book's backward, which assumes the last forward ran in training
    /// mode (as a network's `backprop` does).
    fn output(&self) -> &Batch<T, Const<N>> {
        &self.out
    }

    fn backward(
        &mut self,
        _x: &Batch<T, Const<N>>,
        dout: &Batch<T, Const<N>>,
    ) -> &Batch<T, Const<N>> {
        let rows = dout.batch_size();
        self.dx.set_batch_size(rows);
        let height = rows.max(1);
        let count = T::of_f64(rows as f64);
        let two_over_count = T::of_f64(2.0) / count;
        let half = T::of_f64(0.5);
        let douts = dout.as_slice().chunks_exact(height);
        let dxs = self.dx.as_mut_slice().chunks_exact_mut(height);
        let xcs = self.xc.as_slice().chunks_exact(height);
        let xns = self.xn.as_slice().chunks_exact(height);
        for (j, (((dout, dx), xc), xn)) in douts.zip(dxs).zip(xcs).zip(xns).enumerate() {
            let (gamma, std) = (self.gamma[j], self.std[j]);
            let mut dbeta = T::zero();
            let mut dgamma = T::zero();
            let mut dstd = T::zero();
            for ((&d, &xc), &xn) in dout.iter().zip(xc).zip(xn) {
                dbeta += d;
                dgamma += xn * d;
                // dxn = γ·dout
                dstd -= gamma * d * xc / (std * std);
            }
            self.dbeta[j] = dbeta;
            self.dgamma[j] = dgamma;
            let dvar = half * dstd / std;
            let mut dmu = T::zero();
            for ((dx, &d), &xc) in dx.iter_mut().zip(dout).zip(xc) {
                *dx = gamma * d / std + two_over_count * xc * dvar;
                dmu += *dx;
            }
            let mean_dxc = dmu / count;
            for dx in dx.iter_mut() {
                *dx -= mean_dxc;
            }
        }
        &self.dx
    }

    fn visit_params(&self, f: &mut dyn FnMut(ParamRef<'_, T>)) {
        let [gamma, beta] = Self::param_names();
        let shape = ParamShape::Vector(N);
        f(ParamRef {
            name: gamma,
            shape,
            value: &self.gamma,
            grad: &self.dgamma,
        });
        f(ParamRef {
            name: beta,
            shape,
            value: &self.beta,
            grad: &self.dbeta,
        });
    }

    fn visit_params_mut(&mut self, f: &mut dyn FnMut(ParamMut<'_, T>)) {
        let [gamma, beta] = Self::param_names();
        let shape = ParamShape::Vector(N);
        f(ParamMut {
            name: gamma,
            shape,
            value: &mut self.gamma,
            grad: &mut self.dgamma,
        });
        f(ParamMut {
            name: beta,
            shape,
            value: &mut self.beta,
            grad: &mut self.dbeta,
        });
    }

    /// The running mean and variance, `running_mean` and `running_var`:
    /// what inference mode normalizes with.
    fn visit_buffers(&self, f: &mut dyn FnMut(BufferRef<'_, T>)) {
        let shape = ParamShape::Vector(N);
        f(BufferRef {
            name: ParamName::new("running_mean"),
            shape,
            value: &self.running_mean,
        });
        f(BufferRef {
            name: ParamName::new("running_var"),
            shape,
            value: &self.running_var,
        });
    }

    fn visit_buffers_mut(&mut self, f: &mut dyn FnMut(BufferMut<'_, T>)) {
        let shape = ParamShape::Vector(N);
        f(BufferMut {
            name: ParamName::new("running_mean"),
            shape,
            value: &mut self.running_mean,
        });
        f(BufferMut {
            name: ParamName::new("running_var"),
            shape,
            value: &mut self.running_var,
        });
    }
}

/// Inference mode, `y = γ·(x − mean)/√(var + ε) + β` with the running
/// statistics, feature by feature over a column-major batch of `height`
/// rows (each feature's values one contiguous column): the training
/// layer's and the frozen one's.
fn normalize<T: Scalar>(x: &[T], height: usize, out: &mut [T], stats: [&[T]; 4], epsilon: f64) {
    let [gamma, beta, mean, var] = stats;
    let columns = x.chunks_exact(height).zip(out.chunks_exact_mut(height));
    for (j, (column, out)) in columns.enumerate() {
        let (mean, std, gamma, beta) = (mean[j], inference_std(var[j], epsilon), gamma[j], beta[j]);
        for (y, &x) in out.iter_mut().zip(column) {
            *y = gamma * ((x - mean) / std) + beta;
        }
    }
}

/// `√(var + ε)`, inference mode's divisor.
fn inference_std<T: Scalar>(var: T, epsilon: f64) -> T {
    (var + T::of_f64(epsilon)).sqrt()
}

/// Batch normalization frozen for inference ([`Freeze`]): the running
/// statistics, `y = γ·(x − mean)/√(var + ε) + β`; folded into an `Affine`
/// directly before it (`W·diag(s)`, `(b − mean)·s + β` with `s = γ/√(var + ε)`).
#[derive(Clone, Debug)]
pub struct FrozenBatchNorm<T, S> {
    gamma: Vec<T>,
    beta: Vec<T>,
    mean: Vec<T>,
    var: Vec<T>,
    epsilon: f64,
    skipped: bool,
    shape: PhantomData<fn() -> S>,
}

impl<T: Scalar, const N: usize> Freeze<T> for BatchNorm<T, Const<N>> {
    type Frozen = FrozenBatchNorm<T, Const<N>>;

    fn freeze(&self) -> Self::Frozen {
        FrozenBatchNorm {
            gamma: self.gamma.clone(),
            beta: self.beta.clone(),
            mean: self.running_mean.clone(),
            var: self.running_var.clone(),
            epsilon: self.epsilon,
            skipped: false,
            shape: PhantomData,
        }
    }
}

impl<T: Scalar, const N: usize> Infer<T> for FrozenBatchNorm<T, Const<N>> {
    type In = Const<N>;
    type Out = Const<N>;
    type Scratch = Output<T, Const<N>>;

    fn infer<'a>(
        &'a self,
        x: &'a Batch<T, Const<N>>,
        out: &'a mut Output<T, Const<N>>,
    ) -> &'a Batch<T, Const<N>> {
        if self.skipped {
            return x;
        }
        let out = out.sized_like(x);
        let stats = [&self.gamma, &self.beta, &self.mean, &self.var];
        normalize(
            x.as_slice(),
            x.batch_size().max(1),
            out.as_mut_slice(),
            stats.map(|s| &s[..]),
            self.epsilon,
        );
        out
    }

    fn pointwise(&self) -> Option<Pointwise<T>> {
        if self.skipped {
            return None;
        }
        let scale: Vec<T> = self
            .gamma
            .iter()
            .zip(&self.var)
            .map(|(&g, &v)| g / inference_std(v, self.epsilon))
            .collect();
        let shift = (self.beta.iter().zip(&self.mean).zip(&scale))
            .map(|((&beta, &mean), &s)| beta - mean * s)
            .collect();
        Some(Pointwise::ScaleShift { scale, shift })
    }

    fn skip(&mut self) {
        self.skipped = true;
    }
}

/// ONNX's `BatchNormalization` in inference mode, on the running
/// statistics, with this layer's ε.
impl<T: Scalar, const N: usize> crate::onnx::Export<T> for BatchNorm<T, Const<N>> {
    fn export(
        &self,
        graph: &mut crate::onnx::Graph<T>,
        x: crate::onnx::Value,
    ) -> crate::onnx::Value {
        let [gamma, beta, mean, var] = [
            ("gamma", &self.gamma),
            ("beta", &self.beta),
            ("running_mean", &self.running_mean),
            ("running_var", &self.running_var),
        ]
        .map(|(what, values)| graph.initializer(what, &[N], values));
        let epsilon = crate::onnx::Attribute::Float("epsilon", self.epsilon as f32);
        let inputs = [&x.name, &gamma, &beta, &mean, &var].map(String::as_str);
        graph.node("BatchNormalization", &inputs, &[epsilon], x.dims.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch_from_rows;

    fn assert_rows(got: &Batch<f64, Const<2>>, expected: &[[f64; 2]]) {
        let expected = batch_from_rows(expected);
        for (g, e) in got.iter().zip(expected.iter()) {
            assert!((g - e).abs() < 1e-12, "{got} is not {expected}");
        }
    }

    /// A layer with `γ = (1, 2)`, `β = (0, 0.5)`.
    fn layer() -> BatchNorm<f64, Const<2>> {
        let mut bn = BatchNorm::new();
        bn.gamma.copy_from_slice(&[1.0, 2.0]);
        bn.beta.copy_from_slice(&[0.0, 0.5]);
        bn
    }

    // Expected values worked out with the book's `BatchNormalization`
    // formulas, in Python.
    #[test]
    fn training_forward_normalizes_each_feature_and_tracks_running_statistics() {
        let mut bn = layer();
        let x = batch_from_rows(&[[1.0, 2.0], [3.0, 6.0], [5.0, 4.0]]);
        let y = bn.forward(&x).clone();
        // Feature 1: mean 3, variance 8/3, so x̂ = ∓√(3/2) ≈ ∓1.2247.
        assert_rows(
            &y,
            &[
                [-1.2247446417519903, -1.9494892835039805],
                [0.0, 2.9494892835039805],
                [1.2247446417519903, 0.5],
            ],
        );
        for (got, expected) in bn.running_mean().iter().zip([0.3, 0.4]) {
            assert!((got - expected).abs() < 1e-15);
        }
        for got in bn.running_var() {
            assert!((got - 0.8 / 3.0).abs() < 1e-15);
        }

        let dout = batch_from_rows(&[[1.0, 0.0], [0.0, 1.0], [2.0, -1.0]]);
        let dx = bn.backward(&x, &dout).clone();
        assert_rows(
            &dx,
            &[
                [0.3061860456182305, 0.612372091236461],
                [-0.6123723208759951, 0.6123725505155293],
                [0.30618627525776465, -1.2247446417519903],
            ],
        );
        assert!((bn.dgamma[0] - 1.2247446417519903).abs() < 1e-12);
        assert!((bn.dgamma[1] - 1.2247446417519903).abs() < 1e-12);
        assert_eq!(bn.dbeta, [3.0, 0.0]);
    }

    #[test]
    fn inference_uses_the_running_statistics() {
        let mut bn = layer();
        let x = batch_from_rows(&[[1.0, 2.0], [3.0, 6.0], [5.0, 4.0]]);
        bn.forward(&x);
        bn.set_training(false);
        assert!(!bn.is_training());
        let y = bn.forward(&x).clone();
        assert_rows(
            &y,
            &[
                [1.3555416295344231, 6.6967617350145066],
                [5.22851771391849, 22.18866607255077],
                [9.101493798302556, 14.44271390378264],
            ],
        );
        // A sample's output no longer depends on its batch.
        let alone = bn.forward(&batch_from_rows(&[[3.0, 6.0]])).clone();
        assert_rows(&alone, &[[5.22851771391849, 22.18866607255077]]);
        let before = bn.running_mean().to_vec();
        bn.forward(&x);
        assert_eq!(bn.running_mean(), before, "inference leaves them alone");
    }

    #[test]
    fn the_epsilon_is_the_declarations() {
        // Running variance 0 (the start), mean 0, γ = 1, β = 0: inference
        // divides by √ε alone, which shows which ε is used.
        let x = batch_from_rows(&[[1.0, -2.0]]);
        for (epsilon, bn) in [
            (EPSILON, BatchNorm::<f64, Const<2>>::new()),
            (1e-5, BatchNorm::new().with_epsilon(1e-5)),
        ] {
            let mut bn = bn;
            assert_eq!(bn.epsilon(), epsilon);
            bn.set_training(false);
            let y = bn.forward(&x).clone();
            assert_rows(&y, &[[1.0 / epsilon.sqrt(), -2.0 / epsilon.sqrt()]]);
            let mut out = Output::default();
            let frozen = bn.freeze();
            assert_eq!(frozen.infer(&x, &mut out), &y, "frozen, ε = {epsilon}");
        }
    }
}
