//! The products over the runs of a padded image ([`Shifted`]): a
//! stride-1 convolution's `im2col` matrix read in place.
//!
//! [`Shifted`]: super::Shifted

use nalgebra::{DMatrixView, DMatrixViewMut};

use crate::kernels::dispatch::{Avx2, Kernels};
use crate::kernels::gemm::{gemm, gemm_tn};

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
pub(crate) fn gemm_shifted<T: Kernels>(
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
fn gemm_shifted_on<T: Kernels>(
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
pub(crate) fn gemm_tn_shifted<T: Kernels>(
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
fn gemm_tn_shifted_on<T: Kernels>(
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
fn gather_runs<'a, T: Kernels>(
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Scalar;

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
}
