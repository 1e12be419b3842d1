//! A sum that does not wait on each addition.

use crate::kernels::dispatch::Kernels;

/// The sum of `values`, in eight interleaved partial sums: a single running
/// sum waits on each addition's latency, eight fill the vector units.
pub(crate) fn sum<T: Kernels>(values: &[T]) -> T {
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
    use super::*;

    #[test]
    fn sums_long_slices_exactly() {
        for rows in [0, 1, 7, 8, 9, 100, 1001] {
            let values: Vec<f64> = (0..rows).map(|n| (n % 13) as f64 - 6.0).collect();
            assert_eq!(sum(&values), values.iter().sum::<f64>(), "{rows} rows");
        }
    }
}
