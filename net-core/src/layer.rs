//! The layer contract: `forward`, `backward`, and the parameters in between.

use nalgebra::{Const, Dyn, OMatrix};
use rand::RngCore;

use crate::{
    Batch, BatchStorage, BufferMut, BufferRef, FixedShape, ParamMut, ParamRef, Scalar, Shape,
};

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
    /// He for a layer followed by ReLU, Xavier otherwise: `network!` asks
    /// the layers after each layer ([`Layer::INIT_BEFORE`], past those that
    /// leave it to the next, such as dropout) and
    /// [resolves](Init::resolve_auto) `Auto` for it.
    /// A layer built on its own, with nothing known about what follows,
    /// takes Xavier.
    Auto,
}

impl Init {
    /// The book's choice for the two-layer net: `0.01 · N(0, 1)`.
    pub const BOOK: Init = Init::Normal { std: 0.01 };

    /// What this choice means for a layer for which [`Init::Auto`] means
    /// `auto`: `auto` for `Auto`, every other choice as it is. `network!`
    /// passes what the layers after it say ([`InitBefore::resolve`]).
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

/// A layer with a forward pass and a backward pass, as in the chapter: the
/// one contract every layer of a network implements — the built-in ones,
/// your own, a network declared without a loss layer (so that it can sit
/// inside another), and a [`Residual`](crate::Residual) block.
///
/// The input and output shapes are types, so two layers can only be chained
/// when the output of the first is the input of the second. A layer keeps
/// its output (and whatever backward needs) in buffers of its own, reused
/// from one call to the next, so that a training step allocates nothing.
///
/// What a layer must write is `init`, `forward`, `output` and `backward`;
/// a layer with parameters also writes the two `visit_params` methods, and
/// one with state to save (running statistics) the two `visit_buffers`. The
/// rest has defaults that are right for most layers. The README's "Your
/// own layers" shows a complete one, and how `network!` takes it.
///
/// ```
/// use net_core::{Batch, BatchStorage, Init, Layer, Scalar, Shape};
/// use net_core::rand::RngCore;
///
/// /// `y = 2x`: a layer that keeps the shape `S` of its input.
/// #[derive(Clone, Debug)]
/// pub struct Double<T: Scalar, S: Shape> {
///     out: Batch<T, S>,
///     dx: Batch<T, S>,
/// }
///
/// impl<T: Scalar, S: Shape> Layer<T> for Double<T, S> {
///     type In = S;
///     type Out = S;
///
///     fn init(_rng: &mut dyn RngCore, _init: Init) -> Self {
///         Double { out: BatchStorage::zeros(0), dx: BatchStorage::zeros(0) }
///     }
///
///     fn forward(&mut self, x: &Batch<T, S>) -> &Batch<T, S> {
///         self.out.set_size_like(x);
///         for (y, &x) in self.out.as_mut_slice().iter_mut().zip(x.as_slice()) {
///             *y = x + x;
///         }
///         &self.out
///     }
///
///     fn output(&self) -> &Batch<T, S> {
///         &self.out
///     }
///
///     fn backward(&mut self, _x: &Batch<T, S>, dout: &Batch<T, S>) -> &Batch<T, S> {
///         self.dx.set_size_like(dout);
///         for (dx, &d) in self.dx.as_mut_slice().iter_mut().zip(dout.as_slice()) {
///             *dx = d + d;
///         }
///         &self.dx
///     }
/// }
/// ```
pub trait Layer<T: Scalar>: Sized {
    /// The shape of one input sample.
    type In: Shape;
    /// The shape of one output sample.
    type Out: Shape;

    /// What [`Init::Auto`] means for the layer before this one: `network!`
    /// draws a layer followed by a ReLU with He's initialization. A layer
    /// of one's own says the same by setting it.
    const INIT_BEFORE: InitBefore = InitBefore::Unknown;

    /// A new layer with its parameters drawn as `init` says.
    fn init(rng: &mut dyn RngCore, init: Init) -> Self;

    /// Switches between training mode (the default) and inference mode,
    /// for the layers that behave differently in each: [`Dropout`] and
    /// [`BatchNorm`](crate::BatchNorm). The others ignore it.
    ///
    /// A network sets the mode of all its layers as the book's
    /// `train_flg` does: [`Network::backprop`] trains,
    /// [`Network::predict`] infers (see
    /// [`Network::set_training`]).
    ///
    /// [`Dropout`]: crate::Dropout
    /// [`Network::backprop`]: crate::Network::backprop
    /// [`Network::predict`]: crate::Network::predict
    /// [`Network::set_training`]: crate::Network::set_training
    fn set_training(&mut self, training: bool) {
        let _ = training;
    }

    /// The forward pass. The result stays in the layer until the next call.
    fn forward(&mut self, x: &Batch<T, Self::In>) -> &Batch<T, Self::Out>;

    /// The output of the last forward pass: what [`forward`](Layer::forward)
    /// returned. The network reads it as the input of the next layer's
    /// backward pass.
    fn output(&self) -> &Batch<T, Self::Out>;

    /// The backward pass: given the input `x` of the last forward pass and
    /// `dout`, the gradient of the loss with respect to the output, stores
    /// the gradients of the parameters and returns the gradient with
    /// respect to `x`.
    fn backward(
        &mut self,
        x: &Batch<T, Self::In>,
        dout: &Batch<T, Self::Out>,
    ) -> &Batch<T, Self::In>;

    /// The backward pass of a network's first layer, whose input gradient
    /// nobody reads; with [`ParamUpdate::Sgd`], the book's update
    /// `p ← p − lr·∂L/∂p` of this layer's parameters as well.
    ///
    /// An optional hook for speed: the default runs
    /// [`backward`](Layer::backward), then the update. A layer that can
    /// skip its input gradient, or fuse the update into its backward pass,
    /// overrides it: [`Affine`](crate::Affine) subtracts `lr·xᵀ·dout` from
    /// `W` inside the product itself, and then stores no gradient.
    fn backward_first(
        &mut self,
        x: &Batch<T, Self::In>,
        dout: &Batch<T, Self::Out>,
        update: ParamUpdate<T>,
    ) {
        self.backward(x, dout);
        update.apply(self);
    }

    /// Calls `f` on each parameter with its gradient.
    fn visit_params(&self, f: &mut dyn FnMut(ParamRef<'_, T>)) {
        let _ = f;
    }

    /// Calls `f` on each parameter with its gradient, mutably.
    fn visit_params_mut(&mut self, f: &mut dyn FnMut(ParamMut<'_, T>)) {
        let _ = f;
    }

    /// Calls `f` on each persistent buffer: state that is no parameter but
    /// must be saved with them, such as `BatchNorm`'s running statistics.
    fn visit_buffers(&self, f: &mut dyn FnMut(BufferRef<'_, T>)) {
        let _ = f;
    }

    /// Calls `f` on each persistent buffer, mutably (for loading).
    fn visit_buffers_mut(&mut self, f: &mut dyn FnMut(BufferMut<'_, T>)) {
        let _ = f;
    }
}

/// What [`Init::Auto`] means for the layer before a layer: see
/// [`Layer::INIT_BEFORE`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum InitBefore {
    /// The layer before is drawn this way: He before a ReLU, Xavier before
    /// a sigmoid or tanh.
    Is(Init),
    /// This layer leaves the choice to the layers after it (dropout, batch
    /// normalization): look past it.
    LookPast,
    /// Nothing to say: the layer before takes Xavier.
    Unknown,
}

impl InitBefore {
    /// What `Init::Auto` means for a layer followed by layers that say
    /// `after`, in order: the first that says something, looking past
    /// those that leave it to the next; Xavier when none does.
    pub const fn resolve(after: &[InitBefore]) -> Init {
        let mut k = 0;
        while k < after.len() {
            match after[k] {
                InitBefore::Is(init) => return init,
                InitBefore::LookPast => k += 1,
                InitBefore::Unknown => break,
            }
        }
        Init::Xavier
    }
}

/// What a backward pass does to the parameters it computes gradients for.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ParamUpdate<T> {
    /// Store each gradient beside its parameter, for an optimizer to read.
    StoreGradients,
    /// Apply the book's SGD update `p ← p − lr·∂L/∂p` at once.
    Sgd {
        /// The learning rate.
        lr: T,
    },
}

impl<T: Scalar> ParamUpdate<T> {
    /// Applies the update to every parameter of `layer` from its stored
    /// gradient: nothing for [`StoreGradients`](ParamUpdate::StoreGradients).
    pub fn apply<L: Layer<T>>(self, layer: &mut L) {
        if let ParamUpdate::Sgd { lr } = self {
            layer.visit_params_mut(&mut |p| p.descend(lr));
        }
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

    /// The count and the classes, as [`check`](Targets::check) checks them
    /// (an empty batch allowed).
    fn check_fit(&self, batch_size: usize, classes: usize) -> Result<(), TargetsError> {
        if self.batch_size() != batch_size {
            return Err(TargetsError::Count {
                targets: self.batch_size(),
                batch: batch_size,
            });
        }
        if let Targets::Classes(t) = self {
            if let Some((sample, &class)) = t.iter().enumerate().find(|&(_, &c)| c >= classes) {
                return Err(TargetsError::ClassOutOfRange {
                    sample,
                    class,
                    classes,
                });
            }
        }
        Ok(())
    }

    pub(crate) fn assert_fits(&self, batch_size: usize, classes: usize) {
        if let Err(error) = self.check_fit(batch_size, classes) {
            panic!("{error}");
        }
    }
}

impl<T: Scalar, S: FixedShape> Targets<'_, T, S> {
    /// Checks the targets against a batch of `batch_size` samples, scored
    /// over `S`'s classes: the checks the `try_` methods of
    /// [`Network`](crate::Network) make before they compute.
    ///
    /// # Errors
    /// An empty batch, targets for another number of samples, or a class
    /// index that is not one of the `S::NUMEL` outputs.
    pub fn check(&self, batch_size: usize) -> Result<(), TargetsError> {
        if batch_size == 0 {
            return Err(TargetsError::EmptyBatch);
        }
        self.check_fit(batch_size, S::NUMEL)
    }
}

/// Targets that do not fit their batch: what the `try_` methods of
/// [`Network`](crate::Network) return instead of panicking.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TargetsError {
    /// The batch holds no sample: its loss would be 0/0.
    #[error("the batch is empty: there is no sample to measure")]
    EmptyBatch,
    /// The targets are for another number of samples.
    #[error("the targets hold {targets} samples but the batch holds {batch}")]
    Count {
        /// Samples the targets hold.
        targets: usize,
        /// Samples the batch holds.
        batch: usize,
    },
    /// A class index is not one of the network's outputs.
    #[error("sample {sample} is labeled class {class}, but the network scores {classes} classes (0 to {})", classes.saturating_sub(1))]
    ClassOutOfRange {
        /// The sample.
        sample: usize,
        /// Its class.
        class: usize,
        /// The number of outputs.
        classes: usize,
    },
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
