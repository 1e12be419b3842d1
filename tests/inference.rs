//! The inference form: a frozen network predicts what the training struct
//! predicts in inference mode, through `&self`, from any number of threads.

use staticnet::prelude::*;
use staticnet::{FreezeNetwork, Frozen, ImageBatch, Predictor};

network! {
    struct TwoLayerNet<Affine<784, 50>, Relu, Affine<50, 10>, SoftmaxWithLoss>
}

network! {
    struct Regularized<Affine<6, 8>, BatchNorm, Relu, Dropout<0.25>, Affine<8, 3>, SoftmaxWithLoss>
}

network! {
    struct SmallConvNet<
        Input<2, 6, 6>,
        Conv2d<3, 3, pad = 1>,
        Relu,
        MaxPool2d<2, stride = 2>,
        Flatten,
        Affine<27, 8>,
        Relu,
        Dropout<0.5>,
        Affine<8, 4>,
        SoftmaxWithLoss,
    >
}

network! {
    /// A block without a loss layer, frozen inside the net that holds it.
    struct Block<Affine<4, 4>, Tanh, Affine<4, 4>>
}

network! {
    struct NestedNet<Affine<5, 4>, Relu, Block, Sigmoid, Residual<Affine<4, 4>>, Relu, Affine<4, 3>, SoftmaxWithLoss>
}

/// `n` samples of `F` values, a fraction `density` of them nonzero in
/// `[0, 1)` (MNIST's pixels: 0.19), the rest 0.
fn batch<const F: usize>(rng: &mut StdRng, n: usize, density: f64) -> Batch<f32, Const<F>> {
    let mut x = Batch::<f32, Const<F>>::zeros(n);
    for v in x.as_mut_slice() {
        if rng.random_bool(density) {
            *v = rng.random_range(0.0..1.0);
        }
    }
    x
}

/// The largest difference between two batches, relative to the largest
/// entry of `expected` (at least 1).
fn relative_gap(got: &[f32], expected: &[f32]) -> f32 {
    assert_eq!(got.len(), expected.len());
    let scale = expected.iter().fold(1.0f32, |m, v| m.max(v.abs()));
    got.iter()
        .zip(expected)
        .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()))
        / scale
}

#[test]
fn the_two_layer_net_frozen_gives_the_training_structs_predictions_bit_for_bit() {
    let mut rng = StdRng::seed_from_u64(3);
    let mut net = TwoLayerNet::init(&mut rng, Init::He);
    let model = net.freeze();
    let mut scratch = model.scratch();
    for density in [0.19, 1.0] {
        // A batch: the sparse product (MNIST's density), or the blocked one.
        let x = batch::<784>(&mut rng, 100, density);
        assert_eq!(
            model.predict(&x, &mut scratch),
            net.predict(&x),
            "density {density}"
        );
        // One sample, on the batch-of-one path.
        let one = batch::<784>(&mut rng, 1, density);
        let frozen = model
            .predict_sample(one.as_slice(), &mut scratch)
            .unwrap()
            .to_vec();
        let trained = net.predict(&one).as_slice().to_vec();
        if density < 0.3 {
            assert_eq!(frozen, trained, "the sparse paths sum in the same order");
        } else {
            // The blocked product sums in another order than one row's.
            assert!(
                relative_gap(&frozen, &trained) < 1e-6,
                "{frozen:?} vs {trained:?}"
            );
        }
    }
}

#[test]
fn classes_and_probabilities_are_the_training_structs() {
    let mut rng = StdRng::seed_from_u64(4);
    let mut net = TwoLayerNet::init(&mut rng, Init::He);
    let model: Frozen<TwoLayerNet> = net.freeze();
    let mut scratch = model.scratch();
    let x = batch::<784>(&mut rng, 30, 0.19);
    assert_eq!(
        model.classify(&x, &mut scratch),
        net.classify(&x).as_slice()
    );
    net.loss(&x, &[0usize; 30]);
    let trained = LossLayer::output(&net.loss).clone();
    assert_eq!(model.probabilities(&x, &mut scratch), &trained);
    let first = x.row(0).iter().copied().collect::<Vec<f32>>();
    let p = model.probabilities_sample(&first, &mut scratch).unwrap();
    assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-6);
    assert_eq!(
        model.classify_sample(&first, &mut scratch).unwrap(),
        net.classify(&x)[0]
    );
    let error = model
        .classify_sample(&first[..783], &mut scratch)
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "a sample of this network holds 784 values, not 783"
    );
}

#[test]
fn batch_norm_relu_and_dropout_are_folded_within_rounding() {
    let mut rng = StdRng::seed_from_u64(5);
    let mut net = Regularized::<f32>::init(&mut rng, Init::Auto);
    let t: Vec<usize> = (0..20).map(|n| n % 3).collect();
    let mut sgd = Optimizer::new(Method::Sgd, 0.1);
    for _ in 0..20 {
        let x = batch::<6>(&mut rng, 20, 1.0);
        sgd.train_step(&mut net, &x, &t);
    }
    let model = net.freeze();
    let mut scratch = model.scratch();
    let x = batch::<6>(&mut rng, 50, 1.0);
    let frozen = model.predict(&x, &mut scratch).as_slice().to_vec();
    let trained = net.predict(&x).as_slice().to_vec();
    let gap = relative_gap(&frozen, &trained);
    assert!(gap < 1e-5, "folded scores differ by {gap}");
    assert_eq!(
        model.classify(&x, &mut scratch),
        net.classify(&x).as_slice()
    );
}

#[test]
fn a_conv_net_frozen_predicts_as_it_does() {
    let mut rng = StdRng::seed_from_u64(6);
    let mut net = SmallConvNet::<f32>::init(&mut rng, Init::He);
    let model = net.freeze();
    let mut scratch = model.scratch();
    let mut x = ImageBatch::<f32, Chw<_, _, _>>::zeros(7);
    for v in x.as_mut_slice() {
        *v = rng.random_range(-1.0..1.0);
    }
    let frozen = model.predict(&x, &mut scratch).as_slice().to_vec();
    let trained = net.predict(&x).as_slice().to_vec();
    // Dropout's scaling is folded into the first Affine's weights.
    assert!(
        relative_gap(&frozen, &trained) < 1e-6,
        "{frozen:?} vs {trained:?}"
    );
    let sample = &x.as_slice()[..72];
    let one = model.predict_sample(sample, &mut scratch).unwrap();
    let first_row: Vec<f32> = (0..4).map(|j| trained[j * 7]).collect();
    assert!(relative_gap(one, &first_row) < 1e-6);
}

#[test]
fn nested_blocks_and_residuals_freeze_with_the_net() {
    let mut rng = StdRng::seed_from_u64(7);
    let mut net = NestedNet::<f64>::init(&mut rng, Init::Auto);
    let model = net.freeze();
    let mut scratch = model.scratch();
    let mut x = Batch::<f64, Const<5>>::zeros(9);
    for v in x.as_mut_slice() {
        *v = rng.random_range(-1.0..1.0);
    }
    // No pointwise map is folded across a block here but the ReLUs, which
    // are exact: the same bits.
    assert_eq!(model.predict(&x, &mut scratch), net.predict(&x));
}

#[test]
fn one_model_shared_by_threads_predicts_as_one_thread_does() {
    fn shared<M: Send + Sync>(_: &M) {}
    let mut rng = StdRng::seed_from_u64(8);
    let net = TwoLayerNet::init(&mut rng, Init::He);
    let model = net.freeze();
    shared(&model);
    let samples: Vec<Batch<f32, Const<784>>> =
        (0..64).map(|_| batch::<784>(&mut rng, 1, 0.19)).collect();
    let alone: Vec<usize> = {
        let mut scratch = model.scratch();
        samples
            .iter()
            .map(|x| model.classify(x, &mut scratch)[0])
            .collect()
    };
    let halves: Vec<Vec<usize>> = std::thread::scope(|scope| {
        let model = &model;
        let workers: Vec<_> = samples
            .chunks(32)
            .map(|part| {
                scope.spawn(move || {
                    let mut scratch = model.scratch();
                    part.iter()
                        .map(|x| model.classify(x, &mut scratch)[0])
                        .collect()
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    assert_eq!(halves.concat(), alone);
}

#[test]
fn an_empty_batch_gives_no_classes_and_a_nan_sample_no_panic() {
    let mut rng = StdRng::seed_from_u64(10);
    let net = TwoLayerNet::init(&mut rng, Init::He);
    let model = net.freeze();
    let mut scratch = model.scratch();
    let empty = Batch::<f32, Const<784>>::zeros(0);
    assert!(model.classify(&empty, &mut scratch).is_empty());
    assert_eq!(model.probabilities(&empty, &mut scratch).nrows(), 0);
    let conv = SmallConvNet::<f32>::init(&mut rng, Init::He).freeze();
    let mut conv_scratch = conv.scratch();
    assert!(
        conv.classify(
            &ImageBatch::<f32, Chw<_, _, _>>::zeros(0),
            &mut conv_scratch
        )
        .is_empty()
    );
    let mut sample = vec![0.5f32; 784];
    sample[3] = f32::NAN;
    let scores = model.predict_sample(&sample, &mut scratch).unwrap();
    assert!(
        scores.iter().all(|s| s.is_nan()),
        "a NaN input gives NaN scores, as training does"
    );
    assert!(model.classify_sample(&sample, &mut scratch).unwrap() < 10);
}

/// The frozen type can be named, for a field.
struct Service {
    model: Frozen<TwoLayerNet>,
}

#[test]
fn a_frozen_net_can_be_kept_in_a_struct() {
    let net = TwoLayerNet::init(&mut StdRng::seed_from_u64(9), Init::He);
    let service = Service {
        model: net.freeze(),
    };
    let _: &Predictor<f32, _> = &service.model;
}
