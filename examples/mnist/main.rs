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
//! It ends with one line for scripts:
//! `RESULT test_acc=<0.xxxx> train_acc=<0.xxxx> train_s=<seconds> total_s=<seconds>`.

mod plot;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Instant;

use clap::error::ErrorKind;
use clap::{CommandFactory, Parser, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use staticnet::data::{Dataset, LoadOptions, Mnist, check_canonical, load_mnist, resolve_data_dir};
use staticnet::io::{CheckpointMeta, load_checkpoint, save_checkpoint};
use staticnet::optim::Method;
use staticnet::prelude::*;
use staticnet::train::{
    ImageSamples, TrainConfig, TrainError, Trainer, evaluate, loss_and_accuracy,
};

use plot::EpochRecord;

#[path = "../common/paths.rs"]
mod paths;
#[path = "../common/two_layer_nets.rs"]
mod two_layer_nets;

use two_layer_nets::{parse_hidden, with_two_layer_net};

/// Samples per forward pass when measuring accuracy and loss.
const EVAL_CHUNK: usize = 100;

#[derive(Parser, Debug)]
#[command(
    name = "mnist",
    about = "Train the book's two-layer net on MNIST with mini-batch SGD or another optimizer"
)]
struct Args {
    /// Training steps.
    #[arg(long, default_value_t = 10_000)]
    iters: usize,
    /// Samples per mini-batch.
    #[arg(long, default_value_t = 100)]
    batch: usize,
    /// Hidden units: 50, 100, 128, 256, 512, 1000 or 1024.
    #[arg(long, default_value_t = 50, value_parser = parse_hidden)]
    hidden: usize,
    /// Learning rate.
    #[arg(long, default_value_t = 0.1, allow_negative_numbers = true)]
    lr: f64,
    /// The update rule: sgd, momentum, nesterov, adagrad, rmsprop or adam,
    /// with the book's settings.
    #[arg(long, default_value_t = Method::Sgd)]
    optimizer: Method,
    /// How the weights are drawn.
    #[arg(long, value_enum, default_value_t = InitArg::Book)]
    init: InitArg,
    /// Weight decay λ: the L2 penalty ½·λ·ΣW² on the weights.
    #[arg(long, default_value_t = 0.0, allow_hyphen_values = true)]
    weight_decay: f64,
    /// Seed of the initial weights and of every mini-batch.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Directory holding the four IDX files (else $MNIST_DIR or
    /// $FASHION_MNIST_DIR, else a per-user cache directory).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Which dataset.
    #[arg(long, value_enum, default_value_t = DatasetArg::Mnist)]
    dataset: DatasetArg,
    /// Base URL to download missing files from; may be repeated (else
    /// $STATICNET_MIRROR, else the public mirrors).
    #[arg(long = "mirror", value_name = "URL")]
    mirrors: Vec<String>,
    /// Write a checkpoint (the weights under the book's names, the
    /// optimizer's state, the iteration and the seed) here at every epoch
    /// and at the end.
    #[arg(long, value_name = "PATH")]
    save: Option<PathBuf>,
    /// Continue from a checkpoint written by --save, with the same
    /// --optimizer, up to an --iters beyond the checkpoint's iteration.
    #[arg(long, value_name = "PATH")]
    resume: Option<PathBuf>,
    /// Write the loss and accuracy curves to this PNG.
    #[arg(long, value_name = "PATH")]
    plot: Option<PathBuf>,
    /// The files in --data are data of one's own in the MNIST layout: do
    /// not check them against the SHA-256 of the canonical MNIST or
    /// Fashion-MNIST files.
    #[arg(long)]
    own_data: bool,
    /// Print only the RESULT line.
    #[arg(long)]
    quiet: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum InitArg {
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
enum DatasetArg {
    /// MNIST handwritten digits.
    Mnist,
    /// Zalando's Fashion-MNIST.
    Fashion,
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Ctrl-C presses so far: the first stops the training after the step
/// under way; the second exits at once.
static INTERRUPTS: AtomicUsize = AtomicUsize::new(0);

/// The training was stopped by Ctrl-C (after saving, with `--save`).
#[derive(Debug)]
struct Interrupted;

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("interrupted")
    }
}

impl std::error::Error for Interrupted {}

/// The exit status of a process ended by Ctrl-C: 128 + SIGINT.
const INTERRUPTED_STATUS: u8 = 130;

fn main() -> ExitCode {
    let args = Args::parse();
    check_paths(&args);
    let handler = ctrlc::set_handler(|| {
        if INTERRUPTS.fetch_add(1, Ordering::SeqCst) > 0 {
            eprintln!("\ninterrupted again: exiting at once");
            std::process::exit(i32::from(INTERRUPTED_STATUS));
        }
    });
    if let Err(error) = handler {
        eprintln!("note: Ctrl-C will end the run at once, without saving: {error}");
    }
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) if error.is::<Interrupted>() => ExitCode::from(INTERRUPTED_STATUS),
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// The paths given on the command line, checked before any data is read
/// or any step taken: a data directory or checkpoint that is missing or is
/// something else, and an output that cannot be written, are usage errors
/// (clap prints the message with the usage line and exits with code 2).
fn check_paths(args: &Args) {
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
        usage_error(message);
    }
}

/// Exits with clap's usage message and code 2.
fn usage_error(message: String) -> ! {
    Args::command()
        .error(ErrorKind::ValueValidation, message)
        .exit()
}

/// Settings the trainer rejects before it starts are usage errors too.
fn reject_settings(error: TrainError) -> ! {
    usage_error(error.to_string())
}

/// The training settings the flags give, with the run's `seed`.
fn train_config(args: &Args, seed: u64) -> TrainConfig {
    TrainConfig {
        iters: args.iters,
        batch_size: args.batch,
        learning_rate: args.lr,
        optimizer: args.optimizer,
        weight_decay: args.weight_decay,
        seed,
    }
}

fn run(args: &Args) -> Result<(), BoxError> {
    let started = Instant::now();
    // The learning rate and the batch size are checked before any data is
    // read; the batch size against the data once it is loaded.
    train_config(args, args.seed)
        .validate(usize::MAX)
        .unwrap_or_else(|error| reject_settings(error));
    with_two_layer_net!(args.hidden, Net => train::<Net<f32>>(args, started))
        .unwrap_or_else(|| Err(format!("hidden size {} is not compiled in", args.hidden).into()))
}

/// The dataset the flags name, downloaded when files are missing.
/// The data a run trains on, as its checkpoints record it: `MNIST`,
/// `Fashion-MNIST`, or `own data (--dataset fashion)`.
fn data_name(args: &Args) -> String {
    let (dataset, flag) = match args.dataset {
        DatasetArg::Mnist => (Dataset::Mnist, "mnist"),
        DatasetArg::Fashion => (Dataset::Fashion, "fashion"),
    };
    if args.own_data {
        format!("own data (--dataset {flag})")
    } else {
        dataset.name().to_owned()
    }
}

fn load_data(args: &Args) -> Result<Mnist, BoxError> {
    let dataset = match args.dataset {
        DatasetArg::Mnist => Dataset::Mnist,
        DatasetArg::Fashion => Dataset::Fashion,
    };
    let dir = resolve_data_dir(args.data.as_deref(), dataset);
    fetch_missing_files(&dir, dataset, args)?;
    // Fashion-MNIST images with MNIST labels, or a damaged file, would
    // train without a word: the files must be the dataset's own.
    if !args.own_data {
        check_canonical(&dir, dataset)?;
    }
    Ok(load_mnist(&dir, &LoadOptions::default())?)
}

#[cfg(feature = "download")]
fn fetch_missing_files(dir: &Path, dataset: Dataset, args: &Args) -> Result<(), BoxError> {
    use staticnet::data::{DownloadEvent, ensure_downloaded};

    let bar = (!args.quiet && std::io::stderr().is_terminal()).then(|| {
        ProgressBar::new(0).with_style(
            ProgressStyle::with_template(
                "{msg:28} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}",
            )
            .expect("the template is valid")
            .progress_chars("=> "),
        )
    });
    ensure_downloaded(dir, dataset, &args.mirrors, &mut |event| match event {
        DownloadEvent::Started { file, url, total } => match &bar {
            Some(bar) => {
                bar.reset();
                bar.set_length(total.unwrap_or(0));
                bar.set_message(file.to_string());
            }
            None if !args.quiet => eprintln!("downloading {url}"),
            None => {}
        },
        DownloadEvent::Progress { bytes, .. } => {
            if let Some(bar) = &bar {
                bar.set_position(bytes);
            }
        }
        DownloadEvent::MirrorFailed { url, reason, .. } if !args.quiet => {
            eprintln!("{url} failed: {reason}");
        }
        DownloadEvent::Finished { path, bytes, .. } if !args.quiet => {
            if let Some(bar) = &bar {
                bar.finish_and_clear();
            }
            eprintln!(
                "saved {} ({bytes} bytes, checksum verified)",
                path.display()
            );
        }
        _ => {}
    })?;
    Ok(())
}

#[cfg(not(feature = "download"))]
fn fetch_missing_files(_dir: &Path, _dataset: Dataset, _args: &Args) -> Result<(), BoxError> {
    // Without downloads, a missing file is reported by the loader.
    Ok(())
}

/// Where progress goes: a bar on a terminal, plain lines otherwise, or
/// nowhere with --quiet.
enum Progress {
    Bar(ProgressBar),
    Lines,
    Quiet,
}

impl Progress {
    fn new(quiet: bool, total: u64) -> Self {
        if quiet {
            Progress::Quiet
        } else if std::io::stderr().is_terminal() {
            let bar = ProgressBar::new(total).with_style(
                ProgressStyle::with_template(
                    "[{elapsed_precise}] {bar:40} {pos}/{len} iters {msg}",
                )
                .expect("the template is valid"),
            );
            Progress::Bar(bar)
        } else {
            Progress::Lines
        }
    }

    fn line(&self, text: &str) {
        match self {
            Progress::Bar(bar) => bar.println(text),
            Progress::Lines => println!("{text}"),
            Progress::Quiet => {}
        }
    }

    fn step(&self, iteration: usize, loss: f32) {
        if let Progress::Bar(bar) = self {
            bar.set_position(iteration as u64);
            if iteration % 100 == 0 {
                bar.set_message(format!("loss {loss:.4}"));
            }
        }
    }

    fn finish(&self) {
        if let Progress::Bar(bar) = self {
            bar.finish_and_clear();
        }
    }
}

/// What the training loop hands to the evaluating thread: a copy of the
/// network at an epoch boundary. After the last step the training thread
/// measures the training-set accuracy itself and sends it on `train_acc`.
struct Snapshot<N> {
    epoch: usize,
    iteration: usize,
    train_loss: f64,
    train_acc: Option<mpsc::Receiver<f64>>,
    net: N,
}

fn train<N>(args: &Args, started: Instant) -> Result<(), BoxError>
where
    N: Network<f32, In = Const<784>, Out = Const<10>> + Clone + Send,
{
    let mut net = N::init(&mut StdRng::seed_from_u64(args.seed), args.init.init());
    // The checkpoint is read before the data: a resume with nothing to do
    // is refused before anything is downloaded or loaded.
    let checkpoint = match &args.resume {
        Some(path) => Some(load_checkpoint(&mut net, path)?),
        None => None,
    };
    if let (Some(path), Some(checkpoint)) = (&args.resume, &checkpoint) {
        // Training to an iteration the checkpoint has passed would take no
        // step, and a --save would label its weights with the wrong
        // iteration: the file is left as it is.
        if u64::try_from(args.iters).is_ok_and(|iters| iters <= checkpoint.iteration) {
            usage_error(format!(
                "`{}` is at iteration {at}; --iters {} is not beyond it: \
                 give --iters above {at} to train further",
                path.display(),
                args.iters,
                at = checkpoint.iteration,
            ));
        }
    }
    // What the checkpoint records it was trained on; a resume on other data
    // would mix two datasets in one set of weights.
    let trained_on = data_name(args);
    if let (Some(path), Some(recorded)) = (
        &args.resume,
        checkpoint.as_ref().and_then(|c| c.dataset.as_deref()),
    ) {
        if recorded != trained_on {
            usage_error(format!(
                "`{}` was trained on {recorded}, but this run's data is {trained_on}: resume it on the same data",
                path.display()
            ));
        }
    }
    if let Some(note) = checkpoint.as_ref().and_then(|c| c.loaded.note()) {
        eprintln!("note: {note}");
    }
    let mnist = &load_data(args)?;
    let seed = checkpoint.as_ref().map_or(args.seed, |c| c.seed);
    let config = train_config(args, seed);
    let mut trainer = Trainer::<f32, Const<784>>::new(config, mnist.train.len())
        .unwrap_or_else(|error| reject_settings(error));
    let mut start = 0;
    if let (Some(path), Some(checkpoint)) = (&args.resume, &checkpoint) {
        trainer.optimizer_mut().restore(&net, checkpoint)?;
        start = usize::try_from(checkpoint.iteration)?;
        if !args.quiet {
            println!("resumed from {} at iteration {start}", path.display());
        }
    }
    let train_set = ImageSamples {
        split: &mnist.train,
        normalize: true,
    };
    let test_set = ImageSamples {
        split: &mnist.test,
        normalize: true,
    };
    let per_epoch = config.iters_per_epoch(mnist.train.len());
    let progress = Progress::new(args.quiet, args.iters as u64);

    // `done` is the number of steps `net` has taken, counted as they are
    // taken: the iteration a checkpoint records is that of its weights.
    let save = |net: &N, trainer: &Trainer<f32, Const<784>>, done: usize| {
        if let Some(path) = &args.save {
            let meta = CheckpointMeta {
                iteration: done as u64,
                seed,
                optimizer: args.optimizer.name(),
                dataset: Some(&trained_on),
            };
            save_checkpoint(net, &meta, &trainer.optimizer().state_tensors(), path)?;
        }
        Ok::<(), BoxError>(())
    };

    // Accuracy on all 70,000 images costs about as much as 1,500 training
    // steps, so it runs on another thread, on a copy of the network.
    let (history, train_seconds, done) = std::thread::scope(|scope| -> Result<_, BoxError> {
        let (snapshots, inbox) = mpsc::channel::<Snapshot<N>>();
        let progress = &progress;
        let evaluator = scope.spawn(move || -> Result<Vec<EpochRecord>, BoxError> {
            let mut history = Vec::new();
            for snapshot in inbox {
                if INTERRUPTS.load(Ordering::SeqCst) > 0 {
                    break; // Ctrl-C: no more evaluations.
                }
                let Snapshot { epoch, iteration, train_loss, train_acc, mut net } = snapshot;
                let (test_loss, test_acc) = loss_and_accuracy(&mut net, &test_set, EVAL_CHUNK)?;
                let train_acc = match train_acc {
                    Some(measured) => measured.recv().map_err(|_| "the training thread stopped")?,
                    None => evaluate(&mut net, &train_set, EVAL_CHUNK)?,
                };
                let record = EpochRecord {
                    epoch,
                    iteration,
                    train_loss,
                    test_loss,
                    train_acc,
                    test_acc,
                };
                progress.line(&format!(
                    "epoch {epoch:>3}  iter {iteration:>6}  train acc {:.4}  test acc {:.4}  test loss {:.4}",
                    record.train_acc, record.test_acc, record.test_loss
                ));
                history.push(record);
            }
            Ok(history)
        });

        let training = Instant::now();
        let mut loss_sum = 0.0;
        let mut loss_count = 0usize;
        let mut done = start;
        for iteration in start..args.iters {
            if iteration % per_epoch == 0 {
                let train_loss = if loss_count == 0 {
                    f64::NAN
                } else {
                    loss_sum / loss_count as f64
                };
                (loss_sum, loss_count) = (0.0, 0);
                snapshots
                    .send(Snapshot {
                        epoch: iteration / per_epoch,
                        iteration,
                        train_loss,
                        train_acc: None,
                        net: net.clone(),
                    })
                    .map_err(|_| "the evaluating thread stopped")?;
                if done > start {
                    save(&net, &trainer, done)?;
                }
            }
            let loss = trainer.step(&mut net, &train_set, iteration)?;
            done = iteration + 1;
            loss_sum += f64::from(loss);
            loss_count += 1;
            progress.step(iteration + 1, loss);
            if INTERRUPTS.load(Ordering::SeqCst) > 0 {
                break;
            }
        }
        if INTERRUPTS.load(Ordering::SeqCst) > 0 {
            // Stop after this step: the evaluations under way end, the
            // checkpoint holds the steps taken, and the run says where.
            drop(snapshots);
            let _ = evaluator.join();
            progress.finish();
            save(&net, &trainer, done)?;
            let saved = match &args.save {
                Some(path) => format!("the checkpoint is in {}", path.display()),
                None => "nothing was saved (no --save)".to_owned(),
            };
            eprintln!(
                "interrupted: stopped after iteration {done} of {}; {saved}",
                args.iters
            );
            return Err(Interrupted.into());
        }
        let train_seconds = training.elapsed().as_secs_f64();
        let train_loss = if loss_count == 0 {
            f64::NAN
        } else {
            loss_sum / loss_count as f64
        };
        // Both cores are free now: the training-set accuracy (6/7 of the
        // last evaluation) is measured here while the other thread measures
        // the test set.
        let (report, measured) = mpsc::channel();
        snapshots
            .send(Snapshot {
                epoch: done.div_ceil(per_epoch),
                iteration: done,
                train_loss,
                train_acc: Some(measured),
                net: net.clone(),
            })
            .map_err(|_| "the evaluating thread stopped")?;
        // A closed channel means the evaluating thread failed; its error is
        // reported by the join below.
        let _ = report.send(evaluate(&mut net, &train_set, EVAL_CHUNK)?);
        drop(snapshots);
        let history = evaluator
            .join()
            .map_err(|_| "the evaluating thread panicked")??;
        Ok((history, train_seconds, done))
    })?;
    progress.finish();

    save(&net, &trainer, done)?;
    if let Some(path) = &args.save {
        if !args.quiet {
            println!("saved the weights to {}", path.display());
        }
    }
    if let Some(path) = &args.plot {
        plot::write_curves(path, &history)?;
        if !args.quiet {
            println!("wrote the curves to {}", path.display());
        }
    }
    let last = history.last().ok_or("no evaluation was recorded")?;
    println!(
        "RESULT test_acc={:.4} train_acc={:.4} train_s={:.3} total_s={:.3}",
        last.test_acc,
        last.train_acc,
        train_seconds,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
