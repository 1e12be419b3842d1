//! Every layer of the book's two-layer net, forward and backward, at batch
//! 100 and f32, next to the same layer as it was before the kernel work
//! (`common/baseline.rs`: matrixmultiply), so that a regression shows as a
//! ratio within one run; then the convolution and pooling layers of the
//! book's SimpleConvNet and DeepConvNet, alone (threads:
//! `STATICNET_NUM_THREADS`). Short measurement times: `cargo bench --bench
//! layers` takes about two minutes.

#[path = "common/baseline.rs"]
mod baseline;
#[path = "common/net.rs"]
mod net;

use std::hint::black_box;
use std::time::Duration;

use criterion::{
    BenchmarkGroup, Criterion, criterion_group, criterion_main, measurement::WallTime,
};
use staticnet::optim::Optimizer;
use staticnet::rand::SeedableRng;
use staticnet::rand::rngs::StdRng;
use staticnet::typenum::{U0, U1, U2, U3, U5, U8, U14, U16, U24, U28, U30, U32, U64};
use staticnet::{
    Affine, BatchStorage, Chw, Const, Conv2d, FixedShape, ImageBatch, Init, Layer, LossLayer,
    MaxPool2d, Network, ParamUpdate, Relu, SoftmaxWithLoss, Targets,
};

use baseline::{BaseAffine, BaseRelu, BaseSoftmaxWithLoss};
use net::Pool;
use net::h50::{BaseNet, Net};

type T = f32;
const BATCH: usize = 100;
const H: usize = 50;

fn group<'a>(c: &'a mut Criterion, name: &str) -> BenchmarkGroup<'a, WallTime> {
    let mut group = c.benchmark_group(name);
    group
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .sample_size(30);
    group
}

/// Forward and backward (or `backward_first`, for the first layer) of one
/// layer type, ours and the baseline.
fn layer_pair<A, B>(c: &mut Criterion, name: &str, x: &staticnet::Batch<T, A::In>, first: bool)
where
    A: Layer<T>,
    B: Layer<T, In = A::In, Out = A::Out>,
{
    let mut rng = StdRng::seed_from_u64(1);
    let mut ours = A::init(&mut rng, Init::Normal { std: 0.1 });
    let mut rng = StdRng::seed_from_u64(1);
    let mut base = B::init(&mut rng, Init::Normal { std: 0.1 });
    let dout = ours.forward(x).clone();

    let mut g = group(c, &format!("{name}/forward"));
    g.bench_function("staticnet", |b| {
        b.iter(|| black_box(ours.forward(black_box(x)).as_slice()[0]))
    });
    g.bench_function("baseline", |b| {
        b.iter(|| black_box(base.forward(black_box(x)).as_slice()[0]))
    });
    g.finish();

    let mut g = group(c, &format!("{name}/backward"));
    ours.forward(x);
    base.forward(x);
    if first {
        g.bench_function("staticnet", |b| {
            b.iter(|| {
                ours.backward_first(black_box(x), black_box(&dout), ParamUpdate::StoreGradients)
            })
        });
        g.bench_function("baseline", |b| {
            b.iter(|| {
                base.backward_first(black_box(x), black_box(&dout), ParamUpdate::StoreGradients)
            })
        });
    } else {
        g.bench_function("staticnet", |b| {
            b.iter(|| black_box(ours.backward(black_box(x), black_box(&dout)).as_slice()[0]))
        });
        g.bench_function("baseline", |b| {
            b.iter(|| black_box(base.backward(black_box(x), black_box(&dout)).as_slice()[0]))
        });
    }
    g.finish();
}

fn layers(c: &mut Criterion) {
    let pool = Pool::<T>::new(BATCH, BATCH, 3);
    let x = &pool.x[0];
    layer_pair::<Affine<T, 784, H>, BaseAffine<T, 784, H>>(c, "affine1", x, true);

    let mut rng = StdRng::seed_from_u64(2);
    let mut affine1 = <Affine<T, 784, H> as Layer<T>>::init(&mut rng, Init::Normal { std: 0.1 });
    let h1 = affine1.forward(x).clone();
    layer_pair::<Relu<T, Const<H>>, BaseRelu<T, Const<H>>>(c, "relu1", &h1, false);
    let h2 = Relu::<T, Const<H>>::new().forward(&h1).clone();
    layer_pair::<Affine<T, H, 10>, BaseAffine<T, H, 10>>(c, "affine2", &h2, false);

    let y = <Affine<T, H, 10> as Layer<T>>::init(&mut rng, Init::Normal { std: 0.1 })
        .forward(&h2)
        .clone();
    let t = Targets::Classes(&pool.t[0]);
    let mut ours = SoftmaxWithLoss::<T, 10>::new();
    let mut base = <BaseSoftmaxWithLoss<T, 10> as LossLayer<T>>::new();
    let mut g = group(c, "softmax_with_loss/forward");
    g.bench_function("staticnet", |b| {
        b.iter(|| black_box(ours.forward(black_box(&y), t)))
    });
    g.bench_function("baseline", |b| {
        b.iter(|| black_box(base.forward(black_box(&y), t)))
    });
    g.finish();
    let mut g = group(c, "softmax_with_loss/backward");
    g.bench_function("staticnet", |b| {
        b.iter(|| black_box(ours.backward(t).as_slice()[0]))
    });
    g.bench_function("baseline", |b| {
        b.iter(|| black_box(base.backward(t).as_slice()[0]))
    });
    g.finish();
}

/// A batch of images of shape `S` with pixels in `[0, 1)`.
fn images<S: FixedShape>(seed: u64) -> ImageBatch<T, S> {
    let mut rng = StdRng::seed_from_u64(seed);
    let pixels = (0..BATCH * S::NUMEL).map(|_| staticnet::rand::Rng::random(&mut rng));
    ImageBatch::from_vec(pixels.collect()).expect("whole images")
}

/// Forward and backward (`backward_first` for a first layer, which needs
/// no input gradient) of an image layer `L`, on a batch of random images.
fn image_layer<L>(c: &mut Criterion, name: &str, first: bool)
where
    L: Layer<T>,
    L::In: FixedShape<Batch<T> = ImageBatch<T, L::In>>,
{
    let x = images::<L::In>(4);
    let mut layer = L::init(&mut StdRng::seed_from_u64(5), Init::He);
    let dout = layer.forward(&x).clone();
    let mut g = group(c, name);
    g.bench_function("forward", |b| {
        b.iter(|| black_box(layer.forward(black_box(&x)).as_slice()[0]))
    });
    g.bench_function("backward", |b| {
        b.iter(|| {
            if first {
                layer.backward_first(black_box(&x), black_box(&dout), ParamUpdate::StoreGradients);
            } else {
                black_box(layer.backward(black_box(&x), black_box(&dout)).as_slice()[0]);
            }
        })
    });
    g.finish();
}

/// The convolution and pooling layers of the book's SimpleConvNet and of
/// the DeepConvNet's three sizes.
fn image_layers(c: &mut Criterion) {
    type Mnist = Chw<U1, U28, U28>;
    image_layer::<Conv2d<T, Mnist, U30, U5, U5>>(c, "simple/conv1", true);
    image_layer::<MaxPool2d<T, Chw<U30, U24, U24>, U2, U2, U2>>(c, "simple/pool", false);
    image_layer::<Conv2d<T, Mnist, U16, U3, U3, U1, U1>>(c, "deep/conv1", true);
    image_layer::<Conv2d<T, Chw<U16, U28, U28>, U16, U3, U3, U1, U1>>(c, "deep/conv2", false);
    image_layer::<MaxPool2d<T, Chw<U16, U28, U28>, U2, U2, U2, U0>>(c, "deep/pool1", false);
    image_layer::<Conv2d<T, Chw<U32, U14, U14>, U32, U3, U3, U1, U2>>(c, "deep/conv4", false);
    image_layer::<Conv2d<T, Chw<U64, U8, U8>, U64, U3, U3, U1, U1>>(c, "deep/conv6", false);
}

/// The whole training step, as `examples/bench.rs` times it.
fn step(c: &mut Criterion) {
    let pool = Pool::<T>::new(3000, BATCH, 7);
    let mut ours = Net::<T>::new(&mut StdRng::seed_from_u64(42));
    let mut base = BaseNet::<T>::new(&mut StdRng::seed_from_u64(42));
    let mut g = group(c, "train_step");
    let mut sgd = Optimizer::sgd(0.1);
    let mut k = 0;
    g.bench_function("staticnet", |b| {
        b.iter(|| {
            k = (k + 1) % pool.len();
            black_box(sgd.train_step(&mut ours, &pool.x[k], Targets::Classes(&pool.t[k])))
        })
    });
    g.bench_function("baseline", |b| {
        b.iter(|| {
            k = (k + 1) % pool.len();
            black_box(sgd.train_step(&mut base, &pool.x[k], Targets::Classes(&pool.t[k])))
        })
    });
    g.finish();
}

criterion_group!(benches, layers, image_layers, step);
criterion_main!(benches);
