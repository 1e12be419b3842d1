//! The report's pictures: the class probabilities as bars, and the image
//! the network sees as text.

use std::fmt::Write as _;

use crate::frame::{Pixels, SIDE};
use crate::weights::CLASSES;

/// Appends the predicted digit (with the true label when known) and a bar
/// per class probability.
pub fn write_prediction(out: &mut String, scores: &[f64; CLASSES], truth: Option<u8>) {
    let probabilities = softmax(scores);
    let best = argmax(&probabilities);
    let _ = write!(
        out,
        "predicted digit: {best} (probability {:.4})",
        probabilities[best]
    );
    let _ = match truth {
        Some(label) if usize::from(label) == best => writeln!(out, ", true label {label}: correct"),
        Some(label) => writeln!(out, ", true label {label}: WRONG"),
        None => writeln!(out),
    };
    let _ = writeln!(out, "class probabilities:");
    for (class, &p) in probabilities.iter().enumerate() {
        let bar = "#".repeat((p * 40.0).round() as usize);
        let mark = if class == best { " <" } else { "" };
        let line = format!("  {class}  {p:.4}  {bar}{mark}");
        let _ = writeln!(out, "{}", line.trim_end());
    }
}

fn softmax(scores: &[f64; CLASSES]) -> [f64; CLASSES] {
    let max = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let exp = scores.map(|s| (s - max).exp());
    let sum: f64 = exp.iter().sum();
    exp.map(|e| e / sum)
}

fn argmax(values: &[f64; CLASSES]) -> usize {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate() {
        if v > values[best] {
            best = i;
        }
    }
    best
}

/// The 28×28 image as text, darkest to lightest ` .:-=+*#%@`.
pub fn ascii_art(pixels: &Pixels) -> String {
    const RAMP: &[u8] = b" .:-=+*#%@";
    let mut out = String::new();
    for row in pixels.chunks_exact(SIDE) {
        out.push_str("  |");
        for &p in row {
            let level = ((p / 255.0) * (RAMP.len() - 1) as f64).round() as usize;
            let c = char::from(RAMP[level.min(RAMP.len() - 1)]);
            out.push(c);
            out.push(c);
        }
        out.push_str("|\n");
    }
    out
}
