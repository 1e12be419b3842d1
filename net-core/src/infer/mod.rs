//! A trained network prepared for inference: `&self`, shared by threads,
//! each caller bringing its own scratch memory.
//!
//! The training struct keeps every layer's output and masks for a
//! backward pass, so predicting with it takes `&mut self`. Freezing it
//! ([`FreezeNetwork::freeze`]) gives a [`Predictor`]: the weights prepared
//! once (a ReLU, batch normalization and dropout's inference scaling folded
//! into the layer before them where that is exact, the loss layer replaced
//! by scores or probabilities), read through `&self`, and `Send + Sync`, so
//! one copy serves any number of threads. The buffers a call writes live in
//! a [`Scratch`], one per caller, kept from one call to the next: after the
//! first call at a batch size, predicting allocates nothing.
//!
//! Every layer takes part through [`Freeze`], the companion of
//! [`Layer`]: its frozen form is an [`Infer`]. The built-in
//! layers, `Residual` and every network `network!` declares have one; a
//! layer of one's own writes its two impls (the README's "Serving a
//! trained net"), and a network holding a layer without them still trains,
//! but cannot be frozen: `freeze` does not compile, and the error names
//! that layer.

mod fold;
mod predictor;

use crate::shape::map_batch;
use crate::{Batch, BatchStorage, Layer, Scalar, Shape};

pub use fold::{FoldList, Pointwise};
pub use predictor::{Predictor, SampleLength, Scratch};

/// A layer with an inference form: the companion of [`Layer`] that
/// [`FreezeNetwork::freeze`] calls on every layer of a network.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no inference form, so a network holding it cannot be frozen",
    label = "this layer does not implement `Freeze`",
    note = "a layer of one's own takes part in `freeze` by implementing `Freeze` (and an `Infer` for its frozen form); see the README's \"Serving a trained net\""
)]
pub trait Freeze<T: Scalar>: Layer<T> {
    /// The layer prepared for inference, with the same input and output
    /// shapes.
    type Frozen: Infer<T, In = <Self as Layer<T>>::In, Out = <Self as Layer<T>>::Out>;

    /// The layer's weights, copied into their inference form. The layer
    /// itself is left as it is.
    fn freeze(&self) -> Self::Frozen;
}

/// [`Freeze`] with the layer's shapes as parameters: what `network!`
/// bounds each layer by. (A bound on `Freeze` itself would hide the
/// layer's own shapes behind the bound, and the layers' frozen forms could
/// not be chained.)
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no inference form, so a network holding it cannot be frozen",
    label = "this layer does not implement `Freeze`",
    note = "a layer of one's own takes part in `freeze` by implementing `Freeze` (and an `Infer` for its frozen form); see the README's \"Serving a trained net\""
)]
pub trait FreezeAs<T: Scalar, In, Out> {
    /// [`Freeze::Frozen`].
    type Frozen: Infer<T, In = In, Out = Out>;
    /// [`Freeze::freeze`].
    fn freeze_as(&self) -> Self::Frozen;
}

impl<T: Scalar, L: Freeze<T>> FreezeAs<T, L::In, L::Out> for L {
    type Frozen = L::Frozen;

    fn freeze_as(&self) -> L::Frozen {
        self.freeze()
    }
}

/// A frozen layer: the forward pass of inference through `&self`, writing
/// into a scratch of the caller's.
///
/// Only [`infer`](Infer::infer) must be written. The three folding methods
/// are optional hooks that let a layer be merged with its neighbours when
/// a network is frozen: a layer that is a pointwise map (a ReLU, a
/// per-feature `y = a·x + c`) says so with [`pointwise`](Infer::pointwise);
/// a layer before it that can take the map into its own weights does so in
/// [`absorb`](Infer::absorb); the merged layer then [`skip`](Infer::skip)s,
/// passing its input on. The defaults merge nothing.
pub trait Infer<T: Scalar>: Send + Sync {
    /// The shape of one input sample.
    type In: Shape;
    /// The shape of one output sample.
    type Out: Shape;
    /// The buffers one call writes, sized at the first call and reused:
    /// one per caller.
    type Scratch: Default + Send;

    /// The forward pass, in inference mode: the output lives in `scratch`
    /// (or is `x` itself, for a layer that was folded away).
    fn infer<'a>(
        &'a self,
        x: &'a Batch<T, Self::In>,
        scratch: &'a mut Self::Scratch,
    ) -> &'a Batch<T, Self::Out>;

    /// The map this layer applies to each value, when it is one that a
    /// layer before it might absorb.
    fn pointwise(&self) -> Option<Pointwise<T>> {
        None
    }

    /// Takes `map`, applied to this layer's output, into the layer itself;
    /// returns whether it did (so that the map's layer can skip). A layer
    /// only absorbs what it computes exactly as the two layers did.
    fn absorb(&mut self, map: &Pointwise<T>) -> bool {
        let _ = map;
        false
    }

    /// From now on, passes its input through unchanged: a layer before it
    /// absorbed its map. Called only after [`pointwise`](Infer::pointwise)
    /// gave a map that was absorbed.
    fn skip(&mut self) {}

    /// Adds the layers this one is made of to `list`, in order, for
    /// folding across them; the default adds the layer itself. A chain of
    /// layers adds each of its own.
    fn fold_list<'a>(&'a mut self, list: &mut FoldList<'a, T>)
    where
        Self: Sized,
    {
        list.push(self);
    }
}

/// A network prepared for inference: what `network!` implements for every
/// network with a loss layer.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be frozen: it is not a network declared with `network!`",
    label = "`freeze` needs a network whose every layer implements `Freeze`"
)]
pub trait FreezeNetwork<T: Scalar> {
    /// The frozen network.
    type Frozen;

    /// A [`Predictor`] with a copy of the network's weights in their
    /// inference form; the network is left as it is.
    fn freeze(&self) -> Self::Frozen;
}

/// The frozen form of the network `N`: `Frozen<TwoLayerNet>` is what
/// `TwoLayerNet::freeze` returns, for a field or a `static`.
pub type Frozen<N, T = f32> = <N as FreezeNetwork<T>>::Frozen;

/// Two frozen layers, one after the other: how a frozen network chains
/// its layers (`Then<A, Then<B, C>>`).
#[derive(Clone, Debug)]
pub struct Then<A, B> {
    first: A,
    rest: B,
}

impl<A, B> Then<A, B> {
    /// `first`, then `rest`.
    pub fn new(first: A, rest: B) -> Self {
        Then { first, rest }
    }
}

/// Proof that a layer's output shape `Self` is the next layer's input
/// shape `In`: what `network!` bounds each pair of layers by (so that two
/// layers that disagree, an error already reported at the layer, leave the
/// network without a frozen form rather than with a second error).
#[doc(hidden)]
pub trait Feeds<In: Shape>: Shape {
    /// The output, as the next layer's input.
    fn feed<T: Scalar>(out: &Batch<T, Self>) -> &Batch<T, In>;
}

impl<S: Shape> Feeds<S> for S {
    #[inline(always)]
    fn feed<T: Scalar>(out: &Batch<T, S>) -> &Batch<T, S> {
        out
    }
}

impl<T: Scalar, A: Infer<T>, B: Infer<T>> Infer<T> for Then<A, B>
where
    A::Out: Feeds<B::In>,
{
    type In = A::In;
    type Out = B::Out;
    type Scratch = (A::Scratch, B::Scratch);

    #[inline]
    fn infer<'a>(
        &'a self,
        x: &'a Batch<T, A::In>,
        scratch: &'a mut Self::Scratch,
    ) -> &'a Batch<T, B::Out> {
        let h = <A::Out as Feeds<B::In>>::feed(self.first.infer(x, &mut scratch.0));
        self.rest.infer(h, &mut scratch.1)
    }

    fn fold_list<'a>(&'a mut self, list: &mut FoldList<'a, T>) {
        self.first.fold_list(list);
        self.rest.fold_list(list);
    }
}

/// A frozen layer's output buffer, as its [`Infer::Scratch`]: empty until
/// the first call, then sized to the batch.
#[derive(Clone, Debug)]
pub struct Output<T: Scalar, S: Shape>(Batch<T, S>);

impl<T: Scalar, S: Shape> Default for Output<T, S> {
    fn default() -> Self {
        Output(BatchStorage::zeros(0))
    }
}

impl<T: Scalar, S: Shape> Output<T, S> {
    /// The buffer, sized for `batch` samples.
    pub fn sized(&mut self, batch: usize) -> &mut Batch<T, S> {
        self.0.set_batch_size(batch);
        &mut self.0
    }

    /// The buffer, sized as `x` (a batch of the same shape).
    pub fn sized_like(&mut self, x: &Batch<T, S>) -> &mut Batch<T, S> {
        self.0.set_size_like(x);
        &mut self.0
    }

    /// `f(x)` value by value, into the buffer sized as `x`.
    pub fn map(&mut self, x: &Batch<T, S>, f: impl Fn(T) -> T) -> &Batch<T, S> {
        map_batch::<T, S>(&mut self.0, x, f);
        &self.0
    }
}

#[cfg(test)]
mod tests;
