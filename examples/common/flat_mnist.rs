//! The training run the examples on flat MNIST images share: their
//! command line (`--iters --batch --lr --optimizer --init --seed --data
//! --dataset --quiet`), mini-batch training of a network declared with
//! `network!`, one line per epoch, and the `mnist` example's `RESULT` line.
//! Included with `#[path]` by `custom_layer` and `residual_mlp`.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::error::ErrorKind;
use clap::{Command, CommandFactory, FromArgMatches, Parser, ValueEnum};
use staticnet::data::{Dataset, LoadOptions, load_mnist, resolve_data_dir};
use staticnet::optim::Method;
use staticnet::prelude::*;
use staticnet::train::{ImageSamples, TrainConfig, TrainError, Trainer, evaluate};

#[path = "paths.rs"]
mod paths;

/// Samples per forward pass when measuring accuracy.
const EVAL_CHUNK: usize = 1000;

#[derive(Parser, Debug)]
pub struct Args {
    /// Training steps (600 make an epoch at batch 100).
    #[arg(long, default_value_t = 10_000)]
    pub iters: usize,
    /// Samples per mini-batch.
    #[arg(long, default_value_t = 100)]
    pub batch: usize,
    /// Learning rate.
    #[arg(long, default_value_t = 0.1, allow_negative_numbers = true)]
    pub lr: f64,
    /// The update rule: sgd, momentum, nesterov, adagrad, rmsprop or adam,
    /// with the book's settings.
    #[arg(long, default_value_t = Method::Sgd)]
    pub optimizer: Method,
    /// How the weights are drawn (`auto`: as the layer after each says,
    /// He before a `Relu` or a layer that asks for it, Xavier otherwise).
    #[arg(long, value_enum, default_value_t = InitArg::Auto)]
    pub init: InitArg,
    /// Seed of the initial weights and of every mini-batch.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Directory holding the four IDX files (else $MNIST_DIR or
    /// $FASHION_MNIST_DIR, else a per-user cache directory; `cargo run
    /// --example mnist` downloads them there).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Which dataset.
    #[arg(long, value_enum, default_value_t = DatasetArg::Mnist)]
    pub dataset: DatasetArg,
    /// Print only the RESULT line.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum InitArg {
    /// The book's 0.01·N(0, 1).
    Book,
    /// N(0, 1/n) for n inputs.
    Xavier,
    /// N(0, 2/n) for n inputs.
    He,
    /// He before a ReLU, Xavier otherwise.
    Auto,
}

impl InitArg {
    fn init(self) -> Init {
        match self {
            InitArg::Book => Init::BOOK,
            InitArg::Xavier => Init::Xavier,
            InitArg::He => Init::He,
            InitArg::Auto => Init::Auto,
        }
    }
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum DatasetArg {
    /// MNIST handwritten digits.
    Mnist,
    /// Zalando's Fashion-MNIST.
    Fashion,
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// An example: its name, and what it does.
#[derive(Clone, Copy)]
struct Example {
    name: &'static str,
    about: &'static str,
}

impl Example {
    fn command(self) -> Command {
        Args::command().name(self.name).about(self.about)
    }

    /// Exits with clap's usage message and code 2.
    fn usage_error(self, message: String) -> ! {
        self.command()
            .error(ErrorKind::ValueValidation, message)
            .exit()
    }
}

/// Parses the command line of the example `name`, trains `N` on it (after
/// `before`, given the network and the arguments) and prints the `RESULT`
/// line.
pub fn main<N>(name: &'static str, about: &'static str, before: impl FnOnce(&N, &Args)) -> ExitCode
where
    N: Network<f32, In = Const<784>, Out = Const<10>>,
{
    let example = Example { name, about };
    let matches = example
        .command()
        .get_matches_from(std::env::args_os().collect::<Vec<OsString>>());
    let args = Args::from_arg_matches(&matches).unwrap_or_else(|error| error.exit());
    if let Some(Err(message)) = args
        .data
        .as_deref()
        .map(|dir| paths::check_data_arg("--data", dir))
    {
        example.usage_error(message);
    }
    match run::<N>(&args, before, example) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run<N>(args: &Args, before: impl FnOnce(&N, &Args), example: Example) -> Result<(), BoxError>
where
    N: Network<f32, In = Const<784>, Out = Const<10>>,
{
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
        .unwrap_or_else(|error: TrainError| example.usage_error(error.to_string()));
    let dataset = match args.dataset {
        DatasetArg::Mnist => Dataset::Mnist,
        DatasetArg::Fashion => Dataset::Fashion,
    };
    let dir = resolve_data_dir(args.data.as_deref(), dataset);
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

    let mut net = N::init(&mut StdRng::seed_from_u64(args.seed), args.init.init());
    before(&net, args);
    let mut trainer = Trainer::<f32, Const<784>>::new(config, mnist.train.len())
        .unwrap_or_else(|error| example.usage_error(error.to_string()));
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
                evaluate(&mut net, &train_set, EVAL_CHUNK)?,
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

/// A missing data directory gets a hint on how to fill it.
fn with_hint(error: BoxError, dir: &Path) -> BoxError {
    format!(
        "{error}\n(`cargo run --release --example mnist -- --data {}` downloads the files)",
        dir.display()
    )
    .into()
}
