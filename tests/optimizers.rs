//! The optimizers of chapter 6 on whole networks: plain SGD is the
//! chapter-4 update bit for bit, every rule lowers the loss, and weight
//! decay's gradient is the gradient of the penalized loss.

use staticnet::optim::{Method, Optimizer, add_weight_decay, weight_decay_penalty};
use staticnet::prelude::*;

network! {
    struct Classifier<Affine<4, 8>, Relu, Affine<8, 3>, SoftmaxWithLoss>
}

/// 30 points in 4-D whose class is the largest of three of their
/// coordinates: learnable, not trivially.
fn problem(rng: &mut StdRng) -> (Batch<f64, Const<4>>, Vec<usize>) {
    let mut x = Batch::<f64, Const<4>>::zeros(30);
    for v in x.as_mut_slice() {
        *v = rng.random_range(-1.0..1.0);
    }
    let t = (0..30)
        .map(|n| {
            (0..3)
                .max_by(|&a, &b| x[(n, a)].total_cmp(&x[(n, b)]))
                .unwrap_or(0)
        })
        .collect();
    (x, t)
}

fn params(net: &Classifier<f64>) -> Vec<Vec<f64>> {
    let mut all = Vec::new();
    net.visit_params(&mut |p| all.push(p.value.to_vec()));
    all
}

#[test]
fn the_sgd_optimizer_is_the_books_update_bit_for_bit() {
    let mut rng = StdRng::seed_from_u64(1);
    let (x, t) = problem(&mut rng);
    let mut by_hand = Classifier::<f64>::init(&mut rng, Init::Normal { std: 0.5 });
    let mut by_optimizer = by_hand.clone();
    let mut sgd = Optimizer::new(Method::Sgd, 0.1);
    for _ in 0..20 {
        by_hand.backprop(&x, &t);
        by_hand.visit_params_mut(&mut |p| p.descend(0.1));
        by_optimizer.backprop(&x, &t);
        sgd.step(&mut by_optimizer);
    }
    assert_eq!(params(&by_hand), params(&by_optimizer));
    assert!(sgd.state_tensors().is_empty(), "SGD keeps no state");
}

#[test]
fn every_method_lowers_the_loss() {
    // Learning rates of the book's `optimizer_compare_naive.py` order.
    let rates = [
        ("sgd", 0.5),
        ("momentum", 0.1),
        ("nesterov", 0.1),
        ("adagrad", 0.5),
        ("rmsprop", 0.01),
        ("adam", 0.01),
    ];
    for (name, lr) in rates {
        let mut rng = StdRng::seed_from_u64(2);
        let (x, t) = problem(&mut rng);
        let mut net = Classifier::<f64>::init(&mut rng, Init::Normal { std: 0.5 });
        let method: Method = name.parse().expect("a known optimizer");
        let mut optimizer = Optimizer::new(method, lr);
        let first = net.loss(&x, &t);
        for _ in 0..100 {
            net.backprop(&x, &t);
            optimizer.step(&mut net);
        }
        let last = net.loss(&x, &t);
        assert!(
            last < 0.5 * first,
            "{name}: loss {first:.4} → {last:.4}, expected at least halved"
        );
        assert_eq!(optimizer.steps(), 100);
        let expected_tensors = 4 * method.state_names().len();
        assert_eq!(optimizer.state_tensors().len(), expected_tensors, "{name}");
    }
}

#[test]
fn adam_state_is_named_as_in_checkpoints() {
    let mut rng = StdRng::seed_from_u64(3);
    let (x, t) = problem(&mut rng);
    let mut net = Classifier::<f64>::init(&mut rng, Init::Normal { std: 0.5 });
    let mut adam = Optimizer::new(Method::from_name("adam").expect("known"), 0.001);
    net.backprop(&x, &t);
    adam.step(&mut net);
    let names: Vec<&str> = adam.state_tensors().iter().map(|s| s.0).collect();
    assert_eq!(
        names,
        [
            "optimizer.m.W1",
            "optimizer.v.W1",
            "optimizer.m.b1",
            "optimizer.v.b1",
            "optimizer.m.W2",
            "optimizer.v.W2",
            "optimizer.m.b2",
            "optimizer.v.b2",
        ]
    );
}

/// The gradient of `L + ½·λ·ΣW²` by central differences.
fn numerical_penalized_gradient(
    net: &mut Classifier<f64>,
    x: &Batch<f64, Const<4>>,
    t: &[usize],
    lambda: f64,
) -> Vec<Vec<f64>> {
    let h = 1e-5;
    let mut shapes = Vec::new();
    net.visit_params(&mut |p| shapes.push(p.value.len()));
    let mut slopes = Vec::new();
    for (k, &len) in shapes.iter().enumerate() {
        let mut slope = vec![0.0; len];
        for (j, s) in slope.iter_mut().enumerate() {
            let nudge = |net: &mut Classifier<f64>, delta: f64| {
                let mut index = 0;
                net.visit_params_mut(&mut |p| {
                    if index == k {
                        p.value[j] += delta;
                    }
                    index += 1;
                });
            };
            let penalized =
                |net: &mut Classifier<f64>| net.loss(x, t) + weight_decay_penalty(net, lambda);
            nudge(net, h);
            let above = penalized(net);
            nudge(net, -2.0 * h);
            let below = penalized(net);
            nudge(net, h);
            *s = (above - below) / (2.0 * h);
        }
        slopes.push(slope);
    }
    slopes
}

#[test]
fn weight_decay_gradient_matches_the_penalized_loss() {
    let lambda = 0.1;
    let mut rng = StdRng::seed_from_u64(4);
    let (x, t) = problem(&mut rng);
    let mut net = Classifier::<f64>::init(&mut rng, Init::Normal { std: 0.5 });
    // ½·λ·ΣW² over W1 and W2 only.
    let squares: f64 = net.affine1.w.as_slice().iter().map(|w| w * w).sum::<f64>()
        + net.affine2.w.as_slice().iter().map(|w| w * w).sum::<f64>();
    assert!((weight_decay_penalty(&net, lambda) - 0.05 * squares).abs() < 1e-12);

    let numerical = numerical_penalized_gradient(&mut net, &x, &t, lambda);
    net.backprop(&x, &t);
    add_weight_decay(&mut net, lambda);
    let mut names = Vec::new();
    let mut k = 0;
    net.visit_params(&mut |p| {
        let diff: f64 = p
            .grad
            .iter()
            .zip(&numerical[k])
            .map(|(a, b)| (a - b).abs())
            .sum::<f64>()
            / p.grad.len() as f64;
        assert!(
            diff <= 1e-8,
            "{}: mean |backprop − numerical| = {diff}",
            p.name
        );
        names.push(p.name.to_string());
        k += 1;
    });
    assert_eq!(names, ["W1", "b1", "W2", "b2"]);
}

#[test]
fn the_optimizer_applies_weight_decay_to_weights_only() {
    let lambda = 0.5;
    let mut rng = StdRng::seed_from_u64(5);
    let (x, t) = problem(&mut rng);
    let mut net = Classifier::<f64>::init(&mut rng, Init::Normal { std: 0.5 });
    net.affine1.b.as_mut_slice().fill(0.25);
    let mut expected = net.clone();
    net.backprop(&x, &t);
    Optimizer::new(Method::Sgd, 0.1)
        .with_weight_decay(lambda)
        .step(&mut net);
    // By hand: W ← W − lr·(dW + λ·W); b ← b − lr·db.
    expected.backprop(&x, &t);
    let (w, dw) = (expected.affine1.w.clone(), expected.affine1.dw.clone());
    for ((w, &w0), &g) in expected
        .affine1
        .w
        .as_mut_slice()
        .iter_mut()
        .zip(w.as_slice())
        .zip(dw.as_slice())
    {
        *w = w0 - 0.1 * (g + lambda * w0);
    }
    let db = expected.affine1.db.clone();
    for (b, &g) in expected
        .affine1
        .b
        .as_mut_slice()
        .iter_mut()
        .zip(db.as_slice())
    {
        *b -= 0.1 * g;
    }
    assert_eq!(net.affine1.w.as_slice(), expected.affine1.w.as_slice());
    assert_eq!(net.affine1.b.as_slice(), expected.affine1.b.as_slice());
}
