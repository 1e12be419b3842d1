//! Two layers of a user's own, as a user writes them against the public
//! `Layer` trait: `Linear<I, O>` with its own sizes (a fully connected
//! layer, built on `Affine`), and `Scale`, which keeps the shape of the
//! layer before it.
#![allow(dead_code)]

use staticnet::prelude::*;

/// `y = x·W + b`, through `Affine`.
#[derive(Clone, Debug)]
pub struct Linear<T: Scalar, const I: usize, const O: usize>(pub Affine<T, I, O>);

impl<T: Scalar, const I: usize, const O: usize> Layer<T> for Linear<T, I, O> {
    type In = Const<I>;
    type Out = Const<O>;

    fn init(rng: &mut dyn RngCore, init: Init) -> Self {
        Linear(Affine::init(rng, init))
    }

    fn forward(&mut self, x: &Batch<T, Const<I>>) -> &Batch<T, Const<O>> {
        self.0.forward(x)
    }

    fn output(&self) -> &Batch<T, Const<O>> {
        self.0.output()
    }

    fn backward(&mut self, x: &Batch<T, Const<I>>, dout: &Batch<T, Const<O>>) -> &Batch<T, Const<I>> {
        self.0.backward(x, dout)
    }
}

/// `y = 2x`, for samples of any shape `S`.
#[derive(Clone, Debug)]
pub struct Scale<T: Scalar, S: Shape> {
    out: Batch<T, S>,
    dx: Batch<T, S>,
}

impl<T: Scalar, S: Shape> Layer<T> for Scale<T, S> {
    type In = S;
    type Out = S;

    fn init(_rng: &mut dyn RngCore, _init: Init) -> Self {
        Scale { out: BatchStorage::zeros(0), dx: BatchStorage::zeros(0) }
    }

    fn forward(&mut self, x: &Batch<T, S>) -> &Batch<T, S> {
        self.out.set_size_like(x);
        for (y, &x) in self.out.as_mut_slice().iter_mut().zip(x.as_slice()) {
            *y = x + x;
        }
        &self.out
    }

    fn output(&self) -> &Batch<T, S> {
        &self.out
    }

    fn backward(&mut self, _x: &Batch<T, S>, dout: &Batch<T, S>) -> &Batch<T, S> {
        self.dx.set_size_like(dout);
        for (dx, &d) in self.dx.as_mut_slice().iter_mut().zip(dout.as_slice()) {
            *dx = d + d;
        }
        &self.dx
    }
}
