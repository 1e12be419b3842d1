//! A network inside a network: `Block`, two `Affine` layers declared with
//! `network!` and no loss layer, is a layer, which `Residual<Block>` wraps
//! into the skip connection `y = x + f(x)` of a ResNet block, in the middle
//! of an MLP that learns MNIST with mini-batch SGD.
//!
//! ```text
//! cargo run --release --example residual_mlp -- --data DIR
//! cargo run --release --example residual_mlp -- --data DIR --optimizer adam --lr 0.001
//! ```
//!
//! It prints the parameters' names first: `W1`, `b1`, then the block's,
//! named inside `Block` (`W1`, `b1`, `W2`, `b2`) behind the field of the
//! `Residual` that holds it (`residual1.W1`, …), then `W2`, `b2`. Every epoch
//! prints the accuracy on the training and test images; the run ends with
//! the line of the `mnist` example:
//! `RESULT test_acc=<0.xxxx> train_acc=<0.xxxx> train_s=<seconds> total_s=<seconds>`.
//! `train_s` counts the training steps only, not the evaluations.

#[path = "common/flat_mnist.rs"]
mod flat_mnist;
#[path = "common/residual_nets.rs"]
mod residual_nets;

use std::process::ExitCode;

use residual_nets::ResidualMlp;
use staticnet::prelude::*;

fn main() -> ExitCode {
    flat_mnist::main::<ResidualMlp<f32>>(
        "residual_mlp",
        "Train an MLP with a residual block on MNIST",
        |net, args| {
            if !args.train.quiet {
                let (mut names, mut count) = (Vec::new(), 0);
                net.visit_params(&mut |p| {
                    names.push(format!("{} {:?}", p.name, p.shape.dims()));
                    count += p.value.len();
                });
                println!("parameters ({count} values): {}", names.join(", "));
            }
        },
    )
}
