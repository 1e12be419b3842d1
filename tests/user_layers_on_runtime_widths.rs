//! Layers of one's own are first-class: written as the README writes them
//! — a whole `Layer`, or an `ElementwiseFn` — they pass a width chosen at
//! run time on as the built-in activations do, and their parameters are
//! named apart from every other layer's, whatever names they give them.

use staticnet::prelude::*;
use staticnet::{Elementwise, ElementwiseFn};

/// `elu(x) = x` above 0, `eˣ − 1` below: an activation as the README's
/// `Softsign` alias is written.
#[derive(Clone, Copy, Debug, Default)]
pub struct EluFn;

impl ElementwiseFn for EluFn {
    fn value<T: Scalar>(&self, x: T) -> T {
        if x > T::zero() { x } else { x.exp() - T::one() }
    }

    fn derivative<T: Scalar>(&self, x: T, y: T) -> T {
        if x > T::zero() {
            T::one()
        } else {
            y + T::one()
        }
    }
}

pub type Elu<T, S> = Elementwise<T, S, EluFn>;

/// The README's `Softsign`, as it is written there.
#[derive(Clone, Debug)]
pub struct Softsign<T: Scalar, S: Shape> {
    out: Batch<T, S>,
    dx: Batch<T, S>,
}

impl<T: Scalar, S: Shape> Layer<T> for Softsign<T, S> {
    type In = S;
    type Out = S;

    fn init(_rng: &mut dyn RngCore, _init: Init) -> Self {
        Softsign {
            out: BatchStorage::zeros(0),
            dx: BatchStorage::zeros(0),
        }
    }

    fn forward(&mut self, x: &Batch<T, S>) -> &Batch<T, S> {
        self.out.set_size_like(x);
        for (y, &x) in self.out.as_mut_slice().iter_mut().zip(x.as_slice()) {
            *y = x / (T::one() + x.abs());
        }
        &self.out
    }

    fn output(&self) -> &Batch<T, S> {
        &self.out
    }

    fn backward(&mut self, x: &Batch<T, S>, dout: &Batch<T, S>) -> &Batch<T, S> {
        self.dx.set_size_like(x);
        let dx = self.dx.as_mut_slice().iter_mut();
        for ((dx, &x), &d) in dx.zip(x.as_slice()).zip(dout.as_slice()) {
            let s = T::one() + x.abs();
            *dx = d / (s * s);
        }
        &self.dx
    }
}

network! {
    pub struct EluNet<Affine<784, dyn>, Elu, Affine<dyn, 10>, SoftmaxWithLoss>
}

network! {
    pub struct SoftsignNet<Affine<12, dyn>, Softsign, Relu, Affine<dyn, dyn>, Elu, Affine<dyn, 3>, SoftmaxWithLoss>
}

fn batch<S: FixedShape>(rows: usize, seed: usize) -> Batch<f64, S>
where
    Batch<f64, S>: BatchStorage<f64>,
{
    let mut x = <Batch<f64, S> as BatchStorage<f64>>::zeros(rows);
    for (k, v) in x.as_mut_slice().iter_mut().enumerate() {
        *v = ((k * 37 + seed * 11) % 23) as f64 / 23.0 - 0.4;
    }
    x
}

#[test]
fn an_elementwise_activation_of_ones_own_passes_a_runtime_width_on() {
    let mut net =
        EluNet::<f64>::with_widths(&mut StdRng::seed_from_u64(0), Init::He, [13]).unwrap();
    assert_eq!(net.widths(), [13]);
    let x = batch::<Const<784>>(8, 1);
    let t = [1, 2, 3, 4, 5, 6, 7, 8];
    let before = net.loss(&x, &t);
    let mut sgd = Optimizer::sgd(0.1);
    for _ in 0..20 {
        sgd.train_step(&mut net, &x, &t);
    }
    assert!(net.loss(&x, &t) < before, "the loss went down");
}

#[test]
fn a_whole_layer_of_ones_own_passes_runtime_widths_on_and_its_gradient_checks() {
    let mut net =
        SoftsignNet::<f64>::with_widths(&mut StdRng::seed_from_u64(2), Init::Xavier, [7, 5])
            .unwrap();
    assert_eq!(net.widths(), [7, 5]);
    let x = batch::<Const<12>>(6, 2);
    let t = [0, 1, 2, 0, 1, 2];
    let analytic = net.gradient(&x, &t);
    let numerical = net.numerical_gradient(&x, &t);
    let names: Vec<String> = analytic.iter().map(|g| g.name.to_string()).collect();
    assert_eq!(names, ["W1", "b1", "W2", "b2", "W3", "b3"]);
    for (a, n) in analytic.iter().zip(numerical.iter()) {
        assert_eq!(a.values.len(), n.values.len(), "{}", a.name);
        let diff = a
            .values
            .iter()
            .zip(&n.values)
            .map(|(a, n)| (a - n).abs())
            .fold(0.0, f64::max);
        assert!(diff < 1e-8, "{}: {diff}", a.name);
    }
}

#[test]
fn a_net_with_a_layer_of_ones_own_on_a_runtime_width_loads_from_its_file() {
    let net = EluNet::<f32>::with_widths(&mut StdRng::seed_from_u64(3), Init::He, [21]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("elu.safetensors");
    save_weights(&net, &path).unwrap();
    let mut loaded = EluNet::<f32>::from_weights(&path).unwrap();
    assert_eq!(loaded.widths(), [21]);
    let x = Batch::<f32, Const<784>>::from_fn(3, |n, j| ((n + j) % 5) as f32 / 5.0);
    let mut net = net;
    assert_eq!(net.predict(&x).clone(), loaded.predict(&x).clone());
}

/// A low-rank layer, `y = x·U·V + b`, whose parameters are `U`, `V`, `b`.
#[derive(Clone, Debug)]
pub struct LowRank<T: Scalar, const I: usize, const O: usize> {
    inner: Affine<T, I, 2>,
    outer: Affine<T, 2, O>,
}

impl<T: Scalar, const I: usize, const O: usize> Layer<T> for LowRank<T, I, O> {
    type In = Const<I>;
    type Out = Const<O>;

    fn init(rng: &mut dyn RngCore, init: Init) -> Self {
        LowRank {
            inner: Layer::init(rng, init),
            outer: Layer::init(rng, init),
        }
    }

    fn forward(&mut self, x: &Batch<T, Const<I>>) -> &Batch<T, Const<O>> {
        let h = self.inner.forward(x);
        self.outer.forward(h)
    }

    fn output(&self) -> &Batch<T, Const<O>> {
        self.outer.output()
    }

    fn backward(
        &mut self,
        x: &Batch<T, Const<I>>,
        dout: &Batch<T, Const<O>>,
    ) -> &Batch<T, Const<I>> {
        let d = self.outer.backward(self.inner.output(), dout);
        self.inner.backward(x, d)
    }

    fn visit_params(&self, f: &mut dyn FnMut(ParamRef<'_, T>)) {
        // `U` is the inner weights; the inner bias is not used as such.
        self.inner.visit_params(&mut |mut p| {
            if p.name.base == "W" {
                p.name = ParamName::new("U");
                f(p)
            }
        });
        self.outer.visit_params(&mut |mut p| {
            if p.name.base == "W" {
                p.name = ParamName::new("V");
            }
            f(p)
        });
    }

    fn visit_params_mut(&mut self, f: &mut dyn FnMut(ParamMut<'_, T>)) {
        self.inner.visit_params_mut(&mut |mut p| {
            if p.name.base == "W" {
                p.name = ParamName::new("U");
                f(p)
            }
        });
        self.outer.visit_params_mut(&mut |mut p| {
            if p.name.base == "W" {
                p.name = ParamName::new("V");
            }
            f(p)
        });
    }
}

network! {
    pub struct LowRankNet<LowRank<6, 4>, Relu, Affine<4, 4>, Relu, LowRank<4, 3>, Affine<3, 2>, SoftmaxWithLoss>
}

#[test]
fn parameter_names_are_unique_whatever_names_a_layer_gives_its_parameters() {
    let net = LowRankNet::<f64>::init(&mut StdRng::seed_from_u64(4), Init::Xavier);
    let mut names = Vec::new();
    net.visit_params(&mut |p| names.push(p.name.to_string()));
    assert_eq!(
        names,
        ["U1", "V1", "b1", "W2", "b2", "U3", "V3", "b3", "W4", "b4"]
    );
    // A file names every tensor once, so it loads back as it was saved.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("low_rank.safetensors");
    save_weights(&net, &path).unwrap();
    let mut loaded = LowRankNet::<f64>::init(&mut StdRng::seed_from_u64(5), Init::Xavier);
    load_weights(&mut loaded, &path).unwrap();
    let x = batch::<Const<6>>(4, 3);
    let mut net = net;
    assert_eq!(net.predict(&x).clone(), loaded.predict(&x).clone());
}
