//! Items only the code `network!` generates uses. Not part of the API:
//! they may change in any release.

use crate::image::Window;
use crate::{Batch, Image, Scalar, Shape};

pub use crate::network::accuracy_of;
pub use crate::optim::sgd::update_param as sgd_update;

/// Proof that `Prev`'s output shape, `Self`, is `Next`'s input shape,
/// `Expected`.
///
/// `network!` checks sizes written as numbers itself; a size written as a
/// named constant is checked through this trait instead. Its only impl is
/// the diagonal, so a mismatch fails to compile with the message below,
/// naming both layers with their sizes filled in.
#[diagnostic::on_unimplemented(
    message = "`{Next}` cannot follow `{Prev}`: it expects `{Expected}` inputs, but that layer outputs `{Self}`",
    label = "this layer's input size differs from the output size of the layer before it",
    note = "the sizes of adjacent layers must agree: an `Affine<I, O>` takes as its `I` the `O` of the `Affine` before it, or the number of values a `Flatten` before it outputs (through any `Relu` or `Sigmoid` in between)"
)]
pub trait ShapeFits<Expected, Prev, Next> {
    /// The output of `Prev`, as the input of `Next`.
    fn forward<T: Scalar>(x: &Batch<T, Self>) -> &Batch<T, Expected>
    where
        Self: Shape,
        Expected: Shape;

    /// The gradient of `Next`'s input, as the gradient of `Prev`'s output.
    fn backward<T: Scalar>(d: &Batch<T, Expected>) -> &Batch<T, Self>
    where
        Self: Shape,
        Expected: Shape;
}

impl<S: Shape, Prev, Next> ShapeFits<S, Prev, Next> for S {
    #[inline(always)]
    fn forward<T: Scalar>(x: &Batch<T, S>) -> &Batch<T, S> {
        x
    }

    #[inline(always)]
    fn backward<T: Scalar>(d: &Batch<T, S>) -> &Batch<T, S> {
        d
    }
}

/// Whether a square window of `size` pixels, moved by `stride` over `In`
/// padded by `pad`, fits: the check `network!` emits for a `Conv2d` or
/// `MaxPool2d` whose sizes it cannot compute.
pub const fn window_fits<In: Image>(size: usize, stride: usize, pad: usize) -> bool {
    Window::over::<In>(size, size, stride, pad).is_some()
}
