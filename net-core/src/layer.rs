//! The layer contract: `forward`, `backward`, and the parameters in between.

use rand::RngCore;

use crate::init::{Init, InitBefore};
use crate::param::{BufferMut, BufferRef, ParamMut, ParamRef};
use crate::scalar::Scalar;
use crate::shape::{Batch, Shape};
use crate::summary::{Description, SampleShape};

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

    /// What this layer shows in a network's [summary](crate::summary),
    /// from its type alone, given the shape of its input: its output shape,
    /// parameters, multiply-adds and activations per sample, and, for a
    /// block, its layers.
    ///
    /// An optional hook: every built-in layer, `Residual` and every
    /// network `network!` declares has its own. The default,
    /// [`Description::undescribed`], gives a layer of one's own a row with
    /// its output as its type says and its parameters and multiply-adds
    /// unknown (`?`).
    fn describe(input: &SampleShape) -> Description {
        Description::undescribed::<Self::In, Self::Out>(input)
    }

    /// [`describe`](Layer::describe) for this built layer, whose widths
    /// chosen at run time are known. The default is `describe`, with the
    /// parameters it leaves unknown counted through
    /// [`visit_params`](Layer::visit_params).
    fn describe_built(&self, input: &SampleShape) -> Description {
        Self::describe(input).or_counted_params(|| {
            let mut count = 0;
            self.visit_params(&mut |p| count += p.value.len());
            count
        })
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
