//! The geometry of a window sliding over an image, in numbers.

/// The geometry of a window sliding over an image, in numbers: what the
/// `im2col` loops need.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Window {
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    pub window_h: usize,
    pub window_w: usize,
    pub stride: usize,
    pub pad: usize,
    pub out_h: usize,
    pub out_w: usize,
}

impl Window {
    /// The geometry of a `window_h × window_w` window over a `channels ×
    /// height × width` image, or `None` when it does not fit: a window
    /// larger than the padded image, or a zero stride or window. A stride
    /// that does not divide the room the window has to move leaves the last
    /// pixels unvisited, as in the book.
    pub const fn fit(
        channels: usize,
        height: usize,
        width: usize,
        window_h: usize,
        window_w: usize,
        stride: usize,
        pad: usize,
    ) -> Option<Window> {
        match (
            slide(height, window_h, stride, pad),
            slide(width, window_w, stride, pad),
        ) {
            (Some(out_h), Some(out_w)) => Some(Window {
                channels,
                height,
                width,
                window_h,
                window_w,
                stride,
                pad,
                out_h,
                out_w,
            }),
            _ => None,
        }
    }

    /// Pixels per output channel: `out_h · out_w`.
    pub const fn out_pixels(&self) -> usize {
        self.out_h * self.out_w
    }

    /// Values per input sample: `C · H · W`.
    pub const fn in_len(&self) -> usize {
        self.channels * self.height * self.width
    }

    /// The length of one `im2col` row: `C · FH · FW`.
    pub const fn patch_len(&self) -> usize {
        self.channels * self.window_h * self.window_w
    }

    /// The window of the input gradient seen as a convolution, when it is
    /// one: for stride 1, `dx[c, y, x] = Σ dout[f, y + P − i, x + P − j] ·
    /// W[f, c, i, j]`, which is the filters turned by 180° and swapped
    /// (`[C, FN, FH, FW]`) sliding over `dout` (`filters` channels of
    /// `out_h × out_w`) padded with `FH − 1 − P` zeros; the output is the
    /// input's `height × width`. `None` for other strides, rectangular
    /// filters (the two paddings would differ) and `P ≥ FH` (negative
    /// padding).
    pub const fn transposed(&self, filters: usize) -> Option<Window> {
        if self.stride != 1 || self.window_h != self.window_w || self.pad >= self.window_h {
            return None;
        }
        Some(Window {
            channels: filters,
            height: self.out_h,
            width: self.out_w,
            window_h: self.window_h,
            window_w: self.window_w,
            stride: 1,
            pad: self.window_h - 1 - self.pad,
            out_h: self.height,
            out_w: self.width,
        })
    }
}

/// `⌊(size + 2·pad − window)/stride⌋ + 1`, when the window fits.
const fn slide(size: usize, window: usize, stride: usize, pad: usize) -> Option<usize> {
    let padded = size + 2 * pad;
    if window == 0 || stride == 0 || padded < window {
        return None;
    }
    Some((padded - window) / stride + 1)
}
