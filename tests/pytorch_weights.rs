//! PyTorch's `state_dict`s in and out: nets trained in PyTorch
//! (`../shared/data/pytorch-weights/`, when it is there, as in CI) load
//! into the same declared nets and score the first 1,000 MNIST test images
//! as PyTorch did; a file that does not fit gets every disagreement in one
//! error; `save_pytorch` writes PyTorch's keys and layouts.

use std::path::{Path, PathBuf};

use safetensors::SafeTensors;
use staticnet::io::{ImportOptions, IoError, load_pytorch, save_pytorch};
use staticnet::prelude::*;

#[path = "../examples/convnets/nets.rs"]
mod convnets;

network! {
    /// `Linear(784, 100), BatchNorm1d(100), ReLU(), Linear(100, 10)`.
    struct MlpBatchNorm<Affine<784, 100>, BatchNorm<1e-5>, Relu, Affine<100, 10>, SoftmaxWithLoss>
}

network! {
    struct TwoLayerNet<Affine<784, 50>, Relu, Affine<50, 10>, SoftmaxWithLoss>
}

const WEIGHTS: &str = "../shared/data/pytorch-weights";
const MNIST: &str = "../shared/data/mnist";

fn shared(dir: &str) -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipped: no {}", dir.display());
        None
    }
}

/// The first `n` test images as a batch of samples of 784 values in
/// `[0, 1]` (flat, or 1×28×28).
fn test_images<S: Shape>(n: usize) -> Option<Batch<f32, S>> {
    let mnist = load_mnist(&shared(MNIST)?, &LoadOptions::default()).expect("MNIST loads");
    let mut x = Batch::<f32, S>::zeros(n);
    for (k, image) in mnist.test.images().chunks_exact(784).take(n).enumerate() {
        let image: Vec<f32> = image.iter().map(|&p| f32::from(p) / 255.0).collect();
        x.set_sample(k, &image);
    }
    Some(x)
}

/// PyTorch's scores, `[1000, 10]`, row by row.
fn pytorch_logits(path: &Path) -> Vec<f32> {
    let bytes = std::fs::read(path).expect("the logits file reads");
    let file = SafeTensors::deserialize(&bytes).expect("a safetensors file");
    let logits = file.tensor("logits").expect("it holds `logits`");
    assert_eq!(logits.shape(), [1000, 10]);
    logits
        .data()
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// Compares staticnet's scores (a `[1000, 10]` batch, column-major) with
/// PyTorch's: every class the same, and the largest gap relative to the
/// largest score.
fn assert_agrees(scores: &[f32], logits: &[f32], name: &str) {
    let at = |n: usize, c: usize| scores[c * 1000 + n];
    let scale = logits.iter().fold(1.0f32, |m, v| m.max(v.abs()));
    let mut gap = 0.0f32;
    for n in 0..1000 {
        let row = &logits[n * 10..n * 10 + 10];
        for (c, &l) in row.iter().enumerate() {
            gap = gap.max((at(n, c) - l).abs());
        }
        let class = |score: &dyn Fn(usize) -> f32| {
            (0..10).fold(0, |best, c| if score(c) > score(best) { c } else { best })
        };
        assert_eq!(
            class(&|c| at(n, c)),
            class(&|c| row[c]),
            "{name}: image {n}"
        );
    }
    eprintln!(
        "{name}: largest score gap {gap:e} (relative {:e})",
        gap / scale
    );
    assert!(gap / scale <= 1e-4, "{name}: scores differ by {gap}");
}

#[test]
fn a_simple_convnet_trained_in_pytorch_scores_as_pytorch_does() {
    type Net = convnets::SimpleConvNet<f32>;
    let (Some(dir), Some(x)) = (
        shared(WEIGHTS),
        test_images::<<Net as Network<f32>>::In>(1000),
    ) else {
        return;
    };
    let mut net = convnets::SimpleConvNet::<f32>::new(&mut StdRng::seed_from_u64(0));
    load_pytorch(
        &mut net,
        dir.join("simple_convnet.safetensors"),
        ImportOptions::new(),
    )
    .expect("the state_dict fits the declaration");
    let scores = net.predict(&x).as_slice().to_vec();
    assert_agrees(
        &scores,
        &pytorch_logits(&dir.join("simple_convnet.logits.safetensors")),
        "SimpleConvNet",
    );
}

#[test]
fn a_batch_norm_mlp_trained_in_pytorch_scores_as_pytorch_does() {
    let (Some(dir), Some(x)) = (shared(WEIGHTS), test_images::<Const<784>>(1000)) else {
        return;
    };
    let mut net = MlpBatchNorm::<f32>::new(&mut StdRng::seed_from_u64(0));
    load_pytorch(
        &mut net,
        dir.join("mlp_batchnorm.safetensors"),
        ImportOptions::new(),
    )
    .expect("the state_dict fits the declaration");
    let scores = net.predict(&x).as_slice().to_vec();
    assert_agrees(
        &scores,
        &pytorch_logits(&dir.join("mlp_batchnorm.logits.safetensors")),
        "MLP with BatchNorm",
    );
}

#[test]
fn a_state_dict_of_another_net_gets_every_disagreement_in_one_error() {
    let Some(dir) = shared(WEIGHTS) else {
        return;
    };
    let mut net = TwoLayerNet::new(&mut StdRng::seed_from_u64(0));
    let path = dir.join("mlp_batchnorm.safetensors");
    let error =
        load_pytorch(&mut net, &path, ImportOptions::new()).expect_err("100 hidden units, not 50");
    let IoError::Disagreements { problems, .. } = &error else {
        panic!("{error:?}");
    };
    let text = error.to_string();
    eprintln!("{text}");
    // The first Affine against `0.weight` `[100, 784]`, the second against
    // BatchNorm's tensors, and `3.weight`, `3.bias` left over.
    assert!(text.contains("`Affine<784, 50>` (affine1): `0.weight` has shape [100, 784] in the file, but the layer's `W1` needs [50, 784]"), "{text}");
    assert!(
        text.contains("`Affine<50, 10>` (affine2): `1.weight` has shape [100] in the file"),
        "{text}"
    );
    assert!(
        text.contains("`3.weight` (shape [10, 100]) is in the file, but no layer"),
        "{text}"
    );
    assert!(problems.len() >= 5, "{problems:?}");
    // Nothing was written.
    let untouched = TwoLayerNet::new(&mut StdRng::seed_from_u64(0));
    assert_eq!(net.affine1.w, untouched.affine1.w);
}

#[test]
fn written_state_dicts_have_pytorchs_keys_and_layouts_and_load_back() {
    let mut rng = StdRng::seed_from_u64(4);
    let net = MlpBatchNorm::<f32>::init(&mut rng, Init::He);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mlp.safetensors");
    save_pytorch(&net, &path).unwrap();

    let bytes = std::fs::read(&path).unwrap();
    let file = SafeTensors::deserialize(&bytes).unwrap();
    let mut keys: Vec<(String, Vec<usize>)> = file
        .tensors()
        .into_iter()
        .map(|(name, view)| (name, view.shape().to_vec()))
        .collect();
    keys.sort();
    let expected = [
        ("0.bias", vec![100]),
        ("0.weight", vec![100, 784]),
        ("1.bias", vec![100]),
        ("1.running_mean", vec![100]),
        ("1.running_var", vec![100]),
        ("1.weight", vec![100]),
        ("3.bias", vec![10]),
        ("3.weight", vec![10, 100]),
    ];
    let expected: Vec<(String, Vec<usize>)> = expected
        .into_iter()
        .map(|(k, s)| (k.to_owned(), s))
        .collect();
    assert_eq!(keys, expected);
    // `0.weight` is `[outputs, inputs]`: its row 3 is W1's column 3.
    let weight = file.tensor("0.weight").unwrap();
    let row: Vec<f32> = weight.data()[3 * 784 * 4..4 * 784 * 4]
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    let column: Vec<f32> = (0..784).map(|i| net.affine1.w.view()[(i, 3)]).collect();
    assert_eq!(row, column);

    let mut back = MlpBatchNorm::<f32>::new(&mut StdRng::seed_from_u64(9));
    load_pytorch(&mut back, &path, ImportOptions::new()).expect("its own file fits");
    let mut x = Batch::<f32, Const<784>>::zeros(5);
    for v in x.as_mut_slice() {
        *v = rng.random();
    }
    let mut net = net;
    assert_eq!(back.predict(&x), net.predict(&x));
}

#[test]
fn f64_tensors_go_into_an_f32_net_only_when_asked() {
    let mut rng = StdRng::seed_from_u64(5);
    let wide = TwoLayerNet::<f64>::init(&mut rng, Init::He);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f64.safetensors");
    save_pytorch(&wide, &path).unwrap();

    let mut net = TwoLayerNet::<f32>::new(&mut rng);
    let error = load_pytorch(&mut net, &path, ImportOptions::new()).expect_err("f64 into f32");
    assert!(
        error
            .to_string()
            .contains("`0.weight` is F64, but the network's scalars are f32"),
        "{error}"
    );
    load_pytorch(&mut net, &path, ImportOptions::new().convert_dtype(true)).expect("converted");
    let w = net.affine1.w.as_slice()[7];
    assert_eq!(w, wide.affine1.w.as_slice()[7] as f32);
}
