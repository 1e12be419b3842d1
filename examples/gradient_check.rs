//! The chapter's gradient check (`gradient_check.py`): on three MNIST
//! training images, the two-layer net's gradient by backpropagation is
//! compared with the numerical gradient, parameter by parameter.
//!
//! ```text
//! cargo run --example gradient_check -- [--data DIR]
//! ```
//!
//! The data directory is `--data DIR`, else `$MNIST_DIR`, else the per-user
//! cache that `cargo run --release --example mnist` downloads into.

use std::process::ExitCode;

use staticnet::data::{Dataset, LoadOptions, load_mnist, resolve_data_dir};
use staticnet::gradient_check;
use staticnet::prelude::*;
use staticnet::train::{ImageSamples, Samples};

network! {
    /// The book's two-layer net, in f64 as NumPy computes it.
    struct TwoLayerNet<Affine<784, 50>, Relu, Affine<50, 10>, SoftmaxWithLoss>
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let cli_dir = match (args.next().as_deref(), args.next()) {
        (None, _) => None,
        (Some("--data"), Some(dir)) => Some(std::path::PathBuf::from(dir)),
        _ => {
            eprintln!("usage: gradient_check [--data DIR]");
            return ExitCode::from(2);
        }
    };
    let dir = resolve_data_dir(cli_dir.as_deref(), Dataset::Mnist);
    let mnist = match load_mnist(&dir, &LoadOptions::default()) {
        Ok(mnist) => mnist,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };

    let train = ImageSamples {
        split: &mnist.train,
        normalize: true,
    };
    let mut x = Batch::<f64, Const<784>>::zeros(3);
    let mut t = Vec::new();
    if let Err(error) = Samples::<f64, Const<784>>::gather(&train, &[0, 1, 2], &mut x, &mut t) {
        eprintln!("error: {error}");
        return ExitCode::FAILURE;
    }

    let mut net = TwoLayerNet::<f64>::new(&mut StdRng::seed_from_u64(0));
    for check in gradient_check(&mut net, &x, &t) {
        println!("{}:{:e}", check.name, check.mean_abs_diff);
    }
    ExitCode::SUCCESS
}
