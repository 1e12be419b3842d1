//! A training step allocates nothing once the buffers exist: the book's
//! two-layer net runs 20 steps (`sgd_train_step`, the bench's step) after a
//! warm-up under a counting global
//! allocator, with the products split between two threads (so the pool is
//! covered too), and must count zero allocations — on every thread. The
//! same steps through the layers as they were before the kernel work
//! (`benches/common/baseline.rs`) must give the same losses. So must a net
//! with batch normalization and dropout, stepped by Adam with weight decay.
//! A small SimpleConvNet (im2col, pooling, flattening) must allocate
//! nothing either.
//!
//! No test harness (`harness = false`): the counter is global, and the
//! harness's own thread, printing and timing the tests beside them, would
//! be counted too. Here the only threads are `main` and staticnet's pool
//! helpers (the baseline's matrixmultiply runs on `main`).

#[path = "../benches/common/baseline.rs"]
mod baseline;
#[path = "../benches/common/net.rs"]
mod net;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use staticnet::optim::{Method, Optimizer};
use staticnet::rand::SeedableRng;
use staticnet::rand::rngs::StdRng;
use staticnet::{
    Batch, BatchStorage, Const, FreezeNetwork, ImageBatch, Init, Network, Scalar, Targets, network,
};

use baseline::MmScalar;
use net::{Pool, h50, h100, h128};

struct Counting;

static COUNTING: AtomicBool = AtomicBool::new(false);
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to the system allocator unchanged; the
// counter only observes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Ordering::SeqCst) {
            ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        }
        // SAFETY: the caller's contract, forwarded.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Ordering::SeqCst) {
            ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        }
        // SAFETY: the caller's contract, forwarded.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.load(Ordering::SeqCst) {
            ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        }
        // SAFETY: the caller's contract, forwarded.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract, forwarded.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const WARMUP: usize = 5;
const STEPS: usize = 20;

/// Trains `N` (by `sgd_train_step`, as the bench does) and the baseline
/// `B` (by `forward_backward` then `sgd_step`) side by side on batches of
/// `batch` (with a fraction `density` of nonzero pixels, which takes the
/// first layer's sparse path, or the dense default data); returns the
/// allocations counted during the last `STEPS` steps of ours.
fn train<T, N, B>(batch: usize, density: Option<f64>, tolerance: f64) -> usize
where
    T: MmScalar,
    N: Network<T, In = Const<784>, Out = Const<10>>,
    B: Network<T, In = Const<784>, Out = Const<10>>,
{
    let pool = match density {
        Some(density) => Pool::<T>::with_density(3 * batch, batch, 11, density),
        None => Pool::<T>::new(3 * batch, batch, 11),
    };
    let mut ours = N::new(&mut StdRng::seed_from_u64(5));
    let mut base = B::new(&mut StdRng::seed_from_u64(5));
    let lr = T::of_f64(0.1);
    let mut step = |k: usize, count: bool| {
        let (x, t) = (&pool.x[k % pool.len()], &pool.t[k % pool.len()]);
        let expected = base.backprop(x, Targets::Classes(t));
        base.visit_params_mut(&mut |p| p.descend(lr));
        COUNTING.store(count, Ordering::SeqCst);
        let loss = Optimizer::sgd(lr.as_f64()).train_step(&mut ours, x, Targets::Classes(t));
        COUNTING.store(false, Ordering::SeqCst);
        let (loss, expected) = (loss.as_f64(), expected.as_f64());
        assert!(
            (loss - expected).abs() <= tolerance * expected.abs().max(1.0),
            "{} B={batch}, step {k}: loss {loss}, baseline {expected}",
            T::NAME
        );
    };
    for k in 0..WARMUP {
        step(k, false);
    }
    ALLOCATIONS.store(0, Ordering::SeqCst);
    for k in WARMUP..WARMUP + STEPS {
        step(k, true);
    }
    ALLOCATIONS.load(Ordering::SeqCst)
}

network! {
    struct Regularized<Affine<784, 64>, BatchNorm, Relu, Dropout, Affine<64, 10>, SoftmaxWithLoss>
}

/// Trains `Regularized` with Adam and weight decay on batches of `batch`;
/// returns the allocations counted during the last `STEPS` steps.
fn train_regularized<T: Scalar>(batch: usize) -> usize {
    let pool = Pool::<T>::new(3 * batch, batch, 12);
    let mut net = Regularized::<T>::init(&mut StdRng::seed_from_u64(6), Init::Auto);
    let adam = Method::from_name("adam").expect("a known optimizer");
    let mut optimizer = Optimizer::new(adam, 0.001).with_weight_decay(1e-4);
    let mut step = |k: usize, count: bool| {
        let (x, t) = (&pool.x[k % pool.len()], &pool.t[k % pool.len()]);
        COUNTING.store(count, Ordering::SeqCst);
        let loss = net.backprop(x, Targets::Classes(t));
        optimizer.step(&mut net);
        COUNTING.store(false, Ordering::SeqCst);
        assert!(loss.is_finite(), "step {k}: loss {}", loss.as_f64());
    };
    for k in 0..WARMUP {
        step(k, false);
    }
    ALLOCATIONS.store(0, Ordering::SeqCst);
    for k in WARMUP..WARMUP + STEPS {
        step(k, true);
    }
    ALLOCATIONS.load(Ordering::SeqCst)
}

network! {
    /// The book's SimpleConvNet, scaled down: 12×12 images, 6 filters.
    struct ConvNet<
        Input<1, 12, 12>,
        Conv2d<6, 5>,
        Relu,
        MaxPool2d<2, stride = 2>,
        Flatten,
        Affine<96, 20>,
        Relu,
        Affine<20, 10>,
        SoftmaxWithLoss,
    >
}

/// Trains `ConvNet` on one batch of `batch` images; returns the
/// allocations counted during the last `STEPS` steps.
fn train_conv(batch: usize) -> usize {
    let mut net = ConvNet::<f32>::new(&mut StdRng::seed_from_u64(3));
    let pixels = (0..batch * 144).map(|k| ((k * 37) % 101) as f32 / 101.0);
    let x = ImageBatch::from_vec(pixels.collect()).expect("whole images");
    let t: Vec<usize> = (0..batch).map(|n| n % 10).collect();
    counted(|count| {
        COUNTING.store(count, Ordering::SeqCst);
        let loss = Optimizer::sgd(0.1).train_step(&mut net, &x, Targets::Classes(&t));
        COUNTING.store(false, Ordering::SeqCst);
        assert!(loss.is_finite());
    })
}

/// Trains the two-layer net whose hidden width is chosen at run time
/// (`Affine<784, dyn>`) on MNIST-like sparse batches with SGD and Adam;
/// returns the allocations counted during the last `STEPS` steps of each.
fn train_runtime_width(hidden: usize) -> usize {
    let pool = Pool::<f32>::with_density(200, 100, 11, 0.19);
    let mut allocations = 0;
    for mut optimizer in [Optimizer::<f32>::sgd(0.01), Optimizer::adam(0.001)] {
        let mut rng = StdRng::seed_from_u64(5);
        let mut net =
            net::runtime::Net::<f32>::with_widths(&mut rng, Init::He, [hidden]).expect("a width");
        let mut k = 0;
        allocations += counted(|count| {
            k = (k + 1) % pool.x.len();
            COUNTING.store(count, Ordering::SeqCst);
            let loss = optimizer.train_step(&mut net, &pool.x[k], &pool.t[k]);
            COUNTING.store(false, Ordering::SeqCst);
            assert!(loss.is_finite());
        });
    }
    allocations
}

/// Predicts with frozen nets, at batch 1 (a sample's slice and a batch of
/// one) and at `batch`, a scratch for each size: the two-layer net on
/// sparse and dense batches, the runtime-width net, the net with batch
/// normalization and dropout (folded) and the small convolutional net;
/// returns the allocations counted during the last `STEPS` calls of each.
fn infer_frozen(batch: usize) -> usize {
    let mut rng = StdRng::seed_from_u64(13);
    let mut allocations = 0;
    let dense = Pool::<f32>::new(200, batch, 17);
    let sparse = Pool::<f32>::with_density(200, batch, 19, 0.19);
    let model = h50::Net::<f32>::init(&mut rng, Init::He).freeze();
    let runtime = net::runtime::Net::<f32>::with_widths(&mut rng, Init::He, [77])
        .expect("a width")
        .freeze();
    let (mut scratch, mut batch_scratch) = (model.scratch(), model.scratch());
    let (mut runtime_scratch, mut runtime_batch) = (runtime.scratch(), runtime.scratch());
    for pool in [&dense, &sparse] {
        let one = Batch::<f32, Const<784>>::from_row_slice(pool.x[0].row(0).transpose().as_slice());
        let sample = one.as_slice().to_vec();
        allocations += counted(|count| {
            COUNTING.store(count, Ordering::SeqCst);
            let class = model
                .classify_sample(&sample, &mut scratch)
                .expect("784 values");
            let p = model.probabilities(&one, &mut scratch)[(0, class)];
            let classes = model.classify(&pool.x[1], &mut batch_scratch).len();
            let scores = runtime.predict(&pool.x[1], &mut runtime_batch).nrows();
            let one = runtime
                .predict_sample(&sample, &mut runtime_scratch)
                .expect("784")
                .len();
            COUNTING.store(false, Ordering::SeqCst);
            assert!(p > 0.0 && classes == batch && scores == batch && one == 10);
        });
    }
    let regularized = Regularized::<f32>::new(&mut rng).freeze();
    let mut scratch = regularized.scratch();
    let x = &sparse.x[2];
    allocations += counted(|count| {
        COUNTING.store(count, Ordering::SeqCst);
        let classes = regularized.classify(x, &mut scratch).len();
        COUNTING.store(false, Ordering::SeqCst);
        assert_eq!(classes, batch);
    });
    let conv = ConvNet::<f32>::new(&mut rng).freeze();
    let (mut scratch, mut batch_scratch) = (conv.scratch(), conv.scratch());
    let pixels = (0..batch * 144).map(|k| ((k * 37) % 101) as f32 / 101.0);
    let x = ImageBatch::from_vec(pixels.collect()).expect("whole images");
    let sample = x.as_slice()[..144].to_vec();
    allocations += counted(|count| {
        COUNTING.store(count, Ordering::SeqCst);
        let classes = conv.classify(&x, &mut batch_scratch).len();
        let class = conv
            .classify_sample(&sample, &mut scratch)
            .expect("144 values");
        COUNTING.store(false, Ordering::SeqCst);
        assert!(classes == batch && class < 10);
    });
    allocations
}

/// The allocations of `STEPS` calls of `step(true)`, after `WARMUP` calls
/// of `step(false)`: `step` counts only when it is given `true`.
fn counted(mut step: impl FnMut(bool)) -> usize {
    for _ in 0..WARMUP {
        step(false);
    }
    ALLOCATIONS.store(0, Ordering::SeqCst);
    for _ in 0..STEPS {
        step(true);
    }
    ALLOCATIONS.load(Ordering::SeqCst)
}

/// Iterates over shuffled epochs of in-memory samples, then the book's
/// draws; returns the allocations counted after the first batch of each.
fn iterate_batches() -> usize {
    use staticnet::train::{Batches, InMemory, Labels, Sampling};
    let data: InMemory<f32, Const<784>, Labels> = InMemory::with_labels(
        (0..1000 * 784)
            .map(|k| (k % 255) as f32 / 255.0)
            .collect::<Vec<_>>(),
        (0..1000).map(|n| n % 10).collect::<Vec<_>>(),
        10,
    )
    .expect("one label per sample");
    let mut counted = 0;
    for sampling in [Sampling::Shuffled, Sampling::Draws] {
        let mut batches = Batches::new(&data, 100, sampling, 7)
            .expect("a batch within the data")
            .epochs(3);
        batches.next().expect("a first batch").expect("gathered");
        ALLOCATIONS.store(0, Ordering::SeqCst);
        COUNTING.store(true, Ordering::SeqCst);
        while let Some(batch) = batches.next() {
            assert!(batch.is_ok());
        }
        COUNTING.store(false, Ordering::SeqCst);
        counted += ALLOCATIONS.load(Ordering::SeqCst);
    }
    counted
}

network! {
    /// A small DeepConvNet: padded 3×3 convolutions (the second one's input
    /// gradient goes through col2im), pooling that rounds down, dropout.
    struct DeepConvNet<
        Input<1, 12, 12>,
        Conv2d<4, 3, pad = 1>,
        Relu,
        Conv2d<6, 3, pad = 1>,
        Relu,
        MaxPool2d<2, stride = 2>,
        Conv2d<8, 3, pad = 2>,
        Relu,
        MaxPool2d<3, stride = 3>,
        Flatten,
        Affine<32, 16>,
        Relu,
        Dropout,
        Affine<16, 10>,
        SoftmaxWithLoss,
    >
}

/// One Adam step after another on the same batch, as the book trains its
/// DeepConvNet.
fn train_deep_conv(batch: usize) -> usize {
    let mut net = DeepConvNet::<f32>::init(&mut StdRng::seed_from_u64(4), Init::He);
    let pixels = (0..batch * 144).map(|k| ((k * 53) % 97) as f32 / 97.0);
    let x = ImageBatch::from_vec(pixels.collect()).expect("whole images");
    let t: Vec<usize> = (0..batch).map(|n| (n * 3) % 10).collect();
    let adam = Method::from_name("adam").expect("a known optimizer");
    let mut optimizer = Optimizer::new(adam, 0.001);
    counted(|count| {
        COUNTING.store(count, Ordering::SeqCst);
        let loss = optimizer.train_step(&mut net, &x, Targets::Classes(&t));
        COUNTING.store(false, Ordering::SeqCst);
        assert!(loss.is_finite());
    })
}

fn main() {
    // Two threads unless the environment says otherwise (CI can run this
    // with STATICNET_NUM_THREADS=1 for the one-thread path).
    if std::env::var_os("STATICNET_NUM_THREADS").is_none() {
        // SAFETY: no other thread runs yet, so none reads the
        // environment; the kernels read it at their first product, below.
        unsafe { std::env::set_var("STATICNET_NUM_THREADS", "2") };
    }
    // The baseline's matrixmultiply on this thread only: its pool's threads
    // set themselves up (allocating) whenever they first get a core, which
    // on a busy machine fell inside the steps counted here.
    // SAFETY: as above, no other thread runs yet.
    unsafe { std::env::set_var("MATMUL_NUM_THREADS", "1") };
    println!(
        "training cases: the last {STEPS} of {} steps counted",
        WARMUP + STEPS
    );
    for (name, allocations) in [
        (
            "f32 H=50 B=100",
            train::<f32, h50::Net<f32>, h50::BaseNet<f32>>(100, None, 1e-4),
        ),
        (
            "f32 H=100 B=37",
            train::<f32, h100::Net<f32>, h100::BaseNet<f32>>(37, None, 1e-4),
        ),
        (
            "f64 H=50 B=100",
            train::<f64, h50::Net<f64>, h50::BaseNet<f64>>(100, None, 1e-10),
        ),
        (
            "f64 H=128 B=64",
            train::<f64, h128::Net<f64>, h128::BaseNet<f64>>(64, None, 1e-10),
        ),
        (
            "f32 H=50 B=100, sparse",
            train::<f32, h50::Net<f32>, h50::BaseNet<f32>>(100, Some(0.19), 1e-4),
        ),
        (
            "f64 H=100 B=37, sparse",
            train::<f64, h100::Net<f64>, h100::BaseNet<f64>>(37, Some(0.19), 1e-10),
        ),
        (
            "f32 runtime width H=77 B=100, sparse, SGD and Adam",
            train_runtime_width(77),
        ),
        (
            "f32 BatchNorm+Dropout, Adam, B=100",
            train_regularized::<f32>(100),
        ),
        ("conv f32 B=50", train_conv(50)),
        (
            "Batches, 3 epochs after the first batch, shuffled and drawn",
            iterate_batches(),
        ),
        ("deep conv f32, Adam, B=30", train_deep_conv(30)),
        (
            "frozen nets (two-layer, runtime width, BatchNorm+Dropout, conv), batch 1 and 40",
            infer_frozen(40),
        ),
    ] {
        assert_eq!(allocations, 0, "{name}: {allocations} allocations");
        println!("{name}: no allocation");
    }
}
