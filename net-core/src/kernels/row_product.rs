//! One sample times a matrix stored row by row: a frozen `Affine`'s
//! batch of one, with no packing and the zeros of the input skipped.

use super::dispatch::Kernels;

/// Entries of the sums kept in registers at once: eight AVX vectors of
/// `f32` (of `f64`, [`BLOCK`]` / 2`), so that eight FMAs are in flight,
/// as many as the FMA's latency takes to hide.
const BLOCK: usize = 64;

/// `sums[j] += Σₚ x[p]·W[p, j]` over the nonzero `x[p]`, in order of `p`,
/// with `W` row by row in `rows` (row `p` at `p·stride`) and `sums` one
/// such row (`stride` entries, a multiple of 8). With FMA, each step is
/// fused, as the sparse forward product's is, so that the two give the
/// same bits. `nonzeros` is a buffer for the places of the nonzeros,
/// listed first without a branch (a branch per input, taken at random,
/// cost more than the products).
///
/// # Panics
/// When `rows` holds fewer than `x.len()` rows, or `sums` is not one row.
pub(crate) fn add_row_product<T: Kernels>(
    x: &[T],
    rows: &[T],
    stride: usize,
    sums: &mut [T],
    nonzeros: &mut Vec<u32>,
) {
    assert!(
        stride % 8 == 0
            && sums.len() == stride
            && rows.len() >= x.len() * stride
            && u32::try_from(x.len()).is_ok(),
        "add_row_product: the rows do not fit"
    );
    if nonzeros.len() < x.len() {
        nonzeros.resize(x.len(), 0);
    }
    let mut count = 0;
    for (p, &v) in (0u32..).zip(x) {
        nonzeros[count] = p;
        count += usize::from(v != T::zero());
    }
    let nonzeros = &nonzeros[..count];
    #[cfg(target_arch = "x86_64")]
    if T::avx2().is_some() {
        // SAFETY: the CPU has AVX2 and FMA, which `avx2` checked.
        return unsafe { fused(x, nonzeros, rows, stride, sums) };
    }
    add(x, nonzeros, rows, stride, sums, |sum, w, x| sum + w * x);
}

/// [`add`] with each step an FMA.
///
/// # Safety
/// The CPU has AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn fused<T: Kernels>(x: &[T], nonzeros: &[u32], rows: &[T], stride: usize, sums: &mut [T]) {
    add(x, nonzeros, rows, stride, sums, |sum, w, x| {
        w.mul_add(x, sum)
    });
}

/// The sums, a block of entries at a time, each over every nonzero input
/// while it sits in registers: blocks of [`BLOCK`] `f32` (half as many
/// `f64`), then one block of the rest (a multiple of 8).
#[inline(always)]
fn add<T: Kernels>(
    x: &[T],
    nonzeros: &[u32],
    rows: &[T],
    stride: usize,
    sums: &mut [T],
    step: impl Fn(T, T, T) -> T + Copy,
) {
    let block_len = if size_of::<T>() > 4 { BLOCK / 2 } else { BLOCK };
    let mut start = 0;
    while start < stride {
        let len = block_len.min(stride - start);
        let sums = &mut sums[start..start + len];
        // One copy of the block per length, each with its sums in
        // registers (and inlined, so that its FMAs are fused ones).
        macro_rules! blocks {
            ($($len:literal)*) => {
                match len {
                    $($len => block::<T, $len>(x, nonzeros, rows, stride, start, sums, step),)*
                    _ => unreachable!("a block is a multiple of 8 up to {BLOCK}"),
                }
            };
        }
        blocks!(8 16 24 32 40 48 56 64);
        start += len;
    }
}

#[inline(always)]
fn block<T: Kernels, const B: usize>(
    x: &[T],
    nonzeros: &[u32],
    rows: &[T],
    stride: usize,
    start: usize,
    out: &mut [T],
    step: impl Fn(T, T, T) -> T,
) {
    let mut acc: [T; B] = core::array::from_fn(|k| out[k]);
    for &p in nonzeros {
        let p = p as usize;
        let (xp, row) = (x[p], &rows[p * stride + start..][..B]);
        for (sum, &w) in acc.iter_mut().zip(row) {
            *sum = step(*sum, w, xp);
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
        add_row_product(&[2.0, 0.0, -1.0], &rows, 8, &mut sums, &mut Vec::new());
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
        add_row_product(&x, &rows, stride, &mut sums, &mut Vec::new());
        for (j, &sum) in sums.iter().enumerate() {
            let expected = 1.0
                + (0..inputs)
                    .map(|p| x[p] * rows[p * stride + j])
                    .sum::<f64>();
            assert_eq!(sum, expected, "entry {j}");
        }
    }
}
