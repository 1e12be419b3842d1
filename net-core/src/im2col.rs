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

use crate::Scalar;
use crate::image::Window;

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

/// Calls `row(j, at, line)` for every channel, filter pixel `(i, j)`,
/// sample and output row: `at` is where the row's `OW` values start in the
/// column-major matrix of `batch` samples, `line` where the input row they
/// read starts in the batch (`None` when that row is padding).
fn for_each_row(window: &Window, batch: usize, mut row: impl FnMut(usize, usize, Option<usize>)) {
    let w = window;
    let (pixels, rows) = (w.out_pixels(), batch * w.out_pixels());
    for c in 0..w.channels {
        for i in 0..w.window_h {
            for j in 0..w.window_w {
                let column = ((c * w.window_h + i) * w.window_w + j) * rows;
                for n in 0..batch {
                    let image = (n * w.channels + c) * w.height * w.width;
                    for oy in 0..w.out_h {
                        let y = (oy * w.stride + i).checked_sub(w.pad);
                        let line = y.filter(|&y| y < w.height).map(|y| image + y * w.width);
                        row(j, column + n * pixels + oy * w.out_w, line);
                    }
                }
            }
        }
    }
}

/// Unfolds `x` (`batch` images, `N × C × H × W`) into `col`, the
/// column-major `(N·OH·OW) × (C·FH·FW)` matrix; padding reads as zero.
pub(crate) fn im2col<T: Scalar>(window: &Window, batch: usize, x: &[T], col: &mut [T]) {
    debug_assert_eq!(x.len(), batch * window.in_len());
    debug_assert_eq!(col.len(), batch * window.out_pixels() * window.patch_len());
    let (stride, pad, out_w) = (window.stride, window.pad, window.out_w);
    for_each_row(window, batch, |j, at, line| {
        let out = &mut col[at..at + out_w];
        let Some(line) = line else {
            out.fill(T::zero());
            return;
        };
        let (first, end) = inside(window, j);
        out[..first].fill(T::zero());
        out[end..].fill(T::zero());
        // Input column of output column `ox`: `ox·stride + j − pad`.
        let start = line + first * stride + j - pad;
        if stride == 1 {
            out[first..end].copy_from_slice(&x[start..start + (end - first)]);
        } else {
            for (k, value) in out[first..end].iter_mut().enumerate() {
                *value = x[start + k * stride];
            }
        }
    });
}

/// The adjoint of [`im2col`]: adds every entry of `col` back onto the pixel
/// it was read from, in `dx` (overwritten); entries of the padding are
/// dropped.
pub(crate) fn col2im<T: Scalar>(window: &Window, batch: usize, col: &[T], dx: &mut [T]) {
    debug_assert_eq!(dx.len(), batch * window.in_len());
    dx.fill(T::zero());
    let (stride, pad) = (window.stride, window.pad);
    for_each_row(window, batch, |j, at, line| {
        let Some(line) = line else { return };
        let (first, end) = inside(window, j);
        let start = line + first * stride + j - pad;
        for (k, &value) in col[at + first..at + end].iter().enumerate() {
            dx[start + k * stride] += value;
        }
    });
}

#[cfg(test)]
mod tests {
    use typenum::{U3, U4, U7};

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
