//! The core of staticnet: the layers of the backpropagation chapter of
//! *Deep Learning from Scratch*, each with `forward` and `backward`, on
//! nalgebra matrices whose feature dimensions are part of their types.
//!
//! A batch of `N` samples with `F` features is an `N × F` matrix, as in the
//! book, with the batch dimension dynamic and the feature dimension static:
//! [`Batch<T, Const<F>>`](Batch) is `OMatrix<T, Dyn, Const<F>>`. Layers say
//! which shapes they accept and produce through [`Layer::In`] and
//! [`Layer::Out`], so chaining two layers that disagree is a type error.
//!
//! Images — channels × height × width — have a shape of their own,
//! [`Chw`], whose sizes are [`typenum`] integers so that the compiler can
//! work out the output size of [`Conv2d`] and [`MaxPool2d`]; [`Flatten`]
//! turns them into the flat vectors [`Affine`] reads. See the `image`
//! module's documentation on [`Chw`] and [`WindowOut`].
#![deny(missing_docs)]

pub mod data;
pub mod diagram;
mod digest;
pub mod files;
mod gradient_check;
mod image;
pub mod infer;
mod init;
pub mod io;
mod kernels;
mod layer;
pub mod layers;
mod loss;
mod network;
pub mod onnx;
pub mod optim;
mod param;
mod scalar;
mod shape;
mod stop;
pub mod summary;
mod targets;
pub mod train;
mod widths;

// Items only the code `network!` generates uses; see `private.rs`.
#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use gradient_check::{GradientCheck, gradient_check};
pub use image::{Chw, Image, ImageBatch, PoolOut, Slide, SlidingWindow, WindowOut};
pub use infer::{Freeze, FreezeNetwork, Frozen, Infer, Predictor, Scratch};
pub use init::{Init, InitBefore};
pub use layer::{Layer, ParamUpdate};
pub use layers::{
    AddLayer, Affine, AffineLayer, BatchNorm, Conv2d, Dropout, Elementwise, ElementwiseFn, Flatten,
    IdentityWithSquaredLoss, LeakyRelu, LeakyReluFn, MaxPool2d, MulLayer, Relu, Residual, Sigmoid,
    SigmoidFn, Softmax, SoftmaxWithLoss, Tanh, TanhFn,
};
pub use loss::LossLayer;
pub use nalgebra::{self, Const, Dyn, OMatrix};
pub use network::{Gradient, Gradients, Network};
pub use param::{
    BufferMut, BufferRef, HeapMatrix, LayerTensors, ParamMatrix, ParamMut, ParamName, ParamRef,
    ParamShape, Scope, TensorSpec,
};
pub use rand;
pub use scalar::Scalar;
pub use shape::{
    Batch, BatchStorage, FixedShape, PartialSample, Shape, Width, batch_from_rows, batch_from_slice,
};
pub use targets::{Targets, TargetsError};
pub use typenum;
pub use widths::WidthError;
