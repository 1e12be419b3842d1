//! The book's two-layer net, declared with literal sizes, checked for what
//! it does: parameter names and shapes, the loss of a fresh net, training.

use staticnet::prelude::*;
use staticnet::{Network, ParamShape};

network! {
    /// The book's two-layer net.
    pub struct TwoLayerNet<Affine<784, 50>, Relu, Affine<50, 10>, SoftmaxWithLoss>
}

#[test]
fn params_have_the_books_names_and_shapes_in_order() {
    let mut rng = StdRng::seed_from_u64(0);
    let net = TwoLayerNet::<f32>::new(&mut rng);
    let mut seen = Vec::new();
    net.visit_params(&mut |p| seen.push((p.name.to_string(), p.shape)));
    assert_eq!(
        seen,
        [
            (
                "W1".to_owned(),
                ParamShape::Matrix {
                    rows: 784,
                    cols: 50
                }
            ),
            ("b1".to_owned(), ParamShape::Vector(50)),
            ("W2".to_owned(), ParamShape::Matrix { rows: 50, cols: 10 }),
            ("b2".to_owned(), ParamShape::Vector(10)),
        ]
    );
    assert_eq!(net.param_count(), 784 * 50 + 50 + 50 * 10 + 10);
}

#[test]
fn the_struct_has_the_books_fields_and_layer_list() {
    let mut rng = StdRng::seed_from_u64(0);
    let net = TwoLayerNet::<f32>::new(&mut rng);
    let TwoLayerNet {
        affine1,
        relu1,
        affine2,
        loss,
    } = net.clone();
    let _: (
        Affine<f32, 784, 50>,
        Relu<f32, Const<50>>,
        Affine<f32, 50, 10>,
        SoftmaxWithLoss<f32, 10>,
    ) = (affine1, relu1, affine2, loss);
    assert_eq!(
        TwoLayerNet::<f32>::LAYERS,
        [
            "Affine<784, 50>",
            "Relu",
            "Affine<50, 10>",
            "SoftmaxWithLoss"
        ]
    );
    assert!(format!("{net:?}").starts_with("TwoLayerNet"));
}

#[test]
fn a_fresh_net_on_zero_input_is_uniform_over_ten_classes() {
    let mut rng = StdRng::seed_from_u64(1);
    let mut net = TwoLayerNet::<f32>::new(&mut rng);
    let x = Batch::<f32, Const<784>>::zeros(4);
    let loss = net.loss(&x, &[0, 3, 7, 9]);
    assert!((loss - 10f32.ln()).abs() < 1e-4, "loss {loss}");
    let scores = net.predict(&x);
    assert_eq!(scores.batch_size(), 4);
    assert!(scores.as_slice().iter().all(|&s| s == 0.0));
}

#[test]
fn gradients_are_named_like_the_books_dictionary() {
    let mut rng = StdRng::seed_from_u64(2);
    let mut net = TwoLayerNet::<f32>::new(&mut rng);
    let x = random_batch::<784>(&mut rng, 3);
    let grads = net.gradient(&x, &[1, 2, 3]);
    let names: Vec<String> = grads.iter().map(|g| g.name.to_string()).collect();
    assert_eq!(names, ["W1", "b1", "W2", "b2"]);
    assert_eq!(grads.get("W1").unwrap().len(), 784 * 50);
    assert_eq!(grads.get("b2").unwrap().len(), 10);
    assert!(grads.get("b2").unwrap().iter().any(|&g| g != 0.0));
}

#[test]
fn sgd_steps_decrease_the_loss_on_a_fixed_batch() {
    let mut rng = StdRng::seed_from_u64(3);
    let mut net = TwoLayerNet::<f32>::new(&mut rng);
    let x = random_batch::<784>(&mut rng, 20);
    let t: Vec<usize> = (0..20).map(|n| n % 10).collect();
    let mut losses = vec![net.loss(&x, &t)];
    for _ in 0..30 {
        net.backprop(&x, &t);
        net.visit_params_mut(&mut |p| p.descend(0.1));
        losses.push(net.loss(&x, &t));
    }
    assert!(losses.windows(2).all(|w| w[1] < w[0]), "{losses:?}");
    assert!(losses[30] < losses[0] - 0.1, "{losses:?}");
}

#[test]
fn loss_and_accuracy_come_from_one_pass_with_the_same_values() {
    let mut rng = StdRng::seed_from_u64(5);
    let mut net = TwoLayerNet::<f32>::new(&mut rng);
    let x = random_batch::<784>(&mut rng, 40);
    let t: Vec<usize> = (0..40).map(|n| n % 10).collect();
    for _ in 0..20 {
        net.backprop(&x, &t);
        net.visit_params_mut(&mut |p| p.descend(0.5));
    }
    let (loss, accuracy) = net.loss_and_accuracy(&x, &t);
    assert_eq!(loss, net.loss(&x, &t));
    assert_eq!(accuracy, net.accuracy(&x, &t));
    // Better than chance after training: the comparison above is not
    // between two zeros.
    assert!(accuracy > 0.1, "{accuracy}");
}

fn random_batch<const F: usize>(rng: &mut StdRng, n: usize) -> Batch<f32, Const<F>> {
    let mut x = Batch::<f32, Const<F>>::zeros(n);
    for v in x.as_mut_slice() {
        *v = rng.random_range(0.0..1.0);
    }
    x
}
