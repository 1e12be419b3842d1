//! The book's SimpleConvNet (chapter 7) learns MNIST with mini-batch SGD:
//! a convolution of 30 filters of 5×5, ReLU, 2×2 max pooling, then the
//! two-layer net of chapter 5 on the 4320 pooled values.
//!
//! ```text
//! STATICNET_NUM_THREADS=2 cargo run --release --example simple_convnet -- --data DIR
//! ```
//!
//! Every epoch prints the accuracy on the first 10,000 training images and
//! on the 10,000 test images; the run ends with the line of the `mnist`
//! example, measured on all images:
//! `RESULT test_acc=<0.xxxx> train_acc=<0.xxxx> train_s=<seconds> total_s=<seconds>`.
//! `train_s` counts the SGD steps only, not the evaluations.
//!
//! The book trains this net with Adam for 20 epochs. By default it is plain
//! SGD with a learning rate of 0.1 for 10 epochs, from weights
//! `0.1·N(0, 1)`: with the book's `0.01·N(0, 1)`, SGD spends the first
//! epochs growing the weights (97.5% test accuracy after 5 epochs, against
//! 98.4% from 0.1). The book's settings are
//! `--optimizer adam --lr 0.001 --init-std 0.01 --iters 12000`.
//! Measured on 2 cores (`STATICNET_NUM_THREADS=2`), the defaults give
//! `RESULT test_acc=0.9860 train_acc=0.9950 train_s=140.439 total_s=172.348`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::error::ErrorKind;
use clap::{CommandFactory, Parser};
use staticnet::data::{Dataset, LoadOptions, Split, load_mnist, resolve_data_dir};
use staticnet::optim::Method;
use staticnet::prelude::*;
use staticnet::train::{ImageSamples, TrainConfig, TrainError, Trainer, evaluate};

#[path = "common/paths.rs"]
mod paths;

network! {
    /// The book's `SimpleConvNet`: `conv - relu - pool - affine - relu -
    /// affine - softmax`, with its parameters named `W1`/`b1` (the filters,
    /// `[30, 1, 5, 5]`), `W2`/`b2` and `W3`/`b3`, as in the book.
    pub struct SimpleConvNet<
        Input<1, 28, 28>,
        Conv2d<30, 5>,
        Relu,
        MaxPool2d<2, stride = 2>,
        Flatten,
        Affine<4320, 100>,
        Relu,
        Affine<100, 10>,
        SoftmaxWithLoss,
    >
}

/// The shape of one input image, `1 × 28 × 28`.
type Image = <SimpleConvNet as Network<f32>>::In;

/// Samples per forward pass when measuring accuracy.
const EVAL_CHUNK: usize = 1000;

/// Training images whose accuracy is printed at each epoch.
const EPOCH_TRAIN_SAMPLES: usize = 10_000;

#[derive(Parser, Debug)]
#[command(
    name = "simple_convnet",
    about = "Train the book's SimpleConvNet on MNIST with mini-batch SGD or another optimizer"
)]
struct Args {
    /// Training steps (600 make an epoch at batch 100).
    #[arg(long, default_value_t = 6000)]
    iters: usize,
    /// Samples per mini-batch.
    #[arg(long, default_value_t = 100)]
    batch: usize,
    /// Learning rate.
    #[arg(long, default_value_t = 0.1, allow_negative_numbers = true)]
    lr: f64,
    /// The update rule: sgd, momentum, nesterov, adagrad, rmsprop or adam
    /// (the book trains this net with adam and a learning rate of 0.001).
    #[arg(long, default_value_t = Method::Sgd)]
    optimizer: Method,
    /// Standard deviation of the initial weights (the book: 0.01, which
    /// plain SGD leaves slow to start).
    #[arg(long, default_value_t = 0.1)]
    init_std: f64,
    /// Seed of the initial weights and of every mini-batch.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Directory holding the four MNIST IDX files (else $MNIST_DIR, else a
    /// per-user cache directory; `cargo run --example mnist` downloads them
    /// there).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Print only the RESULT line.
    #[arg(long)]
    quiet: bool,
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn main() -> ExitCode {
    let args = Args::parse();
    if let Some(Err(message)) = args
        .data
        .as_deref()
        .map(|dir| paths::check_data_arg("--data", dir))
    {
        usage_error(message);
    }
    if !(args.init_std > 0.0 && args.init_std.is_finite()) {
        usage_error(format!(
            "--init-std must be a positive number, not {}",
            args.init_std
        ));
    }
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Exits with clap's usage message and code 2.
fn usage_error(message: String) -> ! {
    Args::command()
        .error(ErrorKind::ValueValidation, message)
        .exit()
}

fn run(args: &Args) -> Result<(), BoxError> {
    let started = Instant::now();
    let config = TrainConfig {
        iters: args.iters,
        batch_size: args.batch,
        learning_rate: args.lr,
        optimizer: args.optimizer,
        seed: args.seed,
        ..TrainConfig::BOOK
    };
    config
        .validate(usize::MAX)
        .unwrap_or_else(|error: TrainError| usage_error(error.to_string()));
    let dir = resolve_data_dir(args.data.as_deref(), Dataset::Mnist);
    let mnist =
        load_mnist(&dir, &LoadOptions::default()).map_err(|error| with_hint(error.into(), &dir))?;
    let train_set = ImageSamples {
        split: &mnist.train,
        normalize: true,
    };
    let test_set = ImageSamples {
        split: &mnist.test,
        normalize: true,
    };
    let epoch_train_set = first_samples(&mnist.train, EPOCH_TRAIN_SAMPLES)?;
    let epoch_train_set = ImageSamples {
        split: &epoch_train_set,
        normalize: true,
    };

    let init = Init::Normal { std: args.init_std };
    let mut net = SimpleConvNet::<f32>::init(&mut StdRng::seed_from_u64(args.seed), init);
    let mut trainer = Trainer::<f32, Image>::new(config, mnist.train.len())
        .unwrap_or_else(|error| usage_error(error.to_string()));
    let per_epoch = config.iters_per_epoch(mnist.train.len());

    let mut train_seconds = 0.0;
    let (mut loss_sum, mut loss_count) = (0.0, 0usize);
    for iteration in 0..args.iters {
        let step = Instant::now();
        loss_sum += f64::from(trainer.step(&mut net, &train_set, iteration)?);
        train_seconds += step.elapsed().as_secs_f64();
        loss_count += 1;
        let done = iteration + 1;
        if !args.quiet && (done % per_epoch == 0 || done == args.iters) {
            println!(
                "epoch {:>2}  iter {done:>6}  loss {:.4}  train acc {:.4}  test acc {:.4}  ({train_seconds:.1} s of training)",
                done.div_ceil(per_epoch),
                loss_sum / loss_count as f64,
                evaluate(&mut net, &epoch_train_set, EVAL_CHUNK)?,
                evaluate(&mut net, &test_set, EVAL_CHUNK)?,
            );
            (loss_sum, loss_count) = (0.0, 0);
        }
    }
    let test_acc = evaluate(&mut net, &test_set, EVAL_CHUNK)?;
    let train_acc = evaluate(&mut net, &train_set, EVAL_CHUNK)?;
    println!(
        "RESULT test_acc={test_acc:.4} train_acc={train_acc:.4} train_s={train_seconds:.3} total_s={:.3}",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The first `n` samples of `split` (all of them if it has fewer).
fn first_samples(split: &Split, n: usize) -> Result<Split, BoxError> {
    let n = n.min(split.len());
    let pixels = n * split.pixels_per_image();
    let split = Split::new(
        split.images()[..pixels].to_vec(),
        split.labels()[..n].to_vec(),
        split.rows(),
        split.cols(),
    )?;
    Ok(split)
}

/// A missing data directory gets a hint on how to fill it.
fn with_hint(error: BoxError, dir: &Path) -> BoxError {
    format!(
        "{error}\n(`cargo run --release --example mnist -- --data {}` downloads the files)",
        dir.display()
    )
    .into()
}
