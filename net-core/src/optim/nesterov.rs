//! Nesterov's accelerated gradient, in the form of the book's `Nesterov`
//! class (after Bengio et al., "Advances in optimizing recurrent
//! networks"): the look-ahead is folded into the update, so the gradient is
//! still taken at the stored parameters.

use crate::Scalar;

/// `v ← momentum·v − lr·g; p ← p + momentum²·v − (1 + momentum)·lr·g`,
/// element by element, in the book's order of operations.
/// `momentum_squared` and `gradient_rate` are `momentum²` and
/// `(1 + momentum)·lr`, computed once per step by the caller.
pub(crate) fn update<T: Scalar>(
    value: &mut [T],
    grad: &[T],
    v: &mut [T],
    lr: T,
    momentum: T,
    momentum_squared: T,
    gradient_rate: T,
) {
    for ((value, &grad), v) in value.iter_mut().zip(grad).zip(v) {
        *v *= momentum;
        *v -= lr * grad;
        *value += momentum_squared * *v;
        *value -= gradient_rate * grad;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::tests::{GRADS, START, assert_steps};

    #[test]
    fn follows_the_book_for_three_steps() {
        let (mut p, mut v) = (START, [0.0; 2]);
        let got: Vec<[f64; 2]> = GRADS
            .iter()
            .map(|g| {
                update(&mut p, g, &mut v, 0.1, 0.9, 0.81, 0.19);
                p
            })
            .collect();
        // Step 1: v = −0.05, p = 1 + 0.81·(−0.05) − 0.19·0.5 = 0.8645.
        assert_steps(
            &got,
            &[[0.8645, -1.729], [0.7603, -1.7916], [0.98027, -2.30444]],
        );
    }
}
