//! Matrix products on nalgebra matrices, sent to a packed GEMM kernel.
//!
//! nalgebra's own products differ by an order of magnitude depending on the
//! call (`tr_mul_to` does not pack its operands), so every product in the
//! layers goes through here. Transposition is free: it only swaps strides.
//! The dimension types make a mismatched product a compile error wherever
//! the dimensions are static; dynamic ones are checked at run time.
//!
//! Every product lands in [`product`] below: on x86-64 CPUs with AVX2 and
//! FMA (checked at run time), the kernels of `avx2.rs`;
//! elsewhere, and for `k = 0` or C with neither stride 1, `matrixmultiply`.
//! Measured on the book's training step (f32, batch 100, 784 → 50 → 10,
//! `examples/bench.rs --impl both`), the whole step is 1.3–1.4× faster on
//! one thread than with every product through `matrixmultiply`; the two
//! large products alone, about 1.2–1.3×. Large products are split between
//! `STATICNET_NUM_THREADS` threads (`threads/pool.rs`; default 1).

use nalgebra::{DMatrixView, DMatrixViewMut, Dim, Matrix, RawStorage, RawStorageMut};

use crate::Scalar;

#[cfg(target_arch = "x86_64")]
mod avx2;
mod exp;
pub(crate) mod sparse;
mod threads;

pub(crate) use sparse::{transpose, transpose_bytes};
pub(crate) use threads::{Items, for_each_chunk, for_each_part, threads};

/// Products with fewer multiply-adds than this stay on one thread: handing
/// half of one to another thread costs about a microsecond.
const PARALLEL_MIN: usize = 1 << 17;

/// What `f32` and `f64` each bring to the kernels: the raw products and
/// the vectorized `exp`. A supertrait of [`Scalar`] that cannot be named
/// outside the crate, so it also seals [`Scalar`].
pub trait Kernels: Sized {
    /// Rows of C per microkernel call of the AVX2 kernel.
    const MR: usize;

    /// The AVX2 kernels, if this CPU has AVX2 and FMA.
    fn avx2() -> Option<Avx2<Self>>;

    /// `matrixmultiply`'s product.
    ///
    /// # Safety
    /// As [`product`].
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

/// A pointer with row and column strides, in elements.
type Strided<T> = (*const T, isize, isize);

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
    gemm: Avx2Gemm<T>,
    /// The product over a shifted A ([`gemm_shifted`]).
    shifted: ShiftedGemm<T>,
    /// The product with a shifted B ([`gemm_tn_shifted`]).
    shifted_b: ShiftedBGemm<T>,
}

/// The AVX2 product: `m, k, n, α, A, B, β`, and `C` as a pointer with its
/// column stride (its row stride is 1).
type Avx2Gemm<T> = unsafe fn(usize, usize, usize, T, Strided<T>, Strided<T>, T, (*mut T, isize));

macro_rules! impl_kernels {
    ($t:ty, $avx2:ident, $portable:path, $exp:path) => {
        impl Kernels for $t {
            #[cfg(target_arch = "x86_64")]
            const MR: usize = avx2::$avx2::MR;
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
                        gemm: avx2::$avx2::gemm,
                        shifted: avx2::$avx2::gemm_shifted,
                        shifted_b: avx2::$avx2::gemm_shifted_b,
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

impl_kernels!(f32, f32, matrixmultiply::sgemm, exp::exp_f32);
impl_kernels!(f64, f64, matrixmultiply::dgemm, exp::exp_f64);

/// The pointers of one product, shared with the pool's threads.
struct Product<T> {
    a: Strided<T>,
    b: Strided<T>,
    c: (*mut T, isize),
}

// SAFETY: the threads only read A and B, and each writes its own block of C
// (the blocks do not overlap); the caller keeps all three alive until every
// thread is done (`threads::run` returns only then).
unsafe impl<T: Sync> Sync for Product<T> {}

impl<T> Product<T> {
    /// The pointers (a method, so that closures capture the whole struct).
    #[allow(clippy::type_complexity)]
    fn get(&self) -> (Strided<T>, Strided<T>, (*mut T, isize)) {
        (self.a, self.b, self.c)
    }
}

/// `C ← α·A·B + β·C` on up to `threads` threads, for an `m × k` matrix
/// `A`, a `k × n` matrix `B` and an `m × n` matrix `C`, each given by a
/// pointer and its row and column strides (in elements).
///
/// # Safety
/// Every element addressed through the pointers, shapes and strides must
/// be valid for reads (`A`, `B`) and writes (`C`), and `C` must not overlap
/// `A` or `B`.
#[allow(clippy::too_many_arguments)]
unsafe fn product<T: Scalar>(
    threads: usize,
    m: usize,
    k: usize,
    n: usize,
    alpha: T,
    a: Strided<T>,
    b: Strided<T>,
    beta: T,
    c: (*mut T, isize, isize),
) {
    if m == 0 || n == 0 {
        return;
    }
    let Some(kernel) = T::avx2()
        .filter(|_| k > 0 && (c.1 == 1 || c.2 == 1))
        .map(|kernels| kernels.gemm)
    else {
        // SAFETY: forwarded from the caller's contract.
        return unsafe { T::portable(m, k, n, alpha, a, b, beta, c) };
    };
    // The kernel wants C column-major; Cᵀ = Bᵀ·Aᵀ when it is row-major.
    let (m, n, a, b, c) = if c.1 == 1 {
        (m, n, a, b, (c.0, c.2))
    } else {
        (n, m, (b.0, b.2, b.1), (a.0, a.2, a.1), (c.0, c.1))
    };
    if threads <= 1 || m.saturating_mul(n).saturating_mul(k) < PARALLEL_MIN {
        // SAFETY: the CPU has the features (`avx2()`), and the rest is the
        // caller's contract.
        return unsafe { kernel(m, k, n, alpha, a, b, beta, c) };
    }
    // Cut C into one block of whole microkernel tiles per thread: by rows
    // when each thread then reads less (its rows of A, all of B) than by
    // columns (all of A, its columns of B).
    let (a_len, b_len) = (m.saturating_mul(k), k.saturating_mul(n));
    let split_rows = m >= threads * T::MR
        && (a_len / threads).saturating_add(b_len) <= a_len.saturating_add(b_len / threads);
    let (len, unit) = if split_rows { (m, T::MR) } else { (n, NR) };
    let parts = threads.min(len.div_ceil(unit));
    let bound = |part: usize| {
        if part == parts {
            len
        } else {
            ((len * part / parts + unit / 2) / unit * unit).min(len)
        }
    };
    let shared = Product { a, b, c };
    threads::run(parts, &|part| {
        let (start, end) = (bound(part), bound(part + 1));
        if start >= end {
            return;
        }
        let (a, b, c) = shared.get();
        // SAFETY: rows (or columns) start..end of C and the matching rows
        // of A (or columns of B) are inside the caller's matrices, the
        // blocks of different parts do not overlap, and the CPU has the
        // features.
        unsafe {
            if split_rows {
                let a = (a.0.offset(start as isize * a.1), a.1, a.2);
                let c = (c.0.add(start), c.1);
                kernel(end - start, k, n, alpha, a, b, beta, c);
            } else {
                let b = (b.0.offset(start as isize * b.2), b.1, b.2);
                let c = (c.0.offset(start as isize * c.1), c.1);
                kernel(m, k, end - start, alpha, a, b, beta, c);
            }
        }
    });
}

#[cfg(target_arch = "x86_64")]
use avx2::NR;
#[cfg(not(target_arch = "x86_64"))]
const NR: usize = 1;

/// A read-only operand: pointer, shape and strides in elements.
struct Operand<T> {
    ptr: *const T,
    rows: usize,
    cols: usize,
    row_stride: isize,
    col_stride: isize,
}

impl<T> Operand<T> {
    fn of<R: Dim, C: Dim, S: RawStorage<T, R, C>>(m: &Matrix<T, R, C, S>) -> Self {
        let (rows, cols) = m.shape();
        let (rs, cs) = m.strides();
        Operand {
            ptr: m.as_ptr(),
            rows,
            cols,
            row_stride: rs as isize,
            col_stride: cs as isize,
        }
    }

    fn transposed(self) -> Self {
        Operand {
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
            ..self
        }
    }
}

/// `c ← α·a·b + β·c`, the one place that calls the kernel.
fn gemm_operands<T: Scalar, R: Dim, C: Dim, SC: RawStorageMut<T, R, C>>(
    alpha: T,
    a: Operand<T>,
    b: Operand<T>,
    beta: T,
    c: &mut Matrix<T, R, C, SC>,
) {
    let (m, n) = c.shape();
    assert!(
        a.rows == m && b.cols == n && a.cols == b.rows,
        "gemm: ({}×{})·({}×{}) does not fit {}×{}",
        a.rows,
        a.cols,
        b.rows,
        b.cols,
        m,
        n
    );
    let (rs, cs) = c.strides();
    // SAFETY: the shapes were checked above, the strides come from the
    // matrices themselves, and `c` is borrowed mutably, so it cannot alias
    // `a` or `b`, which were built from shared borrows.
    unsafe {
        product(
            threads(),
            m,
            a.cols,
            n,
            alpha,
            (a.ptr, a.row_stride, a.col_stride),
            (b.ptr, b.row_stride, b.col_stride),
            beta,
            (c.as_mut_ptr(), rs as isize, cs as isize),
        );
    }
}

/// `c ← α·a·b + β·c`.
pub(crate) fn gemm<T, R, K, C, SA, SB, SC>(
    alpha: T,
    a: &Matrix<T, R, K, SA>,
    b: &Matrix<T, K, C, SB>,
    beta: T,
    c: &mut Matrix<T, R, C, SC>,
) where
    T: Scalar,
    R: Dim,
    K: Dim,
    C: Dim,
    SA: RawStorage<T, R, K>,
    SB: RawStorage<T, K, C>,
    SC: RawStorageMut<T, R, C>,
{
    gemm_operands(alpha, Operand::of(a), Operand::of(b), beta, c);
}

/// `c ← α·aᵀ·b + β·c`.
pub(crate) fn gemm_tn<T, R, K, C, SA, SB, SC>(
    alpha: T,
    a: &Matrix<T, K, R, SA>,
    b: &Matrix<T, K, C, SB>,
    beta: T,
    c: &mut Matrix<T, R, C, SC>,
) where
    T: Scalar,
    R: Dim,
    K: Dim,
    C: Dim,
    SA: RawStorage<T, K, R>,
    SB: RawStorage<T, K, C>,
    SC: RawStorageMut<T, R, C>,
{
    gemm_operands(alpha, Operand::of(a).transposed(), Operand::of(b), beta, c);
}

/// `c ← α·a·bᵀ + β·c`.
pub(crate) fn gemm_nt<T, R, K, C, SA, SB, SC>(
    alpha: T,
    a: &Matrix<T, R, K, SA>,
    b: &Matrix<T, C, K, SB>,
    beta: T,
    c: &mut Matrix<T, R, C, SC>,
) where
    T: Scalar,
    R: Dim,
    K: Dim,
    C: Dim,
    SA: RawStorage<T, R, K>,
    SB: RawStorage<T, C, K>,
    SC: RawStorageMut<T, R, C>,
{
    gemm_operands(alpha, Operand::of(a), Operand::of(b).transposed(), beta, c);
}

/// How many values past the last column's offset [`gemm_shifted`] may
/// read: a whole last panel of rows.
pub(crate) const fn shifted_slack<T: Kernels>() -> usize {
    T::MR
}

/// `c ← a·b + β·c` for an `m × k` matrix `a` whose column `p` is the run
/// `values[offsets[p]..][..m]` (`k = offsets.len()`) and a column-major
/// `m × n` matrix `c`: a stride-1 convolution of an image padded so that
/// each filter pixel sees one contiguous run of it, multiplied without
/// unfolding it (`im2col`). Without AVX2 the runs are copied into
/// `scratch` and multiplied as a matrix.
///
/// # Panics
/// When `values` does not hold `max(offsets) + m +`
/// [`shifted_slack`] values, `b` is not `k × n` or `c` not `m·n` long.
pub(crate) fn gemm_shifted<T: Scalar>(
    m: usize,
    values: &[T],
    offsets: &[usize],
    b: &DMatrixView<'_, T>,
    beta: T,
    c: &mut [T],
    scratch: &mut Vec<T>,
) {
    gemm_shifted_on(T::avx2(), m, values, offsets, b, beta, c, scratch);
}

/// [`gemm_shifted`] with the AVX2 kernels given, or without them.
#[allow(clippy::too_many_arguments)]
fn gemm_shifted_on<T: Scalar>(
    kernels: Option<Avx2<T>>,
    m: usize,
    values: &[T],
    offsets: &[usize],
    b: &DMatrixView<'_, T>,
    beta: T,
    c: &mut [T],
    scratch: &mut Vec<T>,
) {
    let (k, n) = (offsets.len(), b.ncols());
    assert_eq!(b.nrows(), k, "B has one row per column of A");
    assert_eq!(c.len(), m * n, "C is m × n");
    let last = offsets
        .iter()
        .max()
        .map_or(0, |&o| o + m + shifted_slack::<T>());
    assert!(last <= values.len(), "every run of A is inside the values");
    if m == 0 || n == 0 {
        return;
    }
    match kernels.filter(|_| k > 0).map(|kernels| kernels.shifted) {
        // SAFETY: the CPU has the features; the asserts above keep every
        // read of A (with a whole last panel), B and C inside them, and
        // `c` is borrowed apart from `values` and `b`.
        Some(kernel) => unsafe {
            let (rsb, csb) = b.strides();
            let b = (b.as_ptr(), rsb as isize, csb as isize);
            kernel(
                m,
                n,
                T::one(),
                values.as_ptr(),
                offsets,
                b,
                beta,
                (c.as_mut_ptr(), m as isize),
            );
        },
        None => {
            let a = gather_runs(values, offsets, m, scratch);
            let mut c = DMatrixViewMut::from_slice(c, m, n);
            gemm(T::one(), &a, b, beta, &mut c);
        }
    }
}

/// `c ← aᵀ·b + β·c` for a `k × m` matrix `a`, a `k × n` matrix `b` whose
/// column `j` is the run `values[offsets[j]..][..k]` (`n = offsets.len()`)
/// and a column-major `m × n` matrix `c`: the filters' gradient of a
/// stride-1 convolution, `doutᵀ` times the runs of the padded image (see
/// [`gemm_shifted`]). Without AVX2 the runs are copied into `scratch`.
///
/// # Panics
/// When a run is not inside `values`, or `c` is not `m·n` long.
pub(crate) fn gemm_tn_shifted<T: Scalar>(
    a: &DMatrixView<'_, T>,
    values: &[T],
    offsets: &[usize],
    beta: T,
    c: &mut [T],
    scratch: &mut Vec<T>,
) {
    gemm_tn_shifted_on(T::avx2(), a, values, offsets, beta, c, scratch);
}

/// [`gemm_tn_shifted`] with the AVX2 kernels given, or without them.
fn gemm_tn_shifted_on<T: Scalar>(
    kernels: Option<Avx2<T>>,
    a: &DMatrixView<'_, T>,
    values: &[T],
    offsets: &[usize],
    beta: T,
    c: &mut [T],
    scratch: &mut Vec<T>,
) {
    let (k, m, n) = (a.nrows(), a.ncols(), offsets.len());
    assert_eq!(c.len(), m * n, "C is m × n");
    let last = offsets.iter().max().map_or(0, |&o| o + k);
    assert!(last <= values.len(), "every run of B is inside the values");
    if m == 0 || n == 0 {
        return;
    }
    match kernels.filter(|_| k > 0).map(|kernels| kernels.shifted_b) {
        // SAFETY: the CPU has the features; the asserts above keep every
        // read of B and write of C inside them; A is read through its own
        // strides, and `c` is borrowed apart from `a` and `values`.
        Some(kernel) => unsafe {
            let (rs, cs) = a.strides();
            let a = (a.as_ptr(), cs as isize, rs as isize);
            let c = (c.as_mut_ptr(), m as isize);
            kernel(m, k, T::one(), a, values.as_ptr(), offsets, beta, c);
        },
        None => {
            let b = gather_runs(values, offsets, k, scratch);
            let mut c = DMatrixViewMut::from_slice(c, m, n);
            gemm_tn(T::one(), a, &b, beta, &mut c);
        }
    }
}

/// The runs `values[offsets[j]..][..len]` copied side by side into
/// `scratch`, as the columns of a matrix.
fn gather_runs<'a, T: Scalar>(
    values: &[T],
    offsets: &[usize],
    len: usize,
    scratch: &'a mut Vec<T>,
) -> DMatrixView<'a, T> {
    scratch.clear();
    for &offset in offsets {
        scratch.extend_from_slice(&values[offset..offset + len]);
    }
    DMatrixView::from_slice(scratch, len, offsets.len())
}

/// Asks the CPU to bring `bytes` into the cache, without waiting.
pub(crate) fn prefetch(bytes: &[u8]) {
    #[cfg(target_arch = "x86_64")]
    for line in bytes.chunks(64) {
        use core::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        // SAFETY: a prefetch only hints; SSE is part of x86-64.
        #[allow(unused_unsafe)]
        unsafe {
            _mm_prefetch::<_MM_HINT_T0>(line.as_ptr().cast())
        };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = bytes;
}

/// The sum of `values`, in eight interleaved partial sums: a single running
/// sum waits on each addition's latency, eight fill the vector units.
pub(crate) fn sum<T: Scalar>(values: &[T]) -> T {
    let mut partial = [T::zero(); 8];
    let chunks = values.chunks_exact(8);
    let rest = chunks
        .remainder()
        .iter()
        .fold(T::zero(), |total, &v| total + v);
    for chunk in chunks {
        for (partial, &v) in partial.iter_mut().zip(chunk) {
            *partial += v;
        }
    }
    let [a, b, c, d, e, f, g, h] = partial;
    ((a + e) + (b + f)) + ((c + g) + (d + h)) + rest
}

#[cfg(test)]
mod tests {
    use nalgebra::{Matrix2, Matrix2x3, Matrix3, Matrix3x2};

    use super::*;

    /// The products over runs, with and without AVX2, equal the product
    /// of the matrix the runs make, in f32 and f64.
    #[test]
    fn products_over_runs_match_the_matrix_they_make() {
        fn check<T: Scalar>(tolerance: f64) {
            let (m, n) = (37, 5);
            let offsets = [0, 3, 4, 20, 41, 9, 2];
            let k = offsets.len();
            let values: Vec<T> = (0..100)
                .map(|v| T::of_f64(((v * 7 % 23) as f64 - 11.0) / 8.0))
                .collect();
            let b: Vec<T> = (0..k * n)
                .map(|v| T::of_f64((v % 5) as f64 - 2.0))
                .collect();
            let b = DMatrixView::from_slice(&b, k, n);
            let mut scratch = Vec::new();
            let a = gather_runs(&values, &offsets, m, &mut scratch).into_owned();
            let expected = &a * b;
            let expected_tn = a.transpose() * a.clone();
            for kernels in [T::avx2(), None] {
                let mut c = vec![T::of_f64(1.0); m * n];
                gemm_shifted_on(
                    kernels,
                    m,
                    &values,
                    &offsets,
                    &b,
                    T::zero(),
                    &mut c,
                    &mut scratch,
                );
                for (&got, &want) in c.iter().zip(expected.as_slice()) {
                    assert!(
                        (got - want).as_f64().abs() <= tolerance,
                        "{got:?} vs {want:?}"
                    );
                }
                // aᵀ·a, with the second `a` as runs of length m.
                let mut c = vec![T::zero(); k * k];
                let a = a.as_view();
                gemm_tn_shifted_on(
                    kernels,
                    &a,
                    &values,
                    &offsets,
                    T::zero(),
                    &mut c,
                    &mut scratch,
                );
                for (&got, &want) in c.iter().zip(expected_tn.as_slice()) {
                    assert!(
                        (got - want).as_f64().abs() <= tolerance,
                        "{got:?} vs {want:?}"
                    );
                }
            }
        }
        check::<f32>(1e-4);
        check::<f64>(1e-12);
    }

    #[test]
    fn products_match_nalgebra() {
        let a = Matrix2x3::new(1.0, 2.0, 3.0, 4.0, 5.0, 6.0);
        let b = Matrix3x2::new(7.0, 8.0, 9.0, 10.0, 11.0, 12.0);
        let mut c = Matrix2::zeros();
        gemm(1.0, &a, &b, 0.0, &mut c);
        assert_eq!(c, Matrix2::new(58.0, 64.0, 139.0, 154.0));

        let mut c = Matrix3::zeros();
        gemm_tn(1.0, &a, &a, 0.0, &mut c);
        assert_eq!(c, a.transpose() * a);

        let mut c = Matrix2::from_element(1.0);
        gemm_nt(2.0, &a, &a, 1.0, &mut c);
        assert_eq!(c, (a * a.transpose()) * 2.0 + Matrix2::from_element(1.0));
    }

    /// A dense matrix stored column- or row-major, as strided pointers see it.
    struct Stored<T> {
        values: Vec<T>,
        rows: usize,
        cols: usize,
        column_major: bool,
    }

    impl<T: Scalar> Stored<T> {
        fn new(rows: usize, cols: usize, column_major: bool, seed: &mut u64) -> Self {
            let values = (0..rows * cols)
                .map(|_| {
                    *seed = seed
                        .wrapping_mul(6_364_136_223_846_793_005)
                        .wrapping_add(1_442_695_040_888_963_407);
                    T::of_f64((*seed >> 40) as f64 / (1u64 << 24) as f64 - 0.5)
                })
                .collect();
            Stored {
                values,
                rows,
                cols,
                column_major,
            }
        }

        fn strides(&self) -> (isize, isize) {
            if self.column_major {
                (1, self.rows as isize)
            } else {
                (self.cols as isize, 1)
            }
        }

        fn at(&self, i: usize, j: usize) -> f64 {
            let (rs, cs) = self.strides();
            self.values[i * rs as usize + j * cs as usize].as_f64()
        }
    }

    /// Every layout of A, B and C, the edges of the tiles and of the depth
    /// blocks, both values of β, and splits between threads, against the
    /// textbook triple loop.
    fn check_products<T: Scalar>(tolerance: f64) {
        let mut seed = 1;
        let shapes = [
            (1, 1, 1),
            (3, 2, 5),
            (16, 7, 6),
            (17, 9, 13),
            (33, 257, 7),
            (100, 50, 10),
            (100, 784, 50),
            (784, 100, 50),
            (50, 100, 10),
            (5, 600, 31),
        ];
        for (case, &(m, k, n)) in shapes.iter().enumerate() {
            for layout in 0..8 {
                let a = Stored::<T>::new(m, k, layout & 1 == 0, &mut seed);
                let b = Stored::<T>::new(k, n, layout & 2 == 0, &mut seed);
                let mut c = Stored::<T>::new(m, n, layout & 4 == 0, &mut seed);
                let before: Vec<f64> = (0..m * n).map(|x| c.at(x % m, x / m)).collect();
                let (alpha, beta) = if (case + layout) % 2 == 0 {
                    (1.0, 0.0)
                } else {
                    (0.5, -2.0)
                };
                let threads = 1 + (case + layout) % 3;
                let ((rsa, csa), (rsb, csb), (rsc, csc)) = (a.strides(), b.strides(), c.strides());
                // SAFETY: the strides address the vectors' own elements.
                unsafe {
                    product(
                        threads,
                        m,
                        k,
                        n,
                        T::of_f64(alpha),
                        (a.values.as_ptr(), rsa, csa),
                        (b.values.as_ptr(), rsb, csb),
                        T::of_f64(beta),
                        (c.values.as_mut_ptr(), rsc, csc),
                    );
                }
                for i in 0..m {
                    for j in 0..n {
                        let dot: f64 = (0..k).map(|p| a.at(i, p) * b.at(p, j)).sum();
                        let expected = alpha * dot + beta * before[i + j * m];
                        let got = c.at(i, j);
                        assert!(
                            (got - expected).abs()
                                <= tolerance * (1.0 + expected.abs()) * (k as f64).sqrt(),
                            "{}: {m}×{k}×{n}, layout {layout}, C[{i}, {j}] = {got}, not {expected}",
                            T::NAME
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn products_match_the_triple_loop_in_f32() {
        check_products::<f32>(1e-5);
    }

    #[test]
    fn products_match_the_triple_loop_in_f64() {
        check_products::<f64>(1e-13);
    }

    #[test]
    fn sums_long_slices_exactly() {
        for rows in [0, 1, 7, 8, 9, 100, 1001] {
            let values: Vec<f64> = (0..rows).map(|n| (n % 13) as f64 - 6.0).collect();
            assert_eq!(sum(&values), values.iter().sum::<f64>(), "{rows} rows");
        }
    }

    #[test]
    fn beta_zero_overwrites_nan() {
        let a = [1.0f32; 6];
        let b = [2.0f32; 6];
        let mut c = [f32::NAN; 4];
        // SAFETY: 2×3 times 3×2 into 2×2, all column-major.
        unsafe {
            product(
                1,
                2,
                3,
                2,
                1.0,
                (a.as_ptr(), 1, 2),
                (b.as_ptr(), 1, 3),
                0.0,
                (c.as_mut_ptr(), 1, 2),
            )
        };
        assert_eq!(c, [6.0; 4]);
    }
}
