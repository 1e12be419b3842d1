//! The book's weight decay: an L2 penalty on the weights, not the biases.
//!
//! `L' = L + ½·λ·ΣW²` over every parameter named `W` (the book's
//! `MultiLayerNet` sums over `W1 … Wn` and leaves `b` alone), so
//! `∂L'/∂W = ∂L/∂W + λ·W`.

use crate::{Network, ParamName, Scalar};

/// Whether the penalty applies to the parameter `name`: weights only.
fn is_weight(name: &ParamName) -> bool {
    name.base == "W"
}

/// `½·λ·ΣW²` over the weights of `net`, summed in `f64`: what the book
/// adds to the loss.
pub fn weight_decay_penalty<T: Scalar, N: Network<T>>(net: &N, lambda: f64) -> f64 {
    let mut squares = 0.0;
    net.visit_params(&mut |p| {
        if is_weight(&p.name) {
            squares += p.value.iter().map(|w| w.as_f64().powi(2)).sum::<f64>();
        }
    });
    0.5 * lambda * squares
}

/// `dW ← dW + λ·W` for one parameter, when it is a weight.
pub(crate) fn add_to_gradient<T: Scalar>(name: &ParamName, value: &[T], grad: &mut [T], lambda: T) {
    if is_weight(name) {
        for (grad, &w) in grad.iter_mut().zip(value) {
            *grad += lambda * w;
        }
    }
}

/// Adds `λ·W` to the stored gradient of every weight of `net`, so that the
/// gradients are those of the penalized loss
/// (`L + `[`weight_decay_penalty`]). [`Optimizer`](super::Optimizer) does
/// this itself when built with a weight decay.
pub fn add_weight_decay<T: Scalar, N: Network<T>>(net: &mut N, lambda: f64) {
    let lambda = T::of_f64(lambda);
    net.visit_params_mut(&mut |p| add_to_gradient(&p.name, p.value, p.grad, lambda));
}
