//! Decoding a PNG of any color type and bit depth into shades of gray,
//! within a memory bound: no I/O and no printing, so that the `fuzz_png`
//! example runs it as it is.

use crate::frame::Gray;

/// The most memory a PNG may take once decoded: its 8-bit buffer and the
/// gray (and alpha) values this program makes of it, 8 bytes a value.
pub const MAX_PNG_BYTES: usize = 256 << 20;

/// Decodes a PNG of any color type and depth into gray `0..=255`, with a
/// note for each change made on the way. Alpha is composited over a
/// background that contrasts with the strokes (see [`flatten_alpha`]).
pub fn decode_png(bytes: &[u8]) -> Result<(Gray, Vec<String>), String> {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    // Palette and low-bit gray expand to 8 bits, 16 bits strip to 8, and a
    // tRNS chunk becomes an alpha channel.
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().map_err(|e| e.to_string())?;
    // The header alone could ask for gigabytes: refuse before allocating,
    // counting what the pixels become (a gray value and an alpha value,
    // 8 bytes each), not just the 8-bit buffer.
    let (width, height) = reader.info().size();
    let values = (width as usize).checked_mul(height as usize);
    let size = reader
        .output_buffer_size()
        .zip(values)
        .and_then(|(size, values)| {
            values
                .checked_mul(16)
                .and_then(|v| v.checked_add(size))
                .map(|total| (size, total))
        })
        .filter(|&(_, total)| total <= MAX_PNG_BYTES)
        .map(|(size, _)| size)
        .ok_or_else(|| {
            let (width, height) = reader.info().size();
            format!(
                "it is {width}×{height} pixels, more than this program decodes ({} MiB)",
                MAX_PNG_BYTES >> 20
            )
        })?;
    let mut buffer = vec![0; size];
    let info = reader.next_frame(&mut buffer).map_err(|e| e.to_string())?;
    let (width, height) = (info.width as usize, info.height as usize);
    let channels = info.color_type.samples();
    // Both at their final size from the start: grown by doubling, they
    // would hold up to twice what the bound above counts.
    let mut luma = Vec::with_capacity(width * height);
    let has_alpha = matches!(
        info.color_type,
        png::ColorType::GrayscaleAlpha | png::ColorType::Rgba
    );
    let mut alpha = Vec::with_capacity(if has_alpha { width * height } else { 0 });
    for row in buffer[..info.buffer_size()].chunks_exact(info.line_size) {
        for pixel in row[..width * channels].chunks_exact(channels) {
            let [r, g, b] = [0, 1, 2].map(|i| f64::from(pixel[i.min(channels - 1)]));
            let (gray, a) = match info.color_type {
                png::ColorType::Grayscale => (r, None),
                png::ColorType::GrayscaleAlpha => (r, Some(g)),
                png::ColorType::Rgb | png::ColorType::Indexed => {
                    (0.299 * r + 0.587 * g + 0.114 * b, None)
                }
                png::ColorType::Rgba => {
                    (0.299 * r + 0.587 * g + 0.114 * b, Some(f64::from(pixel[3])))
                }
            };
            luma.push(gray);
            if let Some(a) = a {
                alpha.push(a / 255.0);
            }
        }
    }
    let mut gray = Gray {
        width,
        height,
        values: luma,
    };
    let notes = if alpha.is_empty() {
        Vec::new()
    } else {
        flatten_alpha(&mut gray, &alpha).into_iter().collect()
    };
    Ok((gray, notes))
}

/// Composites a gray image with alpha over a background: black when the
/// visible strokes are light, white when they are dark, so that the digit
/// stays visible whatever color a transparent background was given.
/// Returns a note saying so, unless every pixel is opaque.
fn flatten_alpha(gray: &mut Gray, alpha: &[f64]) -> Option<String> {
    if alpha.iter().all(|&a| a >= 1.0) {
        return None;
    }
    let weight: f64 = alpha.iter().sum();
    let ink = if weight > 0.0 {
        gray.values
            .iter()
            .zip(alpha)
            .map(|(v, a)| v * a)
            .sum::<f64>()
            / weight
    } else {
        0.0
    };
    let background = if ink > 127.5 { 0.0 } else { 255.0 };
    for (v, &a) in gray.values.iter_mut().zip(alpha) {
        *v = a * *v + (1.0 - a) * background;
    }
    Some(format!(
        "the image has transparent pixels; composited over {} (the visible pixels are mostly {})",
        if background == 0.0 { "black" } else { "white" },
        if background == 0.0 { "light" } else { "dark" }
    ))
}
