//! A layer that applies a function to each value: all an activation needs
//! is the function and its derivative.

use rand::RngCore;

use core::marker::PhantomData;

use crate::infer::{Freeze, Infer, Output};
use crate::shape::map_batch;
use crate::{Batch, BatchStorage, Init, InitBefore, Layer, Scalar, Shape};

/// A function of one value and its derivative: what [`Elementwise`] applies
/// to every value of a batch.
///
/// ```
/// use net_core::{Const, Elementwise, ElementwiseFn, Layer, Scalar, batch_from_rows};
///
/// /// Softsign, `y = x / (1 + |x|)`, `dy/dx = 1 / (1 + |x|)²`.
/// #[derive(Clone, Copy, Debug, Default)]
/// pub struct SoftsignFn;
///
/// impl ElementwiseFn for SoftsignFn {
///     fn value<T: Scalar>(&self, x: T) -> T {
///         x / (T::one() + x.abs())
///     }
///
///     fn derivative<T: Scalar>(&self, x: T, _y: T) -> T {
///         let s = T::one() + x.abs();
///         T::one() / (s * s)
///     }
/// }
///
/// /// The layer, to be written `Softsign` in `network!`.
/// pub type Softsign<T, S> = Elementwise<T, S, SoftsignFn>;
///
/// let mut layer = Softsign::<f64, Const<2>>::new();
/// let y = layer.forward(&batch_from_rows(&[[1.0, -3.0]]));
/// assert_eq!(y.as_slice(), &[0.5, -0.75]);
/// ```
pub trait ElementwiseFn: Clone + core::fmt::Debug + Default + 'static {
    /// What `Init::Auto` means for the layer before (see
    /// [`Layer::INIT_BEFORE`]).
    const INIT_BEFORE: InitBefore = InitBefore::Unknown;

    /// `y = f(x)`.
    fn value<T: Scalar>(&self, x: T) -> T;

    /// `dy/dx` at `x`, given `y = f(x)`, which many derivatives are
    /// cheapest from (`y·(1 − y)` for the sigmoid).
    fn derivative<T: Scalar>(&self, x: T, y: T) -> T;
}

/// `y = f(x)` for each value of a batch of any shape `S`, and backward
/// `dx = dout · f′(x)`: a layer made of an [`ElementwiseFn`]. `Tanh` and
/// `LeakyRelu` are this layer.
#[derive(Clone, Debug)]
pub struct Elementwise<T: Scalar, S: Shape, F: ElementwiseFn> {
    f: F,
    out: Batch<T, S>,
    dx: Batch<T, S>,
}

impl<T: Scalar, S: Shape, F: ElementwiseFn> Elementwise<T, S, F> {
    /// The layer of `F`'s default; it has no parameters.
    pub fn new() -> Self {
        Self::of(F::default())
    }

    /// The layer of `f`.
    pub fn of(f: F) -> Self {
        Elementwise {
            f,
            out: BatchStorage::zeros(0),
            dx: BatchStorage::zeros(0),
        }
    }

    /// The function it applies.
    pub fn function(&self) -> &F {
        &self.f
    }
}

impl<T: Scalar, S: Shape, F: ElementwiseFn> Default for Elementwise<T, S, F> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Scalar, S: Shape, F: ElementwiseFn> Layer<T> for Elementwise<T, S, F> {
    type In = S;
    type Out = S;

    /// Keeps its input's shape; no parameters or products.
    fn describe(input: &crate::summary::SampleShape) -> crate::summary::Description {
        crate::summary::Description::elementwise(input)
    }
    const INIT_BEFORE: InitBefore = F::INIT_BEFORE;

    fn init(_rng: &mut dyn RngCore, _init: Init) -> Self {
        Self::new()
    }

    fn forward(&mut self, x: &Batch<T, S>) -> &Batch<T, S> {
        map_batch::<T, S>(&mut self.out, x, |x| self.f.value(x));
        &self.out
    }

    fn output(&self) -> &Batch<T, S> {
        &self.out
    }

    fn backward(&mut self, x: &Batch<T, S>, dout: &Batch<T, S>) -> &Batch<T, S> {
        self.dx.set_size_like(dout);
        let dx = self.dx.as_mut_slice().iter_mut();
        let values = x.as_slice().iter().zip(self.out.as_slice());
        for ((dx, (&x, &y)), &dout) in dx.zip(values).zip(dout.as_slice()) {
            *dx = dout * self.f.derivative(x, y);
        }
        &self.dx
    }
}

/// An elementwise function frozen for inference ([`Freeze`]): `F` applied
/// to each value, with nothing kept for a backward pass.
#[derive(Clone, Debug)]
pub struct FrozenElementwise<S, F> {
    f: F,
    shape: PhantomData<fn() -> S>,
}

impl<T: Scalar, S: Shape, F: ElementwiseFn + Send + Sync> Freeze<T> for Elementwise<T, S, F> {
    type Frozen = FrozenElementwise<S, F>;

    fn freeze(&self) -> FrozenElementwise<S, F> {
        FrozenElementwise {
            f: self.f.clone(),
            shape: PhantomData,
        }
    }
}

impl<T: Scalar, S: Shape, F: ElementwiseFn + Send + Sync> Infer<T> for FrozenElementwise<S, F> {
    type In = S;
    type Out = S;
    type Scratch = Output<T, S>;

    fn infer<'a>(&'a self, x: &'a Batch<T, S>, out: &'a mut Output<T, S>) -> &'a Batch<T, S> {
        out.map(x, |x| self.f.value(x))
    }
}

/// The nodes of the function (`Sigmoid`, `Tanh`, `LeakyRelu`): a function
/// of one's own takes part by implementing [`ExportFn`](crate::onnx::ExportFn).
impl<T: Scalar, S: Shape, F: ElementwiseFn + crate::onnx::ExportFn> crate::onnx::Export<T>
    for Elementwise<T, S, F>
{
    fn export(
        &self,
        graph: &mut crate::onnx::Graph<T>,
        x: crate::onnx::Value,
    ) -> crate::onnx::Value {
        self.f.export(graph, x)
    }
}
