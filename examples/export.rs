//! Writes a trained net as an ONNX model, for ONNX Runtime, a browser or a
//! C++ service: trains one of five nets briefly on MNIST (or loads its
//! weights), exports it, and writes staticnet's own scores of the 10,000
//! test images beside it, so that another runtime can be checked against
//! them (`.ci/onnx-check.py` does).
//!
//! ```text
//! cargo run --release --example export -- --data DIR --net simple-convnet --out net.onnx
//! cargo run --release --example export -- --data DIR --net two --weights net.safetensors \
//!     --out net.onnx --scores scores.npy --probabilities
//! ```

use std::error::Error;
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Parser, ValueEnum};
use residual_nets::ResidualMlp;
use staticnet::data::ImageSamples;
use staticnet::io::{OnnxOptions, export_onnx};
use staticnet::onnx::ExportNetwork;
use staticnet::prelude::*;

#[path = "convnets/nets.rs"]
mod convnets;
#[path = "common/residual_nets.rs"]
mod residual_nets;
#[path = "common/two_layer_nets.rs"]
mod two_layer_nets;

network! {
    /// Batch normalization between two `Affine`s.
    pub struct BatchNormMlp<Affine<784, 100>, BatchNorm, Relu, Affine<100, 10>, SoftmaxWithLoss>
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum NetKind {
    /// The book's two-layer net, 784-H-10 (`--hidden`, 50 by default).
    Two,
    /// Chapter 7's SimpleConvNet.
    SimpleConvnet,
    /// Chapter 8's DeepConvNet.
    DeepConvnet,
    /// An MLP with batch normalization.
    Batchnorm,
    /// An MLP with a residual block.
    Residual,
}

#[derive(Parser)]
#[command(about = "Train (or load) a net and write it as an ONNX model")]
struct Args {
    /// The directory holding the four MNIST files.
    #[arg(long, value_name = "DIR")]
    data: PathBuf,
    /// Which net.
    #[arg(long, value_enum, default_value = "two")]
    net: NetKind,
    /// The hidden width of the two-layer net.
    #[arg(long, default_value_t = 50, value_parser = two_layer_nets::parse_hidden)]
    hidden: usize,
    /// Load these weights (staticnet safetensors) instead of training.
    #[arg(long, value_name = "FILE")]
    weights: Option<PathBuf>,
    /// Training steps (batches of 100, Adam) when no weights are given.
    #[arg(long, default_value_t = 300)]
    iters: usize,
    /// The ONNX file to write.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Also write staticnet's scores of the test images here (`.npy`,
    /// `[10000, 10]`; the scores before any softmax).
    #[arg(long, value_name = "FILE")]
    scores: Option<PathBuf>,
    /// The model outputs probabilities (the softmax), not scores.
    #[arg(long)]
    probabilities: bool,
}

fn main() -> Result<(), Box<dyn Error>> {
    let args = Args::parse();
    let mut rng = StdRng::seed_from_u64(0);
    match args.net {
        NetKind::Two => {
            let net =
                two_layer_nets::TwoLayerNet::<f32>::with_widths(&mut rng, Init::He, [args.hidden])?;
            run(net, &args)
        }
        NetKind::SimpleConvnet => run(
            convnets::SimpleConvNet::<f32>::init(&mut rng, Init::He),
            &args,
        ),
        NetKind::DeepConvnet => run(
            convnets::DeepConvNet::<f32>::init(&mut rng, Init::He),
            &args,
        ),
        NetKind::Batchnorm => run(BatchNormMlp::<f32>::init(&mut rng, Init::He), &args),
        NetKind::Residual => run(ResidualMlp::<f32>::init(&mut rng, Init::He), &args),
    }
}

fn run<N>(mut net: N, args: &Args) -> Result<(), Box<dyn Error>>
where
    N: ExportNetwork<f32, Out = Const<10>> + Clone + Send,
    N::In: FixedShape,
    for<'a> ImageSamples<'a>: Samples<f32, N::In, Targets = Vec<usize>>,
{
    let mnist = load_mnist(&args.data, &LoadOptions::default())?;
    let (train, test) = (mnist.train_samples(), mnist.test_samples());
    match &args.weights {
        Some(path) => {
            load_weights(&mut net, path)?;
        }
        None => {
            Fit::new(Optimizer::adam(0.001))
                .steps(args.iters)
                .progress(false)
                .run(&mut net, &train)?;
        }
    }
    let options = OnnxOptions::new().probabilities(args.probabilities);
    export_onnx(&net, &args.out, options)?;
    println!("wrote {}", args.out.display());

    let indices: Vec<usize> = (0..test.len()).collect();
    let mut scores = Vec::with_capacity(test.len() * 10);
    let mut right = 0;
    for chunk in indices.chunks(500) {
        let (x, _) = test.batch_for(&net, chunk)?;
        let y = net.predict(&x);
        // Row by row, as NumPy's C order has them.
        for n in 0..chunk.len() {
            scores.extend((0..10).map(|c| y[(n, c)]));
        }
        let classes = net.classify(&x);
        let labels = chunk.iter().map(|&n| usize::from(mnist.test.labels()[n]));
        right += classes.iter().zip(labels).filter(|&(&c, l)| c == l).count();
    }
    println!("test accuracy: {:.4}", right as f64 / test.len() as f64);
    if let Some(path) = &args.scores {
        write_npy(path, &scores, [test.len(), 10])?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

/// Writes `values` as a NumPy `.npy` array of `<f4`, C order.
fn write_npy(path: &Path, values: &[f32], shape: [usize; 2]) -> std::io::Result<()> {
    let dict = format!(
        "{{'descr': '<f4', 'fortran_order': False, 'shape': ({}, {}), }}",
        shape[0], shape[1]
    );
    // The header is padded with spaces to a multiple of 64 bytes, newline last.
    let padding = 64 - (10 + dict.len() + 1) % 64;
    let header = format!("{dict}{}\n", " ".repeat(padding % 64));
    let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
    file.write_all(b"\x93NUMPY\x01\x00")?;
    file.write_all(&(header.len() as u16).to_le_bytes())?;
    file.write_all(header.as_bytes())?;
    for v in values {
        file.write_all(&v.to_le_bytes())?;
    }
    file.flush()
}
