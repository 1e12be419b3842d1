//! A layer of one's own in `network!`: the Swish activation,
//! `y = x·σ(x)`, written in this file against the public `Layer` trait,
//! between the two `Affine` layers of the book's two-layer net, which then
//! learns MNIST with mini-batch SGD.
//!
//! ```text
//! cargo run --release --example custom_layer -- --data DIR
//! cargo run --release --example custom_layer -- --data DIR --optimizer adam --lr 0.001
//! ```
//!
//! Written with its path, `self::Swish`, it is a layer of the user's (so
//! is a bare `Swish`, a name the macro does not know; the path also keeps
//! it apart from any layer `network!` may learn later). The macro writes
//! its type as `self::Swish<T, S>`, `S` being the shape of the layer before
//! it (`Const<100>`), names its field `swish1`, and leaves the compiler to
//! check that it fits between the two `Affine` layers. Every epoch prints the accuracy on the
//! training and test images; the run ends with the line of the `mnist`
//! example:
//! `RESULT test_acc=<0.xxxx> train_acc=<0.xxxx> train_s=<seconds> total_s=<seconds>`.
//! `train_s` counts the training steps only, not the evaluations.

#[path = "common/flat_mnist.rs"]
mod flat_mnist;

use std::process::ExitCode;

use staticnet::prelude::*;

/// `y = x·σ(x)`, element by element, for any sample shape `S`: Swish
/// (Ramachandran et al., 2017), also called SiLU, a smooth ReLU that lets
/// a little of the negative inputs through.
///
/// Forward keeps `σ(x)`; backward, with the input `x` the network hands
/// back, `dx = dout · (σ(x) + x·σ(x)·(1 − σ(x)))`.
#[derive(Clone, Debug)]
pub struct Swish<T: Scalar, S: Shape> {
    sigmoid: Batch<T, S>,
    out: Batch<T, S>,
    dx: Batch<T, S>,
}

impl<T: Scalar, S: Shape> Layer<T> for Swish<T, S> {
    type In = S;
    type Out = S;
    // Like ReLU, Swish is near zero for negative inputs and near x for
    // positive ones: `Init::Auto` draws the layer before with He's scale.
    const INIT_BEFORE: InitBefore = InitBefore::Is(Init::He);

    fn init(_rng: &mut dyn RngCore, _init: Init) -> Self {
        Swish {
            sigmoid: BatchStorage::zeros(0),
            out: BatchStorage::zeros(0),
            dx: BatchStorage::zeros(0),
        }
    }

    fn forward(&mut self, x: &Batch<T, S>) -> &Batch<T, S> {
        self.sigmoid.set_size_like(x);
        self.out.set_size_like(x);
        let sigmoid = self.sigmoid.as_mut_slice().iter_mut();
        for ((s, y), &x) in sigmoid.zip(self.out.as_mut_slice()).zip(x.as_slice()) {
            *s = T::one() / (T::one() + (-x).exp());
            *y = x * *s;
        }
        &self.out
    }

    fn output(&self) -> &Batch<T, S> {
        &self.out
    }

    fn backward(&mut self, x: &Batch<T, S>, dout: &Batch<T, S>) -> &Batch<T, S> {
        self.dx.set_size_like(dout);
        let dx = self.dx.as_mut_slice().iter_mut();
        let inputs = x.as_slice().iter().zip(self.sigmoid.as_slice());
        for ((dx, (&x, &s)), &dout) in dx.zip(inputs).zip(dout.as_slice()) {
            *dx = dout * (s + x * s * (T::one() - s));
        }
        &self.dx
    }
}

network! {
    /// The two-layer net with Swish in place of ReLU: its parameters are
    /// `W1`, `b1`, `W2` and `b2`, as the book's.
    pub struct SwishNet<Affine<784, 100>, self::Swish, Affine<100, 10>, SoftmaxWithLoss>
}

fn main() -> ExitCode {
    flat_mnist::main::<SwishNet<f32>>(
        "custom_layer",
        "Train a two-layer net with a Swish activation of its own on MNIST",
        |_, _| {},
    )
}
