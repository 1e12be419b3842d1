//! **staticnet**: neural networks declared once, in a macro, whose layer
//! shapes the compiler proves compatible before a single number is
//! computed.
//!
//! The layers are those of the backpropagation chapter of *Deep Learning
//! from Scratch* — [`MulLayer`], [`AddLayer`], [`Relu`], [`Sigmoid`],
//! [`Affine`], [`SoftmaxWithLoss`] — of chapter 6 — [`Dropout`],
//! [`BatchNorm`] — and of the convolution chapter — [`Conv2d`],
//! [`MaxPool2d`], [`Flatten`] — and [`network!`] stacks them; [`optim`]
//! holds chapter 6's optimizers and weight decay, and [`Init`] its
//! initializations:
//!
//! ```
//! use staticnet::prelude::*;
//!
//! network! {
//!     /// The book's two-layer net.
//!     pub struct TwoLayerNet<Affine<784, 50>, Relu, Affine<50, 10>, SoftmaxWithLoss>
//! }
//!
//! let mut rng = StdRng::seed_from_u64(0);
//! let mut net = TwoLayerNet::<f32>::new(&mut rng);
//! let x = Batch::<f32, Const<784>>::zeros(3);
//! let t = vec![1, 2, 3];
//! let loss = net.loss(&x, &t);
//! assert!((loss - 10f32.ln()).abs() < 1e-3);
//! ```
#![deny(missing_docs)]

// Lets the code `network!` generates name `::staticnet` inside this crate's
// own tests too.
extern crate self as staticnet;

pub use net_core::*;
pub use net_macros::network;

// The README's examples compile and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

/// Everything a first program needs in scope — `network!` and the layers,
/// MNIST loading, the training driver, saving and loading — and what a
/// layer of one's own is written with.
pub mod prelude {
    pub use net_core::data::{LoadOptions, Mnist, load_mnist};
    pub use net_core::infer::Output;
    pub use net_core::io::{load_checkpoint, load_weights, save_checkpoint, save_weights};
    pub use net_core::optim::{Method, Optimizer};
    pub use net_core::rand::rngs::StdRng;
    pub use net_core::rand::{Rng, RngCore, SeedableRng};
    pub use net_core::train::{
        Batches, EarlyStopping, Fit, InMemory, Samples, Sampling, Schedule, StopFlag, TrainAccuracy,
    };
    pub use net_core::{
        Affine, AffineLayer, Batch, BatchNorm, BatchStorage, BufferMut, BufferRef, Chw, Const,
        Conv2d, Dropout, Dyn, FixedShape, Flatten, Freeze, FreezeNetwork, Frozen, HeapMatrix,
        IdentityWithSquaredLoss, ImageBatch, Infer, Init, InitBefore, Layer, LeakyRelu, LossLayer,
        MaxPool2d, Network, ParamMut, ParamName, ParamRef, ParamShape, ParamUpdate, Predictor,
        Relu, Residual, Scalar, Shape, Sigmoid, Softmax, SoftmaxWithLoss, Tanh, Targets,
        WidthError,
    };
    pub use net_macros::network;
}
