//! Widths chosen at run time (`Affine<784, dyn>`): built with
//! `with_widths`, read from weight files with `from_weights`, computing
//! exactly what the same network with the width compiled in computes, and
//! every runtime mismatch reported as an error naming both layers and
//! sizes.

use staticnet::io::{IoError, save_weights, to_safetensors_bytes};
use staticnet::prelude::*;
use staticnet::{GradientCheck, gradient_check};

network! {
    /// The book's two-layer net, its hidden width chosen at run time.
    pub struct Hidden<Affine<784, dyn>, Relu, Affine<dyn, 10>, SoftmaxWithLoss>
}

network! {
    /// The same net with the width compiled in.
    pub struct Hidden77<Affine<784, 77>, Relu, Affine<77, 10>, SoftmaxWithLoss>
}

network! {
    /// Two widths chosen at run time.
    pub struct TwoOpen<Affine<784, dyn>, Relu, Affine<dyn, dyn>, Sigmoid, Affine<dyn, 10>, SoftmaxWithLoss>
}

network! {
    /// A `dyn` beside a compiled-in width is that width: this net is
    /// static, built with `init`.
    pub struct Inferred<Affine<784, 50>, Relu, Affine<dyn, dyn>, Tanh, Affine<30, 10>, SoftmaxWithLoss>
}

network! {
    /// Small enough for the numerical gradient.
    pub struct Tiny<Affine<4, dyn>, Tanh, Affine<dyn, dyn>, LeakyRelu<0.1>, Affine<dyn, 3>, SoftmaxWithLoss>
}

fn images(batch: usize, seed: u64) -> Batch<f32, Const<784>> {
    let mut rng = StdRng::seed_from_u64(seed);
    let values: Vec<f32> = (0..batch * 784)
        .map(|_| {
            let u: f32 = rng.random();
            if u < 0.8 { 0.0 } else { u }
        })
        .collect();
    staticnet::batch_from_slice::<f32, Const<784>>(&values).expect("whole samples")
}

fn temp_file(name: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(name);
    (dir, path)
}

#[test]
fn a_runtime_width_computes_what_the_compiled_in_width_computes() {
    let mut fixed = Hidden77::<f32>::init(&mut StdRng::seed_from_u64(1), Init::He);
    let (_dir, path) = temp_file("h77.safetensors");
    save_weights(&fixed, &path).expect("save");

    let mut open = Hidden::<f32>::from_weights(&path).expect("widths from the file");
    assert_eq!(open.widths(), [77]);
    let (x, t) = (images(32, 2), (0..32).map(|n| n % 10).collect::<Vec<_>>());
    assert_eq!(open.predict(&x).as_slice(), fixed.predict(&x).as_slice());

    // Training steps stay bit-identical: the same kernels run for both.
    let mut optimizers = (Optimizer::sgd(0.1), Optimizer::sgd(0.1));
    for _ in 0..3 {
        let a = optimizers.0.train_step(&mut open, &x, &t);
        let b = optimizers.1.train_step(&mut fixed, &x, &t);
        assert_eq!(a, b);
    }
    assert_eq!(
        to_safetensors_bytes(&open).expect("bytes"),
        to_safetensors_bytes(&fixed).expect("bytes")
    );
}

#[test]
fn with_widths_builds_each_width_it_is_given() {
    let mut rng = StdRng::seed_from_u64(3);
    let mut net = TwoOpen::<f32>::with_widths(&mut rng, Init::He, [100, 30]).expect("widths");
    assert_eq!(net.widths(), [100, 30]);
    let mut shapes = Vec::new();
    net.visit_params(&mut |p| shapes.push((p.name.to_string(), p.shape)));
    assert_eq!(
        shapes,
        [
            (
                "W1".to_owned(),
                ParamShape::Matrix {
                    rows: 784,
                    cols: 100
                }
            ),
            ("b1".to_owned(), ParamShape::Vector(100)),
            (
                "W2".to_owned(),
                ParamShape::Matrix {
                    rows: 100,
                    cols: 30
                }
            ),
            ("b2".to_owned(), ParamShape::Vector(30)),
            ("W3".to_owned(), ParamShape::Matrix { rows: 30, cols: 10 }),
            ("b3".to_owned(), ParamShape::Vector(10)),
        ]
    );
    let x = images(8, 4);
    let t: Vec<usize> = (0..8).collect();
    let before = net.loss(&x, &t);
    let mut adam = Optimizer::adam(0.01);
    for _ in 0..20 {
        adam.train_step(&mut net, &x, &t);
    }
    let after = net.loss(&x, &t);
    assert!(after < before / 2.0, "loss {before} → {after}");
}

#[test]
fn a_dyn_beside_a_compiled_in_width_is_that_width() {
    let net = Inferred::<f32>::init(&mut StdRng::seed_from_u64(5), Init::He);
    assert_eq!((net.affine2.inputs(), net.affine2.outputs()), (50, 30));
}

#[test]
fn runtime_widths_backpropagate_exactly() {
    let mut net = Tiny::<f64>::with_widths(&mut StdRng::seed_from_u64(6), Init::Xavier, [5, 6])
        .expect("widths");
    let x = staticnet::batch_from_slice::<f64, Const<4>>(&[
        0.5, -1.0, 2.0, 0.1, -0.3, 0.8, -1.5, 1.0, 1.2, 0.0, -0.7, 0.4,
    ])
    .expect("three samples");
    for GradientCheck {
        name,
        mean_abs_diff,
    } in gradient_check(&mut net, &x, &[0, 2, 1])
    {
        assert!(mean_abs_diff < 1e-8, "{name}: {mean_abs_diff}");
    }
}

#[test]
fn a_zero_width_is_an_error() {
    let error = Hidden::<f32>::with_widths(&mut StdRng::seed_from_u64(0), Init::He, [0])
        .expect_err("width 0");
    assert_eq!(
        error.to_string(),
        "the width between `Affine<784, dyn>` and `Affine<dyn, 10>` is 0: every layer needs at \
         least one input and one output"
    );
}

/// A safetensors file of `f32` zeros with the given tensor shapes.
fn weight_file(tensors: &[(&str, Vec<usize>)]) -> (tempfile::TempDir, std::path::PathBuf) {
    use safetensors::tensor::{Dtype, TensorView};
    let data: Vec<Vec<u8>> = tensors
        .iter()
        .map(|(_, shape)| vec![0u8; 4 * shape.iter().product::<usize>()])
        .collect();
    let views: Vec<(&str, TensorView<'_>)> = tensors
        .iter()
        .zip(&data)
        .map(|((name, shape), bytes)| {
            let view = TensorView::new(Dtype::F32, shape.clone(), bytes).expect("view");
            (*name, view)
        })
        .collect();
    let (dir, path) = temp_file("w.safetensors");
    safetensors::serialize_to_file(views, None, &path).expect("write");
    (dir, path)
}

/// The file of a two-layer net whose weights have the given shapes.
fn two_layer_file(w1: [usize; 2], w2: [usize; 2]) -> (tempfile::TempDir, std::path::PathBuf) {
    weight_file(&[
        ("W1", w1.to_vec()),
        ("b1", vec![w1[1]]),
        ("W2", w2.to_vec()),
        ("b2", vec![w2[1]]),
    ])
}

#[test]
fn tensors_that_disagree_on_a_width_name_both_layers_and_sizes() {
    let (_dir, path) = two_layer_file([784, 77], [78, 10]);
    let error = Hidden::<f32>::from_weights(&path).expect_err("77 against 78");
    assert!(matches!(error, IoError::Widths { .. }), "{error:?}");
    assert_eq!(
        error.to_string(),
        format!(
            "`{}`: `Affine<dyn, 10>` (affine2) (`W2` is 78×10) expects 78 inputs, but \
             `Affine<784, dyn>` (affine1) (`W1` is 784×77) before it outputs 77",
            path.display()
        )
    );
}

#[test]
fn a_file_without_the_width_says_which_tensors_it_looked_for() {
    let (_dir, path) = weight_file(&[("weights", vec![784, 77])]);
    let error = Hidden::<f32>::from_weights(&path).expect_err("no W1, no W2");
    assert_eq!(
        error.to_string(),
        format!(
            "`{}`: the width between `Affine<784, dyn>` and `Affine<dyn, 10>` cannot be read \
             from the file: no 2-D tensor `W1` for `Affine<784, dyn>` (affine1), and no 2-D \
             tensor `W2` for `Affine<dyn, 10>` (affine2)",
            path.display()
        )
    );
}

#[test]
fn a_compiled_in_size_the_file_contradicts_names_the_tensor() {
    let (_dir, path) = two_layer_file([700, 77], [77, 10]);
    let error = Hidden::<f32>::from_weights(&path).expect_err("700 inputs, not 784");
    assert_eq!(
        error.to_string(),
        format!(
            "`W1` has shape [700, 77] in the file `{}`, but the network's `W1` is [784, 77]",
            path.display()
        )
    );
}

#[test]
#[should_panic(
    expected = "`Hidden` leaves widths to run time: build it with `Hidden::with_widths(…)`"
)]
fn init_points_a_runtime_network_to_with_widths() {
    let _ = <Hidden<f32> as Network<f32>>::init(&mut StdRng::seed_from_u64(0), Init::He);
}
