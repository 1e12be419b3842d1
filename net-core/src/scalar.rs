//! The scalar types layers compute in.

use nalgebra::RealField;

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// A floating-point type the layers compute in: `f32` or `f64`.
///
/// The trait is sealed: matrix products go to a hand-tuned kernel for each
/// of the two types.
pub trait Scalar: RealField + Copy + Default + Send + Sync + sealed::Sealed + 'static {
    /// The name of the type, `"f32"` or `"f64"`.
    const NAME: &'static str;

    /// Negative infinity, the start of a running maximum.
    const NEG_INFINITY: Self;

    /// Converts from `f64`, rounding to nearest for `f32`.
    fn of_f64(x: f64) -> Self;

    /// Converts to `f64` exactly.
    fn as_f64(self) -> f64;

    /// `C ← α·A·B + β·C` for an `m × k` matrix `A`, a `k × n` matrix `B` and
    /// an `m × n` matrix `C`, each given by a pointer and its row and column
    /// strides (in elements).
    ///
    /// # Safety
    /// Every element addressed through the pointers, shapes and strides must
    /// be valid for reads (`A`, `B`) and writes (`C`), and `C` must not
    /// overlap `A` or `B`.
    #[doc(hidden)]
    #[allow(clippy::too_many_arguments)]
    unsafe fn gemm(
        m: usize,
        k: usize,
        n: usize,
        alpha: Self,
        a: (*const Self, isize, isize),
        b: (*const Self, isize, isize),
        beta: Self,
        c: (*mut Self, isize, isize),
    );
}

macro_rules! impl_scalar {
    ($t:ty, $gemm:path) => {
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

            #[inline]
            unsafe fn gemm(
                m: usize,
                k: usize,
                n: usize,
                alpha: Self,
                a: (*const Self, isize, isize),
                b: (*const Self, isize, isize),
                beta: Self,
                c: (*mut Self, isize, isize),
            ) {
                // SAFETY: forwarded from the caller's contract.
                unsafe {
                    $gemm(
                        m, k, n, alpha, a.0, a.1, a.2, b.0, b.1, b.2, beta, c.0, c.1, c.2,
                    )
                }
            }
        }
    };
}

impl_scalar!(f32, matrixmultiply::sgemm);
impl_scalar!(f64, matrixmultiply::dgemm);
