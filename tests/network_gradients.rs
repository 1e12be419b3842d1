//! Backpropagation through the generated `backward` chain agrees with
//! the numerical gradient, in `f64`, for every layer kind.

use staticnet::prelude::*;
use staticnet::{GradientCheck, gradient_check};

network! {
    struct Classifier<Affine<4, 6>, Sigmoid, Affine<6, 5>, Relu, Affine<5, 3>, SoftmaxWithLoss>
}

network! {
    struct Regularized<Affine<4, 6>, BatchNorm, Relu, Dropout<0.3>, Affine<6, 3>, SoftmaxWithLoss>
}

network! {
    struct Regressor<Affine<3, 4>, Relu, Affine<4, 2>, IdentityWithSquaredLoss>
}

fn batch<const F: usize>(rng: &mut StdRng, n: usize) -> Batch<f64, Const<F>> {
    let mut x = Batch::<f64, Const<F>>::zeros(n);
    for v in x.as_mut_slice() {
        *v = rng.random_range(-1.0..1.0);
    }
    x
}

fn assert_close(checks: &[GradientCheck], names: &[&str]) {
    let got: Vec<String> = checks.iter().map(|c| c.name.to_string()).collect();
    assert_eq!(got, names);
    for c in checks {
        assert!(
            c.mean_abs_diff < 1e-8,
            "{}: mean |backprop − numerical| = {}",
            c.name,
            c.mean_abs_diff
        );
    }
}

#[test]
fn classifier_gradients_match_numerical_ones() {
    let mut rng = StdRng::seed_from_u64(10);
    let mut net = Classifier::<f64>::init(&mut rng, Init::Normal { std: 0.5 });
    let x = batch::<4>(&mut rng, 5);
    let t = [0, 2, 1, 1, 0];
    let checks = gradient_check(&mut net, &x, &t);
    assert_close(&checks, &["W1", "b1", "W2", "b2", "W3", "b3"]);
    // The gradients are not trivially zero.
    let grads = net.gradient(&x, &t);
    assert!(grads.get("W1").unwrap().iter().any(|g| g.abs() > 1e-4));
}

#[test]
fn batch_norm_and_dropout_gradients_match_numerical_ones() {
    let mut rng = StdRng::seed_from_u64(13);
    let mut net = Regularized::<f64>::init(&mut rng, Init::Normal { std: 0.5 });
    // One mask for every forward pass of the check.
    net.dropout1.hold_mask(true);
    let x = batch::<4>(&mut rng, 6);
    let t = [0, 2, 1, 1, 0, 2];
    let checks = gradient_check(&mut net, &x, &t);
    assert_close(&checks, &["W1", "b1", "gamma1", "beta1", "W2", "b2"]);
    assert_eq!(net.dropout1.ratio(), 0.3);
    let dropped = net.dropout1.mask().iter().filter(|&&k| k == 0.0).count();
    assert!(dropped > 0 && dropped < 36, "{dropped} of 36 units dropped");
    let grads = net.gradient(&x, &t);
    assert!(grads.get("gamma1").unwrap().iter().any(|g| g.abs() > 1e-4));
}

#[test]
fn regressor_gradients_match_numerical_ones() {
    let mut rng = StdRng::seed_from_u64(11);
    let mut net = Regressor::<f64>::init(&mut rng, Init::Normal { std: 0.5 });
    let x = batch::<3>(&mut rng, 4);
    let y = batch::<2>(&mut rng, 4);
    let checks = gradient_check(&mut net, &x, &y);
    assert_close(&checks, &["W1", "b1", "W2", "b2"]);
}

#[test]
fn squared_loss_is_half_the_mean_squared_error() {
    let mut rng = StdRng::seed_from_u64(12);
    let mut net = Regressor::<f64>::new(&mut rng);
    // Zero input and zero biases: the output is zero, so the loss is ½·Σt²/N.
    let x = Batch::<f64, Const<3>>::zeros(2);
    let mut t = Batch::<f64, Const<2>>::zeros(2);
    t.as_mut_slice().copy_from_slice(&[1.0, 2.0, 3.0, 4.0]);
    let loss = net.loss(&x, &t);
    assert!((loss - 30.0 / 4.0).abs() < 1e-12, "loss {loss}");
}

/// `grads.get("W1")` reads as the book's `grads['W1']` and the weight file's
/// `W1`: row by row, `[784, 50]`, although the matrix is stored column by
/// column.
#[test]
fn gradients_are_given_in_the_books_order() {
    network! { pub struct Small<Affine<2, 3>, Relu, Affine<3, 2>, SoftmaxWithLoss> }
    let mut net = Small::<f64>::init(&mut StdRng::seed_from_u64(4), Init::He);
    let x = staticnet::batch_from_rows(&[[0.5, -1.0], [2.0, 0.25]]);
    let grads = net.gradient(&x, &[1, 0]);
    let mut stored = Vec::new();
    net.visit_params(&mut |p| {
        if p.name.to_string() == "W1" {
            stored = p.grad.to_vec();
        }
    });
    // Entry (i, j) of the 2×3 matrix: at i·3 + j in the book's order, at
    // j·2 + i in storage.
    let book = grads.get("W1").unwrap();
    for i in 0..2 {
        for j in 0..3 {
            assert_eq!(book[i * 3 + j], stored[j * 2 + i]);
        }
    }
}
