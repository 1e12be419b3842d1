//! A page to try a trained net: draw a digit with the mouse or a finger and
//! see, as you draw, the class the book's two-layer net predicts and its
//! ten probabilities; plus a JSON endpoint for programs.
//!
//! ```text
//! cargo run --release --example serve -- --weights net.safetensors
//! cargo run --release --example serve -- --data data/mnist    # trains one first, ~2000 steps
//! ```
//!
//! The first line on stdout is `listening on http://ADDRESS:PORT`
//! (`--port 0` picks a free port). Routes:
//!
//! - `GET /`: the page. As you draw, it frames the drawing as MNIST's
//!   digits were (the ink's bounding box scaled into 20×20, its center of
//!   mass at the center of 28×28), shows that image, and sends it as a
//!   PNG.
//! - `POST /predict`: `Content-Type: application/json` with
//!   `{"pixels": [784 numbers in 0..1]}` (or the bare array), row by row,
//!   white on black; or `Content-Type: image/png` with any PNG, framed as
//!   `predict --png` frames one. The answer: `{"class": 7,
//!   "probabilities": [10 numbers]}`. Refusals are `{"error": "…"}` with
//!   400 (wrong length, a value that is not a number in 0..1, malformed
//!   JSON, a broken PNG), 413 (a body over 1 MiB, or a PNG over
//!   2048×2048), 415 (another Content-Type), 404, 405, 408 (a body slower
//!   than 10 s) or 503 (the queue full).
//! - `GET /diagram.svg`: the network's diagram, as `staticnet::diagram`
//!   draws it (shapes forward and backward, with the widths of the net
//!   served).
//!
//! One frozen model serves `--workers` threads, each with its own scratch
//! memory. SIGINT (Ctrl-C), SIGTERM or SIGHUP stop the server: it accepts
//! no more connections, finishes the requests under way, and exits with
//! 128 + the signal, as the training examples do.
//!
//! The modules: `http` (the server, routes and bounds), `request` (the
//! bodies and their checks), `pool` (the predicting threads), `model`
//! (loading or training the net), and `page.html`.

mod http;
mod model;
mod pool;
mod request;

#[path = "../common/download.rs"]
mod download;
#[path = "../predict/frame.rs"]
mod frame;
#[path = "../predict/png_decode.rs"]
mod png_decode;
#[path = "../common/two_layer_nets.rs"]
mod two_layer_nets;

use std::net::{IpAddr, TcpListener};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use staticnet::prelude::*;

use model::QuickRun;
use two_layer_nets::parse_hidden;

/// How many bodies may wait for a worker before requests are refused
/// with 503.
const QUEUE: usize = 64;

#[derive(Parser, Debug)]
#[command(
    name = "serve",
    about = "Serve a page to draw a digit on and see what the two-layer net predicts, \
             and POST /predict for programs"
)]
struct Args {
    /// The weights: a safetensors file written by `mnist --save` or
    /// `staticnet::io::save_weights`. Without it, a net is trained first.
    #[arg(long, value_name = "PATH")]
    weights: Option<PathBuf>,
    /// Without --weights: the steps (batches of 100, Adam) of that training.
    #[arg(long, default_value_t = 2000, value_name = "N", conflicts_with = "weights",
          value_parser = clap::value_parser!(u32).range(1..))]
    train_steps: u32,
    /// Without --weights: the hidden units of the net trained.
    #[arg(long, default_value_t = 50, value_parser = parse_hidden, conflicts_with = "weights")]
    hidden: usize,
    /// Without --weights: the directory of the MNIST files (else
    /// $MNIST_DIR, else a per-user cache directory; missing files are
    /// downloaded).
    #[arg(long, value_name = "DIR", conflicts_with = "weights")]
    data: Option<PathBuf>,
    #[command(flatten)]
    download: download::DownloadArgs,
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// The port to listen on; 0 picks a free one.
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Threads that decode the images and predict.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=64))]
    workers: u16,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let stop = signal_flag();
    let result = run(&args, &stop);
    if let Err(message) = &result {
        eprintln!("error: {message}");
    }
    match (stop.exit_status(), result) {
        (Some(status), _) => ExitCode::from(status),
        (None, Ok(())) => ExitCode::SUCCESS,
        (None, Err(_)) => ExitCode::FAILURE,
    }
}

/// The flag the signals asking a program to end raise; the server then
/// stops accepting and finishes what it has.
fn signal_flag() -> StopFlag {
    StopFlag::on_termination().unwrap_or_else(|error| {
        eprintln!("note: a signal will end the server at once: {error}");
        StopFlag::new()
    })
}

fn run(args: &Args, stop: &StopFlag) -> Result<(), String> {
    let net = match &args.weights {
        Some(path) => model::load(path)?,
        None => {
            let quick = QuickRun {
                steps: args.train_steps as usize,
                hidden: args.hidden,
                data: args.data.as_deref(),
                download: &args.download,
            };
            match model::train_quickly(&quick, stop)? {
                Some(net) => net,
                None => {
                    eprintln!("interrupted{} while training", by(stop));
                    return Ok(());
                }
            }
        }
    };
    // The library's drawing of the net, with the widths it was built with.
    let diagram = staticnet::diagram::network_svg(&net.built_summary());
    let model = net.freeze();
    // The training struct's copy of the weights and its buffers: not served.
    drop(net);
    let listener = TcpListener::bind((args.host, args.port))
        .map_err(|e| format!("cannot listen on {}:{}: {e}", args.host, args.port))?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    println!("listening on http://{address}");
    let workers = usize::from(args.workers);
    let answered = pool::with_workers(&model, workers, QUEUE, |jobs| {
        http::serve(listener, jobs, diagram, stop)
    })?;
    eprintln!(
        "stopped{}: finished the requests under way; {answered} predictions served",
        by(stop)
    );
    Ok(())
}

/// ` by SIGTERM`, for a message; empty when no signal is known.
fn by(stop: &StopFlag) -> String {
    stop.signal_name()
        .map_or(String::new(), |name| format!(" by {name}"))
}
