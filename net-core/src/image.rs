//! Samples that are images — channels × height × width — and the geometry
//! of a window sliding over them.
//!
//! # Sizes as types
//!
//! A convolution with an `FH × FW` filter, stride `S` and padding `P` turns
//! an image of height `H` into one of height `⌊(H + 2P − FH)/S⌋ + 1` (and
//! the same for the width), as the book and PyTorch count it: positions
//! where the window would pass the padded edge are dropped, so that
//! `MaxPool2d` with 2×2 windows at stride 2 turns 7×7 pixels into 3×3.
//! For the compiler to know a layer's output shape, that arithmetic has to happen on types: Rust's stable const generics
//! cannot compute a new const from a generic one (`Const<{ (H - F) / S + 1 }>`
//! needs the nightly `generic_const_exprs`). So an image's sizes are
//! [typenum] unsigned integers — `Chw<U1, U28, U28>` — and the output size
//! is computed by typenum's type operators in [`Slide`], behind the one
//! helper trait [`SlidingWindow`]: layers name their output as
//! [`WindowOut<In, …>`](WindowOut) and need no other bound.
//!
//! Whether a window fits at all (`H + 2P ≥ FH`, a stride and a window of
//! at least one pixel) is not a type-level question: the layers assert it
//! in a constant, so a misfit is a compile-time error as soon as the layer
//! is built. `network!` checks it before that, with a message at the layer
//! as written.
//!
//! # Batch layout
//!
//! A batch of images is stored as the book's NumPy arrays are: `N × C × H ×
//! W`, row-major, one sample after the other ([`ImageBatch`]). That is the
//! order `im2col` reads, and the order the MNIST files hold.

use core::fmt;
use core::marker::PhantomData;
use core::ops::{Add, Div, Sub};

use typenum::{B1, Diff, Max, Maximum, Quot, Sum, Unsigned};

use crate::kernels::conv::Window;
use crate::{BatchStorage, FixedShape, Scalar, Shape};

/// The shape of an image sample: `C` channels of `H × W` pixels, each a
/// [typenum] unsigned integer (`typenum::U28`, or `typenum::U<28>`).
///
/// ```
/// use net_core::{Chw, FixedShape};
/// use net_core::typenum::{U1, U28};
/// assert_eq!(<Chw<U1, U28, U28> as FixedShape>::NUMEL, 784);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Chw<C, H, W>(PhantomData<(C, H, W)>);

/// A shape with channels, height and width: what convolution and pooling
/// layers take.
pub trait Image: Shape {
    /// The number of channels.
    type Channels: Unsigned;
    /// The height in pixels.
    type Height: Unsigned;
    /// The width in pixels.
    type Width: Unsigned;
}

impl<C, H, W> Shape for Chw<C, H, W>
where
    C: Unsigned + 'static,
    H: Unsigned + 'static,
    W: Unsigned + 'static,
{
    type Batch<T: Scalar> = ImageBatch<T, Self>;

    fn known_dims() -> Option<Vec<usize>> {
        Some(<Self as FixedShape>::dims())
    }
}

impl<C, H, W> FixedShape for Chw<C, H, W>
where
    C: Unsigned + 'static,
    H: Unsigned + 'static,
    W: Unsigned + 'static,
{
    const NUMEL: usize = C::USIZE * H::USIZE * W::USIZE;

    fn dims() -> Vec<usize> {
        vec![C::USIZE, H::USIZE, W::USIZE]
    }
}

impl<C, H, W> Image for Chw<C, H, W>
where
    C: Unsigned + 'static,
    H: Unsigned + 'static,
    W: Unsigned + 'static,
{
    type Channels = C;
    type Height = H;
    type Width = W;
}

/// The output length of a window of `Window` pixels, moved by `Stride`
/// over `Self` pixels padded with `Pad` zeros on each side:
/// `⌊(Self + 2·Pad − Window)/Stride⌋ + 1` (typenum's division rounds down).
///
/// A window larger than the padded input counts as fitting once, so that
/// the type is always defined; the layers reject that case with a message
/// of their own (see the module docs).
pub trait Slide<Window, Stride, Pad>: Unsigned {
    /// The output length.
    type Output: Unsigned;
}

/// `Self + 2·Pad`.
type Padded<N, P> = Sum<N, Sum<P, P>>;
/// `max(Self + 2·Pad, Window) − Window`: never below zero.
type Room<N, F, P> = Diff<Maximum<Padded<N, P>, F>, F>;

impl<N, F, S, P> Slide<F, S, P> for N
where
    N: Unsigned + Add<Sum<P, P>>,
    P: Add<P>,
    Padded<N, P>: Max<F>,
    Maximum<Padded<N, P>, F>: Sub<F>,
    Room<N, F, P>: Div<S>,
    Quot<Room<N, F, P>, S>: Add<B1>,
    Sum<Quot<Room<N, F, P>, S>, B1>: Unsigned,
{
    type Output = Sum<Quot<Room<N, F, P>, S>, B1>;
}

/// The image a window of `WindowH × WindowW` pixels, moved by `Stride` over
/// `Self` padded by `Pad`, produces with `OutChannels` channels: the output
/// shape of a convolution (`OutChannels` filters) or a pooling layer (as
/// many channels as its input).
pub trait SlidingWindow<OutChannels, WindowH, WindowW, Stride, Pad>: Image {
    /// The output shape.
    type Output: Image;
}

impl<C, H, W, OutChannels, WindowH, WindowW, Stride, Pad>
    SlidingWindow<OutChannels, WindowH, WindowW, Stride, Pad> for Chw<C, H, W>
where
    Chw<C, H, W>: Image,
    H: Slide<WindowH, Stride, Pad>,
    W: Slide<WindowW, Stride, Pad>,
    Chw<OutChannels, H::Output, W::Output>: Image,
{
    type Output = Chw<OutChannels, H::Output, W::Output>;
}

/// The shape `In` becomes under a sliding window: see [`SlidingWindow`].
pub type WindowOut<In, OutChannels, WindowH, WindowW, Stride, Pad> =
    <In as SlidingWindow<OutChannels, WindowH, WindowW, Stride, Pad>>::Output;

/// The output shape of a pooling window over `In`: as many channels as `In`.
pub type PoolOut<In, WindowH, WindowW, Stride, Pad> =
    WindowOut<In, <In as Image>::Channels, WindowH, WindowW, Stride, Pad>;

/// Marks the sizes a layer is generic over without storing them (and
/// without making the layer depend on their auto traits).
pub(crate) type Sizes<A> = PhantomData<fn() -> A>;

/// The window of a layer over images of shape `In`.
impl Window {
    /// The geometry of a `window_h × window_w` window over `In`, or `None`
    /// when it does not fit (see [`Window::fit`]).
    pub(crate) const fn over<In: Image>(
        window_h: usize,
        window_w: usize,
        stride: usize,
        pad: usize,
    ) -> Option<Window> {
        Window::fit(
            In::Channels::USIZE,
            In::Height::USIZE,
            In::Width::USIZE,
            window_h,
            window_w,
            stride,
            pad,
        )
    }
}

/// A batch of image samples of shape `S`: `N × C × H × W` values, row-major,
/// one sample after the other, as the book's NumPy arrays.
pub struct ImageBatch<T, S> {
    values: Vec<T>,
    batch_size: usize,
    shape: PhantomData<fn() -> S>,
}

impl<T: Scalar, S: FixedShape> ImageBatch<T, S> {
    /// A batch of `values.len() / S::NUMEL` samples, or `None` when the
    /// length is not a whole number of samples.
    pub fn from_vec(values: Vec<T>) -> Option<Self> {
        if S::NUMEL == 0 || values.len() % S::NUMEL != 0 {
            return None;
        }
        Some(ImageBatch {
            batch_size: values.len() / S::NUMEL,
            values,
            shape: PhantomData,
        })
    }

    /// The values of sample `n`, `C × H × W` row-major.
    ///
    /// # Panics
    /// When `n` is not below the batch size.
    pub fn sample(&self, n: usize) -> &[T] {
        &self.values[n * S::NUMEL..(n + 1) * S::NUMEL]
    }
}

impl<T: Clone, S> Clone for ImageBatch<T, S> {
    fn clone(&self) -> Self {
        ImageBatch {
            values: self.values.clone(),
            batch_size: self.batch_size,
            shape: PhantomData,
        }
    }
}

impl<T: fmt::Debug, S> fmt::Debug for ImageBatch<T, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ImageBatch")
            .field("batch_size", &self.batch_size)
            .field("values", &self.values)
            .finish()
    }
}

impl<T: Scalar, S: FixedShape> BatchStorage<T> for ImageBatch<T, S> {
    fn zeros(batch_size: usize) -> Self {
        ImageBatch {
            values: vec![T::zero(); batch_size * S::NUMEL],
            batch_size,
            shape: PhantomData,
        }
    }

    fn batch_size(&self) -> usize {
        self.batch_size
    }

    fn as_slice(&self) -> &[T] {
        &self.values
    }

    fn as_mut_slice(&mut self) -> &mut [T] {
        &mut self.values
    }

    fn set_batch_size(&mut self, batch_size: usize) {
        self.values.resize(batch_size * S::NUMEL, T::zero());
        self.batch_size = batch_size;
    }

    fn set_sample(&mut self, n: usize, values: &[T]) {
        assert!(
            n < self.batch_size,
            "sample {n} of a batch of {}",
            self.batch_size
        );
        self.values[n * S::NUMEL..][..S::NUMEL].copy_from_slice(values);
    }
}

#[cfg(test)]
mod tests {
    use typenum::{U0, U1, U2, U3, U5, U7, U12, U24, U28, U30, U64};

    use super::*;

    fn same<A: 'static, B: 'static>() -> bool {
        core::any::TypeId::of::<A>() == core::any::TypeId::of::<B>()
    }

    #[test]
    fn the_compiler_computes_the_books_output_sizes() {
        // SimpleConvNet: 30 filters of 5×5 over 1×28×28, then 2×2 pooling
        // with stride 2.
        type Input = Chw<U1, U28, U28>;
        type Conv = WindowOut<Input, U30, U5, U5, U1, U0>;
        assert!(same::<Conv, Chw<U30, U24, U24>>());
        type Pool = PoolOut<Conv, U2, U2, U2, U0>;
        assert!(same::<Pool, Chw<U30, U12, U12>>());
        assert_eq!(<Pool as FixedShape>::NUMEL, 4320);
        // Padding 1 and stride 2: (7 + 2 − 3)/2 + 1 = 4.
        assert_eq!(<U7 as Slide<U3, U2, U1>>::Output::USIZE, 4);
        // Rounded down, as the book and PyTorch: ⌊(7 − 2)/2⌋ + 1 = 3.
        assert!(same::<
            PoolOut<Chw<U64, U7, U7>, U2, U2, U2, U0>,
            Chw<U64, U3, U3>,
        >());
    }

    #[test]
    fn windows_that_do_not_fit_are_refused() {
        type Input = Chw<U1, U28, U28>;
        assert_eq!(Window::over::<Input>(29, 29, 1, 0), None);
        assert!(Window::over::<Input>(29, 29, 1, 1).is_some());
        assert_eq!(Window::over::<Input>(5, 5, 0, 0), None);
        // 23 pixels to move at stride 2: the last one is left out.
        let window = Window::over::<Input>(5, 5, 2, 0).expect("fits");
        assert_eq!((window.out_h, window.out_w), (12, 12));
        let window = Window::over::<Input>(2, 2, 2, 0).expect("fits");
        assert_eq!(
            (window.out_h, window.out_w, window.patch_len()),
            (14, 14, 4)
        );
    }

    #[test]
    fn batches_are_sample_contiguous() {
        type Shape3 = Chw<U1, U1, U3>;
        let mut batch = ImageBatch::<f64, Shape3>::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
            .expect("two samples");
        assert_eq!(batch.batch_size(), 2);
        assert_eq!(batch.sample(1), &[4.0, 5.0, 6.0]);
        assert!(ImageBatch::<f64, Shape3>::from_vec(vec![1.0; 4]).is_none());
        batch.set_batch_size(3);
        assert_eq!(batch.as_slice().len(), 9);
    }
}
