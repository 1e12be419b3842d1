//! The layers, one file each: the backpropagation chapter's, then the
//! convolution chapter's.
#![forbid(unsafe_code)]

mod add_layer;
mod affine;
pub mod batch_norm;
#[cfg(test)]
mod check;
mod conv2d;
pub mod dropout;
mod elementwise;
mod flatten;
mod identity_with_squared_loss;
mod leaky_relu;
mod max_pool2d;
mod mul_layer;
mod relu;
mod residual;
mod sigmoid;
mod softmax;
mod softmax_with_loss;
mod tanh;

pub use add_layer::AddLayer;
pub use affine::{Affine, AffineLayer};
pub use batch_norm::BatchNorm;
pub use conv2d::Conv2d;
pub use dropout::Dropout;
pub use elementwise::{Elementwise, ElementwiseFn};
pub use flatten::Flatten;
pub use identity_with_squared_loss::IdentityWithSquaredLoss;
pub use leaky_relu::{LeakyRelu, LeakyReluFn};
pub use max_pool2d::MaxPool2d;
pub use mul_layer::MulLayer;
pub use relu::Relu;
pub use residual::{KeepsShape, Residual};
pub use sigmoid::{Sigmoid, SigmoidFn};
pub use softmax::Softmax;
pub use softmax_with_loss::SoftmaxWithLoss;
pub use tanh::{Tanh, TanhFn};
