//! The row-wise softmax of a column-major batch: the loss layer's, the
//! `Softmax` layer's and a frozen network's probabilities.

use super::dispatch::Kernels;

/// The per-row buffers of a softmax over a column-major batch; the row
/// maxima and sums stay for the loss.
#[derive(Clone, Debug, Default)]
pub(crate) struct SoftmaxRows<T> {
    pub(crate) row_max: Vec<T>,
    pub(crate) row_sum: Vec<T>,
    row_inverse: Vec<T>,
}

impl<T: Kernels> SoftmaxRows<T> {
    /// `y ←` the row-wise softmax of `x`, both column-major with `rows`
    /// rows.
    pub(crate) fn softmax(&mut self, x: &[T], rows: usize, y: &mut [T]) {
        // Columns are contiguous, so each step walks whole columns and keeps
        // one running value per row.
        let (row_max, row_sum) = (&mut self.row_max, &mut self.row_sum);
        row_sum.clear();
        row_sum.resize(rows, T::zero());
        // Columns have `rows` entries (chunks of at least 1 entry, for the
        // empty batch). The maxima start as the first column: the same
        // maxima as from −∞ (a NaN or −∞ row is NaN either way).
        let rows = rows.max(1);
        row_max.clear();
        row_max.extend_from_slice(&x[..x.len().min(rows)]);
        for column in x.chunks_exact(rows).skip(1) {
            for (max, &v) in row_max.iter_mut().zip(column) {
                if v > *max {
                    *max = v;
                }
            }
        }
        // y = exp(x − max), all entries at once (a vectorized exp for f32),
        // then the row sums.
        for (y_col, x_col) in y.chunks_exact_mut(rows).zip(x.chunks_exact(rows)) {
            for ((y, &x), &max) in y_col.iter_mut().zip(x_col).zip(row_max.iter()) {
                *y = x - max;
            }
        }
        T::exp_in_place(y);
        for y_col in y.chunks_exact(rows) {
            for (sum, &y) in row_sum.iter_mut().zip(y_col) {
                *sum += y;
            }
        }
        // y /= sum, as a product by 1/sum: one division per row, not per
        // entry (the row sums stay for the loss).
        let inverse = &mut self.row_inverse;
        inverse.clear();
        inverse.extend(row_sum.iter().map(|&sum| T::one() / sum));
        for y_col in y.chunks_exact_mut(rows) {
            for (y, &inverse) in y_col.iter_mut().zip(inverse.iter()) {
                *y *= inverse;
            }
        }
    }
}
