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
//!   `[784, H]`, any `H`), as is the scalar type (`F32` or `F64`);
//!   `--hidden H` says which size the file must have.
//! - `--format pytorch` reads a PyTorch `state_dict` of
//!   `nn.Sequential(Linear(784, H), ReLU(), Linear(H, 10))` saved with
//!   safetensors (`0.weight` is `[H, 784]`), `--format npz` (the default
//!   for a path ending in `.npz`) the book's `np.savez` archive of `W1`
//!   `(784, H)`, `b1`, `W2`, `b2`, float64 or float32.
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
//!
//! The modules, by concern: `weights` (the weight file: its header, loading,
//! scoring), `inputs` (reading the image files, bounded), `png_decode` and
//! `frame` (a PNG of any kind brought to MNIST's 28×28 framing; the
//! `fuzz_png` example runs them on mutated files), `show` (the report).

mod frame;
mod inputs;
mod png_decode;
mod show;
mod weights;

#[path = "../common/two_layer_nets.rs"]
mod two_layer_nets;

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{ArgGroup, Parser};
use staticnet::data::{Dataset, dataset_of_file};

use inputs::{read_idx_image, read_png};
use two_layer_nets::parse_hidden;
use weights::{Format, classify, inspect_weights};

#[derive(Parser, Debug)]
#[command(
    about = "Classify a 28×28 digit with weights saved by the mnist example",
    group(ArgGroup::new("input").required(true).args(["png", "idx"])),
    after_help = "Exit codes: 0 success, 1 a file cannot be read or does not fit, 2 usage error."
)]
struct Args {
    /// The weights: a safetensors file written by `mnist --save` (a
    /// checkpoint) or by `staticnet::io::save_weights`; with --format, a
    /// PyTorch state_dict or the book's NumPy archive.
    #[arg(long, value_name = "PATH")]
    weights: PathBuf,
    /// The format of the weights: staticnet's, a PyTorch state_dict of
    /// nn.Sequential(Linear(784, H), ReLU(), Linear(H, 10)) saved with
    /// safetensors, or a NumPy archive of the book's W1, b1, W2, b2
    /// [default: staticnet, or npz for a path ending in .npz].
    #[arg(long, value_enum, value_name = "FORMAT")]
    format: Option<Format>,
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
    /// The hidden size the weights must have (any, when not given).
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

/// Classifies the image the arguments name; returns the report to print.
fn run(args: &Args) -> Result<String, Failure> {
    let format = Format::of(args.format, &args.weights);
    let weights = inspect_weights(&args.weights, format)?;
    let hidden = weights.hidden;
    if let Some(expected) = args.hidden.filter(|&h| h != hidden) {
        return Err(Failure::Runtime(format!(
            "`{}` has shape {:?} in `{}`, but --hidden {expected} asks for {:?}",
            weights.first,
            weights.shape_for(hidden),
            args.weights.display(),
            weights.shape_for(expected)
        )));
    }
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
    if let Some(warning) = other_data_warning(args, weights.dataset.as_deref()) {
        eprintln!("warning: {warning}");
    }
    let (scores, dtype) = classify(&args.weights, &weights, &pixels)?;

    let mut out = String::new();
    let _ = writeln!(out, "image:   {source}");
    let _ = write!(
        out,
        "weights: {} (hidden {hidden}, {}",
        args.weights.display(),
        dtype.name()
    );
    if let Some(note) = format.note() {
        let _ = write!(out, ", {note}");
    }
    let _ = match (weights.checkpoint, weights.iteration) {
        (true, Some(iteration)) => writeln!(out, ", checkpoint at iteration {iteration})"),
        (true, None) => writeln!(out, ", checkpoint)"),
        (false, _) => writeln!(out, ")"),
    };
    if args.show {
        out.push_str(&show::ascii_art(&pixels));
    }
    show::write_prediction(&mut out, &scores, truth);
    Ok(out)
}

/// A warning when the weights record that they were trained on other data
/// than the image asked about: an IDX file of the other canonical dataset,
/// or a PNG (a digit, as this program reads it) given to weights trained
/// on the other one. Data of one's own is not judged.
fn other_data_warning(args: &Args, trained_on: Option<&str>) -> Option<String> {
    let trained_on = trained_on.filter(|&name| Dataset::ALL.iter().any(|d| d.name() == name))?;
    let (asked, what) = match &args.idx {
        // A file that is none of the canonical ones says nothing.
        Some(idx) => (
            dataset_of_file(idx).ok()??.name(),
            format!("`{}` is a file of", idx.display()),
        ),
        None => (
            Dataset::Mnist.name(),
            "a PNG is read as a digit, as in".to_owned(),
        ),
    };
    (trained_on != asked).then(|| {
        format!(
            "`{}` was trained on {trained_on}, but {what} {asked}: its answer is a class of {trained_on}",
            args.weights.display()
        )
    })
}
