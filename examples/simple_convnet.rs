//! The book's SimpleConvNet (chapter 7) learns MNIST with mini-batch SGD:
//! a convolution of 30 filters of 5×5, ReLU, 2×2 max pooling, then the
//! two-layer net of chapter 5 on the 4320 pooled values.
//!
//! ```text
//! STATICNET_NUM_THREADS=2 cargo run --release --example simple_convnet -- --data DIR
//! ```
//!
//! Every epoch prints the mean loss of its steps and the accuracy and loss
//! on the 10,000 test images; the run ends with the line of the `mnist`
//! example (the training accuracy measured on all 60,000 images):
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
//! `RESULT test_acc=0.9862 train_acc=0.9948 train_s=69.641 total_s=74.157`.

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
    name = "simple_convnet",
    about = "Train the book's SimpleConvNet on MNIST with mini-batch SGD or another optimizer"
)]
struct Args {
    /// The standard deviation of the initial weights, N(0, std²).
    #[arg(long, default_value_t = 0.1)]
    init_std: f64,
    #[command(flatten)]
    train: TrainArgs,
}

fn main() -> ExitCode {
    let (args, command) = train_cli::parse::<Args>(&[]);
    let example = Example {
        command,
        default_iters: 6000,
        // A pass over the 60,000 training images costs as much as 1,000
        // steps: measured once, at the end.
        train_acc_each_epoch: false,
    };
    if !(args.init_std > 0.0 && args.init_std.is_finite()) {
        example.usage_error(format!(
            "--init-std must be a positive number, not {}",
            args.init_std
        ));
    }
    let init = Init::Normal { std: args.init_std };
    let net = nets::SimpleConvNet::<f32>::init(&mut StdRng::seed_from_u64(args.train.seed), init);
    train_cli::train(&example, &args.train, net)
}
