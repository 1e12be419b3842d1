//! The book's two-layer net, declared with `network!` on staticnet's layers
//! and on the baseline's, and synthetic data of MNIST's size. Shared by
//! `examples/bench.rs`, `benches/layers.rs` and `tests/zero_alloc.rs`
//! (included with `#[path]`, beside `baseline.rs` as `baseline`).
#![allow(dead_code)]

use staticnet::rand::rngs::StdRng;
use staticnet::rand::{Rng, SeedableRng};
use staticnet::{Batch, Const, Dyn, OMatrix, Scalar};

/// MNIST's input size.
pub const INPUTS: usize = 784;
/// MNIST's number of classes.
pub const CLASSES: usize = 10;

/// One module per hidden width `H`, each with `Net`, the book's
/// `TwoLayerNet` (`Affine<784, H>, Relu, Affine<H, 10>, SoftmaxWithLoss`)
/// on staticnet's layers, and `BaseNet`, the same on the baseline's.
macro_rules! two_layer_nets {
    ($($module:ident = $h:tt),* $(,)?) => {$(
        #[doc = concat!("The two-layer nets with ", stringify!($h), " hidden units.")]
        pub mod $module {
            use staticnet::prelude::*;

            use super::super::baseline::{BaseAffine, BaseRelu, BaseSoftmaxWithLoss, MmScalar};

            network! {
                /// The book's `TwoLayerNet` on staticnet's layers.
                pub struct Net<Affine<784, $h>, Relu, Affine<$h, 10>, SoftmaxWithLoss>
            }

            network! {
                /// The same net on the layers as they were first written.
                pub struct BaseNet<
                    BaseAffine<784, $h>,
                    BaseRelu,
                    BaseAffine<$h, 10>,
                    BaseSoftmaxWithLoss,
                > where T: MmScalar
            }
        }
    )*};
}

two_layer_nets!(
    h50 = 50,
    h100 = 100,
    h128 = 128,
    h256 = 256,
    h512 = 512,
    h1000 = 1000,
    h1024 = 1024
);

/// The two-layer net with its hidden width chosen at run time.
pub mod runtime {
    use staticnet::prelude::*;

    network! {
        /// The book's `TwoLayerNet`, `Affine<784, dyn>, Relu, Affine<dyn, 10>`.
        pub struct Net<Affine<784, dyn>, Relu, Affine<dyn, 10>, SoftmaxWithLoss>
    }
}

/// A fixed pool of labelled samples, cut into batches once.
///
/// Each class has a random prototype image; a sample is its class's
/// prototype plus noise, clipped to `[0, 1]`, so that the loss falls as
/// the net learns.
pub struct Pool<T: Scalar> {
    /// The batches, each `B × 784`.
    pub x: Vec<Batch<T, Const<INPUTS>>>,
    /// The class of each sample of each batch.
    pub t: Vec<Vec<usize>>,
}

impl<T: Scalar> Pool<T> {
    /// `samples` samples (at least one batch) in batches of `batch`: each
    /// pixel is its class's prototype plus noise, clamped to `[0, 1]`; about
    /// 64% of the pixels are not zero.
    pub fn new(samples: usize, batch: usize, seed: u64) -> Self {
        Self::build(samples, batch, seed, None)
    }

    /// As [`Pool::new`], but only a fraction `density` of the pixels is
    /// not zero, drawn at random (MNIST's images: 0.19).
    pub fn with_density(samples: usize, batch: usize, seed: u64, density: f64) -> Self {
        Self::build(samples, batch, seed, Some(density))
    }

    fn build(samples: usize, batch: usize, seed: u64, density: Option<f64>) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let prototypes: Vec<Vec<f64>> = (0..CLASSES)
            .map(|_| {
                (0..INPUTS)
                    .map(|_| {
                        if rng.random_bool(0.3) {
                            rng.random::<f64>()
                        } else {
                            0.0
                        }
                    })
                    .collect()
            })
            .collect();
        let batches = (samples / batch).max(1);
        let mut x = Vec::with_capacity(batches);
        let mut t = Vec::with_capacity(batches);
        for _ in 0..batches {
            let labels: Vec<usize> = (0..batch).map(|_| rng.random_range(0..CLASSES)).collect();
            let pixels: Vec<f64> = (0..batch * INPUTS)
                .map(|k| {
                    let prototype = prototypes[labels[k / INPUTS]][k % INPUTS];
                    match density {
                        None => (prototype + 0.5 * (rng.random::<f64>() - 0.5)).clamp(0.0, 1.0),
                        Some(d) if rng.random_bool(d) => (prototype + rng.random::<f64>()).min(1.0),
                        Some(_) => 0.0,
                    }
                })
                .collect();
            let xb = OMatrix::<T, Dyn, Const<INPUTS>>::from_fn_generic(
                Dyn(batch),
                Const::<INPUTS>,
                |n, i| T::of_f64(pixels[n * INPUTS + i]),
            );
            x.push(xb);
            t.push(labels);
        }
        Pool { x, t }
    }

    /// The number of batches.
    pub fn len(&self) -> usize {
        self.x.len()
    }
}
