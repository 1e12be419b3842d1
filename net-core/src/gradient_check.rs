//! The chapter's gradient check: backpropagation against numerical
//! differentiation.

use crate::{Batch, Network, ParamName, Scalar, Targets};

/// How far backpropagation is from the numerical gradient for one
/// parameter.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GradientCheck {
    /// The parameter's name.
    pub name: ParamName,
    /// The mean of `|backprop − numerical|` over the parameter's values.
    pub mean_abs_diff: f64,
}

/// Compares [`Network::gradient`] with [`Network::numerical_gradient`] for
/// every parameter, as the book's `gradient_check.py`. Both gradients come
/// from the same `x` and `t`; the network's parameters are unchanged
/// afterwards.
pub fn gradient_check<'t, T: Scalar, N: Network<T>>(
    net: &mut N,
    x: &Batch<T, N::In>,
    t: impl Into<Targets<'t, T, N::Out>>,
) -> Vec<GradientCheck> {
    let t = t.into();
    let numerical = net.numerical_gradient(x, t);
    let backprop = net.gradient(x, t);
    numerical
        .iter()
        .zip(backprop.iter())
        .map(|(num, bp)| {
            let total: f64 = num
                .values
                .iter()
                .zip(&bp.values)
                .map(|(a, b)| (a.as_f64() - b.as_f64()).abs())
                .sum();
            GradientCheck {
                name: num.name,
                mean_abs_diff: total / num.values.len().max(1) as f64,
            }
        })
        .collect()
}
