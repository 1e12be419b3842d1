//! Momentum SGD: the book's `Momentum` class.

use crate::Scalar;

/// `v ← momentum·v − lr·g; p ← p + v`, element by element; `v` starts at
/// zero and is kept between steps.
pub(crate) fn update<T: Scalar>(value: &mut [T], grad: &[T], v: &mut [T], lr: T, momentum: T) {
    for ((value, &grad), v) in value.iter_mut().zip(grad).zip(v) {
        *v = momentum * *v - lr * grad;
        *value += *v;
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
                update(&mut p, g, &mut v, 0.1, 0.9);
                p
            })
            .collect();
        // v: (−0.05, 0.1), (−0.07, 0.04), (0.037, −0.164)
        assert_steps(&got, &[[0.95, -1.9], [0.88, -1.86], [0.917, -2.024]]);
    }
}
