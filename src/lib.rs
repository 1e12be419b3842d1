//! **staticnet**: neural networks declared once, in a macro, whose layer
//! shapes the compiler proves compatible before a single number is
//! computed.
//!
//! The layers are those of the backpropagation chapter of *Deep Learning
//! from Scratch* — [`MulLayer`], [`AddLayer`], [`Relu`], [`Sigmoid`],
//! [`Affine`], [`SoftmaxWithLoss`] — and [`network!`] stacks them:
//!
#![deny(missing_docs)]

// Lets the code `network!` generates name `::staticnet` inside this crate's
// own tests too.
extern crate self as staticnet;

pub use net_core::*;
pub use net_macros::network;

/// Everything a user of `network!` needs in scope.
pub mod prelude {
    pub use net_core::rand::rngs::StdRng;
    pub use net_core::rand::{Rng, SeedableRng};
    pub use net_core::{
        Affine, Batch, BatchStorage, Const, Dyn, IdentityWithSquaredLoss, Init, Layer, LossLayer,
        Network, Relu, Scalar, Sigmoid, SoftmaxWithLoss, Targets,
    };
    pub use net_macros::network;
}
