//! The layouts of a convolution's input as a matrix: the book's `im2col`
//! (`im2col.rs`), and at stride 1 the runs of the padded image
//! (`shifted.rs`), which the products of `runs.rs` read in place.

mod im2col;
mod runs;
mod shifted;
mod window;

pub(crate) use im2col::{col2im, im2col};
pub(crate) use runs::{gemm_shifted, gemm_tn_shifted};
pub(crate) use shifted::Shifted;
pub(crate) use window::Window;
