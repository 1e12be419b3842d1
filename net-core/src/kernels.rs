//! Matrix products on nalgebra matrices, sent to a packed GEMM kernel.
//!
//! nalgebra's own products differ by an order of magnitude depending on the
//! call (`tr_mul_to` does not pack its operands), so every product in the
//! layers goes through here. Transposition is free: it only swaps strides.
//! The dimension types make a mismatched product a compile error wherever
//! the dimensions are static; dynamic ones are checked at run time.

use nalgebra::{Dim, Matrix, RawStorage, RawStorageMut};

use crate::Scalar;

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
        T::gemm(
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

#[cfg(test)]
mod tests {
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
}
