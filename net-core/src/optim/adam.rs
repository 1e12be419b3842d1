//! Adam: the book's `Adam` class (Kingma and Ba, 2014).

use super::adagrad::EPSILON;
use crate::Scalar;

/// The book's decay rate of the first moment.
pub const DEFAULT_BETA1: f64 = 0.9;
/// The book's decay rate of the second moment.
pub const DEFAULT_BETA2: f64 = 0.999;

/// The step size of step `step` (from 1), bias correction included, as
/// the book computes it once per step:
/// `lr_t = lr·√(1 − β₂ᵗ) / (1 − β₁ᵗ)`.
pub(crate) fn step_size(lr: f64, beta1: f64, beta2: f64, step: u64) -> f64 {
    // Past 2³¹ steps the powers are 0 in f64 anyway.
    let t = i32::try_from(step).unwrap_or(i32::MAX);
    lr * (1.0 - beta2.powi(t)).sqrt() / (1.0 - beta1.powi(t))
}

/// `m ← m + (1 − β₁)·(g − m); v ← v + (1 − β₂)·(g² − v);
/// p ← p − lr_t·m / (√v + 1e-7)`, element by element. `one_minus_beta1`
/// and `one_minus_beta2` are computed once per step by the caller.
pub(crate) fn update<T: Scalar>(
    value: &mut [T],
    grad: &[T],
    m: &mut [T],
    v: &mut [T],
    lr_t: T,
    one_minus_beta1: T,
    one_minus_beta2: T,
) {
    let epsilon = T::of_f64(EPSILON);
    for (((value, &grad), m), v) in value.iter_mut().zip(grad).zip(m).zip(v) {
        *m += one_minus_beta1 * (grad - *m);
        *v += one_minus_beta2 * (grad * grad - *v);
        *value -= lr_t * *m / (v.sqrt() + epsilon);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::tests::{GRADS, START, assert_steps};

    #[test]
    fn the_first_step_size_undoes_the_bias_of_the_zero_start() {
        // lr·√0.001/0.1: with m = 0.1·g and v = 0.001·g², the first step is
        // lr·sign(g), whatever the size of g.
        assert!((step_size(0.001, 0.9, 0.999, 1) - 0.001 * 0.001f64.sqrt() / 0.1).abs() < 1e-18);
        assert!((step_size(0.001, 0.9, 0.999, 1_000_000) - 0.001).abs() < 1e-12);
    }

    #[test]
    fn follows_the_book_for_three_steps() {
        let (mut p, mut m, mut v) = (START, [0.0; 2], [0.0; 2]);
        let got: Vec<[f64; 2]> = GRADS
            .iter()
            .zip(1..)
            .map(|(g, step)| {
                let lr_t = step_size(0.001, 0.9, 0.999, step);
                update(&mut p, g, &mut m, &mut v, lr_t, 1.0 - 0.9, 1.0 - 0.999);
                p
            })
            .collect();
        assert_steps(
            &got,
            &[
                [0.9990000063245154, -1.9990000031622677],
                [0.998067831960989, -1.9987336668762214],
                [0.9982741884184675, -1.9991909980349165],
            ],
        );
    }
}
