//! The book's `train_neuralnet.py`: the two-layer net learns MNIST with
//! mini-batch SGD, reporting train and test accuracy once per epoch. The
//! optimizers, initializations and weight decay of chapter 6 are flags.
//!
//! ```text
//! cargo run --release --example mnist
//! cargo run --release --example mnist -- --optimizer adam --lr 0.001 --init he
//! cargo run --release --example mnist -- --dataset fashion --save fashion.safetensors --plot curves.png
//! ```
//!
//! The run is the library's `train::Fit`; the flags it shares with the
//! other training examples are in `examples/common/train_cli.rs`. It ends
//! with one line for scripts:
//! `RESULT test_acc=<0.xxxx> train_acc=<0.xxxx> train_s=<seconds> total_s=<seconds>`.

use std::process::ExitCode;

use clap::Parser;
use staticnet::prelude::*;

#[path = "../common/train_cli.rs"]
mod train_cli;
#[path = "../common/two_layer_nets.rs"]
mod two_layer_nets;

use train_cli::{Example, InitArg, TrainArgs};
use two_layer_nets::{TwoLayerNet, parse_hidden};

#[derive(Parser, Debug)]
#[command(
    name = "mnist",
    about = "Train the book's two-layer net on MNIST with mini-batch SGD or another optimizer"
)]
struct Args {
    /// Hidden units: any number from 1.
    #[arg(long, default_value_t = 50, value_parser = parse_hidden)]
    hidden: usize,
    /// How the weights are drawn.
    #[arg(long, value_enum, default_value_t = InitArg::Book)]
    init: InitArg,
    #[command(flatten)]
    train: TrainArgs,
}

fn main() -> ExitCode {
    let (args, command) = train_cli::parse::<Args>(&[]);
    let example = Example {
        command,
        default_iters: 10_000,
        train_acc_each_epoch: true,
    };
    let mut rng = StdRng::seed_from_u64(args.train.seed);
    let init = args.init.init();
    match TwoLayerNet::<f32>::with_widths(&mut rng, init, [args.hidden]) {
        Ok(net) => train_cli::train(&example, &args.train, net),
        Err(error) => example.usage_error(error.to_string()),
    }
}
