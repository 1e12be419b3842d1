//! The book's `im2col` and `col2im`: a convolution as one matrix product.
//!
//! `im2col` unfolds a batch of images so that each row holds the `C·FH·FW`
//! pixels one filter position sees: the matrix has `N·OH·OW` rows, one per
//! sample and output pixel, in the book's order (sample, then output row,
//! then output column), and its columns run over channel, filter row and
//! filter column, as `W.reshape(FN, -1)` does. The product with the
//! filters is then a single GEMM.
//!
//! The matrix is stored column-major, as nalgebra and the kernels expect:
//! the values of one column — one filter pixel over every position — are
//! contiguous, which is what the loops below write (a run of `OW` outputs
//! reads a row of the image at the stride).

use super::window::Window;
use crate::kernels::dispatch::Kernels;

/// The range of output columns `ox` whose input column
/// `ox·stride + offset − pad` lies inside `0..width`.
fn inside(window: &Window, offset: usize) -> (usize, usize) {
    let (stride, pad) = (window.stride, window.pad);
    let first = pad.saturating_sub(offset).div_ceil(stride);
    let end = (window.width + pad).saturating_sub(offset).div_ceil(stride);
    (
        first.min(window.out_w),
        end.min(window.out_w).max(first.min(window.out_w)),
    )
}

/// One run of `OW` values of `col`: where it starts in `col`, and the
/// output columns `first..end` of it that read inside the input row, the
/// first of them at `start` in the batch, the next ones at the stride
/// (`start` is `None` when the whole row is padding).
struct Row {
    at: usize,
    first: usize,
    end: usize,
    start: Option<usize>,
}

/// Calls `row` for every channel, filter pixel `(i, j)`, sample and output
/// row of the column-major matrix of `batch` samples.
fn for_each_row(window: &Window, batch: usize, mut row: impl FnMut(Row)) {
    let w = window;
    let (pixels, rows) = (w.out_pixels(), batch * w.out_pixels());
    for c in 0..w.channels {
        for i in 0..w.window_h {
            for j in 0..w.window_w {
                let column = ((c * w.window_h + i) * w.window_w + j) * rows;
                // The same columns of every row are inside: computed once
                // per filter pixel, not per row (two divisions each).
                let (first, end) = inside(window, j);
                for n in 0..batch {
                    let image = (n * w.channels + c) * w.height * w.width;
                    for oy in 0..w.out_h {
                        let y = (oy * w.stride + i).checked_sub(w.pad);
                        let line = y.filter(|&y| y < w.height).map(|y| image + y * w.width);
                        row(Row {
                            at: column + n * pixels + oy * w.out_w,
                            first,
                            end,
                            // Input column of output column `ox`: `ox·stride + j − pad`.
                            start: line.map(|line| line + first * w.stride + j - w.pad),
                        });
                    }
                }
            }
        }
    }
}

/// Unfolds `x` (`batch` images, `N × C × H × W`) into `col`, the
/// column-major `(N·OH·OW) × (C·FH·FW)` matrix; padding reads as zero.
pub(crate) fn im2col<T: Kernels>(window: &Window, batch: usize, x: &[T], col: &mut [T]) {
    debug_assert_eq!(x.len(), batch * window.in_len());
    debug_assert_eq!(col.len(), batch * window.out_pixels() * window.patch_len());
    if window.stride == 1 && window.out_w == window.width {
        return im2col_same_width(window, batch, x, col);
    }
    let (stride, out_w) = (window.stride, window.out_w);
    for_each_row(window, batch, |row| {
        let out = &mut col[row.at..row.at + out_w];
        let Some(start) = row.start else {
            out.fill(T::zero());
            return;
        };
        let (padding_before, rest) = out.split_at_mut(row.first);
        let (inside, padding_after) = rest.split_at_mut(row.end - row.first);
        padding_before.fill(T::zero());
        padding_after.fill(T::zero());
        if stride == 1 {
            inside.copy_from_slice(&x[start..start + inside.len()]);
        } else {
            for (k, value) in inside.iter_mut().enumerate() {
                *value = x[start + k * stride];
            }
        }
    });
}

/// [`im2col`] when the output rows are as wide as the input's (stride 1,
/// padding `(FW − 1)/2`, as DeepConvNet's 3×3 filters with padding 1):
/// each filter pixel's column is then the input plane shifted by a
/// constant, so its rows inside the image are one copy, not one per row
/// (a call of 28 values each was most of `im2col`'s time); the values
/// that wrapped around from the next or last row are the padding columns,
/// set to zero after.
fn im2col_same_width<T: Kernels>(window: &Window, batch: usize, x: &[T], col: &mut [T]) {
    let w = window;
    let (pixels, width, plane) = (w.out_pixels(), w.width, w.height * w.width);
    let mut columns = col.chunks_exact_mut(pixels);
    for c in 0..w.channels {
        for i in 0..w.window_h {
            // Output rows whose input row `oy + i − pad` is inside.
            let rows_first = w.pad.saturating_sub(i).min(w.out_h);
            let rows_end = (w.height + w.pad)
                .saturating_sub(i)
                .clamp(rows_first, w.out_h);
            for j in 0..w.window_w {
                let (first, end) = inside(window, j);
                for n in 0..batch {
                    let Some(column) = columns.next() else { return };
                    let image = &x[(n * w.channels + c) * plane..][..plane];
                    let (above, rest) = column.split_at_mut(rows_first * width);
                    let (rows, below) = rest.split_at_mut((rows_end - rows_first) * width);
                    above.fill(T::zero());
                    below.fill(T::zero());
                    // Output pixel `q` of these rows reads input pixel
                    // `q + shift` of the plane, where it is inside.
                    let shift = (rows_first + i) as isize * width as isize
                        - (w.pad * width + w.pad) as isize
                        + j as isize;
                    let len = rows.len() as isize;
                    let lo = (-shift).clamp(0, len);
                    let hi = (plane as isize - shift).clamp(lo, len);
                    rows[..lo as usize].fill(T::zero());
                    rows[hi as usize..].fill(T::zero());
                    if lo < hi {
                        let from = (lo + shift) as usize;
                        rows[lo as usize..hi as usize]
                            .copy_from_slice(&image[from..from + (hi - lo) as usize]);
                    }
                    for row in rows.chunks_exact_mut(width) {
                        row[..first].fill(T::zero());
                        row[end..].fill(T::zero());
                    }
                }
            }
        }
    }
}

/// The adjoint of [`im2col`]: adds every entry of `col` back onto the pixel
/// it was read from, in `dx` (overwritten); entries of the padding are
/// dropped.
pub(crate) fn col2im<T: Kernels>(window: &Window, batch: usize, col: &[T], dx: &mut [T]) {
    debug_assert_eq!(dx.len(), batch * window.in_len());
    dx.fill(T::zero());
    let stride = window.stride;
    for_each_row(window, batch, |row| {
        let Some(start) = row.start else { return };
        let values = &col[row.at + row.first..row.at + row.end];
        if stride == 1 {
            // As slices, so that the loop vectorizes.
            for (dx, &value) in dx[start..start + values.len()].iter_mut().zip(values) {
                *dx += value;
            }
        } else {
            for (k, &value) in values.iter().enumerate() {
                dx[start + k * stride] += value;
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use typenum::{U1, U2, U3, U4, U7};

    use super::*;
    use crate::Chw;

    /// `im2col` as the book writes it, one value at a time:
    /// `col[n·OH·OW + oy·OW + ox][(c·FH + i)·FW + j] = x[n][c][oy·S + i − P][ox·S + j − P]`.
    fn naive(window: &Window, batch: usize, x: &[f64]) -> Vec<f64> {
        let w = window;
        let rows = batch * w.out_pixels();
        let mut col = vec![0.0; rows * w.patch_len()];
        for n in 0..batch {
            for oy in 0..w.out_h {
                for ox in 0..w.out_w {
                    let r = n * w.out_pixels() + oy * w.out_w + ox;
                    for c in 0..w.channels {
                        for i in 0..w.window_h {
                            for j in 0..w.window_w {
                                let k = (c * w.window_h + i) * w.window_w + j;
                                let y = (oy * w.stride + i) as isize - w.pad as isize;
                                let xx = (ox * w.stride + j) as isize - w.pad as isize;
                                let inside = (0..w.height as isize).contains(&y)
                                    && (0..w.width as isize).contains(&xx);
                                if inside {
                                    let at = ((n * w.channels + c) * w.height + y as usize)
                                        * w.width
                                        + xx as usize;
                                    col[k * rows + r] = x[at];
                                }
                            }
                        }
                    }
                }
            }
        }
        col
    }

    fn ramp(len: usize) -> Vec<f64> {
        (0..len).map(|v| v as f64 + 1.0).collect()
    }

    /// The book's examples: `(1, 3, 7, 7)` with a 5×5 filter gives a
    /// `(9, 75)` matrix, `(10, 3, 7, 7)` a `(90, 75)` one.
    #[test]
    fn the_books_shapes() {
        let window = Window::over::<Chw<U3, U7, U7>>(5, 5, 1, 0).expect("fits");
        for (batch, rows) in [(1, 9), (10, 90)] {
            assert_eq!(
                (batch * window.out_pixels(), window.patch_len()),
                (rows, 75)
            );
            let x = ramp(batch * window.in_len());
            let mut col = vec![f64::NAN; rows * 75];
            im2col(&window, batch, &x, &mut col);
            assert_eq!(col, naive(&window, batch, &x));
        }
        // Row 0 is the top-left 5×5 patch of channel 0: x[0][0][0][0..5], …
        let x = ramp(window.in_len());
        let mut col = vec![0.0; 9 * 75];
        im2col(&window, 1, &x, &mut col);
        let first_row: Vec<f64> = (0..10).map(|k| col[k * 9]).collect();
        assert_eq!(
            first_row,
            [1.0, 2.0, 3.0, 4.0, 5.0, 8.0, 9.0, 10.0, 11.0, 12.0]
        );
    }

    #[test]
    fn padding_and_strides_match_the_definition() {
        for (window_size, stride, pad) in [(3, 2, 1), (3, 1, 1), (2, 2, 0), (4, 1, 2), (1, 3, 0)] {
            let window = Window::over::<Chw<U3, U7, U7>>(window_size, window_size, stride, pad)
                .or_else(|| Window::over::<Chw<U3, U4, U4>>(window_size, window_size, stride, pad))
                .expect("one of the two fits");
            let batch = 2;
            let x = ramp(batch * window.in_len());
            let mut col = vec![f64::NAN; batch * window.out_pixels() * window.patch_len()];
            im2col(&window, batch, &x, &mut col);
            assert_eq!(col, naive(&window, batch, &x), "{window:?}");
        }
        // Rows as wide as the input's (one copy per filter pixel), with
        // rectangular windows: FH × FW, padding (FW − 1)/2.
        for (window_h, window_w, pad) in [(3, 3, 1), (2, 3, 1), (5, 5, 2), (4, 1, 0), (1, 5, 2)] {
            let window = Window::over::<Chw<U3, U7, U7>>(window_h, window_w, 1, pad).expect("fits");
            assert_eq!(window.out_w, window.width, "{window:?}");
            let batch = 2;
            let x = ramp(batch * window.in_len());
            let mut col = vec![f64::NAN; batch * window.out_pixels() * window.patch_len()];
            im2col(&window, batch, &x, &mut col);
            assert_eq!(col, naive(&window, batch, &x), "{window:?}");
        }
        // One input row: the first and last filter rows read only padding.
        let window = Window::over::<Chw<U2, U1, U3>>(3, 3, 1, 1).expect("fits");
        let x = ramp(3 * window.in_len());
        let mut col = vec![f64::NAN; 3 * window.out_pixels() * window.patch_len()];
        im2col(&window, 3, &x, &mut col);
        assert_eq!(col, naive(&window, 3, &x));
    }

    /// `col2im` is the adjoint of `im2col`: `⟨im2col(x), c⟩ = ⟨x, col2im(c)⟩`.
    #[test]
    fn col2im_is_the_adjoint() {
        let window = Window::over::<Chw<U3, U7, U7>>(3, 3, 2, 1).expect("fits");
        let batch = 2;
        let x: Vec<f64> = ramp(batch * window.in_len())
            .iter()
            .map(|v| (v * 0.37).sin())
            .collect();
        let c: Vec<f64> = ramp(batch * window.out_pixels() * window.patch_len())
            .iter()
            .map(|v| (v * 0.11).cos())
            .collect();
        let mut col = vec![0.0; c.len()];
        im2col(&window, batch, &x, &mut col);
        let mut dx = vec![f64::NAN; x.len()];
        col2im(&window, batch, &c, &mut dx);
        let left: f64 = col.iter().zip(&c).map(|(a, b)| a * b).sum();
        let right: f64 = x.iter().zip(&dx).map(|(a, b)| a * b).sum();
        assert!((left - right).abs() < 1e-9, "{left} vs {right}");
    }
}
