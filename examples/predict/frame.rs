//! The image the network reads — 28×28 shades of gray, white on black,
//! `0..=255` — and how any gray image is brought to it, as MNIST's digits
//! were: inverted when mostly light, padded to a square, resized.

use std::ops::Range;

/// The image side the network reads.
pub const SIDE: usize = 28;
/// Pixels per image.
pub const PIXELS: usize = SIDE * SIDE;

/// A 28×28 image as the network reads it: row-major, white on black,
/// `0..=255`.
pub type Pixels = [f64; PIXELS];

/// An image in shades of gray, `0..=255`, row-major.
pub struct Gray {
    pub width: usize,
    pub height: usize,
    pub values: Vec<f64>,
}

/// Inverts a mostly light image, pads a non-square one to a square and
/// resizes it to 28×28; returns the pixels and a note for each change.
pub fn to_mnist(mut gray: Gray) -> (Pixels, Vec<String>) {
    let mut notes = Vec::new();
    let mean = gray.values.iter().sum::<f64>() / gray.values.len().max(1) as f64;
    if mean > 127.0 {
        notes.push(format!(
            "the image is mostly light (mean {mean:.0} of 255): taking it for a dark digit on a \
             light background and inverting it, as MNIST digits are white on black"
        ));
        for v in &mut gray.values {
            *v = 255.0 - *v;
        }
    }
    if (gray.width, gray.height) == (SIDE, SIDE) {
        let mut pixels = [0.0; PIXELS];
        for (dst, &v) in pixels.iter_mut().zip(&gray.values) {
            *dst = v.clamp(0.0, 255.0);
        }
        return (pixels, notes);
    }
    let (w, h) = (gray.width, gray.height);
    let side = w.max(h);
    if w != h {
        notes.push(format!(
            "padded the {w}×{h} image with black to {side}×{side}, keeping its aspect ratio"
        ));
    }
    notes.push(format!(
        "resized the {side}×{side} image to 28×28 (area average)"
    ));
    let mut pixels = resize_padded(&gray, side);
    for v in &mut pixels {
        *v = v.clamp(0.0, 255.0);
    }
    (pixels, notes)
}

/// One output pixel's extent along an axis of `src` input pixels: the
/// span `start..end`, in input pixels, that it averages.
struct Cell {
    start: f64,
    end: f64,
    /// Input pixels per output pixel.
    scale: f64,
}

impl Cell {
    /// Output pixel `i` of `dst` along an axis of `src` input pixels.
    fn new(i: usize, src: usize, dst: usize) -> Self {
        let scale = src as f64 / dst as f64;
        Cell {
            start: i as f64 * scale,
            end: (i + 1) as f64 * scale,
            scale,
        }
    }

    /// The input pixels it overlaps, among `src`.
    fn span(&self, src: usize) -> Range<usize> {
        self.start.floor() as usize..(self.end.ceil() as usize).min(src)
    }

    /// The share of the cell that input pixel `j` covers (the shares sum to
    /// 1), when it covers any.
    fn weight(&self, j: usize) -> Option<f64> {
        let overlap = self.end.min((j + 1) as f64) - self.start.max(j as f64);
        Some(overlap / self.scale).filter(|&w| w > 0.0)
    }
}

/// Resizes the image, centered on a black square of `side × side`, to
/// 28×28 by area averaging: each output pixel is the mean of the area it
/// covers (for enlarging, this repeats input pixels).
///
/// The square is never built: a 200000×1 image would make it 320 GB. Its
/// black pixels add nothing to a mean, so only the image's own are
/// visited, and the rows are averaged (horizontally, then into the output
/// rows they fall in) one at a time, so that beyond the image nothing
/// larger than the output is held.
fn resize_padded(gray: &Gray, side: usize) -> Pixels {
    let (left, top) = ((side - gray.width) / 2, (side - gray.height) / 2);
    let columns = gray.width + left;
    let cells: [Cell; SIDE] = std::array::from_fn(|i| Cell::new(i, side, SIDE));
    let mut out = [0.0; PIXELS];
    let mut narrow = [0.0; SIDE];
    for (y, row) in gray.values.chunks_exact(gray.width).enumerate() {
        for (dst, cell) in narrow.iter_mut().zip(&cells) {
            let span = cell.span(side);
            *dst = (span.start.max(left)..span.end.min(columns))
                .filter_map(|j| Some(row[j - left] * cell.weight(j)?))
                .fold(0.0, |sum, v| sum + v);
        }
        let padded_y = top + y;
        for (out_row, cell) in out.chunks_exact_mut(SIDE).zip(&cells) {
            if !cell.span(side).contains(&padded_y) {
                continue;
            }
            if let Some(weight) = cell.weight(padded_y) {
                for (dst, &v) in out_row.iter_mut().zip(&narrow) {
                    *dst += v * weight;
                }
            }
        }
    }
    out
}
