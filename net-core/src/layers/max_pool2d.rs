//! Max pooling.

use core::marker::PhantomData;

use rand::RngCore;
use typenum::{U0, U1, Unsigned};

use crate::image::{PoolOut, Sizes, SlidingWindow};
use crate::infer::{Freeze, Infer, Output};
use crate::kernels::conv::Window;
use crate::kernels::{Items, for_each_chunk};
use crate::{Batch, BatchStorage, Image, Init, Layer, Scalar};

/// The book's `Pooling`: the largest value of each `PH × PW` window, moved
/// with stride `S` over each channel of `In` padded with `P` zeros.
///
/// The output keeps the channels and has `⌊(H + 2P − PH)/S⌋ + 1` by
/// `⌊(W + 2P − PW)/S⌋ + 1` pixels, computed by the compiler (see
/// [`PoolOut`]); a window that does not fit is a compile-time error where
/// the layer is built. The book's SimpleConvNet pools 2×2 windows with
/// stride 2: `MaxPool2d<T, In, U2, U2, U2>`.
///
/// The book unfolds the input with `im2col`, one window per row, and takes
/// each row's `argmax`. This layer visits the same windows in the same
/// order without building the matrix, and keeps the same `arg_max` — the
/// position of each window's maximum in the input (the first on ties, as
/// NumPy's `argmax`) — for backward, which sends each output's gradient to
/// that position alone. A maximum that is padding (a zero larger than
/// every pixel of its window) gets no gradient, as in the book. Both
/// passes share out the channels of the batch between the threads
/// (`STATICNET_NUM_THREADS`).
///
/// ```
/// use net_core::typenum::{U1, U2, U4};
/// use net_core::{BatchStorage, Chw, ImageBatch, Layer, MaxPool2d};
///
/// let mut pool = MaxPool2d::<f64, Chw<U1, U4, U4>, U2, U2, U2>::new();
/// let x = ImageBatch::from_vec((0..16).map(f64::from).collect()).expect("one image");
/// assert_eq!(pool.forward(&x).as_slice(), &[5.0, 7.0, 13.0, 15.0]);
/// ```
#[derive(Clone, Debug)]
pub struct MaxPool2d<T: Scalar, In, PH, PW, S = U1, P = U0>
where
    In: Image + SlidingWindow<<In as Image>::Channels, PH, PW, S, P>,
{
    /// For each output, where its maximum sits in the input batch
    /// (`NO_ARG` for padding).
    arg_max: Vec<usize>,
    out: Batch<T, PoolOut<In, PH, PW, S, P>>,
    dx: Batch<T, In>,
    sizes: Sizes<(PH, PW, S, P)>,
}

/// The `arg_max` of a window whose maximum is padding.
const NO_ARG: usize = usize::MAX;

impl<T, In, PH, PW, S, P> MaxPool2d<T, In, PH, PW, S, P>
where
    T: Scalar,
    In: Image + SlidingWindow<<In as Image>::Channels, PH, PW, S, P>,
    PH: Unsigned,
    PW: Unsigned,
    S: Unsigned,
    P: Unsigned,
{
    /// The windows' geometry; evaluating it is what rejects a window that
    /// does not fit, at compile time.
    const WINDOW: Window = match Window::over::<In>(PH::USIZE, PW::USIZE, S::USIZE, P::USIZE) {
        Some(window) => window,
        None => panic!(
            "MaxPool2d: the window does not fit the input: the stride must be at least 1, and `H + 2·pad − PH` (and `W + 2·pad − PW`) must be at least 0"
        ),
    };

    /// A new pooling layer; it has no parameters.
    pub fn new() -> Self {
        let _fits = Self::WINDOW;
        MaxPool2d {
            arg_max: Vec::new(),
            out: BatchStorage::zeros(0),
            dx: BatchStorage::zeros(0),
            sizes: PhantomData,
        }
    }
}

impl<T, In, PH, PW, S, P> Default for MaxPool2d<T, In, PH, PW, S, P>
where
    T: Scalar,
    In: Image + SlidingWindow<<In as Image>::Channels, PH, PW, S, P>,
    PH: Unsigned,
    PW: Unsigned,
    S: Unsigned,
    P: Unsigned,
{
    fn default() -> Self {
        Self::new()
    }
}

impl<T, In, PH, PW, S, P> Layer<T> for MaxPool2d<T, In, PH, PW, S, P>
where
    T: Scalar,
    In: Image + SlidingWindow<<In as Image>::Channels, PH, PW, S, P>,
    PH: Unsigned,
    PW: Unsigned,
    S: Unsigned,
    P: Unsigned,
{
    type In = In;
    type Out = PoolOut<In, PH, PW, S, P>;

    /// Comparisons, no products or parameters.
    fn describe(input: &crate::summary::SampleShape) -> crate::summary::Description {
        crate::summary::Description::new(
            input,
            crate::summary::SampleShape::of::<Self::Out>(),
            Some(0),
            Some(0),
        )
    }

    fn init(_rng: &mut dyn RngCore, _init: Init) -> Self {
        Self::new()
    }

    fn forward(&mut self, x: &Batch<T, In>) -> &Batch<T, Self::Out> {
        let w = Self::WINDOW;
        let (batch, plane_in, plane_out) = (x.batch_size(), w.height * w.width, w.out_pixels());
        self.out.set_batch_size(batch);
        self.arg_max.resize(batch * w.channels * plane_out, NO_ARG);
        let x = x.as_slice();
        let out = (
            Items::new(self.out.as_mut_slice(), plane_out),
            Items::new(&mut self.arg_max, plane_out),
        );
        for_each_chunk(batch * w.channels, plane_in, out, &|planes,
                                                            (
            mut out,
            mut arg_max,
        )| {
            let outputs = out
                .chunks_exact_mut(plane_out)
                .zip(arg_max.chunks_exact_mut(plane_out));
            for (plane, (out, arg_max)) in planes.zip(outputs) {
                pool_plane(&Self::WINDOW, x, plane * plane_in, out, |k, at| {
                    arg_max[k] = at
                });
            }
        });
        &self.out
    }

    fn output(&self) -> &Batch<T, Self::Out> {
        &self.out
    }

    fn backward(&mut self, _x: &Batch<T, In>, dout: &Batch<T, Self::Out>) -> &Batch<T, In> {
        let w = Self::WINDOW;
        let (batch, plane_in, plane_out) = (dout.batch_size(), w.height * w.width, w.out_pixels());
        self.dx.set_batch_size(batch);
        let (dout, arg_max) = (dout.as_slice(), &*self.arg_max);
        let dx = Items::new(self.dx.as_mut_slice(), plane_in);
        for_each_chunk(batch * w.channels, plane_in, dx, &|planes, mut dx| {
            let first_input = planes.start * plane_in;
            let outputs = planes.start * plane_out..planes.end * plane_out;
            dx.fill(T::zero());
            // Each maximum lies in its own plane, in this range.
            for (&arg, &d) in arg_max[outputs.clone()].iter().zip(&dout[outputs]) {
                if let Some(slot) = arg.checked_sub(first_input).and_then(|at| dx.get_mut(at)) {
                    *slot += d;
                }
            }
        });
        &self.dx
    }
}

/// The maxima of one plane of `x` (starting at `start`) into `out`, and
/// where each was to `record` (output `k`, input place), which inference
/// leaves out. Inlined, so that the sizes of a layer's window are
/// constants in its copy.
#[inline(always)]
fn pool_plane<T: Scalar>(
    w: &Window,
    x: &[T],
    start: usize,
    out: &mut [T],
    mut record: impl FnMut(usize, usize),
) {
    let mut outputs = out.iter_mut().enumerate();
    for oy in 0..w.out_h {
        for ox in 0..w.out_w {
            let Some((k, out)) = outputs.next() else {
                return;
            };
            if w.pad == 0 {
                // Every window is inside the plane (sizes are floored).
                let first = start + oy * w.stride * w.width + ox * w.stride;
                let mut best = (x[first], first);
                for i in 0..w.window_h {
                    for j in 0..w.window_w {
                        let at = first + i * w.width + j;
                        if x[at] > best.0 {
                            best = (x[at], at);
                        }
                    }
                }
                *out = best.0;
                record(k, best.1);
                continue;
            }
            // Padding counts as a zero, as `np.pad` makes it.
            let mut best = (T::NEG_INFINITY, NO_ARG);
            for i in 0..w.window_h {
                for j in 0..w.window_w {
                    let y = (oy * w.stride + i)
                        .checked_sub(w.pad)
                        .filter(|&y| y < w.height);
                    let xx = (ox * w.stride + j)
                        .checked_sub(w.pad)
                        .filter(|&x| x < w.width);
                    let candidate = match (y, xx) {
                        (Some(y), Some(xx)) => {
                            let at = start + y * w.width + xx;
                            (x[at], at)
                        }
                        _ => (T::zero(), NO_ARG),
                    };
                    if candidate.0 > best.0 {
                        best = candidate;
                    }
                }
            }
            *out = best.0;
            record(k, best.1);
        }
    }
}

/// Max pooling frozen for inference ([`Freeze`]): the maxima only, with
/// no record of where they were.
#[derive(Clone, Debug)]
pub struct FrozenMaxPool2d<In, PH, PW, S = U1, P = U0> {
    sizes: Sizes<(In, PH, PW, S, P)>,
}

impl<T, In, PH, PW, S, P> Freeze<T> for MaxPool2d<T, In, PH, PW, S, P>
where
    T: Scalar,
    In: Image + SlidingWindow<<In as Image>::Channels, PH, PW, S, P>,
    PH: Unsigned,
    PW: Unsigned,
    S: Unsigned,
    P: Unsigned,
{
    type Frozen = FrozenMaxPool2d<In, PH, PW, S, P>;

    fn freeze(&self) -> Self::Frozen {
        FrozenMaxPool2d { sizes: PhantomData }
    }
}

impl<T, In, PH, PW, S, P> Infer<T> for FrozenMaxPool2d<In, PH, PW, S, P>
where
    T: Scalar,
    In: Image + SlidingWindow<<In as Image>::Channels, PH, PW, S, P>,
    PH: Unsigned,
    PW: Unsigned,
    S: Unsigned,
    P: Unsigned,
{
    type In = In;
    type Out = PoolOut<In, PH, PW, S, P>;
    type Scratch = Output<T, Self::Out>;

    fn infer<'a>(
        &'a self,
        x: &'a Batch<T, In>,
        scratch: &'a mut Self::Scratch,
    ) -> &'a Batch<T, Self::Out> {
        let w = &MaxPool2d::<T, In, PH, PW, S, P>::WINDOW;
        let (batch, plane_in, plane_out) = (x.batch_size(), w.height * w.width, w.out_pixels());
        let out = scratch.sized(batch);
        let x = x.as_slice();
        let planes = out.as_mut_slice().chunks_exact_mut(plane_out);
        let halving = (w.window_h, w.window_w, w.stride, w.pad) == (2, 2, 2, 0);
        for (plane, out) in planes.enumerate() {
            let start = plane * plane_in;
            if halving {
                halve_plane(w, &x[start..start + plane_in], out);
            } else {
                pool_plane(w, x, start, out, |_, _| {});
            }
        }
        out
    }
}

/// The maxima of the 2×2 windows at stride 2 of one plane (the book's
/// pooling), as [`pool_plane`] takes them — in the same order, so with
/// the same NaN — but a row of windows at a time, which the compiler
/// vectorizes.
fn halve_plane<T: Scalar>(w: &Window, plane: &[T], out: &mut [T]) {
    let pick = |best: T, v: T| if v > best { v } else { best };
    for (oy, out) in out.chunks_exact_mut(w.out_w).enumerate() {
        let top = &plane[2 * oy * w.width..][..2 * w.out_w];
        let bottom = &plane[(2 * oy + 1) * w.width..][..2 * w.out_w];
        let pairs = top.chunks_exact(2).zip(bottom.chunks_exact(2));
        for (out, (top, bottom)) in out.iter_mut().zip(pairs) {
            *out = pick(pick(pick(top[0], top[1]), bottom[0]), bottom[1]);
        }
    }
}

/// ONNX's `MaxPool` (padding never the maximum, as here).
impl<T, In, PH, PW, S, P> crate::onnx::Export<T> for MaxPool2d<T, In, PH, PW, S, P>
where
    T: Scalar,
    In: Image + SlidingWindow<<In as Image>::Channels, PH, PW, S, P>,
    PH: Unsigned,
    PW: Unsigned,
    S: Unsigned,
    P: Unsigned,
{
    fn export(
        &self,
        graph: &mut crate::onnx::Graph<T>,
        x: crate::onnx::Value,
    ) -> crate::onnx::Value {
        let (attributes, [height, width]) =
            crate::onnx::window(&x, [PH::USIZE, PW::USIZE], S::USIZE, P::USIZE);
        graph.node(
            "MaxPool",
            &[&x.name],
            &attributes,
            vec![x.dims[0], height, width],
        )
    }
}

#[cfg(test)]
mod tests {
    use typenum::{U1, U2, U3, U4, U5, U6, U7};

    use super::*;
    use crate::layers::check::{assert_gradients_agree, random_batch};
    use crate::{Chw, ImageBatch};

    #[test]
    fn takes_each_windows_maximum_and_routes_the_gradient_back() {
        // Two channels of 4×4; 2×2 windows at stride 2.
        let mut pool = MaxPool2d::<f64, Chw<U2, U4, U4>, U2, U2, U2>::new();
        #[rustfmt::skip]
        let x = ImageBatch::from_vec(vec![
            1.0, 2.0, 0.0, 1.0,
            3.0, 0.0, 4.0, 2.0,
            0.0, 1.0, 1.0, 1.0,
            5.0, 2.0, 1.0, 0.0,
            // Channel 1: the maximum of the first window is first on a tie.
            -1.0, -1.0, -3.0, -2.0,
            -2.0, -4.0, -5.0, -2.5,
            9.0, 0.0, 0.0, 0.0,
            0.0, 0.0, 0.0, 8.0,
        ])
        .expect("one sample");
        assert_eq!(
            pool.forward(&x).as_slice(),
            &[3.0, 4.0, 5.0, 1.0, -1.0, -2.0, 9.0, 8.0]
        );
        let dout = ImageBatch::from_vec((1..=8).map(f64::from).collect()).expect("one sample");
        let dx = pool.backward(&x, &dout).as_slice().to_vec();
        #[rustfmt::skip]
        assert_eq!(dx, [
            0.0, 0.0, 0.0, 0.0,
            1.0, 0.0, 2.0, 0.0,
            0.0, 0.0, 4.0, 0.0,
            3.0, 0.0, 0.0, 0.0,
            5.0, 0.0, 0.0, 6.0,
            0.0, 0.0, 0.0, 0.0,
            7.0, 0.0, 0.0, 0.0,
            0.0, 0.0, 0.0, 8.0,
        ]);
    }

    /// The frozen layer's 2×2 path gives the training layer's maxima bit
    /// for bit, NaN and odd sizes (the last row and column left out)
    /// included.
    #[test]
    fn frozen_pooling_takes_the_same_maxima() {
        let mut pool = MaxPool2d::<f64, Chw<U2, U5, U7>, U2, U2, U2>::new();
        let mut x = random_batch::<Chw<U2, U5, U7>>(3, 4);
        x.as_mut_slice()[9] = f64::NAN;
        x.as_mut_slice()[40] = f64::NAN;
        let expected = pool.forward(&x).clone();
        let frozen = Freeze::<f64>::freeze(&pool);
        let mut scratch = Output::default();
        let got = frozen.infer(&x, &mut scratch);
        let bits =
            |b: &ImageBatch<f64, _>| b.as_slice().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(got), bits(&expected));
    }

    /// With padding, a window of negative pixels has the padding's zero as
    /// its maximum, and passes no gradient.
    #[test]
    fn padding_is_a_zero_without_gradient() {
        let mut pool = MaxPool2d::<f64, Chw<U1, U2, U2>, U2, U2, U2, U1>::new();
        let x = ImageBatch::from_vec(vec![-1.0, -2.0, -3.0, 4.0]).expect("one sample");
        assert_eq!(pool.forward(&x).as_slice(), &[0.0, 0.0, 0.0, 4.0]);
        let dout = ImageBatch::from_vec(vec![1.0, 1.0, 1.0, 1.0]).expect("one sample");
        assert_eq!(pool.backward(&x, &dout).as_slice(), &[0.0, 0.0, 0.0, 1.0]);
    }

    #[test]
    fn gradients_match_numerical_ones() {
        let mut pool = MaxPool2d::<f64, Chw<U3, U6, U6>, U2, U2, U2>::new();
        assert_gradients_agree(&mut pool, &random_batch::<Chw<U3, U6, U6>>(2, 4));

        // Overlapping 3×3 windows at stride 2 with padding 1 over 7×7.
        let mut pool = MaxPool2d::<f64, Chw<U2, U7, U7>, U3, U3, U2, U1>::new();
        assert_gradients_agree(&mut pool, &random_batch::<Chw<U2, U7, U7>>(3, 5));

        // 2×2 at stride 2 over 7×6: the last row is left out (3×3).
        let mut pool = MaxPool2d::<f64, Chw<U2, U7, U6>, U2, U2, U2>::new();
        assert_gradients_agree(&mut pool, &random_batch::<Chw<U2, U7, U6>>(2, 7));

        // Rectangular windows at stride 1: 2×3 over 5×4.
        let mut pool = MaxPool2d::<f64, Chw<U1, U5, U4>, U2, U3>::new();
        assert_gradients_agree(&mut pool, &random_batch::<Chw<U1, U5, U4>>(2, 6));
    }
}
