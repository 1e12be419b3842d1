//! The inference form on the 10,000 MNIST test images (when
//! `../shared/data/mnist` is there, as in CI): a two-layer net trained for
//! a few hundred steps, and SimpleConvNet with its initial weights, each
//! frozen, classify every image as the training struct does — one thread
//! one image at a time, two threads sharing the model, and batches of 100.

use std::path::Path;

use staticnet::prelude::*;

#[path = "../examples/convnets/nets.rs"]
mod convnets;

network! {
    struct TwoLayerNet<Affine<784, 50>, Relu, Affine<50, 10>, SoftmaxWithLoss>
}

const DATA: &str = "../shared/data/mnist";

/// The test images as samples of 784 values in `[0, 1]`.
fn test_images() -> Option<(Vec<Vec<f32>>, Vec<usize>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(DATA);
    if !dir.is_dir() {
        eprintln!("skipped: no MNIST at {}", dir.display());
        return None;
    }
    let mnist = load_mnist(&dir, &LoadOptions::default()).expect("MNIST loads");
    let images = mnist.test.images().chunks_exact(784);
    let images = images.map(|image| image.iter().map(|&p| f32::from(p) / 255.0).collect());
    let labels = mnist
        .test
        .labels()
        .iter()
        .map(|&l| usize::from(l))
        .collect();
    Some((images.collect(), labels))
}

/// The classes of every image: one thread, then two sharing `model`.
fn classes_alone_and_shared<B>(model: &Predictor<f32, B>, images: &[Vec<f32>]) -> [Vec<usize>; 2]
where
    B: Infer<f32>,
    B::In: FixedShape,
    B::Out: FixedShape,
{
    let classify = |part: &[Vec<f32>]| {
        let mut scratch = model.scratch();
        part.iter()
            .map(|image| {
                model
                    .classify_sample(image, &mut scratch)
                    .expect("784 values")
            })
            .collect::<Vec<usize>>()
    };
    let alone = classify(images);
    let shared = std::thread::scope(|scope| {
        let halves: Vec<_> = images
            .chunks(images.len() / 2)
            .map(|part| scope.spawn(move || classify(part)))
            .collect();
        halves.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    [alone, shared]
}

/// The training struct's classes, in batches of 100.
fn trained_classes<N: Network<f32>>(net: &mut N, images: &[Vec<f32>]) -> Vec<usize> {
    images
        .chunks(100)
        .flat_map(|chunk| {
            let mut x = Batch::<f32, N::In>::zeros(chunk.len());
            for (n, image) in chunk.iter().enumerate() {
                x.set_sample(n, image);
            }
            net.classify(&x)
        })
        .collect()
}

fn accuracy(classes: &[usize], labels: &[usize]) -> f64 {
    let right = classes.iter().zip(labels).filter(|(c, l)| c == l).count();
    right as f64 / labels.len() as f64
}

#[test]
fn a_trained_two_layer_net_frozen_classifies_the_test_set_as_it_does() {
    let Some((images, labels)) = test_images() else {
        return;
    };
    let mut net = TwoLayerNet::init(&mut StdRng::seed_from_u64(1), Init::He);
    let mut sgd = Optimizer::sgd(0.1);
    // 600 steps of 100 training-like samples: the test images' first half,
    // so that the net is trained (the check is agreement, not accuracy).
    for step in 0..600 {
        let start = (step * 100) % 5000;
        let mut x = Batch::<f32, Const<784>>::zeros(100);
        for n in 0..100 {
            x.set_sample(n, &images[start + n]);
        }
        sgd.train_step(&mut net, &x, &labels[start..start + 100]);
    }
    let expected = trained_classes(&mut net, &images);
    let [alone, shared] = classes_alone_and_shared(&net.freeze(), &images);
    assert_eq!(alone, expected, "one thread, one image at a time");
    assert_eq!(shared, alone, "two threads sharing the model");
    let held_out = accuracy(&alone[5000..], &labels[5000..]);
    println!("two-layer net, frozen: accuracy {held_out:.4} on the 5,000 images it did not see");
    assert!(held_out > 0.85, "the net learned: {held_out}");
}

#[test]
fn simple_conv_net_frozen_classifies_the_test_set_as_it_does() {
    let Some((images, _)) = test_images() else {
        return;
    };
    let mut net = convnets::SimpleConvNet::<f32>::init(&mut StdRng::seed_from_u64(2), Init::He);
    let model = net.freeze();
    let expected = trained_classes(&mut net, &images);
    let [alone, shared] = classes_alone_and_shared(&model, &images);
    // The convolution and the first Affine sum a dense sample in another
    // order one image at a time than in a batch: a tie within rounding
    // could flip a class, so the count of disagreements is what is pinned.
    let differ = alone.iter().zip(&expected).filter(|(a, b)| a != b).count();
    println!("SimpleConvNet, frozen: {differ} of 10,000 classes differ from the batch's");
    assert_eq!(differ, 0);
    assert_eq!(shared, alone, "two threads sharing the model");
}
