//! AdaGrad: the book's `AdaGrad` class.

use crate::Scalar;

/// Keeps the division finite while `h` is still zero: the book's `1e-7`.
pub(crate) const EPSILON: f64 = 1e-7;

/// `h ← h + g²; p ← p − lr·g / (√h + 1e-7)`, element by element; `h`
/// starts at zero and only grows, so each parameter's step shrinks with
/// the gradients it has seen.
pub(crate) fn update<T: Scalar>(value: &mut [T], grad: &[T], h: &mut [T], lr: T) {
    let epsilon = T::of_f64(EPSILON);
    for ((value, &grad), h) in value.iter_mut().zip(grad).zip(h) {
        *h += grad * grad;
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
                update(&mut p, g, &mut h, 0.1);
                p
            })
            .collect();
        // Step 1 moves each parameter by lr·g/|g| = ±0.1 (less the ε);
        // step 2: h = (0.3125, 1.25), p₁ = 0.9 − 0.1·0.25/√0.3125.
        assert_steps(
            &got,
            &[
                [0.900000019999996, -1.900000009999999],
                [0.8552786684499988, -1.944721365549995],
                [0.9425658169253488, -2.0320085178348686],
            ],
        );
    }
}
