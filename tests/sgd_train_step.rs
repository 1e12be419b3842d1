//! The SGD optimizer's step, which fuses the first layer's update into
//! its backward pass, against `backprop` then the book's update: the same
//! training up to rounding, for a first `Affine` (fused), a first `Conv2d`
//! (the default, unfused) and a `BatchNorm` further on; and no update at
//! all after a loss that is not finite.

use staticnet::optim::{Method, Optimizer};
use staticnet::prelude::*;
use staticnet::{ParamUpdate, Scalar, Shape, Targets};

network! {
    struct TwoLayerNet<Affine<784, 50>, Relu, Affine<50, 10>, SoftmaxWithLoss>
}

network! {
    struct Normalized<Affine<20, 16>, BatchNorm, Relu, Affine<16, 4>, SoftmaxWithLoss>
}

network! {
    struct ConvNet<
        Input<2, 6, 6>,
        Conv2d<3, 3, pad = 1>,
        Relu,
        MaxPool2d<2, stride = 2>,
        Flatten,
        Affine<27, 4>,
        SoftmaxWithLoss,
    >
}

/// A batch of `n` samples whose values are zero with probability
/// `1 − density` (MNIST's images have about 0.19 nonzero), else uniform in
/// (0, 1).
fn batch<T: Scalar, S: Shape>(n: usize, density: f64, seed: u64) -> staticnet::Batch<T, S> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut x = staticnet::Batch::<T, S>::zeros(n);
    for v in x.as_mut_slice() {
        let u: f64 = rng.random();
        *v = T::of_f64(if u < density { u / density } else { 0.0 });
    }
    x
}

/// Every parameter of `net`, in order.
fn params<T: Scalar, N: Network<T>>(net: &N) -> Vec<f64> {
    let mut values = Vec::new();
    net.visit_params(&mut |p| values.extend(p.value.iter().map(|v| v.as_f64())));
    values
}

/// Ten steps of each way from the same network: the losses and the
/// parameters agree within `tolerance` (relative).
fn check<T: Scalar, N: Network<T>>(
    build: impl Fn() -> N,
    x: &staticnet::Batch<T, N::In>,
    t: &[usize],
    tolerance: f64,
) {
    let (mut fused, mut apart) = (build(), build());
    let lr = T::of_f64(0.1);
    let close = |a: f64, b: f64| (a - b).abs() <= tolerance * (1.0 + b.abs());
    for step in 0..10 {
        let fused_loss = Optimizer::sgd(lr.as_f64())
            .train_step(&mut fused, x, Targets::Classes(t))
            .as_f64();
        let loss = apart.backprop(x, Targets::Classes(t)).as_f64();
        apart.visit_params_mut(&mut |p| p.descend(lr));
        assert!(
            close(fused_loss, loss),
            "step {step}: loss {fused_loss} vs {loss}"
        );
    }
    let (got, expected) = (params(&fused), params(&apart));
    assert_eq!(got.len(), expected.len());
    for (k, (&got, &expected)) in got.iter().zip(&expected).enumerate() {
        assert!(close(got, expected), "parameter {k}: {got} vs {expected}");
    }
    // The steps did train: the parameters moved.
    assert_ne!(params(&build()), got);
}

fn classes(n: usize, count: usize) -> Vec<usize> {
    (0..n).map(|k| (k * 7) % count).collect()
}

#[test]
fn a_first_affine_trains_as_backward_then_sgd_on_dense_and_sparse_inputs() {
    for density in [1.0, 0.19] {
        let build = || TwoLayerNet::<f32>::new(&mut StdRng::seed_from_u64(1));
        let x = batch::<f32, Const<784>>(100, density, 2);
        check(build, &x, &classes(100, 10), 1e-4);
        let build = || TwoLayerNet::<f64>::new(&mut StdRng::seed_from_u64(1));
        let x = batch::<f64, Const<784>>(100, density, 2);
        check(build, &x, &classes(100, 10), 1e-10);
    }
}

#[test]
fn later_layers_with_parameters_are_updated_after_the_pass() {
    let build = || Normalized::<f64>::init(&mut StdRng::seed_from_u64(3), Init::He);
    check(
        build,
        &batch::<f64, Const<20>>(30, 1.0, 4),
        &classes(30, 4),
        1e-10,
    );
}

#[test]
fn a_first_convolution_takes_the_default_step() {
    let build = || ConvNet::<f64>::init(&mut StdRng::seed_from_u64(5), Init::He);
    let x = batch::<f64, <ConvNet<f64> as Network<f64>>::In>(8, 1.0, 6);
    check(build, &x, &classes(8, 4), 1e-10);
}

#[test]
fn a_loss_that_is_not_finite_leaves_the_parameters_as_they_were() {
    let mut net = TwoLayerNet::<f32>::new(&mut StdRng::seed_from_u64(7));
    let mut x = batch::<f32, Const<784>>(10, 0.5, 8);
    x.as_mut_slice()[3] = f32::NAN;
    let before = params(&net);
    let loss = Optimizer::sgd(0.1).train_step(&mut net, &x, Targets::Classes(&classes(10, 10)));
    assert!(loss.is_nan());
    assert_eq!(params(&net), before);
}

#[test]
fn the_sgd_optimizer_takes_the_fused_step_and_counts_it() {
    let x = batch::<f64, Const<784>>(50, 0.19, 9);
    let t = classes(50, 10);
    let mut net = TwoLayerNet::<f64>::new(&mut StdRng::seed_from_u64(10));
    let mut by_hand = TwoLayerNet::<f64>::new(&mut StdRng::seed_from_u64(10));
    let mut sgd = Optimizer::<f64>::new(Method::Sgd, 0.1);
    for _ in 0..3 {
        let loss = sgd.train_step(&mut net, &x, Targets::Classes(&t));
        // The fused chain, by hand: the backward pass applies the update.
        by_hand.set_training(true);
        let by_hand_loss = by_hand.forward_loss(&x, Targets::Classes(&t));
        by_hand.backward(&x, Targets::Classes(&t), ParamUpdate::Sgd { lr: 0.1 });
        assert_eq!(loss, by_hand_loss);
    }
    assert_eq!(sgd.steps(), 3);
    assert_eq!(params(&net), params(&by_hand));
    // A step that fails is not counted.
    let mut bad = x.clone();
    bad.as_mut_slice()[0] = f64::INFINITY;
    assert!(
        !sgd.train_step(&mut net, &bad, Targets::Classes(&t))
            .is_finite()
    );
    assert_eq!(sgd.steps(), 3);
    assert_eq!(params(&net), params(&by_hand));
}
