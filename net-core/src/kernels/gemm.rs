//! Products of nalgebra matrices: each operand is a pointer with its
//! strides, so a transposition only swaps them; the dimension types make
//! a mismatched product a compile error wherever the dimensions are
//! static, and dynamic ones are checked at run time. A large product is
//! cut into blocks of C, one per thread.

use nalgebra::{Dim, Matrix, RawStorage, RawStorageMut};

use super::loops::Strided;
use super::threads::{self, threads};
use crate::kernels::dispatch::Kernels;

/// Products with fewer multiply-adds than this stay on one thread: handing
/// half of one to another thread costs about a microsecond.
const PARALLEL_MIN: usize = 1 << 17;

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
unsafe fn product<T: Kernels>(
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
use super::loops::NR;
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
fn gemm_operands<T: Kernels, R: Dim, C: Dim, SC: RawStorageMut<T, R, C>>(
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
    T: Kernels,
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
    T: Kernels,
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
    T: Kernels,
    R: Dim,
    K: Dim,
    C: Dim,
    SA: RawStorage<T, R, K>,
    SB: RawStorage<T, C, K>,
    SC: RawStorageMut<T, R, C>,
{
    gemm_operands(alpha, Operand::of(a), Operand::of(b).transposed(), beta, c);
}

#[cfg(test)]
mod tests {
    use crate::Scalar;
    use nalgebra::{Matrix2, Matrix2x3, Matrix3, Matrix3x2};

    use super::*;

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
