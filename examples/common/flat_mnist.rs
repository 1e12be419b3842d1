//! The run the examples on flat MNIST images share: the training flags of
//! `train_cli.rs` plus `--init`, and a network declared with `network!`.
//! Included with `#[path]` by `custom_layer` and `residual_mlp`.

use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use staticnet::prelude::*;

#[path = "train_cli.rs"]
mod train_cli;

use train_cli::{Example, InitArg, TrainArgs};

#[derive(Parser, Debug)]
pub struct Args {
    /// How the weights are drawn.
    #[arg(long, value_enum, default_value_t = InitArg::Auto)]
    pub init: InitArg,
    #[command(flatten)]
    pub train: TrainArgs,
}

/// Parses the command line of the example `name`, builds `N`, calls
/// `before` with it, and trains it.
pub fn main<N>(name: &'static str, about: &'static str, before: impl FnOnce(&N, &Args)) -> ExitCode
where
    N: Network<f32, In = Const<784>, Out = Const<10>> + Clone + Send,
{
    let (args, command) = train_cli::parse_command::<Args>(Args::command().name(name).about(about));
    let example = Example {
        command,
        default_iters: 10_000,
        train_acc_each_epoch: true,
    };
    let net = N::init(
        &mut StdRng::seed_from_u64(args.train.seed),
        args.init.init(),
    );
    before(&net, &args);
    train_cli::train(&example, &args.train, net)
}
