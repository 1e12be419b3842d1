//! The fully connected layer.

use nalgebra::{Const, Dyn, OMatrix};
use rand::RngCore;
use rand_distr::{Distribution, StandardNormal};

use core::marker::PhantomData;

use nalgebra::{DMatrixView, DMatrixViewMut};

use crate::infer::{Freeze, Infer, Pointwise};
use crate::kernels::sparse::SparseAffine;
use crate::kernels::sparse::{row_stride, weight_rows};
use crate::kernels::{add_row_product, gemm, gemm_nt, gemm_tn, relu_in_place, sum};
use crate::widths::layer_bytes;
use crate::{
    Batch, Init, Layer, ParamMatrix, ParamMut, ParamName, ParamRef, ParamShape, ParamUpdate,
    Scalar, Width, WidthError,
};

/// `y = x·W + b`: `I` inputs, `O` outputs, both compiled in. This is what
/// `Affine<784, 50>` in `network!` is; an `Affine` with a width chosen at
/// run time (`Affine<784, dyn>`) is an [`AffineLayer`] with [`Dyn`] on that
/// side.
pub type Affine<T, const I: usize, const O: usize> = AffineLayer<T, Const<I>, Const<O>>;

/// `y = x·W + b` from `I` inputs to `O` outputs, each a [`Width`]: a
/// compiled-in [`Const<N>`], or [`Dyn`], chosen when the layer is built
/// ([`AffineLayer::with_widths`]). The same code runs both.
///
/// Backward, for a batch `x` of shape `(N, I)`:
/// - `dx = dout·Wᵀ`
/// - `dW = xᵀ·dout`
/// - `db = Σ dout`, summed over the batch.
///
/// `W` and `b` live on the heap, however large `I` and `O` are. An input
/// that is mostly zeros (MNIST's images: 81% of the pixels) takes a path
/// that skips the zeros in both `x·W` and `xᵀ·dout`.
#[derive(Clone, Debug)]
pub struct AffineLayer<T: Scalar, I: Width, O: Width> {
    /// The weights `W`, `I × O`.
    pub w: ParamMatrix<T, I, O>,
    /// The bias `b`, one per output.
    pub b: ParamMatrix<T, Const<1>, O>,
    /// `dL/dW` from the last backward pass.
    pub dw: ParamMatrix<T, I, O>,
    /// `dL/db` from the last backward pass.
    pub db: ParamMatrix<T, Const<1>, O>,
    out: OMatrix<T, Dyn, O>,
    dx: OMatrix<T, Dyn, I>,
    sparse: SparseAffine<T>,
}

impl<T: Scalar, I: Width, O: Width> AffineLayer<T, I, O> {
    /// A layer of `inputs × outputs` weights drawn as `init` says, and zero
    /// biases. A compiled-in side must be given its own size.
    ///
    /// # Panics
    /// When a compiled-in side is given another size (a network's
    /// `with_widths`, which calls this, has checked the sizes first), or
    /// when the weights cannot be allocated
    /// ([`try_with_widths`](Self::try_with_widths) returns an error
    /// instead).
    pub fn with_widths(rng: &mut dyn RngCore, init: Init, inputs: usize, outputs: usize) -> Self {
        Self::try_with_widths(rng, init, inputs, outputs).unwrap_or_else(|error| panic!("{error}"))
    }

    /// [`with_widths`](Self::with_widths), with the memory the layer needs
    /// checked before anything is allocated, and the allocation tried: what
    /// a network's `with_widths` builds its layers with.
    ///
    /// # Errors
    /// [`WidthError::TooLarge`] when the weights, biases and their
    /// gradients take more bytes than one buffer can hold (`isize::MAX`,
    /// the allocation limit: how much memory the machine has cannot be
    /// known portably), or their size overflows; nothing is allocated.
    /// [`WidthError::OutOfMemory`] when the allocator refuses them; what
    /// was allocated is freed. The error names the larger side as the
    /// width (`the outputs of the layer`) and the layer by its sizes; a
    /// network's `with_widths` names its own width and field instead.
    ///
    /// # Panics
    /// When a compiled-in side is given another size.
    pub fn try_with_widths(
        rng: &mut dyn RngCore,
        init: Init,
        inputs: usize,
        outputs: usize,
    ) -> Result<Self, WidthError> {
        let (rows, cols) = (I::from_usize(inputs), O::from_usize(outputs));
        let size = core::mem::size_of::<T>();
        let bytes = layer_bytes(inputs, outputs, size);
        let (width, value) = if inputs > outputs {
            ("the inputs of the layer", inputs)
        } else {
            ("the outputs of the layer", outputs)
        };
        let (width, layer) = (width.to_owned(), format!("`Affine<{inputs}, {outputs}>`"));
        // The largest buffer, `W` (or `dW`), must fit in one allocation.
        let largest = inputs
            .max(1)
            .checked_mul(outputs)
            .and_then(|n| n.checked_mul(size));
        let total = bytes.unwrap_or(u128::MAX);
        if largest.is_none_or(|largest| largest > isize::MAX as usize) {
            return Err(WidthError::TooLarge {
                width,
                value,
                layer,
                bytes: total,
            });
        }
        let out_of_memory = || WidthError::OutOfMemory {
            width: width.clone(),
            value,
            layer: layer.clone(),
            bytes: total,
        };
        let std = init.std(inputs);
        let w = ParamMatrix::try_from_fn_generic(rows, cols, |_, _| {
            let z: f64 = StandardNormal.sample(rng);
            T::of_f64(std * z)
        })
        .ok_or_else(out_of_memory)?;
        let b = ParamMatrix::try_zeros_generic(Const::<1>, cols).ok_or_else(out_of_memory)?;
        Self::try_from_params(w, b).ok_or_else(out_of_memory)
    }

    /// The number of inputs.
    pub fn inputs(&self) -> usize {
        self.w.nrows()
    }

    /// The number of outputs.
    pub fn outputs(&self) -> usize {
        self.w.ncols()
    }

    /// `dW = xᵀ·dout` and `db = Σ dout` (over the batch); or, with a
    /// learning rate, the SGD update itself, `W ← W − lr·xᵀ·dout` and
    /// `b ← b − lr·Σ dout`, with no gradient stored.
    fn params_backward(
        &mut self,
        x: &OMatrix<T, Dyn, I>,
        dout: &OMatrix<T, Dyn, O>,
        sgd: Option<T>,
    ) {
        let rows = dout.nrows();
        assert_eq!(
            x.nrows(),
            rows,
            "x and dout hold different numbers of samples"
        );
        // dW = xᵀ·dout, or W ← W − lr·xᵀ·dout
        let (product, bias) = match sgd {
            None => (&mut self.dw, &mut self.db),
            Some(_) => (&mut self.w, &mut self.b),
        };
        let added = sgd.map(|lr| -lr);
        if !self.sparse.try_weight_gradient(
            x.as_slice(),
            rows,
            dout.as_slice(),
            product.as_mut_slice(),
            added,
        ) {
            let (alpha, beta) = added.map_or((T::one(), T::zero()), |alpha| (alpha, T::one()));
            gemm_tn(alpha, x, dout, beta, &mut product.view_mut());
        }
        // db = Σ dout over the batch, or b ← b − lr·Σ dout
        let columns = dout.as_slice().chunks_exact(rows.max(1));
        for (bias, column) in bias.as_mut_slice().iter_mut().zip(columns) {
            match sgd {
                None => *bias = sum(column),
                Some(lr) => *bias -= lr * sum(column),
            }
        }
    }

    /// A layer with the given weights and bias.
    ///
    /// # Panics
    /// When the gradients, as large as the weights, cannot be allocated.
    pub fn from_params(w: ParamMatrix<T, I, O>, b: ParamMatrix<T, Const<1>, O>) -> Self {
        let (rows, cols) = (w.nrows(), w.ncols());
        Self::try_from_params(w, b).unwrap_or_else(|| {
            panic!("the gradients of a {rows} × {cols} Affine cannot be allocated")
        })
    }

    /// [`from_params`](Self::from_params), with the gradients' allocation
    /// tried: `None` when it fails.
    fn try_from_params(w: ParamMatrix<T, I, O>, b: ParamMatrix<T, Const<1>, O>) -> Option<Self> {
        let (rows, cols) = (I::from_usize(w.nrows()), O::from_usize(w.ncols()));
        Some(AffineLayer {
            dw: ParamMatrix::try_zeros_generic(rows, cols)?,
            db: ParamMatrix::try_zeros_generic(Const::<1>, cols)?,
            out: OMatrix::zeros_generic(Dyn(0), cols),
            dx: OMatrix::zeros_generic(Dyn(0), rows),
            w,
            b,
            sparse: SparseAffine::default(),
        })
    }
}

impl<T: Scalar, I: Width, O: Width> Layer<T> for AffineLayer<T, I, O> {
    type In = I;
    type Out = O;

    /// `I·O` weights and `O` biases; `I·O` multiply-adds per sample, the
    /// product `x·W`. A width chosen at run time is the input's, when
    /// known, for `I`, and unknown for `O`.
    fn describe(input: &crate::summary::SampleShape) -> crate::summary::Description {
        let inputs = I::try_to_usize().or_else(|| input.numel());
        affine_description(input, inputs, O::try_to_usize())
    }

    /// [`describe`](Layer::describe) with the widths this layer was built
    /// with.
    fn describe_built(&self, input: &crate::summary::SampleShape) -> crate::summary::Description {
        affine_description(input, Some(self.inputs()), Some(self.outputs()))
    }

    /// # Panics
    /// When a width is chosen at run time ([`Dyn`]): such a layer is built
    /// with [`AffineLayer::with_widths`], as `network!`'s `with_widths` does.
    fn init(rng: &mut dyn RngCore, init: Init) -> Self {
        let (Some(inputs), Some(outputs)) = (I::try_to_usize(), O::try_to_usize()) else {
            panic!(
                "an Affine with a width chosen at run time is built with `AffineLayer::with_widths`, or its network with `with_widths`"
            );
        };
        Self::with_widths(rng, init, inputs, outputs)
    }

    fn forward(&mut self, x: &Batch<T, I>) -> &Batch<T, O> {
        let x = I::matrix(x);
        let rows = x.nrows();
        let cols = O::from_usize(self.w.ncols());
        if self.out.nrows() != rows {
            self.out = OMatrix::zeros_generic(Dyn(rows), cols);
        }
        let (w, b) = (self.w.as_slice(), self.b.as_slice());
        if !self
            .sparse
            .try_forward(x.as_slice(), rows, w, b, self.out.as_mut_slice())
        {
            // y = x·W + b: every row starts as b (column j of the batch,
            // which is contiguous, is all b_j); the product is added on top.
            let columns = self.out.as_mut_slice().chunks_exact_mut(rows.max(1));
            for (column, &b) in columns.zip(self.b.as_slice()) {
                column.fill(b);
            }
            gemm(T::one(), x, &self.w.view(), T::one(), &mut self.out);
        }
        O::batch(&self.out)
    }

    fn output(&self) -> &Batch<T, O> {
        O::batch(&self.out)
    }

    fn backward(&mut self, x: &Batch<T, I>, dout: &Batch<T, O>) -> &Batch<T, I> {
        let (x, dout) = (I::matrix(x), O::matrix(dout));
        self.params_backward(x, dout, None);
        if self.dx.nrows() != dout.nrows() {
            self.dx = OMatrix::zeros_generic(Dyn(dout.nrows()), I::from_usize(self.w.nrows()));
        }
        // dx = dout·Wᵀ
        gemm_nt(T::one(), dout, &self.w.view(), T::zero(), &mut self.dx);
        I::batch(&self.dx)
    }

    /// No `dx`; with [`ParamUpdate::Sgd`], `W ← W − lr·xᵀ·dout` inside the
    /// product and `b ← b − lr·Σ dout`, with no gradient stored.
    fn backward_first(&mut self, x: &Batch<T, I>, dout: &Batch<T, O>, update: ParamUpdate<T>) {
        let sgd = match update {
            ParamUpdate::StoreGradients => None,
            ParamUpdate::Sgd { lr } => Some(lr),
        };
        self.params_backward(I::matrix(x), O::matrix(dout), sgd);
    }

    fn visit_params(&self, f: &mut dyn FnMut(ParamRef<'_, T>)) {
        let (rows, cols) = (self.inputs(), self.outputs());
        f(ParamRef {
            name: ParamName::new("W"),
            shape: ParamShape::Matrix { rows, cols },
            value: self.w.as_slice(),
            grad: self.dw.as_slice(),
        });
        f(ParamRef {
            name: ParamName::new("b"),
            shape: ParamShape::Vector(cols),
            value: self.b.as_slice(),
            grad: self.db.as_slice(),
        });
    }

    fn visit_params_mut(&mut self, f: &mut dyn FnMut(ParamMut<'_, T>)) {
        let (rows, cols) = (self.inputs(), self.outputs());
        f(ParamMut {
            name: ParamName::new("W"),
            shape: ParamShape::Matrix { rows, cols },
            value: self.w.as_mut_slice(),
            grad: self.dw.as_mut_slice(),
        });
        f(ParamMut {
            name: ParamName::new("b"),
            shape: ParamShape::Vector(cols),
            value: self.b.as_mut_slice(),
            grad: self.db.as_mut_slice(),
        });
    }
}

/// An `Affine` frozen for inference ([`Freeze`]): `W` stored once row by
/// row (the layout the sparse product reads, which the training layer
/// rebuilds on every call), and a ReLU, batch normalization or dropout
/// scaling after it folded in.
///
/// A batch of one is one vector–matrix product over the nonzero inputs,
/// summed in registers; a larger batch takes the training layer's sparse
/// product when the input is mostly zeros, else the blocked product.
#[derive(Clone, Debug)]
pub struct FrozenAffine<T: Scalar, I: Width, O: Width> {
    /// `W` row by row, each row `stride` entries (zeros past `outputs`).
    rows: Vec<T>,
    /// `b`, padded with zeros as a row of `W`.
    b: Vec<T>,
    stride: usize,
    inputs: usize,
    outputs: usize,
    /// Whether a ReLU after the layer was folded in.
    relu: bool,
    widths: PhantomData<fn() -> (I, O)>,
}

/// The buffers of a frozen `Affine`.
#[derive(Debug)]
pub struct AffineScratch<T: Scalar, O: Width> {
    out: OMatrix<T, Dyn, O>,
    sparse: SparseAffine<T>,
    /// One sample's sums, padded as a row of `W`.
    row: Vec<T>,
    /// The places of one sample's nonzero inputs.
    nonzeros: Vec<u32>,
}

impl<T: Scalar, O: Width> Default for AffineScratch<T, O> {
    fn default() -> Self {
        AffineScratch {
            out: OMatrix::zeros_generic(Dyn(0), O::from_usize(O::try_to_usize().unwrap_or(0))),
            sparse: SparseAffine::default(),
            row: Vec::new(),
            nonzeros: Vec::new(),
        }
    }
}

impl<T: Scalar, I: Width, O: Width> Freeze<T> for AffineLayer<T, I, O> {
    type Frozen = FrozenAffine<T, I, O>;

    fn freeze(&self) -> Self::Frozen {
        let (inputs, outputs) = (self.inputs(), self.outputs());
        let stride = row_stride(outputs);
        let mut b = self.b.as_slice().to_vec();
        b.resize(stride, T::zero());
        FrozenAffine {
            rows: weight_rows(self.w.as_slice(), inputs, outputs),
            b,
            stride,
            inputs,
            outputs,
            relu: false,
            widths: PhantomData,
        }
    }
}

impl<T: Scalar, I: Width, O: Width> Infer<T> for FrozenAffine<T, I, O> {
    type In = I;
    type Out = O;
    type Scratch = AffineScratch<T, O>;

    fn infer<'a>(
        &'a self,
        x: &'a Batch<T, I>,
        scratch: &'a mut AffineScratch<T, O>,
    ) -> &'a Batch<T, O> {
        let x = I::matrix(x);
        let (rows, outputs) = (x.nrows(), self.outputs);
        let out = &mut scratch.out;
        if out.shape() != (rows, outputs) {
            *out = OMatrix::zeros_generic(Dyn(rows), O::from_usize(outputs));
        }
        let bias = &self.b[..outputs];
        if rows == 1 {
            // y = b + x·W, one row: the sums start as b.
            scratch.row.clear();
            scratch.row.extend_from_slice(&self.b);
            let nonzeros = &mut scratch.nonzeros;
            add_row_product(
                x.as_slice(),
                &self.rows,
                self.stride,
                &mut scratch.row,
                nonzeros,
            );
            out.as_mut_slice().copy_from_slice(&scratch.row[..outputs]);
        } else if !scratch.sparse.try_forward_rows(
            x.as_slice(),
            rows,
            &self.rows,
            bias,
            out.as_mut_slice(),
        ) {
            // y = x·W + b, as the training layer's dense path.
            let columns = out.as_mut_slice().chunks_exact_mut(rows.max(1));
            for (column, &b) in columns.zip(bias) {
                column.fill(b);
            }
            let w = DMatrixView::from_slice_with_strides(
                &self.rows,
                self.inputs,
                outputs,
                self.stride,
                1,
            );
            let x = DMatrixView::from_slice(x.as_slice(), rows, self.inputs);
            let mut y = DMatrixViewMut::from_slice(out.as_mut_slice(), rows, outputs);
            gemm(T::one(), &x, &w, T::one(), &mut y);
        }
        if self.relu {
            relu_in_place(out.as_mut_slice());
        }
        O::batch(out)
    }

    /// A ReLU; a scale and shift per output (`W·diag(s)`, `b·s + c`),
    /// after a folded ReLU only a positive scale with no shift, which
    /// commutes with it.
    fn absorb(&mut self, map: &Pointwise<T>) -> bool {
        if !map.fits(self.outputs) || (self.relu && !map.commutes_with_relu()) {
            return false;
        }
        if *map == Pointwise::Relu {
            self.relu = true;
            return true;
        }
        for j in 0..self.outputs {
            let Some((scale, shift)) = map.scale_shift(j) else {
                return false;
            };
            for row in self.rows.chunks_exact_mut(self.stride) {
                row[j] *= scale;
            }
            self.b[j] = self.b[j] * scale + shift;
        }
        true
    }
}

/// The row of an `Affine` of `inputs` inputs and `outputs` outputs, each
/// `None` when not known.
fn affine_description(
    input: &crate::summary::SampleShape,
    inputs: Option<usize>,
    outputs: Option<usize>,
) -> crate::summary::Description {
    let weights = inputs.zip(outputs).and_then(|(i, o)| i.checked_mul(o));
    let output = outputs.map_or_else(crate::summary::SampleShape::runtime_width, |o| {
        crate::summary::SampleShape::known(&[o])
    });
    let params = weights.zip(outputs).and_then(|(w, o)| w.checked_add(o));
    let mut description =
        crate::summary::Description::new(input, output, params, weights.map(|w| w as u64));
    description.product = Some(crate::summary::Product { inputs, outputs });
    description
}

/// `x·W + b`: ONNX's `Gemm`, `W` `[inputs, outputs]` as in the book.
impl<T: Scalar, I: Width, O: Width> crate::onnx::Export<T> for AffineLayer<T, I, O> {
    fn export(
        &self,
        graph: &mut crate::onnx::Graph<T>,
        x: crate::onnx::Value,
    ) -> crate::onnx::Value {
        let w = graph.matrix("W", self.w.as_slice(), self.inputs(), self.outputs());
        let b = graph.initializer("b", &[self.outputs()], self.b.as_slice());
        graph.node("Gemm", &[&x.name, &w, &b], &[], vec![self.outputs()])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::HeapMatrix;

    /// A batch of `f64` samples of `F` features.
    type F64Batch<const F: usize> = OMatrix<f64, Dyn, Const<F>>;

    fn batch<const F: usize>(rows: &[f64]) -> F64Batch<F> {
        OMatrix::from_row_slice_generic(Dyn(rows.len() / F), Const::<F>, rows)
    }

    /// The book's example: `dY = [[1, 2, 3], [4, 5, 6]]` gives `dB = [5, 7, 9]`.
    #[test]
    fn bias_gradient_sums_over_the_batch() {
        let mut affine = Affine::<f64, 2, 3>::from_params(HeapMatrix::zeros(), HeapMatrix::zeros());
        let x = batch::<2>(&[1.0, 2.0, 3.0, 4.0]);
        affine.forward(&x);
        let dy = batch::<3>(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        affine.backward(&x, &dy);
        assert_eq!(affine.db.as_slice(), &[5.0, 7.0, 9.0]);
    }

    /// The chapter's example: `W = [[1, 2, 3], [4, 5, 6]]`, `b = [10, 20,
    /// 30]`, `x = [[1, 2], [3, 4]]`, `dout = [[1, 0, 2], [0, 1, 1]]`.
    fn chapter_example() -> (Affine<f64, 2, 3>, F64Batch<2>, F64Batch<3>) {
        let w = HeapMatrix::from_fn(|i, j| (3 * i + j + 1) as f64);
        let b = HeapMatrix::from_fn(|_, j| 10.0 * (j + 1) as f64);
        (
            Affine::from_params(w, b),
            batch::<2>(&[1.0, 2.0, 3.0, 4.0]),
            batch::<3>(&[1.0, 0.0, 2.0, 0.0, 1.0, 1.0]),
        )
    }

    #[test]
    fn forward_and_backward_follow_the_chapter() {
        let (mut affine, x, dout) = chapter_example();

        let y = affine.forward(&x).clone();
        assert_eq!(y, batch::<3>(&[19.0, 32.0, 45.0, 29.0, 46.0, 63.0]));

        let dx = affine.backward(&x, &dout).clone();
        // dx = dout·Wᵀ
        assert_eq!(dx, batch::<2>(&[7.0, 16.0, 5.0, 11.0]));
        // dW = xᵀ·dout = [[1, 3, 5], [2, 4, 8]]
        assert_eq!(affine.dw.view()[(0, 0)], 1.0);
        assert_eq!(affine.dw.view()[(0, 1)], 3.0);
        assert_eq!(affine.dw.view()[(0, 2)], 5.0);
        assert_eq!(affine.dw.view()[(1, 0)], 2.0);
        assert_eq!(affine.dw.view()[(1, 1)], 4.0);
        assert_eq!(affine.dw.view()[(1, 2)], 8.0);
        assert_eq!(affine.db.as_slice(), &[1.0, 1.0, 3.0]);
    }

    /// The chapter's example again, trained by one fused SGD step:
    /// `W − ½·dW` and `b − ½·db`, exact in binary floating point.
    #[test]
    fn the_fused_sgd_step_moves_the_parameters_by_the_chapters_gradients() {
        let (mut affine, x, dout) = chapter_example();
        affine.forward(&x);
        affine.backward_first(&x, &dout, ParamUpdate::Sgd { lr: 0.5 });
        // W = [[1, 2, 3], [4, 5, 6]] − ½·[[1, 3, 5], [2, 4, 8]]
        let w: Vec<f64> = (0..2)
            .flat_map(|i| (0..3).map(move |j| (i, j)))
            .map(|(i, j)| affine.w.view()[(i, j)])
            .collect();
        assert_eq!(w, [0.5, 0.5, 0.5, 3.0, 3.0, 2.0]);
        assert_eq!(affine.b.as_slice(), &[9.5, 19.5, 28.5]);
        // Nothing was stored as a gradient.
        assert!(affine.dw.as_slice().iter().all(|&g| g == 0.0));
        assert!(affine.db.as_slice().iter().all(|&g| g == 0.0));
    }

    /// The fused step of an `Affine<784, 50>` against `backward_first`
    /// then `p ← p − lr·g`, on a batch of 100 with the given fraction of
    /// nonzero inputs (below about a half, the sparse path).
    fn check_fused_step<T: Scalar>(density: f64, tolerance: f64) {
        let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(3);
        let fused = Affine::<T, 784, 50>::init(&mut rng, Init::He);
        let mut fused = Affine::from_params(
            fused.w.clone(),
            HeapMatrix::from_fn(|_, j| T::of_f64(j as f64)),
        );
        let mut apart = fused.clone();
        let mut draw = |keep: f64| {
            let u: f64 = rand::Rng::random(&mut rng);
            T::of_f64(if u < keep { u / keep } else { 0.0 })
        };
        let x =
            OMatrix::<T, Dyn, Const<784>>::from_fn_generic(Dyn(100), Const, |_, _| draw(density));
        let dout = OMatrix::<T, Dyn, Const<50>>::from_fn_generic(Dyn(100), Const, |_, _| {
            draw(1.0) - T::of_f64(0.5)
        });
        let lr = T::of_f64(0.1);
        fused.forward(&x);
        fused.backward_first(&x, &dout, ParamUpdate::Sgd { lr });
        apart.forward(&x);
        apart.backward_first(&x, &dout, ParamUpdate::StoreGradients);
        apart.visit_params_mut(&mut |p| p.descend(lr));
        for (name, got, expected) in [
            ("W", fused.w.as_slice(), apart.w.as_slice()),
            ("b", fused.b.as_slice(), apart.b.as_slice()),
        ] {
            for (k, (&got, &expected)) in got.iter().zip(expected).enumerate() {
                let (got, expected) = (got.as_f64(), expected.as_f64());
                assert!(
                    (got - expected).abs() <= tolerance * (1.0 + expected.abs()),
                    "density {density}: {name}[{k}] = {got}, apart {expected}"
                );
            }
        }
    }

    #[test]
    fn the_fused_step_is_backward_then_sgd() {
        for density in [1.0, 0.19] {
            check_fused_step::<f32>(density, 1e-5);
            check_fused_step::<f64>(density, 1e-13);
        }
    }

    /// The mean and standard deviation of the weights `init` draws for an
    /// `Affine<784, 100>`, whose biases must be zero.
    fn drawn(init: Init) -> (f64, f64) {
        let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(7);
        let affine = Affine::<f64, 784, 100>::init(&mut rng, init);
        assert!(affine.b.as_slice().iter().all(|&b| b == 0.0));
        let w = affine.w.as_slice();
        let mean = w.iter().sum::<f64>() / w.len() as f64;
        let std = (w.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / w.len() as f64).sqrt();
        (mean, std)
    }

    #[test]
    fn each_init_draws_weights_of_its_spread() {
        // 78,400 draws: the sample std is within 1% of the true one.
        for (init, expected) in [
            (Init::BOOK, 0.01),
            (Init::Normal { std: 0.5 }, 0.5),
            (Init::Xavier, (1.0f64 / 784.0).sqrt()),
            (Init::He, (2.0f64 / 784.0).sqrt()),
            (Init::Auto, (1.0f64 / 784.0).sqrt()),
        ] {
            let (mean, std) = drawn(init);
            assert!(mean.abs() < 0.02 * expected, "{init:?}: mean {mean}");
            assert!(
                (std / expected - 1.0).abs() < 0.01,
                "{init:?}: std {std}, expected {expected}"
            );
        }
    }
}
