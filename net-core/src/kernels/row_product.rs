//! One sample times a matrix stored row by row: a frozen `Affine`'s
//! batch of one, with no packing and the zeros of the input skipped.

use super::dispatch::Kernels;

/// Entries of the sums kept in registers at once (four AVX vectors of
/// `f32`, eight of `f64`).
const BLOCK: usize = 32;

/// `sums[j] += Σₚ x[p]·W[p, j]` over the nonzero `x[p]`, in order of `p`,
/// with `W` row by row in `rows` (row `p` at `p·stride`) and `sums` one
/// such row (`stride` entries, a multiple of 8). With FMA, each step is
/// fused, as the sparse forward product's is, so that the two give the
/// same bits.
///
/// # Panics
/// When `rows` holds fewer than `x.len()` rows, or `sums` is not one row.
pub(crate) fn add_row_product<T: Kernels>(x: &[T], rows: &[T], stride: usize, sums: &mut [T]) {
    assert!(
        stride % 8 == 0 && sums.len() == stride && rows.len() >= x.len() * stride,
        "add_row_product: the rows do not fit"
    );
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU has the features.
        return unsafe { fused(x, rows, stride, sums) };
    }
    add(x, rows, stride, sums, |sum, w, x| sum + w * x);
}

/// [`add`] with each step an FMA.
///
/// # Safety
/// The CPU has AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn fused<T: Kernels>(x: &[T], rows: &[T], stride: usize, sums: &mut [T]) {
    add(x, rows, stride, sums, |sum, w, x| w.mul_add(x, sum));
}

/// The sums, [`BLOCK`] entries at a time (then 8 at a time for the
/// rest), each block over every nonzero input while it sits in registers.
#[inline(always)]
fn add<T: Kernels>(
    x: &[T],
    rows: &[T],
    stride: usize,
    sums: &mut [T],
    step: impl Fn(T, T, T) -> T + Copy,
) {
    let whole = stride - stride % BLOCK;
    for start in (0..whole).step_by(BLOCK) {
        block::<T, BLOCK>(
            x,
            rows,
            stride,
            start,
            &mut sums[start..start + BLOCK],
            step,
        );
    }
    for start in (whole..stride).step_by(8) {
        block::<T, 8>(x, rows, stride, start, &mut sums[start..start + 8], step);
    }
}

#[inline(always)]
fn block<T: Kernels, const B: usize>(
    x: &[T],
    rows: &[T],
    stride: usize,
    start: usize,
    out: &mut [T],
    step: impl Fn(T, T, T) -> T,
) {
    let mut acc: [T; B] = core::array::from_fn(|k| out[k]);
    for (p, &xp) in x.iter().enumerate() {
        if xp != T::zero() {
            let row = &rows[p * stride + start..][..B];
            for (sum, &w) in acc.iter_mut().zip(row) {
                *sum = step(*sum, w, xp);
            }
        }
    }
    out.copy_from_slice(&acc);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_the_rows_of_the_nonzero_inputs() {
        // x = [2, 0, -1], W = [[1, 2], [100, 100], [3, 4]], padded to 8.
        let mut rows = vec![0.0f32; 3 * 8];
        rows[..2].copy_from_slice(&[1.0, 2.0]);
        rows[8..10].copy_from_slice(&[100.0, 100.0]);
        rows[16..18].copy_from_slice(&[3.0, 4.0]);
        let mut sums = vec![0.0f32; 8];
        sums[..2].copy_from_slice(&[0.5, 0.25]);
        add_row_product(&[2.0, 0.0, -1.0], &rows, 8, &mut sums);
        assert_eq!(&sums[..2], &[0.5 + 2.0 - 3.0, 0.25 + 4.0 - 4.0]);
        assert!(sums[2..].iter().all(|&s| s == 0.0));
    }

    #[test]
    fn blocks_and_the_rest_agree_with_a_plain_sum() {
        let (inputs, stride) = (37, 48);
        let rows: Vec<f64> = (0..inputs * stride)
            .map(|k| ((k * 7 % 13) as f64) - 6.0)
            .collect();
        let x: Vec<f64> = (0..inputs)
            .map(|p| if p % 3 == 0 { 0.0 } else { p as f64 * 0.5 })
            .collect();
        let mut sums = vec![1.0; stride];
        add_row_product(&x, &rows, stride, &mut sums);
        for (j, &sum) in sums.iter().enumerate() {
            let expected = 1.0
                + (0..inputs)
                    .map(|p| x[p] * rows[p * stride + j])
                    .sum::<f64>();
            assert_eq!(sum, expected, "entry {j}");
        }
    }
}
