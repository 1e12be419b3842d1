//! The residual block: `y = x + f(x)`.

use core::marker::PhantomData;

use rand::RngCore;

use crate::infer::{FoldList, Freeze, Infer, Output};
use crate::summary::{Description, SampleShape};
use crate::{
    Batch, BatchStorage, BufferMut, BufferRef, Init, Layer, ParamMut, ParamRef, ParamUpdate,
    Scalar, Shape,
};

/// `y = x + f(x)`, for an inner layer `f` (often a network declared with
/// `network!`) whose output has the shape of its input: the skip
/// connection of a ResNet block.
///
/// Backward, the gradient takes both paths and adds up:
/// `dx = dout + f′(x)ᵀ·dout`, so that it flows back undiminished through the
/// skip even when `f`'s gradient is small.
///
/// In `network!`, `Residual<Affine<50, 50>>` or `Residual<Block>` (a network
/// declared without a loss layer) wraps one layer; the compiler checks that
/// it keeps the shape. Its parameters are named as the inner layer's.
///
/// ```
/// use net_core::{Affine, Const, Dyn, Init, Layer, OMatrix, Residual};
/// # let mut rng = <net_core::rand::rngs::StdRng as net_core::rand::SeedableRng>::seed_from_u64(0);
/// let mut block = Residual::<f64, Affine<f64, 2, 2>>::init(&mut rng, Init::He);
/// block.inner.w.as_mut_slice().fill(0.0); // f(x) = 0 …
/// let x = OMatrix::<f64, Dyn, Const<2>>::from_row_slice(&[1.0, -2.0]);
/// assert_eq!(block.forward(&x), &x); // … so y = x
/// ```
#[derive(Clone, Debug)]
pub struct Residual<T: Scalar, L: Layer<T>> {
    /// The inner layer, `f`.
    pub inner: L,
    out: Batch<T, L::In>,
    dx: Batch<T, L::In>,
}

/// Proof that `Inner`'s output shape, `Self`, is its input shape `In`, so
/// that a [`Residual`] can add the two.
#[diagnostic::on_unimplemented(
    message = "`Residual` adds the input of `{Inner}` to its output, so the two must have the same shape, but it takes `{In}` and gives `{Self}`",
    label = "this layer changes the shape, so it cannot be residual",
    note = "inside `Residual<…>`, write a layer (or a network declared without a loss layer) whose output has as many values as its input, such as `Affine<50, 50>`"
)]
pub trait KeepsShape<In: Shape, Inner>: Shape {
    /// The inner layer's output, as a batch of its input shape.
    fn as_input<T: Scalar>(y: &Batch<T, Self>) -> &Batch<T, In>;
    /// A gradient of the input's shape, as one of the output's.
    fn as_output<T: Scalar>(d: &Batch<T, In>) -> &Batch<T, Self>;
}

impl<S: Shape, Inner> KeepsShape<S, Inner> for S {
    #[inline(always)]
    fn as_input<T: Scalar>(y: &Batch<T, S>) -> &Batch<T, S> {
        y
    }

    #[inline(always)]
    fn as_output<T: Scalar>(d: &Batch<T, S>) -> &Batch<T, S> {
        d
    }
}

/// `out[k] = a[k] + b[k]`, sized as `a`.
fn sum_into<T: Scalar, S: Shape>(out: &mut Batch<T, S>, a: &Batch<T, S>, b: &Batch<T, S>) {
    out.set_size_like(a);
    let sums = out.as_mut_slice().iter_mut();
    for ((sum, &a), &b) in sums.zip(a.as_slice()).zip(b.as_slice()) {
        *sum = a + b;
    }
}

impl<T: Scalar, L: Layer<T>> Layer<T> for Residual<T, L>
where
    L::Out: KeepsShape<L::In, L>,
{
    type In = L::In;
    type Out = L::In;

    fn init(rng: &mut dyn RngCore, init: Init) -> Self {
        Residual {
            inner: L::init(rng, init),
            out: BatchStorage::zeros(0),
            dx: BatchStorage::zeros(0),
        }
    }

    fn set_training(&mut self, training: bool) {
        self.inner.set_training(training);
    }

    fn forward(&mut self, x: &Batch<T, L::In>) -> &Batch<T, L::In> {
        let fx = <L::Out as KeepsShape<L::In, L>>::as_input(self.inner.forward(x));
        sum_into::<T, L::In>(&mut self.out, x, fx);
        &self.out
    }

    fn output(&self) -> &Batch<T, L::In> {
        &self.out
    }

    fn backward(&mut self, x: &Batch<T, L::In>, dout: &Batch<T, L::In>) -> &Batch<T, L::In> {
        let dout_inner = <L::Out as KeepsShape<L::In, L>>::as_output(dout);
        let dfx = self.inner.backward(x, dout_inner);
        sum_into::<T, L::In>(&mut self.dx, dout, dfx);
        &self.dx
    }

    fn backward_first(
        &mut self,
        x: &Batch<T, L::In>,
        dout: &Batch<T, L::In>,
        update: ParamUpdate<T>,
    ) {
        let dout_inner = <L::Out as KeepsShape<L::In, L>>::as_output(dout);
        self.inner.backward_first(x, dout_inner, update);
    }

    fn visit_params(&self, f: &mut dyn FnMut(ParamRef<'_, T>)) {
        self.inner.visit_params(f);
    }

    fn visit_params_mut(&mut self, f: &mut dyn FnMut(ParamMut<'_, T>)) {
        self.inner.visit_params_mut(f);
    }

    fn visit_buffers(&self, f: &mut dyn FnMut(BufferRef<'_, T>)) {
        self.inner.visit_buffers(f);
    }

    fn visit_buffers_mut(&mut self, f: &mut dyn FnMut(BufferMut<'_, T>)) {
        self.inner.visit_buffers_mut(f);
    }

    /// The inner layer's row (a block's layers under it), with the skip.
    fn describe(input: &SampleShape) -> Description {
        Description::residual(input, L::describe(input))
    }

    fn describe_built(&self, input: &SampleShape) -> Description {
        Description::residual(input, self.inner.describe_built(input))
    }
}

/// A residual block frozen for inference ([`Freeze`]): `y = x + f(x)`
/// with `f` frozen (and folded within itself).
#[derive(Clone, Debug)]
pub struct FrozenResidual<F, L> {
    inner: F,
    /// The training layer `F` froze from, whose shapes prove the sum fits.
    layer: PhantomData<fn() -> L>,
}

/// The buffers of a frozen residual block: the inner layer's, and the sum.
pub struct ResidualScratch<T: Scalar, F: Infer<T>> {
    inner: F::Scratch,
    out: Output<T, F::In>,
}

impl<T: Scalar, F: Infer<T>> Default for ResidualScratch<T, F> {
    fn default() -> Self {
        ResidualScratch {
            inner: F::Scratch::default(),
            out: Output::default(),
        }
    }
}

impl<T: Scalar, L: Freeze<T>> Freeze<T> for Residual<T, L>
where
    L::Out: KeepsShape<L::In, L>,
{
    type Frozen = FrozenResidual<L::Frozen, L>;

    fn freeze(&self) -> Self::Frozen {
        let mut inner = self.inner.freeze();
        FoldList::fold(&mut inner);
        FrozenResidual {
            inner,
            layer: PhantomData,
        }
    }
}

impl<T: Scalar, F: Infer<T>, L> Infer<T> for FrozenResidual<F, L>
where
    F::Out: KeepsShape<F::In, L>,
{
    type In = F::In;
    type Out = F::In;
    type Scratch = ResidualScratch<T, F>;

    fn infer<'a>(
        &'a self,
        x: &'a Batch<T, F::In>,
        scratch: &'a mut ResidualScratch<T, F>,
    ) -> &'a Batch<T, F::In> {
        let fx = self.inner.infer(x, &mut scratch.inner);
        let fx = <F::Out as KeepsShape<F::In, L>>::as_input(fx);
        let out = scratch.out.sized_like(x);
        sum_into::<T, F::In>(out, x, fx);
        out
    }
}

/// The inner layer's nodes, then `Add` of its input: the skip.
impl<T: Scalar, L: Layer<T> + crate::onnx::Export<T>> crate::onnx::Export<T> for Residual<T, L>
where
    L::Out: KeepsShape<L::In, L>,
{
    fn export(
        &self,
        graph: &mut crate::onnx::Graph<T>,
        x: crate::onnx::Value,
    ) -> crate::onnx::Value {
        let inner = self.inner.export(graph, x.clone());
        graph.node("Add", &[&inner.name, &x.name], &[], x.dims)
    }
}

#[cfg(test)]
mod tests {
    use nalgebra::{Const, Dyn, OMatrix};

    use super::*;
    use crate::{Affine, HeapMatrix};

    /// `f(x) = x·W + b` with `W = [[1, 2], [3, 4]]`, `b = [0.5, -0.5]`: the
    /// block adds `x` itself, and backward adds `dout` to `dout·Wᵀ`.
    #[test]
    fn adds_the_input_in_both_passes() {
        let w = HeapMatrix::from_fn(|i, j| [[1.0, 2.0], [3.0, 4.0]][i][j]);
        let b = HeapMatrix::from_fn(|_, j| [0.5, -0.5][j]);
        let mut block = Residual::<f64, Affine<f64, 2, 2>> {
            inner: Affine::from_params(w, b),
            out: BatchStorage::zeros(0),
            dx: BatchStorage::zeros(0),
        };
        let x = OMatrix::<f64, Dyn, Const<2>>::from_row_slice(&[1.0, 1.0]);
        // x·W + b = [4.5, 5.5]; + x = [5.5, 6.5]
        assert_eq!(block.forward(&x).as_slice(), &[5.5, 6.5]);
        let dout = OMatrix::<f64, Dyn, Const<2>>::from_row_slice(&[1.0, 2.0]);
        // dout·Wᵀ = [5, 11]; + dout = [6, 13]
        assert_eq!(block.backward(&x, &dout).as_slice(), &[6.0, 13.0]);
        // The inner layer's gradients: dW = xᵀ·dout, db = dout.
        assert_eq!(block.inner.db.as_slice(), &[1.0, 2.0]);
        assert_eq!(block.inner.dw.as_slice(), &[1.0, 1.0, 2.0, 2.0]);
    }
}
