//! The chapter's layers, one file each.

mod add_layer;
mod affine;
pub mod batch_norm;
pub mod dropout;
mod identity_with_squared_loss;
mod mul_layer;
mod relu;
mod sigmoid;
mod softmax_with_loss;

pub use add_layer::AddLayer;
pub use affine::Affine;
pub use batch_norm::BatchNorm;
pub use dropout::Dropout;
pub use identity_with_squared_loss::IdentityWithSquaredLoss;
pub use mul_layer::MulLayer;
pub use relu::Relu;
pub use sigmoid::Sigmoid;
pub use softmax_with_loss::SoftmaxWithLoss;
