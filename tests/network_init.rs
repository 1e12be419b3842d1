//! `Init::Auto` draws each layer for the activation after it: He before a
//! ReLU, Xavier before a sigmoid and before the loss.

use staticnet::prelude::*;

network! {
    struct Mixed<Affine<400, 300>, Relu, Affine<300, 200>, Sigmoid, Affine<200, 10>, SoftmaxWithLoss>
}

fn std_of(values: &[f64]) -> f64 {
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / values.len() as f64).sqrt()
}

/// The sample standard deviation of each weight matrix over its expected
/// value.
fn ratios(net: &Mixed<f64>, expected: [f64; 3]) -> Vec<f64> {
    [
        net.affine1.w.as_slice(),
        net.affine2.w.as_slice(),
        net.affine3.w.as_slice(),
    ]
    .iter()
    .zip(expected)
    .map(|(w, e)| std_of(w) / e)
    .collect()
}

fn assert_near_one(ratios: &[f64]) {
    // 2,000 to 120,000 draws per matrix: within 5% of the true spread.
    for (k, r) in ratios.iter().enumerate() {
        assert!((r - 1.0).abs() < 0.05, "W{}: std ratio {r}", k + 1);
    }
}

#[test]
fn auto_draws_he_before_relu_and_xavier_elsewhere() {
    let net = Mixed::<f64>::init(&mut StdRng::seed_from_u64(1), Init::Auto);
    let he_400 = (2.0f64 / 400.0).sqrt();
    let xavier_300 = (1.0f64 / 300.0).sqrt();
    let xavier_200 = (1.0f64 / 200.0).sqrt();
    assert_near_one(&ratios(&net, [he_400, xavier_300, xavier_200]));
}

#[test]
fn a_fixed_choice_applies_to_every_layer() {
    let net = Mixed::<f64>::init(&mut StdRng::seed_from_u64(2), Init::He);
    let he = |n: f64| (2.0 / n).sqrt();
    assert_near_one(&ratios(&net, [he(400.0), he(300.0), he(200.0)]));
    let book = Mixed::<f64>::new(&mut StdRng::seed_from_u64(3));
    assert_near_one(&ratios(&book, [0.01; 3]));
}

#[test]
fn one_layer_can_be_drawn_its_own_way() {
    let mut rng = StdRng::seed_from_u64(4);
    let mut net = Mixed::<f64>::init(&mut rng, Init::Xavier);
    net.affine3 = Affine::init(&mut rng, Init::Normal { std: 0.1 });
    let xavier = |n: f64| (1.0 / n).sqrt();
    assert_near_one(&ratios(&net, [xavier(400.0), xavier(300.0), 0.1]));
}

/// A layer of one's own that asks for He before it, as `Relu` does.
#[derive(Clone, Debug)]
struct ReluLike<T: Scalar, S: Shape>(Relu<T, S>);

impl<T: Scalar, S: Shape> Layer<T> for ReluLike<T, S>
where
    Relu<T, S>: Layer<T, In = S, Out = S>,
{
    type In = S;
    type Out = S;
    const INIT_BEFORE: InitBefore = InitBefore::Is(Init::He);

    fn init(rng: &mut dyn RngCore, init: Init) -> Self {
        ReluLike(Relu::init(rng, init))
    }

    fn forward(&mut self, x: &Batch<T, S>) -> &Batch<T, S> {
        self.0.forward(x)
    }

    fn output(&self) -> &Batch<T, S> {
        self.0.output()
    }

    fn backward(&mut self, x: &Batch<T, S>, dout: &Batch<T, S>) -> &Batch<T, S> {
        self.0.backward(x, dout)
    }
}

network! {
    struct Asked<Affine<400, 300>, Dropout, ReluLike, Affine<300, 200>, BatchNorm, Tanh, Affine<200, 10>, SoftmaxWithLoss>
}

#[test]
fn auto_asks_the_layers_after_looking_past_dropout_and_batch_norm() {
    let net = Asked::<f64>::init(&mut StdRng::seed_from_u64(2), Init::Auto);
    let ratios = [
        std_of(net.affine1.w.as_slice()) / (2.0f64 / 400.0).sqrt(),
        std_of(net.affine2.w.as_slice()) / (1.0f64 / 300.0).sqrt(),
        std_of(net.affine3.w.as_slice()) / (1.0f64 / 200.0).sqrt(),
    ];
    assert_near_one(&ratios);
    assert_eq!(InitBefore::resolve(&[]), Init::Xavier);
    assert_eq!(
        InitBefore::resolve(&[
            InitBefore::LookPast,
            InitBefore::Unknown,
            InitBefore::Is(Init::He)
        ]),
        Init::Xavier
    );
}
