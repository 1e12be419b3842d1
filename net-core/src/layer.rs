//! The layer contract: `forward`, `backward`, and the parameters in between.

use nalgebra::{Const, Dyn, OMatrix};
use rand::RngCore;

use crate::{Batch, BatchStorage, ParamMut, ParamRef, Scalar, Shape};

/// How a layer's weights are drawn when the network is built; biases
/// start at zero.
///
/// The book's chapter 6 compares a fixed standard deviation with Xavier's
/// and He's, which scale with the number of inputs `n` of the layer so
/// that the activations keep their spread from layer to layer: Xavier's
/// `√(1/n)` suits sigmoid (and tanh), He's `√(2/n)` suits ReLU, which
/// zeroes half its inputs.
///
/// Each layer can be drawn its own way after the network is built, since
/// the layers are public fields:
///
/// ```
/// use net_core::{Affine, Init, Layer};
/// # let mut rng = <net_core::rand::rngs::StdRng as net_core::rand::SeedableRng>::seed_from_u64(0);
/// let affine = Affine::<f32, 784, 100>::init(&mut rng, Init::He);
/// # assert_eq!(affine.w.as_slice().len(), 78_400);
/// ```
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Init {
    /// Each weight from `N(0, std²)`. The book's `weight_init_std`.
    Normal {
        /// The standard deviation.
        std: f64,
    },
    /// Xavier (Glorot): each weight from `N(0, 1/n)` for `n` inputs.
    Xavier,
    /// He: each weight from `N(0, 2/n)` for `n` inputs.
    He,
    /// He for a layer followed by ReLU, Xavier otherwise: `network!` looks
    /// at the activation after each layer (past layers that keep the shape,
    /// such as dropout) and [resolves](Init::resolve_auto) `Auto` for it.
    /// A layer built on its own, with nothing known about what follows,
    /// takes Xavier.
    Auto,
}

impl Init {
    /// The book's choice for the two-layer net: `0.01 · N(0, 1)`.
    pub const BOOK: Init = Init::Normal { std: 0.01 };

    /// What this choice means for a layer for which [`Init::Auto`] means
    /// `auto`: `auto` for `Auto`, every other choice as it is. `network!`
    /// passes He for a layer followed by ReLU, Xavier otherwise.
    pub fn resolve_auto(self, auto: Init) -> Init {
        match self {
            Init::Auto => auto,
            init => init,
        }
    }

    /// The standard deviation of the weights of a layer with `fan_in`
    /// inputs.
    pub fn std(self, fan_in: usize) -> f64 {
        let n = fan_in.max(1) as f64;
        match self {
            Init::Normal { std } => std,
            Init::Xavier | Init::Auto => (1.0 / n).sqrt(),
            Init::He => (2.0 / n).sqrt(),
        }
    }
}

impl Default for Init {
    fn default() -> Self {
        Init::BOOK
    }
}

/// A layer with a forward pass and a backward pass, as in the chapter.
///
/// The input and output shapes are types, so two layers can only be chained
/// when the output of the first is the input of the second. A layer keeps
/// its output (and whatever backward needs) in buffers of its own, reused
/// from one call to the next.
pub trait Layer<T: Scalar>: Sized {
    /// The shape of one input sample.
    type In: Shape;
    /// The shape of one output sample.
    type Out: Shape;

    /// A new layer with its parameters drawn as `init` says.
    fn init(rng: &mut dyn RngCore, init: Init) -> Self;

    /// Switches between training mode (the default) and inference mode,
    /// for the layers that behave differently in each: [`Dropout`] and
    /// [`BatchNorm`](crate::BatchNorm). The others ignore it.
    ///
    /// A network sets the mode of all its layers as the book's
    /// `train_flg` does: [`Network::forward_backward`] trains,
    /// [`Network::predict`] infers (see
    /// [`Network::set_training`]).
    ///
    /// [`Dropout`]: crate::Dropout
    /// [`Network::forward_backward`]: crate::Network::forward_backward
    /// [`Network::predict`]: crate::Network::predict
    /// [`Network::set_training`]: crate::Network::set_training
    fn set_training(&mut self, training: bool) {
        let _ = training;
    }

    /// The forward pass. The result stays in the layer until the next call.
    fn forward(&mut self, x: &Batch<T, Self::In>) -> &Batch<T, Self::Out>;

    /// The backward pass: given the input `x` of the last forward pass and
    /// `dout`, the gradient of the loss with respect to the output, stores
    /// the gradients of the parameters and returns the gradient with
    /// respect to `x`.
    fn backward(
        &mut self,
        x: &Batch<T, Self::In>,
        dout: &Batch<T, Self::Out>,
    ) -> &Batch<T, Self::In>;

    /// The backward pass of the first layer of a network: only the
    /// parameters' gradients are needed, so layers that can skip the input
    /// gradient do.
    fn backward_params(&mut self, x: &Batch<T, Self::In>, dout: &Batch<T, Self::Out>) {
        self.backward(x, dout);
    }

    /// [`backward_params`](Layer::backward_params) and the book's SGD
    /// update `p ← p − lr·∂L/∂p` of this layer's parameters, for a first
    /// layer trained by plain SGD. Layers that can fuse the two do, and
    /// then need not store the gradients: [`Affine`](crate::Affine)
    /// subtracts `lr·xᵀ·dout` from `W` inside the product itself.
    fn backward_params_sgd(&mut self, x: &Batch<T, Self::In>, dout: &Batch<T, Self::Out>, lr: T) {
        self.backward_params(x, dout);
        self.visit_params_mut(&mut |p| crate::optim::sgd::update_param(p, lr));
    }

    /// Calls `f` on each parameter with its gradient.
    fn visit_params(&self, f: &mut dyn FnMut(ParamRef<'_, T>)) {
        let _ = f;
    }

    /// Calls `f` on each parameter with its gradient, mutably.
    fn visit_params_mut(&mut self, f: &mut dyn FnMut(ParamMut<'_, T>)) {
        let _ = f;
    }
}

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

/// The targets of a batch: one row of values per sample (one-hot labels,
/// or regression targets), or one class index per sample.
#[derive(Debug)]
pub enum Targets<'a, T: Scalar, S: Shape> {
    /// One row per sample, such as one-hot labels.
    Dense(&'a Batch<T, S>),
    /// The index of the correct class of each sample.
    Classes(&'a [usize]),
}

impl<T: Scalar, S: Shape> Clone for Targets<'_, T, S> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: Scalar, S: Shape> Copy for Targets<'_, T, S> {}

impl<T: Scalar, S: Shape> Targets<'_, T, S> {
    /// The number of samples.
    pub fn batch_size(&self) -> usize {
        match self {
            Targets::Dense(t) => t.batch_size(),
            Targets::Classes(t) => t.len(),
        }
    }

    /// The target value of feature `j` of sample `n` (1 or 0 for class
    /// indices). Dense targets are stored as a column-major `N × F` matrix.
    #[inline]
    pub fn value(&self, n: usize, j: usize) -> T {
        match self {
            Targets::Dense(t) => t.as_slice()[j * t.batch_size() + n],
            Targets::Classes(t) => {
                if t[n] == j {
                    T::one()
                } else {
                    T::zero()
                }
            }
        }
    }

    /// The class of sample `n`: its index, or the largest entry of its row.
    pub fn class(&self, n: usize) -> usize {
        match self {
            Targets::Dense(t) => {
                let rows = t.batch_size();
                argmax_row(t.as_slice(), rows, n)
            }
            Targets::Classes(t) => t[n],
        }
    }

    pub(crate) fn assert_fits(&self, batch_size: usize, classes: usize) {
        assert_eq!(
            self.batch_size(),
            batch_size,
            "the targets hold {} samples but the batch holds {batch_size}",
            self.batch_size()
        );
        if let Targets::Classes(t) = self {
            if let Some((n, &c)) = t.iter().enumerate().find(|&(_, &c)| c >= classes) {
                panic!("target {n} is class {c}, but there are only {classes} classes");
            }
        }
    }
}

/// The column of the largest entry of row `n` of a column-major matrix with
/// `rows` rows (the first one on ties, as NumPy's `argmax`).
pub(crate) fn argmax_row<T: Scalar>(values: &[T], rows: usize, n: usize) -> usize {
    let mut best = 0;
    let mut best_value = T::NEG_INFINITY;
    for (j, &v) in values[n..].iter().step_by(rows.max(1)).enumerate() {
        if v > best_value {
            best = j;
            best_value = v;
        }
    }
    best
}

impl<'a, T: Scalar, const N: usize> From<&'a OMatrix<T, Dyn, Const<N>>>
    for Targets<'a, T, Const<N>>
{
    fn from(t: &'a OMatrix<T, Dyn, Const<N>>) -> Self {
        Targets::Dense(t)
    }
}

impl<'a, T: Scalar, S: Shape> From<&'a [usize]> for Targets<'a, T, S> {
    fn from(t: &'a [usize]) -> Self {
        Targets::Classes(t)
    }
}

impl<'a, T: Scalar, S: Shape> From<&'a Vec<usize>> for Targets<'a, T, S> {
    fn from(t: &'a Vec<usize>) -> Self {
        Targets::Classes(t)
    }
}

impl<'a, T: Scalar, S: Shape, const K: usize> From<&'a [usize; K]> for Targets<'a, T, S> {
    fn from(t: &'a [usize; K]) -> Self {
        Targets::Classes(t)
    }
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
