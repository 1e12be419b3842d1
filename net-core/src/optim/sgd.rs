//! Stochastic gradient descent: the book's `SGD` class.

/// `p ← p − lr·g`, element by element: the same arithmetic as
/// [`ParamUpdate::Sgd`](crate::ParamUpdate::Sgd).
pub(crate) use crate::param::descend as update;

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
