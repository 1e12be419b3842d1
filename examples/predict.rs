//! Classifies one 28×28 image with saved weights of the book's
//! `TwoLayerNet`, as written by the `mnist` example's `--save`.
//!
//! ```text
//! cargo run --release --example predict -- --weights net.safetensors --png digit.png
//! cargo run --release --example predict -- --weights net.safetensors \
//!     --idx data/mnist/t10k-images-idx3-ubyte.gz --index 0
//! ```
//!
//! - The hidden size is read from the file (the shape of `W1` is
//!   `[784, H]`), as is the scalar type (`F32` or `F64`); `--hidden`
//!   overrides the size. Each supported size is its own network type.
//! - A PNG (grayscale, gray + alpha, RGB, RGBA or palette; 8 or 16 bits)
//!   is turned into what the network was trained on: grayscale, white on
//!   black (a mostly light image is inverted), 28×28 (any other size is
//!   padded to a square and resized), pixels divided by 255. Each change
//!   is reported in a note on stderr.
//! - An IDX image file (gzip or raw) is read with `--index`; when the
//!   matching labels file lies beside it (`t10k-images…` → `t10k-labels…`),
//!   the true label is printed too.
//!
//! Exit codes: 0 on success, 2 for a usage error (bad or missing flags, an
//! index out of range), 1 when a file cannot be read or does not fit.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{ArgGroup, Parser};
use staticnet::data::read_idx;
use staticnet::io::{load_checkpoint, load_weights};
use staticnet::prelude::*;

#[path = "common/two_layer_nets.rs"]
mod two_layer_nets;

use two_layer_nets::{HIDDEN_SIZES, TwoLayerNet50, parse_hidden, with_two_layer_net};

/// The image side the network reads.
const SIDE: usize = 28;
/// Pixels per image.
const PIXELS: usize = SIDE * SIDE;
/// The number of classes.
const CLASSES: usize = 10;

/// The metadata entry that marks a checkpoint (see `staticnet::io`).
const CHECKPOINT_FORMAT: &str = "staticnet.checkpoint";

#[derive(Parser, Debug)]
#[command(
    about = "Classify a 28×28 digit with weights saved by the mnist example",
    group(ArgGroup::new("input").required(true).args(["png", "idx"])),
    after_help = "Exit codes: 0 success, 1 a file cannot be read or does not fit, 2 usage error."
)]
struct Args {
    /// The weights: a safetensors file written by `mnist --save` (a
    /// checkpoint) or by `staticnet::io::save_weights`.
    #[arg(long, value_name = "PATH")]
    weights: PathBuf,
    /// Classify this PNG image (a light digit on a dark background, like
    /// MNIST; a dark-on-light image is inverted).
    #[arg(long, value_name = "FILE")]
    png: Option<PathBuf>,
    /// Classify an image of this IDX file (such as
    /// t10k-images-idx3-ubyte.gz), chosen with --index.
    #[arg(long, value_name = "FILE", requires = "index")]
    idx: Option<PathBuf>,
    /// Which image of the IDX file, from 0.
    #[arg(long, value_name = "I", requires = "idx")]
    index: Option<usize>,
    /// The hidden size, instead of the one read from the weights
    /// (50, 100, 128, 256, 512, 1000 or 1024).
    #[arg(long, value_name = "H", value_parser = parse_hidden)]
    hidden: Option<usize>,
    /// Also print the 28×28 image the network sees, as text.
    #[arg(long)]
    show: bool,
}

/// Why the program stops.
enum Failure {
    /// The command line asks for something impossible: exit code 2.
    Usage(String),
    /// A file cannot be read or does not fit: exit code 1.
    Runtime(String),
}

impl From<String> for Failure {
    fn from(message: String) -> Self {
        Failure::Runtime(message)
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(report) => {
            // A closed stdout (`| head`) is not an error worth reporting.
            let _ = std::io::stdout().lock().write_all(report.as_bytes());
            ExitCode::SUCCESS
        }
        Err(Failure::Usage(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
        Err(Failure::Runtime(message)) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// A 28×28 image as the network reads it: row-major, white on black,
/// `0..=255`.
type Pixels = [f64; PIXELS];

/// Classifies the image the arguments name; returns the report to print.
fn run(args: &Args) -> Result<String, Failure> {
    let weights = inspect_weights(&args.weights)?;
    let hidden = args.hidden.unwrap_or(weights.hidden);
    let (pixels, source, truth) = match (&args.png, &args.idx, args.index) {
        (Some(png), _, _) => (read_png(png)?, format!("{}", png.display()), None),
        (None, Some(idx), Some(index)) => {
            let (pixels, truth) = read_idx_image(idx, index)?;
            (pixels, format!("{}, image {index}", idx.display()), truth)
        }
        // clap makes one of --png and --idx (with --index) required.
        _ => {
            return Err(Failure::Usage(
                "give --png FILE or --idx FILE --index I".into(),
            ));
        }
    };
    let loaded = match weights.dtype {
        Dtype::F32 => classify::<f32>(hidden, &args.weights, weights.checkpoint, &pixels)?,
        Dtype::F64 => classify::<f64>(hidden, &args.weights, weights.checkpoint, &pixels)?,
    };

    let mut out = String::new();
    let _ = writeln!(out, "image:   {source}");
    let _ = write!(
        out,
        "weights: {} (hidden {hidden}, {}",
        args.weights.display(),
        weights.dtype.name()
    );
    let _ = match loaded.iteration {
        Some(iteration) => writeln!(out, ", checkpoint at iteration {iteration})"),
        None => writeln!(out, ")"),
    };
    if args.show {
        out.push_str(&ascii_art(&pixels));
    }
    let probabilities = softmax(&loaded.scores);
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
    Ok(out)
}

// ---------------------------------------------------------------------------
// Weights
// ---------------------------------------------------------------------------

/// The scalar type of a weight file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dtype {
    F32,
    F64,
}

impl Dtype {
    fn name(self) -> &'static str {
        match self {
            Dtype::F32 => "f32",
            Dtype::F64 => "f64",
        }
    }
}

/// What the header of a weight file says.
struct WeightsInfo {
    /// The hidden size: the second dimension of `W1`.
    hidden: usize,
    /// The dtype of `W1`.
    dtype: Dtype,
    /// Whether the file is a checkpoint (weights plus metadata and maybe
    /// optimizer state), to be read with `load_checkpoint`.
    checkpoint: bool,
}

/// Reads the header of the weight file: the hidden size, the dtype, and
/// whether it is a checkpoint.
fn inspect_weights(path: &Path) -> Result<WeightsInfo, Failure> {
    let bytes = read_bounded(path, MAX_WEIGHTS_BYTES)?;
    let metadata = match safetensors::SafeTensors::read_metadata(&bytes) {
        Ok((_, metadata)) => metadata,
        Err(_) => {
            // Let staticnet's loader say what is wrong with the file, in
            // its own words.
            let mut net = TwoLayerNet50::<f32>::new(&mut StdRng::seed_from_u64(0));
            return Err(match load_weights(&mut net, path) {
                Err(e) => Failure::Runtime(e.to_string()),
                Ok(_) => Failure::Runtime(format!(
                    "`{}` is not a safetensors file staticnet can inspect",
                    path.display()
                )),
            });
        }
    };
    let checkpoint = metadata
        .metadata()
        .as_ref()
        .and_then(|m| m.get("format"))
        .is_some_and(|format| format == CHECKPOINT_FORMAT);
    let tensors = metadata.tensors();
    let w1 = tensors.get("W1").ok_or_else(|| {
        format!(
            "`{}` has no tensor `W1`: it does not hold the weights of a two-layer net",
            path.display()
        )
    })?;
    let hidden = match w1.shape[..] {
        [PIXELS, hidden] => hidden,
        _ => {
            return Err(Failure::Runtime(format!(
                "`W1` has shape {:?} in `{}`, but a two-layer net for 28×28 images has \
                 [784, hidden]",
                w1.shape,
                path.display()
            )));
        }
    };
    let dtype = match w1.dtype {
        safetensors::Dtype::F32 => Dtype::F32,
        safetensors::Dtype::F64 => Dtype::F64,
        other => {
            return Err(Failure::Runtime(format!(
                "`W1` is stored as {other:?} in `{}`; only F32 and F64 weights can be loaded",
                path.display()
            )));
        }
    };
    Ok(WeightsInfo {
        hidden,
        dtype,
        checkpoint,
    })
}

/// The network's scores for one image, and the checkpoint's iteration.
struct Loaded {
    scores: [f64; CLASSES],
    iteration: Option<u64>,
}

/// Loads the weights into the network type of `hidden` units and scores
/// the image.
fn classify<T: Scalar>(
    hidden: usize,
    path: &Path,
    checkpoint: bool,
    pixels: &Pixels,
) -> Result<Loaded, Failure> {
    with_two_layer_net!(hidden, Net => score::<T, Net<T>>(path, checkpoint, pixels)).unwrap_or_else(
        || {
            Err(Failure::Runtime(format!(
                "the weights in `{}` have {hidden} hidden units, but this program is compiled for \
             {HIDDEN_SIZES:?} only",
                path.display()
            )))
        },
    )
}

fn score<T, N>(path: &Path, checkpoint: bool, pixels: &Pixels) -> Result<Loaded, Failure>
where
    T: Scalar,
    N: Network<T, In = Const<PIXELS>, Out = Const<CLASSES>>,
{
    // Every parameter is overwritten by the load; the draw does not matter.
    let mut net = N::new(&mut StdRng::seed_from_u64(0));
    let iteration = if checkpoint {
        Some(
            load_checkpoint(&mut net, path)
                .map_err(|e| e.to_string())?
                .iteration,
        )
    } else {
        let loaded = load_weights(&mut net, path).map_err(|e| e.to_string())?;
        if let Some(note) = loaded.note() {
            eprintln!("note: {note}");
        }
        None
    };
    let mut x: Batch<T, Const<PIXELS>> = BatchStorage::zeros(1);
    // One row: the column-major storage is the row itself.
    for (dst, &p) in BatchStorage::as_mut_slice(&mut x).iter_mut().zip(pixels) {
        *dst = T::of_f64(p / 255.0);
    }
    let y = net.predict(&x);
    let mut scores = [0.0; CLASSES];
    for (dst, &s) in scores.iter_mut().zip(BatchStorage::as_slice(y)) {
        *dst = s.as_f64();
    }
    Ok(Loaded { scores, iteration })
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

// ---------------------------------------------------------------------------
// IDX input
// ---------------------------------------------------------------------------

/// Image `index` of an IDX file of 28×28 images, and its label when the
/// matching labels file lies beside it.
fn read_idx_image(path: &Path, index: usize) -> Result<(Pixels, Option<u8>), Failure> {
    let array = read_idx(path).map_err(|e| e.to_string())?;
    let count = match array.dims[..] {
        [count, SIDE, SIDE] => count,
        _ => {
            return Err(Failure::Runtime(format!(
                "`{}` holds an array of shape {:?}, not 28×28 images [count, 28, 28]",
                path.display(),
                array.dims
            )));
        }
    };
    if index >= count {
        return Err(Failure::Usage(if count == 0 {
            format!("--index {index}: `{}` holds no image", path.display())
        } else {
            format!(
                "--index {index} is out of range: `{}` holds {count} images (0 to {})",
                path.display(),
                count - 1
            )
        }));
    }
    let image = &array.data[index * PIXELS..(index + 1) * PIXELS];
    let mut pixels = [0.0; PIXELS];
    for (dst, &p) in pixels.iter_mut().zip(image) {
        *dst = f64::from(p);
    }
    Ok((pixels, label_beside(path, index, count)))
}

/// The label of sample `index` from the labels file matching the images
/// file `images` (`…-images-idx3-ubyte[.gz]` → `…-labels-idx1-ubyte[.gz]`),
/// if there is one holding `count` labels.
fn label_beside(images: &Path, index: usize, count: usize) -> Option<u8> {
    let name = images.file_name()?.to_str()?;
    if !name.contains("images-idx3") {
        return None;
    }
    let labels = name.replace("images-idx3", "labels-idx1");
    let toggled = match labels.strip_suffix(".gz") {
        Some(raw) => raw.to_owned(),
        None => format!("{labels}.gz"),
    };
    let path = [labels, toggled]
        .into_iter()
        .map(|name| images.with_file_name(name))
        .find(|path| path.is_file())?;
    match read_idx(&path) {
        Ok(array) if array.dims == [count] => array.data.get(index).copied(),
        Ok(array) => {
            eprintln!(
                "note: `{}` holds an array of shape {:?}, not {count} labels; no true label shown",
                path.display(),
                array.dims
            );
            None
        }
        Err(e) => {
            eprintln!("note: no true label shown: {e}");
            None
        }
    }
}

// ---------------------------------------------------------------------------
// PNG input
// ---------------------------------------------------------------------------

/// The most memory a PNG may take once decoded: its 8-bit buffer and the
/// gray (and alpha) values this program makes of it, 8 bytes a value.
const MAX_PNG_BYTES: usize = 256 << 20;

/// The largest PNG file read, compressed.
const MAX_PNG_FILE_BYTES: u64 = 64 << 20;

/// The largest weight file read: far above a two-layer net's (a net of
/// 1024 hidden units in f64 is 6.5 MB).
const MAX_WEIGHTS_BYTES: u64 = 1 << 30;

/// Reads the regular file at `path`, of at most `max` bytes: a device such
/// as `/dev/zero`, a pipe or a directory is refused before anything is read,
/// and so is a file larger than `max`.
fn read_bounded(path: &Path, max: u64) -> Result<Vec<u8>, Failure> {
    use std::io::Read;

    let fail = |e: std::io::Error| format!("could not read `{}`: {e}", path.display());
    let file = std::fs::File::open(path).map_err(fail)?;
    let metadata = file.metadata().map_err(fail)?;
    if !metadata.is_file() {
        return Err(Failure::Runtime(format!(
            "could not read `{}`: it is not a regular file",
            path.display()
        )));
    }
    if metadata.len() > max {
        return Err(Failure::Runtime(format!(
            "`{}` is {} bytes, more than this program reads ({} MiB)",
            path.display(),
            metadata.len(),
            max >> 20
        )));
    }
    let mut bytes = Vec::with_capacity(metadata.len() as usize);
    // `take`: a file that grows while it is read stops at the bound.
    file.take(max).read_to_end(&mut bytes).map_err(fail)?;
    Ok(bytes)
}

/// An image in shades of gray, `0..=255`, row-major.
struct Gray {
    width: usize,
    height: usize,
    values: Vec<f64>,
}

/// Reads a PNG and turns it into what the network was trained on, with a
/// note on stderr for every change.
fn read_png(path: &Path) -> Result<Pixels, Failure> {
    let bytes = read_bounded(path, MAX_PNG_FILE_BYTES)?;
    let gray = decode_png(&bytes).map_err(|e| {
        format!(
            "`{}` is not a PNG image staticnet can read: {e}",
            path.display()
        )
    })?;
    let (pixels, notes) = to_mnist(gray);
    for note in notes {
        eprintln!("note: {note}");
    }
    Ok(pixels)
}

/// Decodes a PNG of any color type and depth into gray `0..=255`. Alpha is
/// composited over a background that contrasts with the strokes (see
/// [`flatten_alpha`]).
fn decode_png(bytes: &[u8]) -> Result<Gray, String> {
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
    let mut luma = Vec::with_capacity(width * height);
    let mut alpha = Vec::new();
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
    if !alpha.is_empty() {
        flatten_alpha(&mut gray, &alpha);
    }
    Ok(gray)
}

/// Composites a gray image with alpha over a background: black when the
/// visible strokes are light, white when they are dark, so that the digit
/// stays visible whatever color a transparent background was given.
fn flatten_alpha(gray: &mut Gray, alpha: &[f64]) {
    if alpha.iter().all(|&a| a >= 1.0) {
        return;
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
    eprintln!(
        "note: the image has transparent pixels; composited over {} (the visible pixels are \
         mostly {})",
        if background == 0.0 { "black" } else { "white" },
        if background == 0.0 { "light" } else { "dark" }
    );
    for (v, &a) in gray.values.iter_mut().zip(alpha) {
        *v = a * *v + (1.0 - a) * background;
    }
}

/// Inverts a mostly light image, pads a non-square one to a square and
/// resizes it to 28×28; returns the pixels and a note for each change.
fn to_mnist(mut gray: Gray) -> (Pixels, Vec<String>) {
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
    if (gray.width, gray.height) != (SIDE, SIDE) {
        let (w, h) = (gray.width, gray.height);
        let side = w.max(h);
        let padded = if w == h {
            gray
        } else {
            notes.push(format!(
                "padded the {w}×{h} image with black to {side}×{side}, keeping its aspect ratio"
            ));
            pad_to_square(&gray, side)
        };
        notes.push(format!(
            "resized the {side}×{side} image to 28×28 (area average)"
        ));
        gray = resize(&padded, SIDE, SIDE);
    }
    let mut pixels = [0.0; PIXELS];
    for (dst, &v) in pixels.iter_mut().zip(&gray.values) {
        *dst = v.clamp(0.0, 255.0);
    }
    (pixels, notes)
}

/// The image centered on a black square of `side × side`.
fn pad_to_square(gray: &Gray, side: usize) -> Gray {
    let (left, top) = ((side - gray.width) / 2, (side - gray.height) / 2);
    let mut values = vec![0.0; side * side];
    for (y, row) in gray.values.chunks_exact(gray.width).enumerate() {
        let start = (top + y) * side + left;
        values[start..start + gray.width].copy_from_slice(row);
    }
    Gray {
        width: side,
        height: side,
        values,
    }
}

/// For each of `dst` cells along an axis of `src` pixels, the source pixels
/// it covers and their share of the cell (the weights sum to 1).
fn box_weights(src: usize, dst: usize) -> Vec<Vec<(usize, f64)>> {
    let scale = src as f64 / dst as f64;
    (0..dst)
        .map(|i| {
            let (start, end) = (i as f64 * scale, (i + 1) as f64 * scale);
            let first = start.floor() as usize;
            let last = (end.ceil() as usize).min(src);
            (first..last)
                .map(|j| {
                    let overlap = end.min((j + 1) as f64) - start.max(j as f64);
                    (j, overlap / scale)
                })
                .filter(|&(_, w)| w > 0.0)
                .collect()
        })
        .collect()
}

/// Resizes by area averaging: each output pixel is the mean of the source
/// area it covers (for enlarging, this repeats source pixels).
fn resize(gray: &Gray, width: usize, height: usize) -> Gray {
    let columns = box_weights(gray.width, width);
    let rows = box_weights(gray.height, height);
    // Horizontally first: height × width.
    let mut narrow = Vec::with_capacity(gray.height * width);
    for row in gray.values.chunks_exact(gray.width) {
        for cell in &columns {
            narrow.push(cell.iter().map(|&(j, w)| row[j] * w).sum::<f64>());
        }
    }
    let mut values = Vec::with_capacity(height * width);
    for cell in &rows {
        for x in 0..width {
            values.push(
                cell.iter()
                    .map(|&(i, w)| narrow[i * width + x] * w)
                    .sum::<f64>(),
            );
        }
    }
    Gray {
        width,
        height,
        values,
    }
}

/// The 28×28 image as text, darkest to lightest ` .:-=+*#%@`.
fn ascii_art(pixels: &Pixels) -> String {
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
