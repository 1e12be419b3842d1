//! The residual MLP of the `residual_mlp` example: a block declared
//! without a loss layer, wrapped in `Residual`. The `residual_mlp`,
//! `export` and `summary` examples include this file with `#[path]`.
#![allow(dead_code)]

use staticnet::prelude::*;

network! {
    /// The inner function of the residual block,
    /// `f(x) = relu(x·W1 + b1)·W2 + b2`: a network without a loss layer,
    /// so a layer itself, which keeps the width of its input.
    pub struct Block<Affine<100, 100>, Relu, Affine<100, 100>>
}

network! {
    /// An MLP with one skip connection: `h = relu(x·W1 + b1)`, then
    /// `relu(h + f(h))`, then the scores.
    pub struct ResidualMlp<
        Affine<784, 100>,
        Relu,
        Residual<Block>,
        Relu,
        Affine<100, 10>,
        SoftmaxWithLoss,
    >
}
