//! Stochastic gradient descent: the book's `SGD` class.

use crate::{ParamMut, Scalar};

/// `p ← p − lr·g`, element by element.
///
/// [`Network::sgd_step`](crate::Network::sgd_step) calls this too, so the
/// `sgd` optimizer and the chapter-4 update are the same arithmetic.
pub(crate) fn update<T: Scalar>(value: &mut [T], grad: &[T], lr: T) {
    for (value, &grad) in value.iter_mut().zip(grad) {
        *value -= lr * grad;
    }
}

/// `p ← p − lr·∂L/∂p` for one parameter, from its stored gradient: what
/// `Network::sgd_step` and `ParamUpdate::Sgd` apply to each parameter
/// they visit.
pub fn update_param<T: Scalar>(p: ParamMut<'_, T>, lr: T) {
    update(p.value, p.grad, lr);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::tests::{GRADS, START, assert_steps};

    #[test]
    fn follows_the_book_for_three_steps() {
        let mut p = START;
        let got: Vec<[f64; 2]> = GRADS
            .iter()
            .map(|g| {
                update(&mut p, g, 0.1);
                p
            })
            .collect();
        assert_steps(&got, &[[0.95, -1.9], [0.925, -1.95], [1.025, -2.15]]);
    }
}
