//! RMSprop: the book's `RMSprop` class.

use super::adagrad::EPSILON;
use crate::Scalar;

/// The book's decay rate of the running mean of `g²`.
pub const DEFAULT_DECAY_RATE: f64 = 0.99;

/// `h ← decay·h + (1 − decay)·g²; p ← p − lr·g / (√h + 1e-7)`, element by
/// element: AdaGrad with old gradients forgotten at `decay_rate` per step.
/// `keep_rate` is `1 − decay_rate`, computed once per step by the caller.
pub(crate) fn update<T: Scalar>(
    value: &mut [T],
    grad: &[T],
    h: &mut [T],
    lr: T,
    decay_rate: T,
    keep_rate: T,
) {
    let epsilon = T::of_f64(EPSILON);
    for ((value, &grad), h) in value.iter_mut().zip(grad).zip(h) {
        *h *= decay_rate;
        *h += keep_rate * grad * grad;
        *value -= lr * grad / (h.sqrt() + epsilon);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::tests::{GRADS, START, assert_steps};

    #[test]
    fn follows_the_book_for_three_steps() {
        let (mut p, mut h) = (START, [0.0; 2]);
        let got: Vec<[f64; 2]> = GRADS
            .iter()
            .map(|g| {
                update(&mut p, g, &mut h, 0.01, 0.99, 1.0 - 0.99);
                p
            })
            .collect();
        // Step 1: h = 0.01·g², so the step is lr·g/(0.1·|g|) = ±0.1.
        assert_steps(
            &got,
            &[
                [0.9000001999996, -1.9000000999999],
                [0.8550989551379228, -1.9449013851840493],
                [0.942572845322051, -2.0323753136266016],
            ],
        );
    }
}
