//! `bench --infer`: a frozen net's predictions over the 10,000 MNIST test
//! images, timed call by call as `infer_peers.py`-style references time
//! theirs (50 calls of warm-up, then one call per batch; the median and
//! 99th percentile of the per-call times, divided by the batch size), with
//! `--threads` threads sharing the one model, each taking its share of the
//! batches; and, for comparison, the training struct's own `predict`.

use std::time::Instant;

use staticnet::infer::Infer;
use staticnet::{Batch, BatchStorage, FixedShape, FreezeNetwork, Network, Predictor};

/// Calls before the timed ones.
const WARMUP: usize = 50;

/// The 10,000 test images, `784` values each in `[0, 1]`, cut into batches
/// of `batch` samples of the shape `S`.
pub fn batches<S: FixedShape>(pixels: &[u8], batch: usize) -> Vec<Batch<f32, S>> {
    let values: Vec<f32> = pixels.iter().map(|&p| f32::from(p) / 255.0).collect();
    values
        .chunks_exact(batch * S::NUMEL)
        .map(|chunk| {
            let mut x = Batch::<f32, S>::zeros(batch);
            for (n, sample) in chunk.chunks_exact(S::NUMEL).enumerate() {
                x.set_sample(n, sample);
            }
            x
        })
        .collect()
}

/// Times the frozen form of `net` and its training struct over `inputs`,
/// `passes` times over (the frozen one), printing one `RESULT` line for
/// each.
pub fn compare<N, B>(
    net: &mut N,
    name: &str,
    inputs: &[Batch<f32, B::In>],
    (threads, passes): (usize, usize),
) where
    N: Network<f32, In = B::In, Out = B::Out> + FreezeNetwork<f32, Frozen = Predictor<f32, B>>,
    B: Infer<f32>,
    B::In: FixedShape,
    B::Out: FixedShape,
{
    let batch = inputs.first().map_or(0, |x| x.batch_size());
    let model = net.freeze();
    let (times, total) = time_shared(&model, inputs, threads, passes);
    print_result("staticnet", name, batch, threads, &times, total);
    let start = Instant::now();
    let times = time_calls(inputs, 1, |x| {
        std::hint::black_box(net.predict(x));
    });
    let total = start.elapsed().as_secs_f64();
    print_result("staticnet-training-struct", name, batch, 1, &times, total);
}

/// Per-call times of `threads` threads sharing `model`, each over its share
/// of `inputs` `passes` times, and the wall time of it all.
fn time_shared<B>(
    model: &Predictor<f32, B>,
    inputs: &[Batch<f32, B::In>],
    threads: usize,
    passes: usize,
) -> (Vec<f64>, f64)
where
    B: Infer<f32>,
    B::In: FixedShape,
    B::Out: FixedShape,
{
    let share = inputs.len().div_ceil(threads);
    let start = Instant::now();
    let times = std::thread::scope(|scope| {
        let workers: Vec<_> = inputs
            .chunks(share)
            .map(|part| {
                scope.spawn(move || {
                    let mut scratch = model.scratch();
                    time_calls(part, passes, |x| {
                        std::hint::black_box(model.predict(x, &mut scratch));
                    })
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("a timing thread panicked"))
            .collect()
    });
    (times, start.elapsed().as_secs_f64())
}

/// `call` on [`WARMUP`] inputs, then timed on each of `inputs`, `passes`
/// times over: the seconds of each timed call.
fn time_calls<X>(inputs: &[X], passes: usize, mut call: impl FnMut(&X)) -> Vec<f64> {
    for x in inputs.iter().cycle().take(WARMUP) {
        call(x);
    }
    let all = inputs.iter().cycle().take(inputs.len() * passes);
    all.map(|x| {
        let start = Instant::now();
        call(x);
        start.elapsed().as_secs_f64()
    })
    .collect()
}

/// One `RESULT` line: the median and 99th percentile of the per-call
/// times, per image, and the wall time.
fn print_result(who: &str, net: &str, batch: usize, threads: usize, times: &[f64], total: f64) {
    let mut per_image: Vec<f64> = times.iter().map(|t| t * 1e6 / batch as f64).collect();
    per_image.sort_by(f64::total_cmp);
    let at = |q: f64| per_image[((per_image.len() - 1) as f64 * q).round() as usize];
    println!(
        "RESULT name={who} net={net} batch={batch} threads={threads} us_per_image_p50={:.2} p99={:.2} total_s={total:.3}",
        at(0.5),
        at(0.99)
    );
}
