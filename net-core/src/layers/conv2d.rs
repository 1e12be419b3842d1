//! The convolution layer, through `im2col`, one sample at a time.

use core::marker::PhantomData;

use nalgebra::{DMatrixView, DMatrixViewMut};
use rand::RngCore;
use rand_distr::{Distribution, StandardNormal};
use typenum::{U0, U1, Unsigned};

use crate::image::{Sizes, SlidingWindow, WindowOut};
use crate::infer::{Freeze, Infer, Output, Pointwise};
use crate::kernels::conv::Window;
use crate::kernels::conv::{Shifted, col2im, gemm_shifted, gemm_tn_shifted, im2col};
use crate::kernels::{Items, for_each_part, gemm, gemm_nt, gemm_tn, relu_in_place, sum, threads};
use crate::{
    Batch, BatchStorage, Init, Layer, ParamMut, ParamName, ParamRef, ParamShape, ParamUpdate,
    Scalar,
};

/// The book's `Convolution`: `FN` filters of `FH × FW` pixels, moved with
/// stride `S` over the input image `In` padded with `P` zeros.
///
/// The output has `FN` channels of `⌊(H + 2P − FH)/S⌋ + 1` by
/// `⌊(W + 2P − FW)/S⌋ + 1` pixels, computed by the compiler: see
/// [`WindowOut`]. All sizes are [typenum](crate::typenum) unsigned
/// integers; a filter larger than the padded image is a compile-time
/// error where the layer is built.
///
/// ```
/// use net_core::typenum::{U1, U2, U28, U30, U5, U24};
/// use net_core::{BatchStorage, Chw, Conv2d, Init, Layer, ImageBatch};
///
/// // The book's SimpleConvNet: 30 filters of 5×5 over 1×28×28.
/// type Conv = Conv2d<f32, Chw<U1, U28, U28>, U30, U5, U5>;
/// let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(0);
/// let mut conv = Conv::init(&mut rng, Init::BOOK);
/// let x = ImageBatch::<f32, Chw<U1, U28, U28>>::zeros(2);
/// let y: &ImageBatch<f32, Chw<U30, U24, U24>> = conv.forward(&x);
/// assert_eq!(y.as_slice().len(), 2 * 30 * 24 * 24);
/// ```
///
/// # As in the book
///
/// The book unfolds the whole batch with `im2col` into one
/// `(N·OH·OW) × (C·FH·FW)` matrix `col` and computes `col · W_colᵀ + b` in
/// one product, where `W_col` is `W` reshaped to `FN × (C·FH·FW)`. This
/// layer does the same one sample at a time: the sample's `col`,
/// `(OH·OW) × (C·FH·FW)`, stays in the cache (the whole batch's is tens of
/// megabytes for the book's DeepConvNet, written and read back at memory
/// speed), and the sample's product `col · W_colᵀ`, column-major
/// `(OH·OW) × FN`, is already its output in the book's `FN × OH × OW`
/// order, so nothing is rearranged. Backward, for each sample, with its
/// `dout` read in place the same way:
/// - `db = Σ dout` over samples and pixels,
/// - `dW = Σ doutᵀ · col` over samples, reshaped to `FN × C × FH × FW`
///   (`col` is unfolded again rather than kept from forward),
/// - `dx = col2im(dout · W_col)`; at stride 1 with square filters (and
///   `P < FH`), the same sum read the other way round: `dout` padded with
///   `FH − 1 − P` zeros, convolved with the filters turned by 180° and
///   swapped to `[C, FN, FH, FW]` — a product `FN·FH·FW` deep instead of
///   `FN`, and no scatter.
///
/// At stride 1, `col` is never built: each of its columns is one
/// contiguous run of the sample padded once (see
/// `kernels/conv/shifted.rs`), and the products read those runs in place
/// — forward, `dW` and the input gradient as a convolution. That drops two passes over a matrix `C·FH·FW`
/// times the image's size per product (the unfolding, and the product's
/// own copy of it).
///
/// The samples are cut into one run per thread (`STATICNET_NUM_THREADS`):
/// each unfolds its own samples into its own buffers and sums its own
/// `dW` and `db`, added up at the end.
///
/// `W` is stored as the book's NumPy array, `[FN, C, FH, FW]` row-major,
/// which is `W_colᵀ` column-major: the products read it in place. Every
/// buffer is kept from one call to the next, so a fixed batch size
/// allocates only once.
#[derive(Clone, Debug)]
pub struct Conv2d<T: Scalar, In, FN, FH, FW, S = U1, P = U0>
where
    In: SlidingWindow<FN, FH, FW, S, P>,
{
    /// The filters `W`, `[FN, C, FH, FW]` row-major.
    pub w: Box<[T]>,
    /// The bias `b`, one per filter.
    pub b: Box<[T]>,
    /// `dL/dW` from the last backward pass, laid out as `w`.
    pub dw: Box<[T]>,
    /// `dL/db` from the last backward pass.
    pub db: Box<[T]>,
    /// The buffers of each thread's run of samples.
    runs: Vec<Run<T>>,
    /// `W` turned by 180° and swapped to `[C, FN, FH, FW]`: the filters of
    /// the input gradient when it is a convolution (see `backward`).
    turned: Vec<T>,
    /// The runs of the padded input at stride 1, and of the padded `dout`
    /// of the input gradient as a convolution.
    shifted: Option<Shifted>,
    turned_shifted: Option<Shifted>,
    out: Batch<T, WindowOut<In, FN, FH, FW, S, P>>,
    dx: Batch<T, In>,
    sizes: Sizes<(FN, FH, FW, S, P)>,
}

impl<T, In, FN, FH, FW, S, P> Conv2d<T, In, FN, FH, FW, S, P>
where
    T: Scalar,
    In: SlidingWindow<FN, FH, FW, S, P>,
    FN: Unsigned,
    FH: Unsigned,
    FW: Unsigned,
    S: Unsigned,
    P: Unsigned,
{
    /// The filters' geometry; evaluating it is what rejects a filter that
    /// does not fit, at compile time.
    const WINDOW: Window = match Window::over::<In>(FH::USIZE, FW::USIZE, S::USIZE, P::USIZE) {
        Some(window) if FN::USIZE > 0 => window,
        _ => panic!(
            "Conv2d: the filters do not fit the input: there must be at least one filter, the stride must be at least 1, and `H + 2·pad − FH` (and `W + 2·pad − FW`) must be at least 0"
        ),
    };

    /// The window of the input gradient as a convolution, when it is one
    /// ([`Window::transposed`]).
    const TURNED: Option<Window> = Self::WINDOW.transposed(FN::USIZE);

    /// A layer with the given filters (`[FN, C, FH, FW]` row-major) and
    /// biases, or `None` when their lengths are not `FN·C·FH·FW` and `FN`.
    pub fn from_params(w: Vec<T>, b: Vec<T>) -> Option<Self> {
        let window = Self::WINDOW;
        if w.len() != FN::USIZE * window.patch_len() || b.len() != FN::USIZE {
            return None;
        }
        Some(Conv2d {
            dw: vec![T::zero(); w.len()].into(),
            db: vec![T::zero(); b.len()].into(),
            w: w.into(),
            b: b.into(),
            runs: Vec::new(),
            turned: Vec::new(),
            shifted: Shifted::new(window),
            turned_shifted: Self::TURNED.and_then(Shifted::new),
            out: BatchStorage::zeros(0),
            dx: BatchStorage::zeros(0),
            sizes: PhantomData,
        })
    }

    /// `W_col`ᵀ as a `(C·FH·FW) × FN` matrix over `values` (`w` or `dw`).
    fn filters_view(values: &[T]) -> DMatrixView<'_, T> {
        DMatrixView::from_slice(values, Self::WINDOW.patch_len(), FN::USIZE)
    }

    /// One run of samples per thread, at most one per sample (and one for
    /// an empty batch).
    fn runs(&mut self, batch: usize) -> usize {
        let runs = threads().min(batch).max(1);
        if self.runs.len() < runs {
            self.runs.resize_with(runs, Run::default);
        }
        runs
    }

    /// `dW` and `db` from `dout`, and `dx` into `self.dx` when `with_dx`.
    fn gradients(
        &mut self,
        x: &Batch<T, In>,
        dout: &Batch<T, WindowOut<In, FN, FH, FW, S, P>>,
        with_dx: bool,
    ) {
        let window = Self::WINDOW;
        let (batch, filters) = (dout.batch_size(), FN::USIZE);
        let (pixels, patch, in_len) = (window.out_pixels(), window.patch_len(), window.in_len());
        let runs = self.runs(batch);
        if with_dx {
            self.dx.set_batch_size(batch);
            if Self::TURNED.is_some() {
                turn_filters(&window, filters, &self.w, &mut self.turned);
            }
        }
        let dx = with_dx.then(|| Items::new(self.dx.as_mut_slice(), in_len));
        let (x, dout, w, turned) = (x.as_slice(), dout.as_slice(), &*self.w, &*self.turned);
        let (shifted, turned_shifted) = (self.shifted.as_ref(), self.turned_shifted.as_ref());
        for_each_part(
            &mut self.runs[..runs],
            batch,
            dx,
            &|run, samples, mut dx| {
                run.dw.clear();
                run.dw.resize(patch * filters, T::zero());
                run.db.clear();
                run.db.resize(filters, T::zero());
                let first = samples.start;
                for n in samples {
                    let x = &x[n * in_len..][..in_len];
                    let dout = &dout[n * pixels * filters..][..pixels * filters];
                    for (db, channel) in run.db.iter_mut().zip(dout.chunks_exact(pixels)) {
                        *db += sum(channel);
                    }
                    // dW_col += doutᵀ · col, `FN × (C·FH·FW)`: the product packs
                    // only `dout`, the smaller operand, and reads `col` in place
                    // — at stride 1, as the runs of the padded sample.
                    if let Some(shifted) = shifted {
                        shifted.pad(x, &mut run.padded);
                        shifted.spread(dout, &mut run.product);
                        let dout = DMatrixView::from_slice(&run.product, shifted.rows(), filters);
                        let (padded, offsets) = (&run.padded, shifted.offsets());
                        gemm_tn_shifted(
                            &dout,
                            padded,
                            offsets,
                            T::one(),
                            &mut run.dw,
                            &mut run.col,
                        );
                    } else {
                        run.col.resize(pixels * patch, T::zero());
                        im2col(&window, 1, x, &mut run.col);
                        let col = DMatrixView::from_slice(&run.col, pixels, patch);
                        let dout = DMatrixView::from_slice(dout, pixels, filters);
                        let mut dw = DMatrixViewMut::from_slice(&mut run.dw, filters, patch);
                        gemm_tn(T::one(), &dout, &col, T::one(), &mut dw);
                    }
                    let Some(dx) = &mut dx else { continue };
                    let dx = &mut dx[(n - first) * in_len..][..in_len];
                    if let Some(turned_window) = Self::TURNED {
                        // dx = dout convolved with the turned filters.
                        let filters = DMatrixView::from_slice(
                            turned,
                            turned_window.patch_len(),
                            window.channels,
                        );
                        convolve(
                            &turned_window,
                            turned_shifted,
                            dout,
                            &filters,
                            (None, false),
                            run,
                            dx,
                        );
                    } else {
                        // dcol = dout · W_col, folded back onto the sample.
                        run.dcol.resize(pixels * patch, T::zero());
                        let mut dcol = DMatrixViewMut::from_slice(&mut run.dcol, pixels, patch);
                        gemm_nt(
                            T::one(),
                            &DMatrixView::from_slice(dout, pixels, filters),
                            &Self::filters_view(w),
                            T::zero(),
                            &mut dcol,
                        );
                        col2im(&window, 1, &run.dcol, dx);
                    }
                }
            },
        );
        // The runs' sums, `dW_col` (column-major) turned into the book's
        // `[FN, C, FH, FW]` order.
        let runs = &self.runs[..runs];
        for (f, row) in self.dw.chunks_exact_mut(patch).enumerate() {
            for (p, total) in row.iter_mut().enumerate() {
                *total = runs
                    .iter()
                    .fold(T::zero(), |sum, run| sum + run.dw[p * filters + f]);
            }
        }
        for (f, total) in self.db.iter_mut().enumerate() {
            *total = runs.iter().fold(T::zero(), |sum, run| sum + run.db[f]);
        }
    }

    /// The shape of `W` for saving: `[FN, C, FH, FW]`.
    fn filters_shape() -> ParamShape {
        ParamShape::Filters {
            count: FN::USIZE,
            channels: In::Channels::USIZE,
            height: FH::USIZE,
            width: FW::USIZE,
        }
    }
}

/// `y ←` the sample `x` convolved with `filters` (`(C·FH·FW) × FN`,
/// `W_col`ᵀ), plus `bias` when given, and through a ReLU with `relu` (a
/// frozen layer's, folded in): `FN` channels of `OH·OW` pixels. At
/// stride 1, over the runs of the padded image ([`Shifted`]); otherwise as
/// the book does, `im2col`'s `col` times the filters.
fn convolve<T: Scalar>(
    window: &Window,
    shifted: Option<&Shifted>,
    x: &[T],
    filters: &DMatrixView<'_, T>,
    (bias, relu): (Option<&[T]>, bool),
    run: &mut Run<T>,
    y: &mut [T],
) {
    if let Some(shifted) = shifted {
        shifted.pad(x, &mut run.padded);
        let rows = shifted.rows();
        run.product.resize(rows * filters.ncols(), T::zero());
        let (padded, offsets) = (&run.padded, shifted.offsets());
        gemm_shifted(
            rows,
            padded,
            offsets,
            filters,
            T::zero(),
            &mut run.product,
            &mut run.col,
        );
        shifted.unpad(&run.product, bias, relu, y);
        return;
    }
    let (pixels, patch) = (window.out_pixels(), window.patch_len());
    let beta = match bias {
        Some(bias) => {
            for (channel, &b) in y.chunks_exact_mut(pixels).zip(bias) {
                channel.fill(b);
            }
            T::one()
        }
        None => T::zero(),
    };
    run.col.resize(pixels * patch, T::zero());
    im2col(window, 1, x, &mut run.col);
    let col = DMatrixView::from_slice(&run.col, pixels, patch);
    let mut product = DMatrixViewMut::from_slice(y, pixels, filters.ncols());
    gemm(T::one(), &col, filters, beta, &mut product);
    if relu {
        relu_in_place(y);
    }
}

/// `turned[c, f, i, j] = w[f, c, FH − 1 − i, FW − 1 − j]`: the filters of
/// the input gradient of a stride-1 convolution.
fn turn_filters<T: Scalar>(window: &Window, filters: usize, w: &[T], turned: &mut Vec<T>) {
    let (channels, area) = (window.channels, window.window_h * window.window_w);
    turned.resize(w.len(), T::zero());
    for f in 0..filters {
        for c in 0..channels {
            let from = &w[(f * channels + c) * area..][..area];
            let to = &mut turned[(c * filters + f) * area..][..area];
            // Turning by 180° reverses the filter's pixels, row-major.
            for (to, &from) in to.iter_mut().zip(from.iter().rev()) {
                *to = from;
            }
        }
    }
}

/// The buffers of one thread's run of samples.
#[derive(Clone, Debug, Default)]
struct Run<T> {
    /// `im2col` of one sample, column-major `(OH·OW) × (C·FH·FW)`.
    col: Vec<T>,
    /// `dout · W_col`, the gradient of `col`.
    dcol: Vec<T>,
    /// The padded sample, and the product over its runs ([`Shifted`]).
    padded: Vec<T>,
    product: Vec<T>,
    /// This run's share of `dW_col` (`FN × (C·FH·FW)`, column-major) and
    /// of `db`.
    dw: Vec<T>,
    db: Vec<T>,
}

impl<T, In, FN, FH, FW, S, P> Layer<T> for Conv2d<T, In, FN, FH, FW, S, P>
where
    T: Scalar,
    In: SlidingWindow<FN, FH, FW, S, P>,
    FN: Unsigned,
    FH: Unsigned,
    FW: Unsigned,
    S: Unsigned,
    P: Unsigned,
{
    type In = In;
    type Out = WindowOut<In, FN, FH, FW, S, P>;

    /// `FN·C·FH·FW` weights and `FN` biases; per sample, each of the
    /// `out_h·out_w·FN` outputs is a dot product of `C·FH·FW` terms.
    fn describe(input: &crate::summary::SampleShape) -> crate::summary::Description {
        let output = crate::summary::SampleShape::of::<Self::Out>();
        let filter = In::Channels::USIZE * FH::USIZE * FW::USIZE;
        let params = FN::USIZE * filter + FN::USIZE;
        let macs = output.numel().map(|n| n as u64 * filter as u64);
        crate::summary::Description::new(input, output, Some(params), macs)
    }

    fn init(rng: &mut dyn RngCore, init: Init) -> Self {
        // Xavier and He count the inputs of one output: a patch.
        let std = init.std(Self::WINDOW.patch_len());
        let w = (0..FN::USIZE * Self::WINDOW.patch_len())
            .map(|_| {
                let z: f64 = StandardNormal.sample(rng);
                T::of_f64(std * z)
            })
            .collect();
        Self::from_params(w, vec![T::zero(); FN::USIZE])
            .expect("the lengths come from the layer's own sizes")
    }

    fn forward(&mut self, x: &Batch<T, In>) -> &Batch<T, Self::Out> {
        let window = Self::WINDOW;
        let (batch, filters) = (x.batch_size(), FN::USIZE);
        let (pixels, in_len) = (window.out_pixels(), window.in_len());
        let runs = self.runs(batch);
        self.out.set_batch_size(batch);
        let out = Items::new(self.out.as_mut_slice(), pixels * filters);
        let (x, w, b) = (x.as_slice(), &*self.w, &*self.b);
        let shifted = self.shifted.as_ref();
        for_each_part(
            &mut self.runs[..runs],
            batch,
            out,
            &|run, samples, mut out| {
                for (n, y) in samples.zip(out.chunks_exact_mut(pixels * filters)) {
                    let x = &x[n * in_len..][..in_len];
                    convolve(
                        &window,
                        shifted,
                        x,
                        &Self::filters_view(w),
                        (Some(b), false),
                        run,
                        y,
                    );
                }
            },
        );
        &self.out
    }

    fn output(&self) -> &Batch<T, Self::Out> {
        &self.out
    }

    fn backward(&mut self, x: &Batch<T, In>, dout: &Batch<T, Self::Out>) -> &Batch<T, In> {
        self.gradients(x, dout, true);
        &self.dx
    }

    fn backward_first(
        &mut self,
        x: &Batch<T, In>,
        dout: &Batch<T, Self::Out>,
        update: ParamUpdate<T>,
    ) {
        // The first layer's input needs no gradient.
        self.gradients(x, dout, false);
        update.apply(self);
    }

    fn visit_params(&self, f: &mut dyn FnMut(ParamRef<'_, T>)) {
        f(ParamRef {
            name: ParamName::new("W"),
            shape: Self::filters_shape(),
            value: &self.w,
            grad: &self.dw,
        });
        f(ParamRef {
            name: ParamName::new("b"),
            shape: ParamShape::Vector(FN::USIZE),
            value: &self.b,
            grad: &self.db,
        });
    }

    fn visit_params_mut(&mut self, f: &mut dyn FnMut(ParamMut<'_, T>)) {
        f(ParamMut {
            name: ParamName::new("W"),
            shape: Self::filters_shape(),
            value: &mut self.w,
            grad: &mut self.dw,
        });
        f(ParamMut {
            name: ParamName::new("b"),
            shape: ParamShape::Vector(FN::USIZE),
            value: &mut self.b,
            grad: &mut self.db,
        });
    }
}

/// A `Conv2d` frozen for inference ([`Freeze`]): the filters read in
/// place as the training layer reads them, each sample convolved on the
/// calling thread, and a ReLU or dropout scaling after it folded in.
#[derive(Clone, Debug)]
pub struct FrozenConv2d<T: Scalar, In, FN, FH, FW, S = U1, P = U0> {
    w: Box<[T]>,
    b: Box<[T]>,
    shifted: Option<Shifted>,
    /// Whether a ReLU after the layer was folded in.
    relu: bool,
    sizes: Sizes<(In, FN, FH, FW, S, P)>,
}

/// The buffers of a frozen `Conv2d`.
#[derive(Debug)]
pub struct ConvScratch<T: Scalar, Out: crate::Shape> {
    run: Run<T>,
    out: Output<T, Out>,
}

impl<T: Scalar, Out: crate::Shape> Default for ConvScratch<T, Out> {
    fn default() -> Self {
        ConvScratch {
            run: Run::default(),
            out: Output::default(),
        }
    }
}

impl<T, In, FN, FH, FW, S, P> Freeze<T> for Conv2d<T, In, FN, FH, FW, S, P>
where
    T: Scalar,
    In: SlidingWindow<FN, FH, FW, S, P>,
    FN: Unsigned,
    FH: Unsigned,
    FW: Unsigned,
    S: Unsigned,
    P: Unsigned,
{
    type Frozen = FrozenConv2d<T, In, FN, FH, FW, S, P>;

    fn freeze(&self) -> Self::Frozen {
        FrozenConv2d {
            w: self.w.clone(),
            b: self.b.clone(),
            shifted: self.shifted.clone(),
            relu: false,
            sizes: PhantomData,
        }
    }
}

impl<T, In, FN, FH, FW, S, P> Infer<T> for FrozenConv2d<T, In, FN, FH, FW, S, P>
where
    T: Scalar,
    In: SlidingWindow<FN, FH, FW, S, P>,
    FN: Unsigned,
    FH: Unsigned,
    FW: Unsigned,
    S: Unsigned,
    P: Unsigned,
{
    type In = In;
    type Out = WindowOut<In, FN, FH, FW, S, P>;
    type Scratch = ConvScratch<T, Self::Out>;

    fn infer<'a>(
        &'a self,
        x: &'a Batch<T, In>,
        scratch: &'a mut Self::Scratch,
    ) -> &'a Batch<T, Self::Out> {
        let window = Conv2d::<T, In, FN, FH, FW, S, P>::WINDOW;
        let (batch, in_len) = (x.batch_size(), window.in_len());
        let out_len = window.out_pixels() * FN::USIZE;
        let out = scratch.out.sized(batch);
        let filters = Conv2d::<T, In, FN, FH, FW, S, P>::filters_view(&self.w);
        let samples = x.as_slice().chunks_exact(in_len);
        for (x, y) in samples.zip(out.as_mut_slice().chunks_exact_mut(out_len)) {
            let (shifted, run) = (self.shifted.as_ref(), &mut scratch.run);
            let epilogue = (Some(&*self.b), self.relu);
            convolve(&window, shifted, x, &filters, epilogue, run, y);
        }
        out
    }

    /// A ReLU, or a scale and shift that is one per filter (constant over
    /// each output channel): `W_f·s_f`, `b_f·s_f + c_f`; after a folded
    /// ReLU only a positive scale with no shift.
    fn absorb(&mut self, map: &Pointwise<T>) -> bool {
        let window = Conv2d::<T, In, FN, FH, FW, S, P>::WINDOW;
        let (filters, pixels) = (FN::USIZE, window.out_pixels());
        if !map.fits(filters * pixels) || (self.relu && !map.commutes_with_relu()) {
            return false;
        }
        if *map == Pointwise::Relu {
            self.relu = true;
            return true;
        }
        let per_filter: Option<Vec<(T, T)>> = (0..filters)
            .map(|f| {
                let first = map.scale_shift(f * pixels)?;
                let same = (1..pixels).all(|k| map.scale_shift(f * pixels + k) == Some(first));
                same.then_some(first)
            })
            .collect();
        let Some(per_filter) = per_filter else {
            return false;
        };
        let patch = window.patch_len();
        for (f, (scale, shift)) in per_filter.into_iter().enumerate() {
            self.w[f * patch..][..patch]
                .iter_mut()
                .for_each(|w| *w *= scale);
            self.b[f] = self.b[f] * scale + shift;
        }
        true
    }
}

/// ONNX's `Conv`, the filters `[FN, C, FH, FW]` as in the book.
impl<T, In, FN, FH, FW, S, P> crate::onnx::Export<T> for Conv2d<T, In, FN, FH, FW, S, P>
where
    T: Scalar,
    In: SlidingWindow<FN, FH, FW, S, P>,
    FN: Unsigned,
    FH: Unsigned,
    FW: Unsigned,
    S: Unsigned,
    P: Unsigned,
{
    fn export(
        &self,
        graph: &mut crate::onnx::Graph<T>,
        x: crate::onnx::Value,
    ) -> crate::onnx::Value {
        let (window, channels) = ([FH::USIZE, FW::USIZE], x.dims[0]);
        let w = graph.initializer("W", &[FN::USIZE, channels, window[0], window[1]], &self.w);
        let b = graph.initializer("b", &[FN::USIZE], &self.b);
        let (attributes, [height, width]) = crate::onnx::window(&x, window, S::USIZE, P::USIZE);
        graph.node(
            "Conv",
            &[&x.name, &w, &b],
            &attributes,
            vec![FN::USIZE, height, width],
        )
    }
}

#[cfg(test)]
mod tests {
    use typenum::{U1, U2, U3, U4, U5, U6, U7};

    use super::*;
    use crate::layers::check::{assert_gradients_agree, random_batch};
    use crate::{Chw, ImageBatch};

    /// One filter of 2×2 ones over a 1×3×3 image of 1…9 sums each 2×2
    /// patch: `[[12, 16], [24, 28]]`, plus the bias.
    #[test]
    fn forward_sums_each_patch() {
        type Conv = Conv2d<f64, Chw<U1, U3, U3>, U1, U2, U2>;
        let mut conv = Conv::from_params(vec![1.0; 4], vec![0.5]).expect("sizes");
        let x = ImageBatch::from_vec((1..=9).map(f64::from).collect()).expect("one image");
        let y = conv.forward(&x);
        assert_eq!(y.as_slice(), &[12.5, 16.5, 24.5, 28.5]);

        // dout of ones: every pixel's gradient counts the patches it is in,
        // times the weight; dW sums each filter pixel's inputs; db counts
        // the outputs.
        let dout = ImageBatch::from_vec(vec![1.0; 4]).expect("one image");
        let dx = conv.backward(&x, &dout).as_slice().to_vec();
        assert_eq!(dx, [1.0, 2.0, 1.0, 2.0, 4.0, 2.0, 1.0, 2.0, 1.0]);
        assert_eq!(&*conv.dw, &[12.0, 16.0, 24.0, 28.0]);
        assert_eq!(&*conv.db, &[4.0]);
    }

    #[test]
    fn parameters_have_the_books_shapes() {
        type Conv = Conv2d<f32, Chw<U3, U7, U7>, U4, U5, U5>;
        let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(3);
        let conv = Conv::init(&mut rng, Init::BOOK);
        let mut shapes = Vec::new();
        conv.visit_params(&mut |p| shapes.push((p.name.base, p.shape.dims(), p.value.len())));
        assert_eq!(shapes, [("W", vec![4, 3, 5, 5], 300), ("b", vec![4], 4)]);
        assert!(Conv::from_params(vec![0.0; 299], vec![0.0; 4]).is_none());
    }

    #[test]
    fn gradients_match_numerical_ones() {
        let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(5);
        let init = Init::Normal { std: 0.5 };

        type Plain = Conv2d<f64, Chw<U2, U5, U6>, U3, U3, U2>;
        let mut conv = Plain::init(&mut rng, init);
        assert_gradients_agree(&mut conv, &random_batch::<Chw<U2, U5, U6>>(3, 1));

        // Stride 2, padding 1: (7 + 2 − 3)/2 + 1 = 4.
        type Strided = Conv2d<f64, Chw<U3, U7, U7>, U2, U3, U3, U2, U1>;
        let mut conv = Strided::init(&mut rng, init);
        assert_gradients_agree(&mut conv, &random_batch::<Chw<U3, U7, U7>>(2, 2));

        // Rounded down: a 3×2 filter at stride 2 over 6×7 moves over 0, 2
        // of the rows (the last row is left out) and 0, 2, 4 of the columns.
        type Floored = Conv2d<f64, Chw<U2, U6, U7>, U2, U3, U2, U2>;
        let mut conv = Floored::init(&mut rng, init);
        assert_gradients_agree(&mut conv, &random_batch::<Chw<U2, U6, U7>>(2, 4));

        // Padding 2 with a 4×4 filter over 5×5 at stride 1.
        type Padded = Conv2d<f64, Chw<U1, U5, U5>, U2, U4, U4, U1, U2>;
        let mut conv = Padded::init(&mut rng, init);
        assert_gradients_agree(&mut conv, &random_batch::<Chw<U1, U5, U5>>(2, 3));

        // Square filters at stride 1, whose input gradient is a convolution
        // with the turned filters, padded with 2, 1 and 0 zeros: the
        // DeepConvNet's `pad = 0`, `1` and `2` with 3×3 filters.
        type Unpadded = Conv2d<f64, Chw<U2, U5, U6>, U3, U3, U3>;
        let mut conv = Unpadded::init(&mut rng, init);
        assert_gradients_agree(&mut conv, &random_batch::<Chw<U2, U5, U6>>(2, 6));
        type Same = Conv2d<f64, Chw<U3, U5, U4>, U4, U3, U3, U1, U1>;
        let mut conv = Same::init(&mut rng, init);
        assert_gradients_agree(&mut conv, &random_batch::<Chw<U3, U5, U4>>(2, 7));
        type Wider = Conv2d<f64, Chw<U2, U4, U4>, U3, U3, U3, U1, U2>;
        let mut conv = Wider::init(&mut rng, init);
        assert_gradients_agree(&mut conv, &random_batch::<Chw<U2, U4, U4>>(3, 8));
    }
}
