//! The book's training step, timed: forward, backward and the SGD update
//! of `Affine<784, H> → Relu → Affine<H, 10> → SoftmaxWithLoss` on
//! synthetic data of MNIST's size; with `--net simple-convnet`, the same
//! for the book's SimpleConvNet (chapter 7, SGD), and with `--net
//! deep-convnet`, one Adam step of its DeepConvNet (chapter 8).
//!
//! ```text
//! cargo run --release --example bench -- --iters 2000 --batch 100 --hidden 50 --dtype f32 --threads 1
//! cargo run --release --example bench -- --net deep-convnet --iters 100 --threads 2
//! cargo run --release --example bench -- --hidden 50 --runtime-width
//! ```
//!
//! With `--infer`, the frozen form of the net (`freeze`) predicts the
//! 10,000 MNIST test images of `--data DIR` at `--batch B` (1 or 100, as
//! the references time it), with `--threads T` threads sharing the one
//! model, and then the training struct's `predict`, for comparison:
//!
//! ```text
//! cargo run --release --example bench -- --infer --net two --batch 1 --data data/mnist
//! RESULT name=staticnet net=two batch=1 threads=1 us_per_image_p50=1.10 p99=1.70 total_s=0.012
//! ```
//!
//! `--impl both` also times the layers as they were before the kernel work
//! (matrixmultiply for every product; `benches/common/baseline.rs`), in
//! alternating blocks of steps in the same run, and prints the ratio.
//! `--runtime-width` does the same with the net whose hidden width is
//! chosen at run time (`Affine<784, dyn>, Relu, Affine<dyn, 10>`), built
//! with the same weights.
//! The last line is always the staticnet result (or the baseline's, with
//! `--impl baseline`):
//!
//! ```text
//! RESULT name=staticnet dtype=f32 batch=100 hidden=50 iters=2000 ms_per_step=0.25 final_loss=0.12
//! RESULT name=staticnet net=deep-convnet dtype=f32 batch=100 iters=100 ms_per_step=51.2 final_loss=0.98
//! ```

#[path = "../benches/common/baseline.rs"]
mod baseline;
#[path = "convnets/nets.rs"]
mod convnets;
#[path = "inference/timing.rs"]
mod inference;
#[path = "../benches/common/net.rs"]
mod net;

use std::process::ExitCode;
use std::time::Instant;

use staticnet::optim::{DEFAULT_BETA1, DEFAULT_BETA2, Method, Optimizer};
use staticnet::typenum::{U1, U28};
use staticnet::{Chw, Const, ImageBatch, Init, Network, Scalar, Targets};

use baseline::MmScalar;
use net::Pool;

const USAGE: &str = "usage: bench [--net NET] [--iters N] [--batch B] [--hidden H] [--dtype f32|f64] [--threads T] [--pool P] [--density D] [--impl staticnet|baseline|both] [--runtime-width]
       bench --infer [--net NET] [--batch B] [--threads T] [--data DIR]
  --net NET     two-layer (default), simple-convnet (SGD, learning rate
                0.1) or deep-convnet (Adam, learning rate 0.001); the
                convolutional nets take neither --density nor --impl,
                and ignore --hidden
  --iters N     timed training steps, after 50 warm-up steps (default 2000;
                convolutional nets: 100, after 5)
  --batch B     samples per step (default 100)
  --hidden H    hidden units: 50, 100, 128, 256, 512, 1000 or 1024 (default 50)
  --dtype D     f32 or f64 (default f32)
  --threads T   threads for the matrix products (default 1)
  --pool P      samples in the synthetic data set, cut into batches once
                (default 3000: 9.4 MB in f32, more than L2, less than L3)
  --density D   fraction of nonzero pixels, drawn at random (default: about
                0.64; MNIST's images have 0.19, which takes the first
                layer's sparse path)
  --impl I      staticnet (default), baseline (the layers before the kernel
                work), or both, timed in alternating blocks in one run
  --runtime-width
                time the net with the hidden width chosen at run time
                against the same width compiled in, alternating, instead of
                the baseline (two-layer net only)
  --infer       time inference instead: the frozen net, with --threads
                threads sharing it, on the 10,000 test images at --batch,
                then the training struct's predict (NET may be written two,
                conv or deep, as the reference programs name them)
  --data DIR    the MNIST files for --infer (default data/mnist)
  --passes P    times --infer goes over the test images with the frozen
                net (default 1; more, for the throughput of --threads)";

const WARMUP: usize = 50;
const CONV_WARMUP: usize = 5;
const CONV_ITERS: usize = 100;
const LEARNING_RATE: f64 = 0.1;
const BLOCK: usize = 10;

#[derive(Clone, Copy, PartialEq)]
enum Which {
    TwoLayer,
    SimpleConvNet,
    DeepConvNet,
}

#[derive(Clone, Copy, PartialEq)]
enum Impl {
    Staticnet,
    Baseline,
    Both,
}

struct Args {
    net: Which,
    iters: Option<usize>,
    batch: usize,
    hidden: usize,
    f64: bool,
    threads: usize,
    pool: usize,
    density: Option<f64>,
    which: Impl,
    runtime_width: bool,
    /// `--infer`: time the frozen net on the test images of this directory.
    infer: Option<std::path::PathBuf>,
    /// `--passes`: how many times `--infer` goes over the test images.
    passes: usize,
}

fn parse() -> Result<Args, String> {
    let mut args = Args {
        net: Which::TwoLayer,
        iters: None,
        batch: 100,
        hidden: 50,
        f64: false,
        threads: 1,
        pool: 3000,
        density: None,
        which: Impl::Staticnet,
        runtime_width: false,
        infer: None,
        passes: 1,
    };
    let mut infer = false;
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        let number = |v: String| {
            v.parse::<usize>()
                .ok()
                .filter(|&n| n > 0)
                .ok_or_else(|| format!("{flag} wants a positive integer, not {v:?}"))
        };
        match flag.as_str() {
            "--iters" => args.iters = Some(number(value()?)?),
            "--net" => {
                args.net = match value()?.as_str() {
                    "two-layer" | "two" => Which::TwoLayer,
                    "simple-convnet" | "conv" => Which::SimpleConvNet,
                    "deep-convnet" | "deep" => Which::DeepConvNet,
                    other => {
                        return Err(format!(
                            "--net is two-layer, simple-convnet or deep-convnet, not {other:?}"
                        ));
                    }
                }
            }
            "--batch" => args.batch = number(value()?)?,
            "--hidden" => args.hidden = number(value()?)?,
            "--threads" => args.threads = number(value()?)?,
            "--pool" => args.pool = number(value()?)?,
            "--density" => {
                let v = value()?;
                let density = v.parse::<f64>().ok().filter(|d| (0.0..=1.0).contains(d));
                args.density =
                    Some(density.ok_or_else(|| format!("--density wants 0..=1, not {v:?}"))?);
            }
            "--dtype" => {
                args.f64 = match value()?.as_str() {
                    "f32" => false,
                    "f64" => true,
                    other => return Err(format!("--dtype is f32 or f64, not {other:?}")),
                }
            }
            "--impl" => {
                args.which = match value()?.as_str() {
                    "staticnet" => Impl::Staticnet,
                    "baseline" => Impl::Baseline,
                    "both" => Impl::Both,
                    other => {
                        return Err(format!(
                            "--impl is staticnet, baseline or both, not {other:?}"
                        ));
                    }
                }
            }
            "--runtime-width" => args.runtime_width = true,
            "--infer" => infer = true,
            "--data" => args.infer = Some(value()?.into()),
            "--passes" => args.passes = number(value()?)?,
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown flag {other:?}")),
        }
    }
    if infer {
        args.infer.get_or_insert_with(|| "data/mnist".into());
        if args.density.is_some() || args.which != Impl::Staticnet || args.runtime_width {
            return Err("--infer takes neither --density, --impl nor --runtime-width".into());
        }
        return Ok(args);
    }
    if args.infer.is_some() {
        return Err("--data is the test images of --infer".into());
    }
    if args.net != Which::TwoLayer
        && (args.density.is_some() || args.which != Impl::Staticnet || args.runtime_width)
    {
        return Err(
            "the convolutional nets take neither --density, --impl nor --runtime-width".into(),
        );
    }
    if args.runtime_width && args.which != Impl::Staticnet {
        return Err("--runtime-width takes the place of --impl".into());
    }
    Ok(args)
}

/// One network being timed, with its own copy of the data's order.
struct Timed<T: Scalar, N: Network<T>> {
    net: N,
    next: usize,
    times: Vec<f64>,
    loss: T,
}

/// The generator every timed net draws its weights from.
fn weights_rng() -> staticnet::rand::rngs::StdRng {
    <staticnet::rand::rngs::StdRng as staticnet::rand::SeedableRng>::seed_from_u64(42)
}

impl<T: Scalar, N: Network<T, In = Const<784>, Out = Const<10>>> Timed<T, N> {
    fn new(net: N, iters: usize) -> Self {
        Timed {
            net,
            next: 0,
            times: Vec::with_capacity(iters),
            loss: T::zero(),
        }
    }

    fn step(&mut self, pool: &Pool<T>, lr: T) -> T {
        let k = self.next;
        self.next = (k + 1) % pool.len();
        Optimizer::sgd(lr.as_f64()).train_step(
            &mut self.net,
            &pool.x[k],
            Targets::Classes(&pool.t[k]),
        )
    }

    fn run(&mut self, pool: &Pool<T>, steps: usize, lr: T) {
        for _ in 0..steps {
            let start = Instant::now();
            self.loss = self.step(pool, lr);
            self.times.push(start.elapsed().as_secs_f64() * 1e3);
        }
    }
}

/// Median, 10th and 90th percentile, in ms.
fn summary(times: &[f64]) -> (f64, f64, f64) {
    let mut sorted = times.to_vec();
    sorted.sort_by(f64::total_cmp);
    let at = |q: f64| sorted[((sorted.len() - 1) as f64 * q).round() as usize];
    (at(0.5), at(0.1), at(0.9))
}

/// Prints the times of `name` on `net` (its description) and returns the
/// median.
fn report<T: Scalar>(name: &str, net: &str, args: &Args, times: &[f64]) -> f64 {
    let (median, p10, p90) = summary(times);
    let mean = times.iter().sum::<f64>() / times.len() as f64;
    eprintln!(
        "{name}: {} steps, ms/step median {median:.4} (p10 {p10:.4}, p90 {p90:.4}, mean {mean:.4}), {} threads, {} {net} B={}",
        times.len(),
        args.threads,
        T::NAME,
        args.batch
    );
    median
}

/// The net timed against staticnet's: the baseline's layers, or the same
/// net with its hidden width chosen at run time.
struct Other<'a, B> {
    name: &'a str,
    net: B,
}

/// Times `N`, staticnet's net, against `other`, and prints the ratio.
fn run<T, N, B>(args: &Args, other: Option<Other<'_, B>>)
where
    T: MmScalar,
    N: Network<T, In = Const<784>, Out = Const<10>>,
    B: Network<T, In = Const<784>, Out = Const<10>>,
{
    let samples = args.pool.max(args.batch);
    let pool = match args.density {
        Some(density) => Pool::<T>::with_density(samples, args.batch, 7, density),
        None => Pool::<T>::new(samples, args.batch, 7),
    };
    let lr = T::of_f64(LEARNING_RATE);
    let iters = args.iters.unwrap_or(2000);
    let mut ours = (args.which != Impl::Baseline)
        .then(|| Timed::<T, N>::new(N::new(&mut weights_rng()), iters));
    let name = other.as_ref().map_or("", |o| o.name);
    let mut other = other.map(|o| Timed::<T, B>::new(o.net, iters));
    // The net that runs second in a block finds the caches warmer: the
    // order changes from block to block, so that neither gains from it.
    let step = |ours: &mut Option<Timed<T, N>>, other: &mut Option<Timed<T, B>>, steps, flip| {
        if let (Some(other), false) = (other.as_mut(), flip) {
            other.run(&pool, steps, lr);
        }
        if let Some(ours) = ours {
            ours.run(&pool, steps, lr);
        }
        if let (Some(other), true) = (other, flip) {
            other.run(&pool, steps, lr);
        }
    };
    for k in 0..WARMUP {
        step(&mut ours, &mut other, 1, k % 2 == 1);
    }
    ours.iter_mut().for_each(|t| t.times.clear());
    other.iter_mut().for_each(|t| t.times.clear());
    let mut done = 0;
    while done < iters {
        let steps = BLOCK.min(iters - done);
        step(&mut ours, &mut other, steps, (done / BLOCK) % 2 == 1);
        done += steps;
    }
    let result = |name: &str, ms: f64, loss: T| {
        println!(
            "RESULT name={name} dtype={} batch={} hidden={} iters={} ms_per_step={ms:.4} final_loss={:.6}",
            T::NAME,
            args.batch,
            args.hidden,
            iters,
            loss.as_f64()
        )
    };
    let net = format!("H={}", args.hidden);
    let other_ms = other
        .as_ref()
        .map(|o| (report::<T>(name, &net, args, &o.times), o.loss));
    let ours_ms = ours
        .as_ref()
        .map(|o| (report::<T>("staticnet", &net, args, &o.times), o.loss));
    match (other_ms, ours_ms) {
        (Some((b, b_loss)), Some((o, o_loss))) => {
            eprintln!(
                "ratio {name}/staticnet: {:.3}x (final losses {:.6} vs {:.6})",
                b / o,
                b_loss.as_f64(),
                o_loss.as_f64()
            );
            if args.runtime_width {
                result("staticnet-runtime-width", b, b_loss);
            }
            result("staticnet", o, o_loss);
        }
        (Some((b, loss)), None) => result("baseline", b, loss),
        (None, Some((o, loss))) => result("staticnet", o, loss),
        (None, None) => unreachable!("--impl names at least one"),
    }
}

/// Times `N`, one of the book's convolutional nets, on the pool's images:
/// `method` at `lr`, as the book trains it (one step: forward, backward,
/// update).
fn run_conv<T, N>(args: &Args, (name, method, lr): (&str, Method, f64))
where
    T: Scalar,
    N: Network<T, In = Chw<U1, U28, U28>, Out = Const<10>>,
{
    let samples = args.pool.max(args.batch);
    let pool = Pool::<T>::new(samples, args.batch, 7);
    // The pool's batches are `B × 784` column-major: transposed, they are
    // the images row after row.
    let images: Vec<ImageBatch<T, Chw<U1, U28, U28>>> = pool
        .x
        .iter()
        .map(|x| ImageBatch::from_vec(x.transpose().as_slice().to_vec()).expect("whole images"))
        .collect();
    let mut rng =
        <staticnet::rand::rngs::StdRng as staticnet::rand::SeedableRng>::seed_from_u64(42);
    let mut net = N::init(&mut rng, Init::He);
    let mut optimizer = Optimizer::<T>::new(method, lr);
    let mut loss = T::zero();
    let mut step = |k: usize| {
        let k = k % images.len();
        optimizer.train_step(&mut net, &images[k], Targets::Classes(&pool.t[k]))
    };
    for k in 0..CONV_WARMUP {
        step(k);
    }
    let iters = args.iters.unwrap_or(CONV_ITERS);
    let mut times = Vec::with_capacity(iters);
    for k in 0..iters {
        let start = Instant::now();
        loss = step(CONV_WARMUP + k);
        times.push(start.elapsed().as_secs_f64() * 1e3);
    }
    let ms = report::<T>("staticnet", name, args, &times);
    println!(
        "RESULT name=staticnet net={name} dtype={} batch={} iters={iters} ms_per_step={ms:.4} final_loss={:.6}",
        T::NAME,
        args.batch,
        loss.as_f64()
    );
}

/// Runs the two-layer net of `args.hidden` units, compiled in as
/// `net::$module`, against the baseline or the runtime-width net.
macro_rules! dispatch {
    ($args:expr, $t:ty; $($h:literal => $module:ident),*) => {
        match $args.hidden {
            $($h => {
                type Static = net::$module::Net<$t>;
                if $args.runtime_width {
                    let built = net::runtime::Net::<$t>::with_widths(
                        &mut weights_rng(),
                        Init::BOOK,
                        [$h],
                    )
                    .expect("a width of at least 1");
                    let other = Other { name: "runtime width", net: built };
                    run::<$t, Static, net::runtime::Net<$t>>($args, Some(other))
                } else {
                    let other = ($args.which != Impl::Staticnet).then(|| Other {
                        name: "baseline (matrixmultiply)",
                        net: net::$module::BaseNet::<$t>::new(&mut weights_rng()),
                    });
                    run::<$t, Static, net::$module::BaseNet<$t>>($args, other)
                }
            })*
            other => {
                eprintln!("--hidden {other} is not compiled in\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    };
}

/// `--infer`: the frozen net against the training struct, on the test
/// images of `data`.
fn run_infer(args: &Args, data: &std::path::Path) -> ExitCode {
    let options = staticnet::data::LoadOptions::default();
    let mnist = match staticnet::data::load_mnist(data, &options) {
        Ok(mnist) => mnist,
        Err(error) => {
            eprintln!("bench: --data {}: {error}", data.display());
            return ExitCode::from(1);
        }
    };
    let pixels = mnist.test.images();
    let mut rng = weights_rng();
    let (batch, threads) = (args.batch, (args.threads, args.passes));
    match args.net {
        Which::TwoLayer => {
            let mut net = net::h50::Net::<f32>::init(&mut rng, Init::He);
            let inputs = inference::batches::<Const<784>>(pixels, batch);
            inference::compare(&mut net, "two", &inputs, threads);
        }
        Which::SimpleConvNet => {
            let mut net = convnets::SimpleConvNet::<f32>::init(&mut rng, Init::He);
            let inputs = inference::batches::<Chw<U1, U28, U28>>(pixels, batch);
            inference::compare(&mut net, "conv", &inputs, threads);
        }
        Which::DeepConvNet => {
            let mut net = convnets::DeepConvNet::<f32>::init(&mut rng, Init::He);
            let inputs = inference::batches::<Chw<U1, U28, U28>>(pixels, batch);
            inference::compare(&mut net, "deep", &inputs, threads);
        }
    }
    ExitCode::SUCCESS
}

fn main() -> ExitCode {
    let args = match parse() {
        Ok(args) => args,
        Err(message) => {
            if !message.is_empty() {
                eprintln!("bench: {message}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    if let Some(data) = &args.infer {
        return run_infer(&args, data);
    }
    // Both kernels read their thread count once, at their first product.
    // SAFETY: no other thread runs yet.
    unsafe {
        std::env::set_var("STATICNET_NUM_THREADS", args.threads.to_string());
        std::env::set_var("MATMUL_NUM_THREADS", args.threads.to_string());
    }
    let (simple, deep) = (
        ("simple-convnet", Method::Sgd, 0.1),
        (
            "deep-convnet",
            Method::Adam {
                beta1: DEFAULT_BETA1,
                beta2: DEFAULT_BETA2,
            },
            0.001,
        ),
    );
    match (args.net, args.f64) {
        (Which::TwoLayer, true) => {
            dispatch!(&args, f64; 50 => h50, 100 => h100, 128 => h128, 256 => h256, 512 => h512, 1000 => h1000, 1024 => h1024)
        }
        (Which::TwoLayer, false) => {
            dispatch!(&args, f32; 50 => h50, 100 => h100, 128 => h128, 256 => h256, 512 => h512, 1000 => h1000, 1024 => h1024)
        }
        (Which::SimpleConvNet, true) => {
            run_conv::<f64, convnets::SimpleConvNet<f64>>(&args, simple)
        }
        (Which::SimpleConvNet, false) => {
            run_conv::<f32, convnets::SimpleConvNet<f32>>(&args, simple)
        }
        (Which::DeepConvNet, true) => run_conv::<f64, convnets::DeepConvNet<f64>>(&args, deep),
        (Which::DeepConvNet, false) => run_conv::<f32, convnets::DeepConvNet<f32>>(&args, deep),
    }
    ExitCode::SUCCESS
}
