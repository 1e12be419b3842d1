//! The command line the training examples share, and the run behind it: a
//! thin client of `staticnet::train::Fit`. Flags: `--iters`/`--epochs
//! --batch --lr --optimizer --schedule --warmup --weight-decay --shuffle
//! --patience --seed --data --dataset --mirror --download-min-bytes
//! --download-window --own-data --save --overwrite --resume --change --plot
//! --quiet`. Every run ends with one line for scripts:
//! `RESULT test_acc=<0.xxxx> train_acc=<0.xxxx> train_s=<seconds> total_s=<seconds>`
//! (`train_s` counts the training steps only, not the evaluations).
//! Included with `#[path]` by `mnist`, `simple_convnet`, `custom_layer`
//! and `residual_mlp`.

#![allow(dead_code)] // `--init` is not every example's flag.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::OnceLock;
use std::time::Instant;

use clap::parser::ValueSource;
use clap::{Command, ValueEnum};
use staticnet::data::{Dataset, Mnist, check_canonical, load_mnist, resolve_data_dir};
use staticnet::io::{Checkpoint, load_checkpoint};
use staticnet::optim::Method;
use staticnet::prelude::*;
use staticnet::train::{
    EarlyStopping, Fit, FitError, ImageSamples, RecordedSettings, Replacement, Samples, Sampling,
    Schedule, Setting, SettingChange, StopFlag, Stopped, TrainAccuracy, TrainError,
};

#[path = "paths.rs"]
mod paths;
#[path = "../mnist/plot.rs"]
mod plot;

/// The flags of a training run.
#[derive(clap::Args, Debug)]
pub struct TrainArgs {
    /// Training steps in all [default: the example's].
    #[arg(long, conflicts_with = "epochs")]
    pub iters: Option<usize>,
    /// Epochs of the training set, instead of --iters.
    #[arg(long)]
    pub epochs: Option<usize>,
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
    /// How the learning rate changes over the run.
    #[arg(long, value_enum, default_value_t = ScheduleArg::Constant)]
    pub schedule: ScheduleArg,
    /// Steps of linear warm-up before the schedule.
    #[arg(long, default_value_t = 0, value_name = "STEPS")]
    pub warmup: usize,
    /// Weight decay λ: the L2 penalty ½·λ·ΣW² on the weights.
    #[arg(long, default_value_t = 0.0, allow_hyphen_values = true)]
    pub weight_decay: f64,
    /// Shuffled epochs instead of the book's random draws.
    #[arg(long)]
    pub shuffle: bool,
    /// Stop when the test loss has not improved for N evaluations, and
    /// keep the best weights.
    #[arg(long, value_name = "N")]
    pub patience: Option<usize>,
    /// Seed of the initial weights and of every mini-batch.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Directory holding the four IDX files (else $MNIST_DIR or
    /// $FASHION_MNIST_DIR, else a per-user cache directory).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Which dataset.
    #[arg(long, value_enum, default_value_t = DatasetArg::Mnist)]
    pub dataset: DatasetArg,
    /// Base URL to download missing files from; may be repeated (else
    /// $STATICNET_MIRROR, else the public mirrors).
    #[arg(long = "mirror", value_name = "URL")]
    pub mirrors: Vec<String>,
    /// How slow a mirror may be before the next one is tried.
    #[command(flatten)]
    pub download: download::DownloadArgs,
    /// The files in --data are data of one's own in the MNIST layout: do
    /// not check them against the SHA-256 of the canonical MNIST or
    /// Fashion-MNIST files.
    #[arg(long)]
    pub own_data: bool,
    /// Write a checkpoint (the weights under the book's names, the
    /// optimizer's state, the iteration and the run's settings) here at
    /// every epoch and at the end. A file already there is refused unless
    /// it is the one --resume names, or --overwrite is given; a run that
    /// ends worse on the test set than the file it replaces leaves that
    /// file in place and its own checkpoint beside it (NAME.worse.EXT).
    #[arg(long, value_name = "PATH")]
    pub save: Option<PathBuf>,
    /// Let --save write over a checkpoint this run does not resume.
    #[arg(long)]
    pub overwrite: bool,
    /// Continue from a checkpoint written by --save, up to an --iters
    /// beyond the checkpoint's iteration, with the settings it was made
    /// with (batch, sampling, seed, optimizer, lr, weight decay, schedule,
    /// dataset): the flags not given take the checkpoint's values, and one
    /// given with another value is refused unless --change names it.
    #[arg(long, value_name = "PATH")]
    pub resume: Option<PathBuf>,
    /// With --resume: change this setting on purpose (may be repeated).
    #[arg(
        long = "change",
        value_enum,
        value_name = "SETTING",
        requires = "resume"
    )]
    pub changes: Vec<ChangeArg>,
    /// Write the loss and accuracy curves to this PNG.
    #[arg(long, value_name = "PATH")]
    pub plot: Option<PathBuf>,
    /// Print only the RESULT line.
    #[arg(long)]
    pub quiet: bool,
}

/// `--schedule`.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ScheduleArg {
    /// The same rate throughout.
    Constant,
    /// Half a cosine down to zero over the run.
    Cosine,
    /// ×0.1 every third of the run.
    Step,
}

/// `--dataset`.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum DatasetArg {
    /// MNIST handwritten digits.
    Mnist,
    /// Zalando's Fashion-MNIST.
    Fashion,
}

/// `--change`: a setting a resume may change, named by its flag.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ChangeArg {
    /// --batch.
    Batch,
    /// --shuffle.
    Sampling,
    /// --seed.
    Seed,
    /// --optimizer.
    Optimizer,
    /// --lr.
    Lr,
    /// --weight-decay.
    WeightDecay,
    /// --schedule and --warmup.
    Schedule,
    /// --dataset and --own-data.
    Dataset,
}

impl ChangeArg {
    /// The library's setting the flag value names.
    fn setting(self) -> Setting {
        match self {
            ChangeArg::Batch => Setting::BatchSize,
            ChangeArg::Sampling => Setting::Sampling,
            ChangeArg::Seed => Setting::Seed,
            ChangeArg::Optimizer => Setting::Optimizer,
            ChangeArg::Lr => Setting::LearningRate,
            ChangeArg::WeightDecay => Setting::WeightDecay,
            ChangeArg::Schedule => Setting::Schedule,
            ChangeArg::Dataset => Setting::Dataset,
        }
    }

    /// The flags that set it.
    fn flags(self) -> &'static str {
        match self {
            ChangeArg::Batch => "--batch",
            ChangeArg::Sampling => "--shuffle",
            ChangeArg::Seed => "--seed",
            ChangeArg::Optimizer => "--optimizer",
            ChangeArg::Lr => "--lr",
            ChangeArg::WeightDecay => "--weight-decay",
            ChangeArg::Schedule => "--schedule, --warmup",
            ChangeArg::Dataset => "--dataset, --own-data",
        }
    }

    /// The `--change` value and the flags of a library setting.
    fn of(setting: Setting) -> Option<(String, &'static str)> {
        let arg = Self::value_variants()
            .iter()
            .find(|arg| arg.setting() == setting)?;
        Some((arg.to_possible_value()?.get_name().to_owned(), arg.flags()))
    }
}

/// `--init`, for the examples that have it.
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
    /// The initialization the flag names.
    pub fn init(self) -> Init {
        match self {
            InitArg::Book => Init::BOOK,
            InitArg::Xavier => Init::Xavier,
            InitArg::He => Init::He,
            InitArg::Auto => Init::Auto,
        }
    }
}

/// One example: its command (for usage errors) and its settings.
pub struct Example {
    /// The command, to print usage errors with.
    pub command: Command,
    /// `--iters` when neither it nor `--epochs` is given.
    pub default_iters: usize,
    /// Whether the training accuracy is measured at every epoch (else at
    /// the end only).
    pub train_acc_each_epoch: bool,
}

impl Example {
    /// Exits with clap's usage message and code 2.
    pub fn usage_error(&self, message: impl std::fmt::Display) -> ! {
        self.command
            .clone()
            .error(clap::error::ErrorKind::ValueValidation, message)
            .exit()
    }

    /// Refuses the paths of the command line that are not what their flag
    /// needs, before any data is read or any step taken.
    pub fn check_paths(&self, args: &TrainArgs) {
        let checks = [
            args.data
                .as_deref()
                .map(|dir| paths::check_data_arg("--data", dir)),
            args.resume
                .as_deref()
                .map(|path| paths::check_input_file("--resume", path)),
            args.save
                .as_deref()
                .map(|path| paths::check_output_file("--save", path, "checkpoint.safetensors")),
            args.plot
                .as_deref()
                .map(|path| paths::check_output_file("--plot", path, "curves.png")),
        ];
        if let Some(Err(message)) = checks.into_iter().flatten().find(Result::is_err) {
            self.usage_error(message);
        }
        if let (Some(save), Some(plot)) = (&args.save, &args.plot) {
            if paths::same_file(save, plot) {
                self.usage_error(format!(
                    "--save and --plot both name {}: the curves would overwrite the checkpoint",
                    save.display()
                ));
            }
        }
    }
}

/// Parses the command line of `A` with some defaults of the shared flags
/// changed (such as `("lr", "0.001")`), and returns it with the command,
/// for usage errors.
pub fn parse<A: clap::Parser>(defaults: &[(&'static str, &'static str)]) -> (A, Command) {
    let mut command = A::command();
    for &(id, value) in defaults {
        command = command.mut_arg(id, |arg| arg.default_value(value));
    }
    parse_command(command)
}

/// Parses the command line with `command` (`A`'s, renamed or changed),
/// noting which flags it gives; returns the arguments and the command.
pub fn parse_command<A: clap::FromArgMatches>(command: Command) -> (A, Command) {
    let matches = command.clone().get_matches();
    let args = A::from_arg_matches(&matches).unwrap_or_else(|error| error.exit());
    let given = matches
        .ids()
        .filter(|id| matches.value_source(id.as_str()) == Some(ValueSource::CommandLine))
        .map(|id| id.as_str().to_owned())
        .collect();
    let _ = GIVEN_FLAGS.set(given);
    (args, command)
}

/// The flags the command line gave (by clap's id, such as `batch`), as
/// opposed to those left at their default: a resume takes the
/// checkpoint's settings for the latter.
static GIVEN_FLAGS: OnceLock<Vec<String>> = OnceLock::new();

/// Whether the command line gave the flag `id`; every flag counts as given
/// when the command line was not parsed by [`parse`] or [`parse_command`],
/// so that a resume then takes nothing from the checkpoint unasked (and
/// refuses what differs).
fn given(id: &str) -> bool {
    GIVEN_FLAGS
        .get()
        .is_none_or(|given| given.iter().any(|g| g == id))
}

/// The settings of a run that a checkpoint records: those the flags give,
/// and for a resume the checkpoint's for each flag not given, so that
/// `--resume run.ckpt --iters N` continues the run as it was made. A flag
/// given with another value than the checkpoint's is a change the library
/// refuses unless `--change` names it.
struct RunSettings {
    batch: usize,
    sampling: Sampling,
    seed: u64,
    method: Method,
    lr: f64,
    weight_decay: f64,
    schedule: Schedule,
}

impl RunSettings {
    fn of(args: &TrainArgs, checkpoint: Option<&Checkpoint<f32>>) -> RunSettings {
        let recorded = checkpoint.map(RecordedSettings::of).unwrap_or_default();
        let schedule = match args.schedule {
            ScheduleArg::Constant => Schedule::constant(),
            ScheduleArg::Cosine => Schedule::cosine(),
            // Three decays' worth of run: ×0.1 at each third.
            ScheduleArg::Step => {
                Schedule::step_decay(args.epochs.unwrap_or(3).div_ceil(3).max(1), 0.1)
            }
        }
        .with_warmup(args.warmup);
        let sampling = if args.shuffle {
            Sampling::Shuffled
        } else {
            Sampling::Draws
        };
        RunSettings {
            batch: pick(&["batch"], args.batch, recorded.batch_size),
            sampling: pick(&["shuffle"], sampling, recorded.sampling),
            seed: pick(&["seed"], args.seed, recorded.seed),
            method: pick(&["optimizer"], args.optimizer, recorded.method),
            lr: pick(&["lr"], args.lr, recorded.learning_rate),
            weight_decay: pick(&["weight_decay"], args.weight_decay, recorded.weight_decay),
            schedule: pick(&["schedule", "warmup"], schedule, recorded.schedule),
        }
    }
}

/// The flags' value when one of `ids` is given, else the recorded one
/// when there is one.
fn pick<V>(ids: &[&str], flags: V, recorded: Option<V>) -> V {
    match recorded {
        Some(recorded) if !ids.iter().any(|&id| given(id)) => recorded,
        _ => flags,
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The exit status of a process ended by Ctrl-C: 128 + SIGINT.
const INTERRUPTED_STATUS: u8 = 130;

/// The flag the signals asking a program to end (Ctrl-C, SIGTERM, SIGHUP)
/// raise: a download stops and removes its partial file, a run stops after
/// the step under way, saved.
fn signal_flag() -> StopFlag {
    StopFlag::on_termination().unwrap_or_else(|error| {
        eprintln!("note: a signal will end the run at once, without saving: {error}");
        StopFlag::new()
    })
}

/// Trains `net` as the flags say, and prints the RESULT line: the whole
/// run of an example, from checking its flags to its exit status.
pub fn train<N>(example: &Example, args: &TrainArgs, mut net: N) -> ExitCode
where
    N: Network<f32, Out = Const<10>> + Clone + Send,
    for<'a> ImageSamples<'a>: Samples<f32, N::In, Targets = Vec<usize>>,
{
    let started = Instant::now();
    example.check_paths(args);
    let stop = signal_flag();
    match run(example, args, &mut net, started, &stop) {
        Ok(Stopped::Interrupted) => {
            ExitCode::from(stop.exit_status().unwrap_or(INTERRUPTED_STATUS))
        }
        Ok(_) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            // A download a signal stopped ends as the signal asks.
            stop.exit_status().map_or(ExitCode::FAILURE, ExitCode::from)
        }
    }
}

fn run<N>(
    example: &Example,
    args: &TrainArgs,
    net: &mut N,
    started: Instant,
    stop: &StopFlag,
) -> Result<Stopped, BoxError>
where
    N: Network<f32, Out = Const<10>> + Clone + Send,
    for<'a> ImageSamples<'a>: Samples<f32, N::In, Targets = Vec<usize>>,
{
    // The checkpoint is read before the data: a resume with nothing to do
    // or with other settings is refused before anything is downloaded.
    let checkpoint = match &args.resume {
        Some(path) => {
            let checkpoint = load_checkpoint(net, path)?;
            check_resume(example, args, path, &checkpoint);
            if let Some(note) = checkpoint.loaded.note() {
                eprintln!("note: {note}");
            }
            Some(checkpoint)
        }
        None => None,
    };
    let settings = RunSettings::of(args, checkpoint.as_ref());
    let optimizer =
        Optimizer::new(settings.method, settings.lr).with_weight_decay(settings.weight_decay);
    let mut fit = Fit::new(optimizer)
        .batch_size(settings.batch)
        .sampling(settings.sampling)
        .seed(settings.seed)
        .schedule(settings.schedule)
        .train_accuracy(if example.train_acc_each_epoch {
            TrainAccuracy::EachEpoch
        } else {
            TrainAccuracy::AtEnd
        })
        .data_name(data_name(args))
        .progress(!args.quiet);
    fit = match args.epochs {
        Some(epochs) => fit.epochs(epochs),
        None => fit.steps(args.iters.unwrap_or(example.default_iters)),
    };
    if let Some(patience) = args.patience {
        fit = fit.early_stopping(EarlyStopping::after(patience));
    }
    if let Some(path) = &args.save {
        fit = fit.checkpoint(path).overwrite(args.overwrite);
    }
    let resumed_at = checkpoint.as_ref().map(|checkpoint| checkpoint.iteration);
    if let Some(checkpoint) = checkpoint {
        fit = fit.resume(checkpoint);
        for change in &args.changes {
            fit = fit.allow_change(change.setting());
        }
    }
    // Settings out of range, a resume that changes one, a checkpoint that
    // would be lost: refused before any data is read.
    if let Err(error) = fit.check_settings() {
        example.usage_error(settings_message(args, error));
    }
    if let (Some(path), Some(at), false) = (&args.resume, resumed_at, args.quiet) {
        println!(
            "resumed from {} at iteration {at}, with the settings it records for the flags not given",
            path.display()
        );
    }
    let mnist = load_data(args, stop)?;
    let history = match fit
        .stop_flag(stop.clone())
        .validation_name("test")
        .validation(&mnist.test_samples())
        .run(net, &mnist.train_samples())
    {
        Ok(history) => history,
        Err(error) => return Err(flag_hint(example, args, settings.batch, error)),
    };
    if history.stopped == Stopped::Interrupted {
        let saved = match (&args.save, &history.replacement) {
            (Some(path), Some(Replacement::Pending { previous })) => format!(
                "the checkpoint is in {} (resume it with --resume; the one it replaced waits in {} until a run ends at least as well)",
                path.display(),
                previous.display()
            ),
            (Some(path), _) => format!("the checkpoint is in {}", path.display()),
            (None, _) => "nothing was saved (no --save)".to_owned(),
        };
        let by = stop
            .signal_name()
            .map_or(String::new(), |name| format!(" by {name}"));
        eprintln!(
            "interrupted{by}: stopped after iteration {} of {}; {saved}",
            history.iterations, history.total
        );
        return Ok(Stopped::Interrupted);
    }
    if let Stopped::EarlyStopping { best_epoch } = history.stopped {
        if !args.quiet {
            println!(
                "stopped early: the test loss was lowest at epoch {best_epoch}, whose weights are kept"
            );
        }
    }
    if let Some(path) = &args.save {
        report_saved(path, history.replacement.as_ref(), args.quiet);
    }
    if let Some(path) = &args.plot {
        let points: Vec<plot::EpochRecord> = history.epochs.iter().map(Into::into).collect();
        plot::write_curves(path, &points)?;
        if !args.quiet {
            println!("wrote the curves to {}", path.display());
        }
    }
    let last = history.last().ok_or("no evaluation was recorded")?;
    println!(
        "RESULT test_acc={:.4} train_acc={:.4} train_s={:.3} total_s={:.3}",
        last.val_acc.unwrap_or(f64::NAN),
        last.train_acc.unwrap_or(f64::NAN),
        history.train_seconds,
        started.elapsed().as_secs_f64()
    );
    Ok(history.stopped)
}

/// Refuses, as a usage error, a resume that would train nothing; the file
/// is left as it is.
fn check_resume(example: &Example, args: &TrainArgs, path: &Path, checkpoint: &Checkpoint<f32>) {
    let at = checkpoint.iteration;
    if let Some(iters) = args.iters.filter(|&iters| iters as u64 <= at) {
        example.usage_error(format!(
            "`{}` is at iteration {at}; --iters {iters} is not beyond it: \
             give --iters above {at} to train further",
            path.display(),
        ));
    }
}

/// The usage error of settings the run refuses, in the flags' words.
fn settings_message(args: &TrainArgs, error: FitError) -> String {
    match error {
        FitError::SettingsChanged { changes } => {
            let path = args
                .resume
                .as_deref()
                .unwrap_or(Path::new("the checkpoint"));
            changed_settings_message(path, &changes)
        }
        FitError::WouldOverwrite { path, iteration } => format!(
            "--save {path}: it holds a checkpoint{at} that this run does not resume, and \
             writing over it would lose it: --resume {path} continues it, --overwrite replaces \
             it, or give --save another path",
            path = path.display(),
            at = iteration.map_or(String::new(), |at| format!(" at iteration {at}")),
        ),
        error => error.to_string(),
    }
}

/// `` `a.ckpt` was made with other settings than this run's: `` and one
/// line per change with its flag, then how to go on.
fn changed_settings_message(path: &Path, changes: &[SettingChange]) -> String {
    let mut message = format!(
        "`{}` was made with other settings than this run's:",
        path.display()
    );
    let mut names = Vec::new();
    for change in changes {
        let (name, flags) = ChangeArg::of(change.setting).unwrap_or_default();
        message.push_str(&format!(
            "\n  {}: {} in the checkpoint, {} in this run ({flags})",
            change.setting, change.recorded, change.this_run
        ));
        names.push(format!("--change {name}"));
    }
    message.push_str(&format!(
        "\ngive the checkpoint's settings to continue it as it was made, or {} to change them on purpose",
        names.join(" ")
    ));
    message
}

/// Says where the weights are, and which checkpoint stays at `path` when
/// the run replaced one.
fn report_saved(path: &Path, replacement: Option<&Replacement>, quiet: bool) {
    match replacement {
        Some(Replacement::KeptPrevious {
            this_run,
            previous,
            ended,
        }) => eprintln!(
            "warning: this run ended worse on the {} set than the checkpoint it would replace \
             ({} against {}): {} keeps that checkpoint; this run's is in {}",
            ended.data,
            scores(ended),
            scores(previous),
            path.display(),
            this_run.display()
        ),
        _ if !quiet => println!("saved the weights to {}", path.display()),
        _ => {}
    }
}

/// `accuracy 0.1000, loss 2.3026`.
fn scores(evaluation: &staticnet::io::RecordedEvaluation) -> String {
    match evaluation.accuracy {
        Some(accuracy) => format!("accuracy {accuracy:.4}, loss {:.4}", evaluation.loss),
        None => format!("loss {:.4}", evaluation.loss),
    }
}

/// A run's error, with the flag to change where one is to blame: settings
/// out of range are usage errors.
fn flag_hint(example: &Example, args: &TrainArgs, batch: usize, error: FitError) -> BoxError {
    match error {
        FitError::Train(TrainError::BatchLargerThanData { .. } | TrainError::EmptyBatch) => {
            example.usage_error(format!("--batch {batch}: {error}"))
        }
        FitError::AlreadyTrained { at, .. } => {
            // The flag that set the run's length, as given (--iters beyond
            // the checkpoint is checked before the run).
            let length = match (args.epochs, args.iters) {
                (Some(epochs), _) => format!("--epochs {epochs}"),
                (None, Some(iters)) => format!("--iters {iters}"),
                (None, None) => {
                    "the example's default length; give --iters or --epochs beyond it".to_owned()
                }
            };
            let last = if at == u64::MAX {
                "; its iteration is the largest a run can count to, so no run can go on from it"
            } else {
                ""
            };
            example.usage_error(format!("{error} ({length}){last}"))
        }
        error => error.into(),
    }
}

/// The data a run trains on, as its checkpoints record it: `MNIST`,
/// `Fashion-MNIST`, or `own data (--dataset fashion)`.
fn data_name(args: &TrainArgs) -> String {
    if args.own_data {
        let flag = args
            .dataset
            .to_possible_value()
            .map(|v| v.get_name().to_owned());
        format!("own data (--dataset {})", flag.unwrap_or_default())
    } else {
        dataset(args).name().to_owned()
    }
}

fn dataset(args: &TrainArgs) -> Dataset {
    match args.dataset {
        DatasetArg::Mnist => Dataset::Mnist,
        DatasetArg::Fashion => Dataset::Fashion,
    }
}

/// The dataset the flags name, downloaded when files are missing (a
/// signal stops a download and removes its partial file), and checked to
/// be the canonical files unless they are `--own-data`.
fn load_data(args: &TrainArgs, stop: &StopFlag) -> Result<Mnist, BoxError> {
    let dataset = dataset(args);
    let dir = resolve_data_dir(args.data.as_deref(), dataset);
    download::fetch_missing_files(
        &dir,
        dataset,
        &args.mirrors,
        &args.download,
        Some(stop),
        args.quiet,
    )?;
    // Fashion-MNIST images with MNIST labels, or a damaged file, would
    // train without a word: the files must be the dataset's own.
    if !args.own_data {
        check_canonical(&dir, dataset).map_err(|error| {
            format!("{error}\n(for data of your own in the MNIST layout, pass --own-data)")
        })?;
    }
    load_mnist(&dir, &Default::default())
        .map_err(|error| format!("{error}\n(--data DIR chooses the directory)").into())
}

#[path = "download.rs"]
mod download;
