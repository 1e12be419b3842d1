//! The book's own trained weights, read from NumPy `.npz` archives by
//! `staticnet::io::load_npz` (when `../shared/data/book-weights` and
//! `../shared/data/mnist` are there, as in CI): each of the book's three
//! nets classifies the 10,000 MNIST test images exactly as the book's
//! NumPy code does — chapter 3's net 9,352 right (`Accuracy:0.9352`),
//! SimpleConvNet 9,600 and DeepConvNet 9,797.

use std::path::{Path, PathBuf};

use staticnet::io::{ImportOptions, IoError, load_npz};
use staticnet::prelude::*;

network! {
    /// The net of the book's chapter 3 (`ch03/neuralnet_mnist.py`).
    struct BookCh03Net<Affine<784, 50>, Sigmoid, Affine<50, 100>, Sigmoid, Affine<100, 10>, SoftmaxWithLoss>
}

#[path = "../examples/convnets/nets.rs"]
mod convnets;
use convnets::{DeepConvNet, SimpleConvNet};

const WEIGHTS: &str = "../shared/data/book-weights";
const MNIST: &str = "../shared/data/mnist";

/// The archive `name` of the book's weights, if the folder is there.
fn weights(name: &str) -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(WEIGHTS);
    if !dir.is_dir() {
        eprintln!("skipped: no book weights at {}", dir.display());
        return None;
    }
    Some(dir.join(name))
}

/// The test images (pixels / 255, as the book normalizes them) and labels.
fn test_set<T: Scalar>() -> Option<(Vec<Vec<T>>, Vec<usize>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(MNIST);
    if !dir.is_dir() {
        eprintln!("skipped: no MNIST at {}", dir.display());
        return None;
    }
    let mnist = load_mnist(&dir, &LoadOptions::default()).expect("MNIST loads");
    let images = mnist.test.images().chunks_exact(784).map(|image| {
        image
            .iter()
            .map(|&p| T::of_f64(f64::from(p) / 255.0))
            .collect()
    });
    let labels = mnist
        .test
        .labels()
        .iter()
        .map(|&l| usize::from(l))
        .collect();
    Some((images.collect(), labels))
}

/// How many of the test images `net` classifies right, in batches of 100.
fn correct<T: Scalar, N: Network<T>>(net: &mut N, images: &[Vec<T>], labels: &[usize]) -> usize {
    images
        .chunks(100)
        .zip(labels.chunks(100))
        .map(|(chunk, labels)| {
            let mut x = Batch::<T, N::In>::zeros(chunk.len());
            for (n, image) in chunk.iter().enumerate() {
                x.set_sample(n, image);
            }
            let classes = net.classify(&x);
            classes.iter().zip(labels).filter(|(c, l)| c == l).count()
        })
        .sum()
}

#[test]
fn chapter_3_net_classifies_as_the_book_prints() {
    let (Some(path), Some((images, labels))) =
        (weights("book_ch03_sample_weight.npz"), test_set::<f32>())
    else {
        return;
    };
    let mut net = BookCh03Net::<f32>::init(&mut StdRng::seed_from_u64(1), Init::BOOK);
    load_npz(&mut net, &path, ImportOptions::new()).expect("the book's float32 weights load");
    let batched = correct(&mut net, &images, &labels);

    // The book classifies one image at a time.
    let model = net.freeze();
    let mut scratch = model.scratch();
    let alone = images
        .iter()
        .zip(&labels)
        .filter(|&(image, &label)| {
            model
                .classify_sample(image, &mut scratch)
                .expect("784 values")
                == label
        })
        .count();
    println!("chapter 3 net: {batched} right in batches of 100, {alone} one image at a time");
    assert_eq!(alone, 9352, "the book's Accuracy:0.9352");
    assert_eq!(batched, 9352, "in batches as one at a time");
}

#[test]
fn simple_conv_net_classifies_as_the_book_computes() {
    let (Some(path), Some((images, labels))) =
        (weights("book_ch07_simple_convnet.npz"), test_set::<f64>())
    else {
        return;
    };
    let mut net = SimpleConvNet::<f64>::init(&mut StdRng::seed_from_u64(1), Init::He);
    load_npz(&mut net, &path, ImportOptions::new()).expect("the book's float64 weights load");
    let right = correct(&mut net, &images, &labels);
    println!("SimpleConvNet (f64): {right} right");
    assert_eq!(right, 9600, "the book's 0.9600");
}

#[test]
fn deep_conv_net_classifies_as_the_book_computes() {
    let (Some(path), Some((images, labels))) =
        (weights("book_ch08_deep_convnet.npz"), test_set::<f64>())
    else {
        return;
    };
    let mut net = DeepConvNet::<f64>::init(&mut StdRng::seed_from_u64(1), Init::He);
    load_npz(&mut net, &path, ImportOptions::new()).expect("the book's float64 weights load");
    let right = correct(&mut net, &images, &labels);
    println!("DeepConvNet (f64): {right} right");
    assert_eq!(right, 9797, "the book's 0.9797");
}

#[test]
fn float64_weights_load_into_an_f32_net_only_when_converted() {
    let (Some(path), Some((images, labels))) =
        (weights("book_ch07_simple_convnet.npz"), test_set::<f32>())
    else {
        return;
    };
    let mut net = SimpleConvNet::<f32>::init(&mut StdRng::seed_from_u64(1), Init::He);
    let before = net.clone();
    match load_npz(&mut net, &path, ImportOptions::new()) {
        Err(IoError::Disagreements { problems, .. }) => {
            // W1 … b3: every tensor is F64.
            assert_eq!(problems.len(), 6, "{problems:?}");
            assert!(
                problems
                    .iter()
                    .all(|p| p.contains("F64") && p.contains("convert_dtype")),
                "{problems:?}"
            );
        }
        other => panic!("float64 weights into an f32 net: {other:?}"),
    }
    let unchanged = |a: &SimpleConvNet<f32>, b: &SimpleConvNet<f32>| {
        let mut values = (Vec::new(), Vec::new());
        a.visit_params(&mut |p| values.0.extend_from_slice(p.value));
        b.visit_params(&mut |p| values.1.extend_from_slice(p.value));
        values.0 == values.1
    };
    assert!(
        unchanged(&net, &before),
        "a refused load leaves the net as it was"
    );

    load_npz(&mut net, &path, ImportOptions::new().convert_dtype(true))
        .expect("converted to f32, the weights load");
    let right = correct(&mut net, &images, &labels);
    println!("SimpleConvNet (f32, converted): {right} right");
    let accuracy = right as f64 / labels.len() as f64;
    assert!((accuracy - 0.9600).abs() <= 0.001, "{accuracy}");
}
