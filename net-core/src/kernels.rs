//! The kernels the layers and `data/` call: matrix products, the
//! convolution's layouts, the products of sparse inputs, conversions, and
//! the threads they share. All of the crate's `unsafe` code is here,
//! behind safe functions; the layers forbid it.
//!
//! nalgebra's own products differ by an order of magnitude depending on the
//! call (`tr_mul_to` does not pack its operands), so every product in the
//! layers goes through `gemm.rs`: on x86-64 CPUs with AVX2 and FMA
//! (checked at run time), the blocked loops of `loops.rs` around the
//! microkernels of `avx2.rs`; elsewhere, and for `k = 0` or C with neither
//! stride 1, `matrixmultiply`. Measured on the book's training step (f32,
//! batch 100, 784 → 50 → 10, `examples/bench.rs --impl both`), the whole
//! step is 1.3–1.4× faster on one thread than with every product through
//! `matrixmultiply`; the two large products alone, about 1.2–1.3×. Large
//! products are split between `STATICNET_NUM_THREADS` threads (default 1).
//!
//! One concern per file:
//! - `dispatch.rs`: which kernels run on this CPU;
//! - `gemm.rs`: the products of nalgebra matrices, cut between threads;
//! - `loops.rs`: the blocked product's loop nest, over a microkernel;
//! - `avx2.rs`: the AVX2 microkernels and their packing;
//! - `conv/`: the convolution's layouts, `im2col` and the runs of the
//!   padded image, and the products over those runs;
//! - `sparse.rs`: the products of a mostly-zero input;
//! - `row_product.rs`: one sample times a matrix, for inference;
//! - `softmax.rs`: the softmax of each row of a batch;
//! - `convert.rs`: bytes into floats, for `data/`;
//! - `threads.rs`: work cut between the threads of `threads/pool.rs`;
//! - `exp.rs`, `sum.rs`, `prefetch.rs`, `relu.rs`: a vectorized `exp`, a
//!   sum, a cache hint, the ReLU.

#[cfg(target_arch = "x86_64")]
mod avx2;
pub(crate) mod conv;
mod convert;
mod dispatch;
mod exp;
mod gemm;
#[cfg(target_arch = "x86_64")]
mod loops;
mod prefetch;
mod relu;
mod row_product;
mod softmax;
pub(crate) mod sparse;
mod sum;
mod threads;

pub(crate) use convert::transpose_bytes;
pub use dispatch::Kernels;
pub(crate) use gemm::{gemm, gemm_nt, gemm_tn};
pub(crate) use prefetch::prefetch;
pub(crate) use relu::{relu, relu_in_place};
pub(crate) use row_product::add_row_product;
pub(crate) use softmax::SoftmaxRows;
pub(crate) use sparse::transpose;
pub(crate) use sum::sum;
pub(crate) use threads::{Items, alone, for_each_chunk, for_each_part, threads};
