//! The book's ReLU, `x <= 0` masked: a NaN passes through. One definition
//! for the layer, and for the products a frozen ReLU is folded into.

use super::dispatch::Kernels;

/// `max(x, 0)`, as the book's mask `x <= 0` computes it.
#[inline(always)]
pub(crate) fn relu<T: Kernels>(x: T) -> T {
    if x <= T::zero() { T::zero() } else { x }
}

/// [`relu`] of every value, in place: a loop of its own over a contiguous
/// run, which the compiler vectorizes.
#[inline(always)]
pub(crate) fn relu_in_place<T: Kernels>(values: &mut [T]) {
    for v in values {
        *v = relu(*v);
    }
}
