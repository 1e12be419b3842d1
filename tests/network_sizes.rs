//! Sizes written as named constants, paths and const expressions.

use staticnet::prelude::*;

const INPUT: usize = 28 * 28;
const HIDDEN: usize = 50;

mod sizes {
    pub const HIDDEN: usize = 32;
    pub const CLASSES: usize = 10;
}

network! {
    /// Named constants on both sides of every link.
    pub struct Named<Affine<INPUT, HIDDEN>, Relu, Affine<HIDDEN, 10>, SoftmaxWithLoss>
}

network! {
    /// A constant on one side and a number on the other: the compiler
    /// checks this link.
    pub struct Mixed<Affine<784, HIDDEN>, Sigmoid, Affine<50, 10>, SoftmaxWithLoss>
}

network! {
    /// Paths to constants in a module, and arithmetic on them.
    pub struct Paths<Affine<{ 28 * 28 }, sizes::HIDDEN>, Relu, Affine<{ sizes::HIDDEN }, { sizes::CLASSES * 2 }>, Relu, Affine<20, sizes::CLASSES>, SoftmaxWithLoss>
}

network! {
    /// Bare arithmetic, without braces.
    pub struct Bare<Affine<28 * 28, 100 / 2>, Relu, Affine<25 * 2, 10>, SoftmaxWithLoss>
}

fn shapes<N: Network<f32>>(net: &N) -> Vec<String> {
    let mut shapes = Vec::new();
    net.visit_params(&mut |p| shapes.push(format!("{}{}", p.name, p.shape)));
    shapes
}

#[test]
fn named_constants_give_the_declared_shapes() {
    let mut rng = StdRng::seed_from_u64(0);
    let mut net = Named::<f32>::new(&mut rng);
    assert_eq!(
        shapes(&net),
        ["W1(784, 50)", "b1(50,)", "W2(50, 10)", "b2(10,)"]
    );
    let x = Batch::<f32, Const<INPUT>>::zeros(2);
    assert!((net.loss(&x, &[1, 2]) - 10f32.ln()).abs() < 1e-4);
    assert_eq!(
        Named::<f32>::LAYERS,
        [
            "Affine<INPUT, HIDDEN>",
            "Relu",
            "Affine<HIDDEN, 10>",
            "SoftmaxWithLoss"
        ]
    );
}

#[test]
fn a_link_the_compiler_checks_runs_forward_and_backward() {
    let mut rng = StdRng::seed_from_u64(1);
    let mut net = Mixed::<f64>::init(&mut rng, Init::Normal { std: 0.1 });
    assert_eq!(
        shapes_f64(&net),
        ["W1(784, 50)", "b1(50,)", "W2(50, 10)", "b2(10,)"]
    );
    let mut x = Batch::<f64, Const<784>>::zeros(3);
    for (k, v) in x.as_mut_slice().iter_mut().enumerate() {
        *v = (k % 7) as f64 / 7.0;
    }
    let t = [1, 5, 9];
    let first = net.backprop(&x, &t);
    let grads = net.gradient(&x, &t);
    assert!(
        grads.get("W1").unwrap().iter().any(|&g| g != 0.0),
        "the gradient reached the first layer"
    );
    for _ in 0..20 {
        net.backprop(&x, &t);
        net.visit_params_mut(&mut |p| p.descend(0.5));
    }
    assert!(net.loss(&x, &t) < first);
}

fn shapes_f64<N: Network<f64>>(net: &N) -> Vec<String> {
    let mut shapes = Vec::new();
    net.visit_params(&mut |p| shapes.push(format!("{}{}", p.name, p.shape)));
    shapes
}

#[test]
fn paths_and_const_expressions() {
    let mut rng = StdRng::seed_from_u64(2);
    let mut net = Paths::<f32>::new(&mut rng);
    assert_eq!(
        shapes(&net),
        [
            "W1(784, 32)",
            "b1(32,)",
            "W2(32, 20)",
            "b2(20,)",
            "W3(20, 10)",
            "b3(10,)"
        ]
    );
    let x = Batch::<f32, Const<784>>::zeros(1);
    assert_eq!(net.predict(&x).as_slice().len(), 10);
}

#[test]
fn bare_arithmetic_is_computed() {
    let mut rng = StdRng::seed_from_u64(3);
    let net = Bare::<f32>::new(&mut rng);
    assert_eq!(
        shapes(&net),
        ["W1(784, 50)", "b1(50,)", "W2(50, 10)", "b2(10,)"]
    );
    let _: Affine<f32, 784, 50> = net.affine1;
    assert_eq!(Bare::<f32>::LAYERS[0], "Affine<28 * 28, 100 / 2>");
}
