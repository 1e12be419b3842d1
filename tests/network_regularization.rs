//! Dropout and batch normalization inside `network!`: training mode for
//! backpropagation, inference mode for predictions, as the book's
//! `train_flg`.

use staticnet::prelude::*;

network! {
    struct Regularized<Affine<3, 8>, BatchNorm, Relu, Dropout<0.25>, Affine<8, 2>, SoftmaxWithLoss>
}

fn batch<const F: usize>(rng: &mut StdRng, n: usize) -> Batch<f64, Const<F>> {
    let mut x = Batch::<f64, Const<F>>::zeros(n);
    for v in x.as_mut_slice() {
        *v = rng.random_range(-1.0..1.0);
    }
    x
}

#[test]
fn predictions_are_in_inference_mode_and_repeatable() {
    let mut rng = StdRng::seed_from_u64(1);
    let mut net = Regularized::<f64>::init(&mut rng, Init::Auto);
    let x = batch::<3>(&mut rng, 10);
    let t = [0, 1, 1, 0, 1, 0, 0, 1, 1, 0];
    net.backprop(&x, &t);
    assert!(net.dropout1.is_training() && net.batchnorm1.is_training());
    let first = net.predict(&x).clone();
    assert!(!net.dropout1.is_training() && !net.batchnorm1.is_training());
    assert_eq!(&first, net.predict(&x), "no dropout noise in inference");
    assert_eq!(net.loss(&x, &t), net.loss(&x, &t));
    assert_eq!(net.dropout1.ratio(), 0.25);
}

#[test]
fn loss_and_accuracy_in_one_pass_are_in_inference_mode() {
    let mut rng = StdRng::seed_from_u64(4);
    let mut net = Regularized::<f64>::init(&mut rng, Init::Auto);
    let x = batch::<3>(&mut rng, 10);
    let t = [0, 1, 1, 0, 1, 0, 0, 1, 1, 0];
    net.backprop(&x, &t);
    let (loss, accuracy) = net.loss_and_accuracy(&x, &t);
    assert!(!net.dropout1.is_training() && !net.batchnorm1.is_training());
    assert_eq!(loss, net.loss(&x, &t));
    assert_eq!(accuracy, net.accuracy(&x, &t));
}

#[test]
fn training_moves_the_running_statistics_and_inference_does_not() {
    let mut rng = StdRng::seed_from_u64(2);
    let mut net = Regularized::<f64>::init(&mut rng, Init::Auto);
    let x = batch::<3>(&mut rng, 10);
    let t = [1, 1, 0, 0, 1, 0, 1, 1, 0, 0];
    assert!(net.batchnorm1.running_var().iter().all(|&v| v == 0.0));
    net.backprop(&x, &t);
    let after_training = net.batchnorm1.running_var().to_vec();
    assert!(after_training.iter().all(|&v| v > 0.0));
    net.predict(&x);
    net.accuracy(&x, &t);
    assert_eq!(net.batchnorm1.running_var(), after_training);
}

#[test]
fn in_inference_a_sample_does_not_depend_on_its_batch() {
    let mut rng = StdRng::seed_from_u64(3);
    let mut net = Regularized::<f64>::init(&mut rng, Init::Auto);
    let x = batch::<3>(&mut rng, 10);
    let t = [0, 1, 0, 1, 0, 1, 0, 1, 0, 1];
    for _ in 0..5 {
        net.backprop(&x, &t);
        net.visit_params_mut(&mut |p| p.descend(0.1));
    }
    let scores = net.predict(&x).clone();
    let first = Batch::<f64, Const<3>>::from_row_slice(&[x[(0, 0)], x[(0, 1)], x[(0, 2)]]);
    let alone = net.predict(&first).clone();
    for j in 0..2 {
        assert!((alone[(0, j)] - scores[(0, j)]).abs() < 1e-12);
    }
}

#[test]
fn the_same_seed_drops_the_same_units() {
    let train = |seed| {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut net = Regularized::<f64>::init(&mut rng, Init::Auto);
        let x = batch::<3>(&mut rng, 10);
        net.backprop(&x, &[0, 1, 0, 1, 0, 1, 0, 1, 0, 1]);
        net.dropout1.mask().to_vec()
    };
    assert_eq!(train(4), train(4));
    assert_ne!(train(4), train(5));
}
