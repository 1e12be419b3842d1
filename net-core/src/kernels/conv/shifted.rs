//! A stride-1 convolution without `im2col`.
//!
//! Pad the image once, into planes of `(H + 2P) × (W + 2P)` pixels, and
//! number the outputs in the padded image's rows too: output `(oy, ox)` is
//! row `oy·(W + 2P) + ox` of the product. Filter pixel `(c, i, j)` then
//! sees, for every output, the padded pixel `offset(c, i, j)` further on:
//! column `(c, i, j)` of `im2col`'s matrix is one contiguous run of the
//! padded image, which the product reads in place
//! ([`gemm_shifted`](super::gemm_shifted)) instead of a copy
//! `C·FH·FW` times the image's size. The price: the `2P` outputs that
//! would fall between two rows are computed too, then left out when the
//! product is copied into the output.

use super::runs::shifted_slack;
use super::window::Window;
use crate::kernels::dispatch::Kernels;
use crate::kernels::relu_in_place;

/// A stride-1 window over a padded copy of the image.
#[derive(Clone, Debug)]
pub(crate) struct Shifted {
    window: Window,
    /// Where each filter pixel `(c, i, j)`, in `im2col`'s column order,
    /// starts in the padded image.
    offsets: Vec<usize>,
}

impl Shifted {
    /// The runs of `window`, or `None` when its stride is not 1.
    pub fn new(window: Window) -> Option<Self> {
        if window.stride != 1 {
            return None;
        }
        let (width, plane) = (Self::padded_width(&window), Self::padded_plane(&window));
        let mut offsets = Vec::with_capacity(window.patch_len());
        for c in 0..window.channels {
            for i in 0..window.window_h {
                for j in 0..window.window_w {
                    offsets.push(c * plane + i * width + j);
                }
            }
        }
        Some(Shifted { window, offsets })
    }

    fn padded_width(window: &Window) -> usize {
        window.width + 2 * window.pad
    }

    fn padded_plane(window: &Window) -> usize {
        (window.height + 2 * window.pad) * Self::padded_width(window)
    }

    /// The starts of the runs, one per column of `im2col`'s matrix.
    pub fn offsets(&self) -> &[usize] {
        &self.offsets
    }

    /// Rows of the product: the outputs in the padded image's rows, up to
    /// the last output.
    pub fn rows(&self) -> usize {
        let w = &self.window;
        (w.out_h - 1) * Self::padded_width(w) + w.out_w
    }

    /// `padded ←` the sample `x` with `P` zeros around each plane, and the
    /// zeros the product may read past the last run.
    pub fn pad<T: Kernels>(&self, x: &[T], padded: &mut Vec<T>) {
        let w = &self.window;
        let (width, pad, plane) = (Self::padded_width(w), w.pad, Self::padded_plane(w));
        padded.resize(w.channels * plane + shifted_slack::<T>(), T::zero());
        let (planes, slack) = padded.split_at_mut(w.channels * plane);
        slack.fill(T::zero());
        for (to, from) in planes
            .chunks_exact_mut(plane)
            .zip(x.chunks_exact(w.height * w.width))
        {
            let (above, rest) = to.split_at_mut(pad * width);
            let (rows, below) = rest.split_at_mut(w.height * width);
            above.fill(T::zero());
            below.fill(T::zero());
            for (to, from) in rows.chunks_exact_mut(width).zip(from.chunks_exact(w.width)) {
                to[..pad].fill(T::zero());
                to[pad..pad + w.width].copy_from_slice(from);
                to[pad + w.width..].fill(T::zero());
            }
        }
    }

    /// `spread ←` the sample `dout` (`FN` channels of `OH·OW` pixels) in
    /// the product's rows ([`rows`](Self::rows) by `FN`, column-major), with
    /// zeros for the outputs between rows: `unpad`'s adjoint, for the
    /// filters' gradient.
    pub fn spread<T: Kernels>(&self, dout: &[T], spread: &mut Vec<T>) {
        let w = &self.window;
        let (width, rows, pixels) = (Self::padded_width(w), self.rows(), w.out_h * w.out_w);
        spread.resize(rows * (dout.len() / pixels), T::zero());
        for (column, channel) in spread.chunks_exact_mut(rows).zip(dout.chunks_exact(pixels)) {
            for (to, from) in column.chunks_mut(width).zip(channel.chunks_exact(w.out_w)) {
                to[..w.out_w].copy_from_slice(from);
                to[w.out_w..].fill(T::zero());
            }
        }
    }

    /// `y ←` the product's outputs without the ones between rows, plus the
    /// bias of each channel when given, and through a ReLU with `relu` (a
    /// frozen layer's, folded in). The product is column-major,
    /// [`rows`](Self::rows) by the `y`'s channels.
    pub fn unpad<T: Kernels>(&self, product: &[T], bias: Option<&[T]>, relu: bool, y: &mut [T]) {
        #[cfg(target_arch = "x86_64")]
        if T::avx2().is_some() {
            // SAFETY: the CPU has AVX2 (and FMA), which `avx2` checked.
            return unsafe { self.unpad_avx2(product, bias, relu, y) };
        }
        self.unpad_each(product, bias, relu, y);
    }

    /// [`unpad`](Self::unpad) compiled for AVX2: the same sums, eight at a
    /// time.
    ///
    /// # Safety
    /// The CPU has AVX2.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn unpad_avx2<T: Kernels>(
        &self,
        product: &[T],
        bias: Option<&[T]>,
        relu: bool,
        y: &mut [T],
    ) {
        self.unpad_each(product, bias, relu, y);
    }

    #[inline(always)]
    fn unpad_each<T: Kernels>(&self, product: &[T], bias: Option<&[T]>, relu: bool, y: &mut [T]) {
        let w = &self.window;
        let (width, rows) = (Self::padded_width(w), self.rows());
        let channels = y.chunks_exact_mut(w.out_h * w.out_w);
        for (f, (channel, column)) in channels.zip(product.chunks_exact(rows)).enumerate() {
            let b = bias.map_or(T::zero(), |b| b[f]);
            for (out, row) in channel.chunks_exact_mut(w.out_w).zip(column.chunks(width)) {
                for (out, &v) in out.iter_mut().zip(row) {
                    *out = v + b;
                }
            }
            if relu {
                relu_in_place(channel);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use nalgebra::DMatrixView;
    use typenum::{U2, U5, U6};

    use super::*;
    use crate::Chw;
    use crate::kernels::conv::im2col;

    /// The product over the runs equals `im2col` times the filters, for
    /// padding 0, 1 and 2 and rectangular filters.
    #[test]
    fn runs_of_the_padded_image_are_im2col_columns() {
        for (window_h, window_w, pad) in [(3, 3, 0), (3, 3, 1), (3, 2, 2), (1, 4, 1)] {
            let window = Window::over::<Chw<U2, U5, U6>>(window_h, window_w, 1, pad).expect("fits");
            let shifted = Shifted::new(window).expect("stride 1");
            let x: Vec<f64> = (0..window.in_len())
                .map(|v| (v as f64 * 0.7).sin())
                .collect();
            let filters = 3;
            let w: Vec<f64> = (0..window.patch_len() * filters)
                .map(|v| (v as f64 * 0.3).cos())
                .collect();
            let w = DMatrixView::from_slice(&w, window.patch_len(), filters);

            let mut col = vec![0.0; window.out_pixels() * window.patch_len()];
            im2col(&window, 1, &x, &mut col);
            let expected =
                DMatrixView::from_slice(&col, window.out_pixels(), window.patch_len()) * w;

            let mut padded = Vec::new();
            shifted.pad(&x, &mut padded);
            let mut product = vec![f64::NAN; shifted.rows() * filters];
            let mut scratch = Vec::new();
            crate::kernels::conv::gemm_shifted(
                shifted.rows(),
                &padded,
                shifted.offsets(),
                &w,
                0.0,
                &mut product,
                &mut scratch,
            );
            let mut y = vec![f64::NAN; window.out_pixels() * filters];
            shifted.unpad(&product, None, false, &mut y);
            for (got, want) in y.iter().zip(expected.as_slice()) {
                assert!((got - want).abs() < 1e-12, "{window:?}: {got} vs {want}");
            }
        }
    }
}
