//! The book's two-layer net, written out by hand the way `network!`
//! declares it, and synthetic data of MNIST's size. Shared by
//! `examples/bench.rs`, `benches/layers.rs` and `tests/zero_alloc.rs`
//! (included with `#[path]`).
#![allow(dead_code)]

use staticnet::rand::rngs::StdRng;
use staticnet::rand::{Rng, SeedableRng};
use staticnet::{Batch, Const, Dyn, OMatrix, Scalar};

/// MNIST's input size.
pub const INPUTS: usize = 784;
/// MNIST's number of classes.
pub const CLASSES: usize = 10;

/// Writes out what `network! { pub struct $name<Affine<784, H>, Relu,
/// Affine<H, 10>, SoftmaxWithLoss> }` declares, with the layer types
/// given (so that the baseline layers can stand in), generic over `H`.
#[macro_export]
macro_rules! two_layer_net {
    ($(#[$attr:meta])* $name:ident: $bound:path, $affine:ident, $relu:ident, $loss:ident) => {
        $(#[$attr])*
        pub struct $name<T: ::staticnet::Scalar, const H: usize> {
            /// `Affine<784, H>`.
            pub affine1: $affine<T, 784, H>,
            /// `Relu` over `H`.
            pub relu1: $relu<T, ::staticnet::Const<H>>,
            /// `Affine<H, 10>`.
            pub affine2: $affine<T, H, 10>,
            /// `SoftmaxWithLoss<10>`.
            pub loss: $loss<T, 10>,
        }

        impl<T: $bound, const H: usize> $name<T, H> {
            /// `forward_backward`, or with a learning rate `sgd_train_step`,
            /// as `network!` writes them.
            fn backward_pass(
                &mut self,
                x: &::staticnet::Batch<T, ::staticnet::Const<784>>,
                t: ::staticnet::Targets<'_, T, ::staticnet::Const<10>>,
                sgd: Option<T>,
            ) -> T {
                let in0 = x;
                let in1 = ::staticnet::Layer::<T>::forward(&mut self.affine1, in0);
                let in2 = ::staticnet::Layer::<T>::forward(&mut self.relu1, in1);
                let in3 = ::staticnet::Layer::<T>::forward(&mut self.affine2, in2);
                let loss = ::staticnet::LossLayer::<T>::forward(&mut self.loss, in3, t);
                if sgd.is_some() && !loss.is_finite() {
                    return loss;
                }
                let d = ::staticnet::LossLayer::<T>::backward(&mut self.loss, t);
                let d = ::staticnet::Layer::<T>::backward(&mut self.affine2, in2, d);
                let d = ::staticnet::Layer::<T>::backward(&mut self.relu1, in1, d);
                match sgd {
                    None => ::staticnet::Layer::<T>::backward_params(&mut self.affine1, in0, d),
                    Some(lr) => {
                        ::staticnet::Layer::<T>::backward_params_sgd(&mut self.affine1, in0, d, lr);
                        ::staticnet::Layer::<T>::visit_params_mut(&mut self.affine2, &mut |p| {
                            ::staticnet::__private::sgd_update(p, lr)
                        });
                    }
                }
                loss
            }
        }

        impl<T: $bound, const H: usize> ::staticnet::Network<T> for $name<T, H> {
            type In = ::staticnet::Const<784>;
            type Out = ::staticnet::Const<10>;

            fn init(rng: &mut dyn ::staticnet::rand::RngCore, init: ::staticnet::Init) -> Self {
                Self {
                    affine1: ::staticnet::Layer::<T>::init(rng, init),
                    relu1: ::staticnet::Layer::<T>::init(rng, init),
                    affine2: ::staticnet::Layer::<T>::init(rng, init),
                    loss: ::staticnet::LossLayer::<T>::new(),
                }
            }

            fn predict(
                &mut self,
                x: &::staticnet::Batch<T, Self::In>,
            ) -> &::staticnet::Batch<T, Self::Out> {
                let h1 = ::staticnet::Layer::<T>::forward(&mut self.affine1, x);
                let h2 = ::staticnet::Layer::<T>::forward(&mut self.relu1, h1);
                ::staticnet::Layer::<T>::forward(&mut self.affine2, h2)
            }

            fn forward_loss(
                &mut self,
                x: &::staticnet::Batch<T, Self::In>,
                t: ::staticnet::Targets<'_, T, Self::Out>,
            ) -> T {
                let h1 = ::staticnet::Layer::<T>::forward(&mut self.affine1, x);
                let h2 = ::staticnet::Layer::<T>::forward(&mut self.relu1, h1);
                let y = ::staticnet::Layer::<T>::forward(&mut self.affine2, h2);
                ::staticnet::LossLayer::<T>::forward(&mut self.loss, y, t)
            }

            fn forward_backward(
                &mut self,
                x: &::staticnet::Batch<T, Self::In>,
                t: ::staticnet::Targets<'_, T, Self::Out>,
            ) -> T {
                self.backward_pass(x, t, None)
            }

            fn sgd_train_step(
                &mut self,
                x: &::staticnet::Batch<T, Self::In>,
                t: ::staticnet::Targets<'_, T, Self::Out>,
                lr: T,
            ) -> T {
                self.backward_pass(x, t, Some(lr))
            }

            fn visit_params(&self, f: &mut dyn FnMut(::staticnet::ParamRef<'_, T>)) {
                ::staticnet::Layer::<T>::visit_params(&self.affine1, &mut |mut p| {
                    p.name.index = 1;
                    f(p)
                });
                ::staticnet::Layer::<T>::visit_params(&self.affine2, &mut |mut p| {
                    p.name.index = 2;
                    f(p)
                });
            }

            fn visit_params_mut(&mut self, f: &mut dyn FnMut(::staticnet::ParamMut<'_, T>)) {
                ::staticnet::Layer::<T>::visit_params_mut(&mut self.affine1, &mut |mut p| {
                    p.name.index = 1;
                    f(p)
                });
                ::staticnet::Layer::<T>::visit_params_mut(&mut self.affine2, &mut |mut p| {
                    p.name.index = 2;
                    f(p)
                });
            }
        }
    };
}

use staticnet::{Affine, Relu, SoftmaxWithLoss};

two_layer_net!(
    /// The book's `TwoLayerNet` with `H` hidden units, on staticnet's layers.
    Net: ::staticnet::Scalar,
    Affine,
    Relu,
    SoftmaxWithLoss
);

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
