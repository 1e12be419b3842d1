//! The book's DeepConvNet (chapter 8) learns MNIST with Adam: six 3×3
//! convolutions with ReLU, in pairs of 16, 32 and 64 filters each followed
//! by 2×2 max pooling, then `Affine<1024, 50>`, ReLU, dropout,
//! `Affine<50, 10>` and dropout, from He's initial weights (declared in
//! `convnets/nets.rs`).
//!
//! ```text
//! STATICNET_NUM_THREADS=2 cargo run --release --example deep_convnet -- --data DIR
//! ```
//!
//! As the book: batches of 100, Adam with a learning rate of 0.001, 20
//! epochs (`--epochs` or `--iters` for fewer); the other flags are those of
//! the `mnist` example (`examples/common/train_cli.rs`). Every epoch prints
//! the mean loss of its steps and the test accuracy and loss; the run ends
//! with the line of the `mnist` example, the training accuracy measured
//! on all 60,000 images:
//! `RESULT test_acc=<0.xxxx> train_acc=<0.xxxx> train_s=<seconds> total_s=<seconds>`.
//! The book reports 99.38% test accuracy.

use std::process::ExitCode;

use clap::Parser;
use staticnet::prelude::*;

#[path = "convnets/nets.rs"]
mod nets;
#[path = "common/train_cli.rs"]
mod train_cli;

use train_cli::{Example, TrainArgs};

#[derive(Parser, Debug)]
#[command(
    name = "deep_convnet",
    about = "Train the book's DeepConvNet on MNIST with Adam or another optimizer"
)]
struct Args {
    /// The standard deviation of the initial weights, N(0, std²) [default:
    /// He's, √(2/n) for n inputs, as the book].
    #[arg(long)]
    init_std: Option<f64>,
    #[command(flatten)]
    train: TrainArgs,
}

fn main() -> ExitCode {
    let (args, command) = train_cli::parse::<Args>(&[("lr", "0.001"), ("optimizer", "adam")]);
    let example = Example {
        command,
        default_iters: 20 * 600,
        // A pass over the 60,000 training images costs as much as several
        // hundred steps: measured once, at the end.
        train_acc_each_epoch: false,
    };
    let init = match args.init_std {
        None => Init::He,
        Some(std) if std > 0.0 && std.is_finite() => Init::Normal { std },
        Some(std) => {
            example.usage_error(format!("--init-std must be a positive number, not {std}"))
        }
    };
    let net = nets::DeepConvNet::<f32>::init(&mut StdRng::seed_from_u64(args.train.seed), init);
    train_cli::train(&example, &args.train, net)
}
