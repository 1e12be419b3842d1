//! Convolutional networks declared with `network!`: shapes, parameter
//! names, and backpropagation against numerical gradients.

use staticnet::prelude::*;
use staticnet::{Chw, ImageBatch, gradient_check};

network! {
    /// A small SimpleConvNet: 3 filters of 3×3 with padding 1 over 2×6×6,
    /// 2×2 pooling with stride 2, then two `Affine`s.
    struct SmallConvNet<
        Input<2, 6, 6>,
        Conv2d<3, 3, pad = 1>,
        Relu,
        MaxPool2d<2, stride = 2>,
        Flatten,
        Affine<27, 8>,
        Relu,
        Affine<8, 4>,
        SoftmaxWithLoss,
    >
}

const FILTERS: usize = 4;
const SIDE: usize = 7;

network! {
    /// The same kind of net with named sizes, stride 2 and two convolutions.
    struct NamedConvNet<
        Input<1, SIDE, SIDE>,
        Conv2d<FILTERS, 3, stride = 2, pad = 1>,
        Sigmoid,
        Conv2d<2, 2>,
        Flatten,
        Affine<18, 3>,
        SoftmaxWithLoss,
    >
}

network! {
    /// Output sizes rounded down, as in the book and PyTorch: 2×2 pooling
    /// at stride 2 over 9×9 leaves the last row and column out, and so
    /// does a 3×3 filter at stride 2 over 4×4.
    struct FlooredConvNet<
        Input<2, SIDE, SIDE>,
        Conv2d<3, 3, pad = 2>,    // 3 × 9 × 9
        Relu,
        MaxPool2d<2, stride = 2>, // 3 × 4 × 4
        Conv2d<2, 3, stride = 2>, // 2 × 1 × 1
        Flatten,
        Affine<2, 3>,
        SoftmaxWithLoss,
    >
}

fn random_images<S: staticnet::FixedShape>(batch: usize, seed: u64) -> ImageBatch<f64, S> {
    let mut rng = StdRng::seed_from_u64(seed);
    let values = (0..batch * S::NUMEL)
        .map(|_| rng.random_range(0.0..1.0))
        .collect();
    ImageBatch::from_vec(values).expect("whole samples")
}

#[test]
fn parameters_are_numbered_as_the_book_numbers_them() {
    let net = SmallConvNet::<f32>::new(&mut StdRng::seed_from_u64(0));
    let mut params = Vec::new();
    net.visit_params(&mut |p| params.push((p.name.to_string(), p.shape.dims())));
    assert_eq!(
        params,
        [
            ("W1".to_owned(), vec![3, 2, 3, 3]),
            ("b1".to_owned(), vec![3]),
            ("W2".to_owned(), vec![27, 8]),
            ("b2".to_owned(), vec![8]),
            ("W3".to_owned(), vec![8, 4]),
            ("b3".to_owned(), vec![4]),
        ]
    );
}

#[test]
fn backpropagation_matches_numerical_gradients() {
    let init = Init::Normal { std: 0.3 };
    let mut net = SmallConvNet::<f64>::init(&mut StdRng::seed_from_u64(1), init);
    let x = random_images::<Chw<_, _, _>>(3, 2);
    for check in gradient_check(&mut net, &x, &[0, 3, 1]) {
        assert!(check.mean_abs_diff <= 1e-8, "{check:?}");
    }

    let mut net = NamedConvNet::<f64>::init(&mut StdRng::seed_from_u64(3), init);
    let x = random_images(2, 4);
    let checks = gradient_check(&mut net, &x, &[2, 0]);
    let names: Vec<String> = checks.iter().map(|c| c.name.to_string()).collect();
    assert_eq!(names, ["W1", "b1", "W2", "b2", "W3", "b3"]);
    for check in checks {
        assert!(check.mean_abs_diff <= 1e-8, "{check:?}");
    }

    let mut net = FlooredConvNet::<f64>::init(&mut StdRng::seed_from_u64(5), init);
    let x = random_images(2, 6);
    for check in gradient_check(&mut net, &x, &[1, 2]) {
        assert!(check.mean_abs_diff <= 1e-8, "{check:?}");
    }
}

#[test]
fn scores_have_one_row_per_image() {
    let mut net = SmallConvNet::<f32>::new(&mut StdRng::seed_from_u64(5));
    let x = ImageBatch::<f32, Chw<_, _, _>>::zeros(5);
    let y = net.predict(&x);
    assert_eq!(y.shape(), (5, 4));
    // All-zero images and zero biases: every score is 0, the loss ln 4.
    let loss = net.loss(&x, &[0, 1, 2, 3, 0]);
    assert!((loss - 4f32.ln()).abs() < 1e-6, "{loss}");
}

#[test]
fn filters_are_saved_as_the_books_arrays_and_load_back() {
    let net = SmallConvNet::<f64>::init(&mut StdRng::seed_from_u64(7), Init::Normal { std: 0.3 });
    let bytes = staticnet::io::to_safetensors_bytes(&net).expect("finite weights");
    let file = safetensors::SafeTensors::deserialize(&bytes).expect("a safetensors file");
    let w1 = file.tensor("W1").expect("the filters are saved as W1");
    assert_eq!(w1.shape(), [3, 2, 3, 3]);
    // Row-major [FN, C, FH, FW]: the order the layer keeps them in.
    let saved: Vec<f64> = w1
        .data()
        .chunks_exact(8)
        .map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes")))
        .collect();
    assert_eq!(saved, *net.conv1.w);

    let mut loaded = SmallConvNet::<f64>::init(&mut StdRng::seed_from_u64(8), Init::BOOK);
    staticnet::io::load_weights_from_bytes(&mut loaded, &bytes).expect("same shapes");
    let x = random_images(2, 9);
    assert_eq!(loaded.predict(&x), net.clone().predict(&x));
}
