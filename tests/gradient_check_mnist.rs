//! The chapter's gradient check on three real MNIST images: backpropagation
//! and numerical differentiation agree on every parameter.

use std::path::PathBuf;

use staticnet::data::{LoadOptions, load_mnist};
use staticnet::gradient_check;
use staticnet::prelude::*;
use staticnet::train::{ImageSamples, Samples};

network! {
    struct TwoLayerNet<Affine<784, 50>, Relu, Affine<50, 10>, SoftmaxWithLoss>
}

#[test]
fn two_layer_net_gradients_agree_on_three_mnist_images() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data/mnist");
    if !dir.is_dir() {
        println!(
            "skipped: {} is absent, so there is no MNIST data to check on",
            dir.display()
        );
        return;
    }
    let mnist = load_mnist(&dir, &LoadOptions::default()).expect("the shared MNIST files load");
    let train = ImageSamples {
        split: &mnist.train,
        normalize: true,
    };
    let mut x = Batch::<f64, Const<784>>::zeros(3);
    let mut t = Vec::new();
    Samples::<f64, Const<784>>::gather(&train, &[0, 1, 2], &mut x, &mut t)
        .expect("three samples exist");
    // One-hot labels, as the book's check uses them.
    let one_hot = Batch::<f64, Const<10>>::from_fn(3, |n, j| if t[n] == j { 1.0 } else { 0.0 });

    let mut net = TwoLayerNet::<f64>::new(&mut StdRng::seed_from_u64(0));
    let checks = gradient_check(&mut net, &x, &one_hot);
    let names: Vec<String> = checks.iter().map(|c| c.name.to_string()).collect();
    assert_eq!(names, ["W1", "b1", "W2", "b2"]);
    for check in &checks {
        println!("{}:{:e}", check.name, check.mean_abs_diff);
        assert!(
            check.mean_abs_diff <= 1e-9,
            "{} differs by {:e}",
            check.name,
            check.mean_abs_diff
        );
    }
}
