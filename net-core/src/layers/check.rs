//! The gradient check of one layer, for the layers' tests: backpropagation
//! against central differences, on the loss `L = Σ y ⊙ r` for a fixed
//! random `r` (so that `dL/dy = r`).

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::{Batch, BatchStorage, Layer};

/// The step of the central differences: small enough that the truncation
/// error (`h²`) vanishes, large enough that rounding (`ε/h`) does too.
const H: f64 = 1e-5;

/// Mean `|backprop − numerical|` for the input and for every parameter
/// (by name), for `layer` at `x`.
pub(crate) fn layer_gradient_errors<L: Layer<f64>>(
    layer: &mut L,
    x: &Batch<f64, L::In>,
    seed: u64,
) -> Vec<(String, f64)> {
    let mut rng = StdRng::seed_from_u64(seed);
    let out_len = layer.forward(x).as_slice().len();
    let mut dout: Batch<f64, L::Out> = BatchStorage::zeros(x.batch_size());
    for r in dout.as_mut_slice() {
        *r = rng.random_range(-1.0..1.0);
    }
    assert_eq!(dout.as_slice().len(), out_len);
    let loss = |layer: &mut L, x: &Batch<f64, L::In>| -> f64 {
        let y = layer.forward(x);
        y.as_slice()
            .iter()
            .zip(dout.as_slice())
            .map(|(y, r)| y * r)
            .sum()
    };

    layer.forward(x);
    let dx = layer.backward(x, &dout).as_slice().to_vec();
    let mut grads = Vec::new();
    layer.visit_params(&mut |p| grads.push((p.name.to_string(), p.grad.to_vec())));

    let mut errors = Vec::new();
    let mut shifted = x.clone();
    let mut diff = 0.0;
    for (i, &backprop) in dx.iter().enumerate() {
        let original = shifted.as_slice()[i];
        shifted.as_mut_slice()[i] = original + H;
        let above = loss(layer, &shifted);
        shifted.as_mut_slice()[i] = original - H;
        let below = loss(layer, &shifted);
        shifted.as_mut_slice()[i] = original;
        diff += (backprop - (above - below) / (2.0 * H)).abs();
    }
    errors.push(("x".to_owned(), diff / dx.len().max(1) as f64));

    for (k, (name, grad)) in grads.iter().enumerate() {
        let mut diff = 0.0;
        for (j, &backprop) in grad.iter().enumerate() {
            let original = param_value(layer, k, j, None);
            param_value(layer, k, j, Some(original + H));
            let above = loss(layer, x);
            param_value(layer, k, j, Some(original - H));
            let below = loss(layer, x);
            param_value(layer, k, j, Some(original));
            diff += (backprop - (above - below) / (2.0 * H)).abs();
        }
        errors.push((name.clone(), diff / grad.len().max(1) as f64));
    }
    errors
}

/// Value `j` of parameter `k`, set to `new` first when given.
fn param_value<L: Layer<f64>>(layer: &mut L, k: usize, j: usize, new: Option<f64>) -> f64 {
    let mut index = 0;
    let mut value = f64::NAN;
    layer.visit_params_mut(&mut |p| {
        if index == k {
            if let Some(new) = new {
                p.value[j] = new;
            }
            value = p.value[j];
        }
        index += 1;
    });
    value
}

/// A batch of `batch_size` samples of uniform values in `[-1, 1)`.
pub(crate) fn random_batch<S: crate::Shape>(batch_size: usize, seed: u64) -> Batch<f64, S> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut x: Batch<f64, S> = BatchStorage::zeros(batch_size);
    for v in x.as_mut_slice() {
        *v = rng.random_range(-1.0..1.0);
    }
    x
}

/// Asserts that every error of [`layer_gradient_errors`] is at most 1e-8.
pub(crate) fn assert_gradients_agree<L: Layer<f64>>(layer: &mut L, x: &Batch<f64, L::In>) {
    for (name, error) in layer_gradient_errors(layer, x, 1) {
        assert!(
            error <= 1e-8,
            "{name}: mean |backprop − numerical| = {error:e}"
        );
    }
}
