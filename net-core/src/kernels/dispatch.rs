//! Which kernels run: the AVX2 ones (`avx2.rs`) when the CPU has AVX2 and
//! FMA (checked at run time), else `matrixmultiply`'s portable ones.

#[cfg(target_arch = "x86_64")]
use super::avx2;
use nalgebra::RealField;

use super::exp;
use super::loops::Strided;

/// What `f32` and `f64` each bring to the kernels: the raw products and
/// the vectorized `exp`. The kernels are written against this trait, so
/// they stand below [`Scalar`]; as a supertrait of [`Scalar`] that cannot
/// be named outside the crate it also seals [`Scalar`].
///
/// [`Scalar`]: crate::Scalar
pub trait Kernels: RealField + Copy + Default + Send + Sync + 'static {
    /// Rows of C per microkernel call of the AVX2 kernel.
    const MR: usize;

    /// The AVX2 kernels, if this CPU has AVX2 and FMA.
    fn avx2() -> Option<Avx2<Self>>;

    /// `matrixmultiply`'s product.
    ///
    /// # Safety
    /// As `product` (`gemm.rs`).
    #[allow(clippy::too_many_arguments)]
    unsafe fn portable(
        m: usize,
        k: usize,
        n: usize,
        alpha: Self,
        a: Strided<Self>,
        b: Strided<Self>,
        beta: Self,
        c: (*mut Self, isize, isize),
    );

    /// `x ← eˣ` for every entry (`exp.rs`).
    fn exp_in_place(values: &mut [Self]);
}

/// The AVX2 product over a shifted A: `m, n, α, A, offsets, B, β`, and
/// `C` as a pointer with its column stride.
type ShiftedGemm<T> =
    unsafe fn(usize, usize, T, *const T, &[usize], Strided<T>, T, (*mut T, isize));

/// The AVX2 product with a shifted B: `m, k, α, A, B, offsets, β`, and `C`
/// as a pointer with its column stride.
type ShiftedBGemm<T> =
    unsafe fn(usize, usize, T, Strided<T>, *const T, &[usize], T, (*mut T, isize));

/// The AVX2 kernels of one scalar type (`avx2.rs`).
#[derive(Clone, Copy)]
pub struct Avx2<T> {
    /// The product of strided matrices.
    pub(super) gemm: Avx2Gemm<T>,
    /// The product over a shifted A ([`gemm_shifted`](super::conv::gemm_shifted)).
    pub(super) shifted: ShiftedGemm<T>,
    /// The product with a shifted B ([`gemm_tn_shifted`](super::conv::gemm_tn_shifted)).
    pub(super) shifted_b: ShiftedBGemm<T>,
}

/// The AVX2 product: `m, k, n, α, A, B, β`, and `C` as a pointer with its
/// column stride (its row stride is 1).
type Avx2Gemm<T> = unsafe fn(usize, usize, usize, T, Strided<T>, Strided<T>, T, (*mut T, isize));

macro_rules! impl_kernels {
    ($t:ty, $portable:path, $exp:path) => {
        impl Kernels for $t {
            #[cfg(target_arch = "x86_64")]
            const MR: usize = avx2::mr::<$t>();
            #[cfg(not(target_arch = "x86_64"))]
            const MR: usize = 1;

            #[inline]
            fn avx2() -> Option<Avx2<Self>> {
                #[cfg(target_arch = "x86_64")]
                if std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
                {
                    // SAFETY of the later calls: the features are present.
                    return Some(Avx2 {
                        gemm: avx2::gemm::<$t>,
                        shifted: avx2::gemm_shifted::<$t>,
                        shifted_b: avx2::gemm_shifted_b::<$t>,
                    });
                }
                None
            }

            #[inline]
            unsafe fn portable(
                m: usize,
                k: usize,
                n: usize,
                alpha: Self,
                a: Strided<Self>,
                b: Strided<Self>,
                beta: Self,
                c: (*mut Self, isize, isize),
            ) {
                // SAFETY: forwarded from the caller's contract.
                unsafe {
                    $portable(
                        m, k, n, alpha, a.0, a.1, a.2, b.0, b.1, b.2, beta, c.0, c.1, c.2,
                    )
                }
            }

            #[inline]
            fn exp_in_place(values: &mut [Self]) {
                $exp(values)
            }
        }
    };
}

impl_kernels!(f32, matrixmultiply::sgemm, exp::exp_f32);
impl_kernels!(f64, matrixmultiply::dgemm, exp::exp_f64);
