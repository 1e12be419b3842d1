//! The scalar types layers compute in.

use nalgebra::RealField;

use crate::kernels::Kernels;

/// A floating-point type the layers compute in: `f32` or `f64`.
///
/// The trait is sealed: each of the two types brings its own hand-tuned
/// kernels (matrix products, a vectorized `exp`; see `kernels.rs`).
pub trait Scalar: RealField + Copy + Default + Send + Sync + Kernels + 'static {
    /// The name of the type, `"f32"` or `"f64"`.
    const NAME: &'static str;

    /// Negative infinity, the start of a running maximum.
    const NEG_INFINITY: Self;

    /// Converts from `f64`, rounding to nearest for `f32`.
    fn of_f64(x: f64) -> Self;

    /// Converts to `f64` exactly.
    fn as_f64(self) -> f64;
}

macro_rules! impl_scalar {
    ($t:ty) => {
        impl Scalar for $t {
            const NAME: &'static str = stringify!($t);
            const NEG_INFINITY: Self = <$t>::NEG_INFINITY;

            #[inline]
            fn of_f64(x: f64) -> Self {
                x as $t
            }

            #[inline]
            fn as_f64(self) -> f64 {
                self as f64
            }
        }
    };
}

impl_scalar!(f32);
impl_scalar!(f64);
