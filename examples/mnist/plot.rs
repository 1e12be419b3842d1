//! The training curves as a PNG: loss and accuracy per epoch, train and
//! test, side by side, like the book's figures 4-11 and 4-12.
//!
//! Everything is drawn in memory by `plotters` (bitmap backend, no system
//! library), with text in the Ubuntu font embedded in the binary by the
//! `epaint_default_fonts` crate, so no system font, fontconfig or freetype
//! is needed. The image is encoded by the `png` crate straight into a
//! [`staticnet::io::AtomicFile`], which replaces the target only once the
//! whole image is written.

use std::io::Write;
use std::ops::Range;
use std::path::Path;
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};
use staticnet::io::AtomicFile;

/// One row of the training history, recorded once per epoch.
#[derive(Clone, Copy, Debug)]
pub struct EpochRecord {
    /// The epoch (0 before any training).
    pub epoch: usize,
    /// The number of SGD steps done so far.
    pub iteration: usize,
    /// The mean loss of the mini-batches of the epoch (NaN when none ran).
    pub train_loss: f64,
    /// The loss on the whole test set.
    pub test_loss: f64,
    /// The accuracy on the whole training set, in `[0, 1]`.
    pub train_acc: f64,
    /// The accuracy on the whole test set, in `[0, 1]`.
    pub test_acc: f64,
}

impl From<&staticnet::train::EpochRecord> for EpochRecord {
    /// A record of the training driver; what it did not measure is NaN.
    fn from(record: &staticnet::train::EpochRecord) -> Self {
        let nan = f64::NAN;
        EpochRecord {
            epoch: record.epoch,
            iteration: record.iteration,
            train_loss: record.train_loss.unwrap_or(nan),
            test_loss: record.val_loss.unwrap_or(nan),
            train_acc: record.train_acc.unwrap_or(nan),
            test_acc: record.val_acc.unwrap_or(nan),
        }
    }
}

/// The image size, in pixels.
const WIDTH: u32 = 1400;
const HEIGHT: u32 = 560;

/// The font family name the embedded font is registered under.
const FONT: &str = "sans-serif";

/// Matplotlib's first two colours, as in the book's figures.
const TRAIN_COLOR: RGBColor = RGBColor(0x1f, 0x77, 0xb4);
const TEST_COLOR: RGBColor = RGBColor(0xff, 0x7f, 0x0e);

/// With more epochs than this, the points are not marked.
const MAX_MARKED_POINTS: usize = 60;

/// Writes the loss and accuracy curves (train and test, per epoch) as a PNG,
/// like the book's figures 4-11/4-12.
///
/// Values that are not finite (such as the train loss of epoch 0, before
/// any step) are left out of the curves. The file is replaced atomically:
/// whatever happens, `path` holds either its old content or the whole new
/// image.
///
/// # Errors
/// A message naming `path` if `history` is empty, or if the image cannot be
/// drawn, encoded or written.
pub fn write_curves(path: &Path, history: &[EpochRecord]) -> Result<(), String> {
    let fail = |what: &str, e: &dyn std::fmt::Display| {
        format!(
            "could not write the curves to `{}`: {what}: {e}",
            path.display()
        )
    };
    if history.is_empty() {
        return Err(format!(
            "could not write the curves to `{}`: no epoch was recorded",
            path.display()
        ));
    }
    let rgb = render(history).map_err(|e| fail("drawing failed", &e))?;
    let mut file = AtomicFile::create(path).map_err(|e| fail("I/O error", &e.source))?;
    encode_png(&rgb, WIDTH, HEIGHT, &mut file).map_err(|e| fail("PNG encoding failed", &e))?;
    file.persist().map_err(|e| fail("I/O error", &e.source))
}

/// Registers the embedded font once per process.
fn register_embedded_font() -> Result<(), String> {
    static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            register_font(FONT, FontStyle::Normal, epaint_default_fonts::UBUNTU_LIGHT)
                .map_err(|_| "the embedded font could not be parsed".to_owned())
        })
        .clone()
}

/// Draws the two panels into an RGB buffer of `WIDTH × HEIGHT` pixels.
fn render(history: &[EpochRecord]) -> Result<Vec<u8>, String> {
    register_embedded_font()?;
    let mut buffer = vec![0u8; WIDTH as usize * HEIGHT as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut buffer, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let last = history[history.len() - 1];
        let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
        let title = format!(
            "Training curves: {}, {}",
            plural(last.epoch, "epoch"),
            plural(last.iteration, "iteration")
        );
        let root = root
            .margin(12, 0, 0, 0)
            .titled(&title, (FONT, 30).into_font().color(&BLACK))
            .map_err(|e| e.to_string())?;
        let (left, right) = root.split_horizontally(WIDTH / 2);

        let epochs = epoch_range(history);
        let losses = finite(history.iter().flat_map(|r| [r.train_loss, r.test_loss]));
        let loss_top = losses.fold(0.0f64, f64::max);
        let loss_top = if loss_top > 0.0 { loss_top * 1.08 } else { 1.0 };
        panel(
            &left,
            history,
            "Loss (cross-entropy)",
            "loss",
            epochs.clone(),
            0.0..loss_top,
            [
                |r: &EpochRecord| r.train_loss,
                |r: &EpochRecord| r.test_loss,
            ],
            ["train loss", "test loss"],
            SeriesLabelPosition::UpperRight,
        )?;

        let lowest =
            finite(history.iter().flat_map(|r| [r.train_acc, r.test_acc])).fold(1.0f64, f64::min);
        // Zoom on the range the accuracy covers, by tenths: 0.9–1.0 for a
        // trained net, 0–1 when the untrained epoch 0 is in the history.
        let acc_bottom = ((lowest * 10.0).floor() / 10.0).clamp(0.0, 0.9);
        panel(
            &right,
            history,
            "Accuracy",
            "accuracy",
            epochs,
            acc_bottom..1.0,
            [|r: &EpochRecord| r.train_acc, |r: &EpochRecord| r.test_acc],
            ["train acc", "test acc"],
            SeriesLabelPosition::LowerRight,
        )?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(buffer)
}

/// The finite values of `values`.
fn finite(values: impl Iterator<Item = f64>) -> impl Iterator<Item = f64> {
    values.filter(|v| v.is_finite())
}

/// The epochs on the x axis: from the first recorded to the last, at least
/// one epoch wide.
fn epoch_range(history: &[EpochRecord]) -> Range<i64> {
    let to_i64 = |e: usize| i64::try_from(e).unwrap_or(i64::MAX / 2);
    let first = history.iter().map(|r| to_i64(r.epoch)).min().unwrap_or(0);
    let last = history.iter().map(|r| to_i64(r.epoch)).max().unwrap_or(0);
    first..last.max(first + 1)
}

/// One panel: a train curve (solid) and a test curve (dashed), with axes,
/// a caption and a legend.
#[allow(clippy::too_many_arguments)]
fn panel(
    area: &DrawingArea<BitMapBackend<'_>, Shift>,
    history: &[EpochRecord],
    caption: &str,
    y_desc: &str,
    x_range: Range<i64>,
    y_range: Range<f64>,
    values: [fn(&EpochRecord) -> f64; 2],
    names: [&str; 2],
    legend_at: SeriesLabelPosition,
) -> Result<(), String> {
    let err = |e: DrawingAreaErrorKind<_>| e.to_string();
    let area = area.margin(10, 10, 20, 30);
    let span = x_range.end - x_range.start;
    let mut chart = ChartBuilder::on(&area)
        .caption(caption, (FONT, 26))
        .x_label_area_size(55)
        .y_label_area_size(75)
        .build_cartesian_2d(x_range, y_range)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc(y_desc)
        .x_labels(usize::try_from(span + 1).unwrap_or(10).min(12))
        .y_labels(11)
        .y_label_formatter(&|y| format!("{y:.2}"))
        .label_style((FONT, 19))
        .axis_desc_style((FONT, 21))
        .light_line_style(WHITE.mix(0.0))
        .bold_line_style(BLACK.mix(0.12))
        .draw()
        .map_err(err)?;

    let marked = history.len() <= MAX_MARKED_POINTS;
    for (k, ((value, name), color)) in values
        .iter()
        .zip(names)
        .zip([TRAIN_COLOR, TEST_COLOR])
        .enumerate()
    {
        let points: Vec<(i64, f64)> = history
            .iter()
            .map(|r| (i64::try_from(r.epoch).unwrap_or(i64::MAX / 2), value(r)))
            .filter(|(_, v)| v.is_finite())
            .collect();
        let line = color.stroke_width(3);
        let dashed = k == 1;
        let series = if dashed {
            chart.draw_series(DashedLineSeries::new(points.iter().copied(), 12, 7, line))
        } else {
            chart.draw_series(LineSeries::new(points.iter().copied(), line))
        }
        .map_err(err)?;
        series.label(name).legend(move |(x, y)| {
            // A dashed or solid sample of the line, with a marker.
            let gap = if dashed { 4 } else { 0 };
            EmptyElement::at((x, y))
                + PathElement::new([(0, 0), (8 - gap / 2, 0)], line)
                + PathElement::new([(8 + gap / 2, 0), (22 - gap / 2, 0)], line)
                + PathElement::new([(22 + gap / 2, 0), (30, 0)], line)
                + Circle::new((15, 0), if marked { 4 } else { 0 }, color.filled())
        });
        if marked {
            chart
                .draw_series(points.iter().map(|&p| Circle::new(p, 4, color.filled())))
                .map_err(err)?;
        }
    }
    chart
        .configure_series_labels()
        .position(legend_at)
        .label_font((FONT, 20))
        .legend_area_size(42)
        .margin(15)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.4))
        .draw()
        .map_err(err)?;
    Ok(())
}

/// Encodes an RGB buffer as an 8-bit PNG into `out`.
fn encode_png(
    rgb: &[u8],
    width: u32,
    height: u32,
    out: impl Write,
) -> Result<(), png::EncodingError> {
    let mut encoder = png::Encoder::new(out, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(rgb)?;
    writer.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn history(epochs: usize) -> Vec<EpochRecord> {
        (0..=epochs)
            .map(|epoch| {
                let t = epoch as f64;
                EpochRecord {
                    epoch,
                    iteration: epoch * 600,
                    train_loss: if epoch == 0 {
                        f64::NAN
                    } else {
                        0.1 + 1.0 / (t + 0.5)
                    },
                    test_loss: 0.12 + 1.0 / (t + 0.6),
                    train_acc: 0.98 - 0.88 / (t + 1.0),
                    test_acc: 0.97 - 0.87 / (t + 1.0),
                }
            })
            .collect()
    }

    fn decode(path: &Path) -> (u32, u32) {
        let bytes = std::fs::read(path).unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let info = decoder.read_info().unwrap();
        info.info().size()
    }

    #[test]
    fn writes_a_png_and_replaces_an_old_file() {
        let dir = std::env::temp_dir().join(format!("staticnet-plot-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("curves.png");
        std::fs::write(&path, b"old").unwrap();
        for epochs in [0, 1, 16, 100] {
            write_curves(&path, &history(epochs)).unwrap();
            assert_eq!(decode(&path), (WIDTH, HEIGHT));
        }
        // Only the image is left: no temporary file.
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["curves.png"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn errors_name_the_file() {
        let err = write_curves(Path::new("/nonexistent-dir/curves.png"), &history(2)).unwrap_err();
        assert!(err.contains("/nonexistent-dir/curves.png"), "{err}");
        let err = write_curves(Path::new("curves.png"), &[]).unwrap_err();
        assert!(err.contains("no epoch"), "{err}");
    }
}
