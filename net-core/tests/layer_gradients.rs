//! Every layer's backward pass against central differences, on random
//! inputs and random batch sizes, in f64.

use net_core::rand::rngs::StdRng;
use net_core::rand::{Rng, SeedableRng};
use net_core::{
    Affine, BatchNorm, Const, Dropout, Dyn, IdentityWithSquaredLoss, Init, Layer, LossLayer,
    OMatrix, Relu, Sigmoid, SoftmaxWithLoss, Targets,
};
use proptest::prelude::*;

type Rows<const F: usize> = OMatrix<f64, Dyn, Const<F>>;

const H: f64 = 1e-5;
const TOLERANCE: f64 = 1e-8;

/// Values in ±(0.05..2): away from ReLU's kink, where the numerical
/// gradient is not defined.
fn random_rows<const F: usize>(rng: &mut StdRng, n: usize) -> Rows<F> {
    Rows::<F>::from_fn_generic(Dyn(n), Const::<F>, |_, _| {
        let magnitude = rng.random_range(0.05..2.0);
        if rng.random() { magnitude } else { -magnitude }
    })
}

fn mean_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum::<f64>() / a.len().max(1) as f64
}

/// `L = Σ forward(x) ⊙ r`, so that `dL/dy = r`.
fn probe<L, const I: usize, const O: usize>(layer: &mut L, x: &Rows<I>, r: &Rows<O>) -> f64
where
    L: Layer<f64, In = Const<I>, Out = Const<O>>,
{
    layer
        .forward(x)
        .iter()
        .zip(r.iter())
        .map(|(y, r)| y * r)
        .sum()
}

/// Checks `dx` and every parameter gradient of `layer`; returns the worst
/// mean absolute difference.
fn worst_layer_error<L, const I: usize, const O: usize>(
    layer: &mut L,
    x: &Rows<I>,
    r: &Rows<O>,
) -> f64
where
    L: Layer<f64, In = Const<I>, Out = Const<O>>,
{
    layer.forward(x);
    let dx = layer.backward(x, r).clone();
    let mut analytic = Vec::new();
    layer.visit_params(&mut |p| analytic.push(p.grad.to_vec()));

    let mut x_probe = x.clone();
    let mut numeric_dx = vec![0.0; x.len()];
    for (i, slope) in numeric_dx.iter_mut().enumerate() {
        let original = x_probe[i];
        x_probe[i] = original + H;
        let above = probe(layer, &x_probe, r);
        x_probe[i] = original - H;
        let below = probe(layer, &x_probe, r);
        x_probe[i] = original;
        *slope = (above - below) / (2.0 * H);
    }
    let mut worst = mean_abs_diff(dx.as_slice(), &numeric_dx);

    for (k, grad) in analytic.iter().enumerate() {
        let mut numeric = vec![0.0; grad.len()];
        for (j, slope) in numeric.iter_mut().enumerate() {
            let nudge = |layer: &mut L, delta: f64| {
                let mut index = 0;
                layer.visit_params_mut(&mut |p| {
                    if index == k {
                        p.value[j] += delta;
                    }
                    index += 1;
                });
            };
            nudge(layer, H);
            let above = probe(layer, x, r);
            nudge(layer, -2.0 * H);
            let below = probe(layer, x, r);
            nudge(layer, H);
            *slope = (above - below) / (2.0 * H);
        }
        worst = worst.max(mean_abs_diff(grad, &numeric));
    }
    worst
}

/// Checks a loss layer's `dx` against central differences of its loss.
fn worst_loss_error<L, const N: usize>(
    layer: &mut L,
    x: &Rows<N>,
    t: Targets<'_, f64, Const<N>>,
) -> f64
where
    L: LossLayer<f64, In = Const<N>>,
{
    layer.forward(x, t);
    let dx = layer.backward(t).clone();
    let mut x_probe = x.clone();
    let mut numeric = vec![0.0; x.len()];
    for (i, slope) in numeric.iter_mut().enumerate() {
        let original = x_probe[i];
        x_probe[i] = original + H;
        let above = layer.forward(&x_probe, t);
        x_probe[i] = original - H;
        let below = layer.forward(&x_probe, t);
        x_probe[i] = original;
        *slope = (above - below) / (2.0 * H);
    }
    mean_abs_diff(dx.as_slice(), &numeric)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn affine_backward_matches_numerical_gradient(seed: u64, n in 1usize..8) {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut layer = Affine::<f64, 5, 3>::init(&mut rng, Init::Normal { std: 1.0 });
        layer.b.as_mut_slice().iter_mut().for_each(|b| *b = rng.random_range(-1.0..1.0));
        let x = random_rows::<5>(&mut rng, n);
        let r = random_rows::<3>(&mut rng, n);
        let error = worst_layer_error(&mut layer, &x, &r);
        prop_assert!(error <= TOLERANCE, "error {error}");
    }

    #[test]
    fn relu_backward_matches_numerical_gradient(seed: u64, n in 1usize..8) {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut layer = Relu::<f64, Const<6>>::new();
        let x = random_rows::<6>(&mut rng, n);
        let r = random_rows::<6>(&mut rng, n);
        let error = worst_layer_error(&mut layer, &x, &r);
        prop_assert!(error <= TOLERANCE, "error {error}");
    }

    #[test]
    fn sigmoid_backward_matches_numerical_gradient(seed: u64, n in 1usize..8) {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut layer = Sigmoid::<f64, Const<6>>::new();
        let x = random_rows::<6>(&mut rng, n);
        let r = random_rows::<6>(&mut rng, n);
        let error = worst_layer_error(&mut layer, &x, &r);
        prop_assert!(error <= TOLERANCE, "error {error}");
    }

    #[test]
    fn batch_norm_backward_matches_numerical_gradient(seed: u64, n in 2usize..8) {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut layer = BatchNorm::<f64, Const<5>>::new();
        // γ and β away from 1 and 0, so that both enter the gradients.
        layer.visit_params_mut(&mut |p| {
            p.value.iter_mut().for_each(|v| *v = rng.random_range(0.5..1.5));
        });
        // Samples 0.7 apart, jittered: each feature's spread over the batch
        // stays away from 0, where 1/σ³ would swamp central differences.
        let x = Rows::<5>::from_fn_generic(Dyn(n), Const::<5>, |i, _| {
            0.7 * i as f64 + rng.random_range(-0.2..0.2)
        });
        let r = random_rows::<5>(&mut rng, n);
        // Training mode, the layer's default: the batch's own statistics.
        let error = worst_layer_error(&mut layer, &x, &r);
        prop_assert!(error <= TOLERANCE, "error {error}");
    }

    #[test]
    fn dropout_backward_matches_numerical_gradient_with_its_mask_held(seed: u64, n in 1usize..8) {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut layer = Dropout::<f64, Const<6>>::new(rng.random()).with_ratio(0.4);
        layer.hold_mask(true);
        let x = random_rows::<6>(&mut rng, n);
        let r = random_rows::<6>(&mut rng, n);
        let error = worst_layer_error(&mut layer, &x, &r);
        prop_assert!(error <= TOLERANCE, "error {error}");
    }

    #[test]
    fn softmax_with_loss_backward_matches_numerical_gradient(seed: u64, n in 1usize..8) {
        let mut rng = StdRng::seed_from_u64(seed);
        let x = random_rows::<4>(&mut rng, n);
        let classes: Vec<usize> = (0..n).map(|_| rng.random_range(0..4)).collect();
        let one_hot = Rows::<4>::from_fn_generic(Dyn(n), Const::<4>, |i, j| f64::from(classes[i] == j));
        let mut layer = SoftmaxWithLoss::<f64, 4>::new();
        let error = worst_loss_error(&mut layer, &x, Targets::Classes(&classes));
        prop_assert!(error <= TOLERANCE, "class targets: error {error}");
        let error = worst_loss_error(&mut layer, &x, (&one_hot).into());
        prop_assert!(error <= TOLERANCE, "one-hot targets: error {error}");
    }

    #[test]
    fn identity_with_squared_loss_backward_matches_numerical_gradient(seed: u64, n in 1usize..8) {
        let mut rng = StdRng::seed_from_u64(seed);
        let x = random_rows::<3>(&mut rng, n);
        let t = random_rows::<3>(&mut rng, n);
        let mut layer = IdentityWithSquaredLoss::<f64, 3>::new();
        let error = worst_loss_error(&mut layer, &x, (&t).into());
        prop_assert!(error <= TOLERANCE, "error {error}");
    }
}
