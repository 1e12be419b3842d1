//! `network!` open to every layer: the new built-ins (`Tanh`,
//! `LeakyRelu<slope>`, `Softmax`), layers of the user's own (with their
//! own sizes, or taking the shape of the layer before), networks declared
//! without a loss layer used as layers, and `Residual` blocks around an
//! `Affine` or around such a network. For each: backpropagation against
//! the numerical gradient in `f64`, the names of the parameters and
//! buffers, a save/load round trip, training with SGD and Adam, and
//! the SGD optimizer's fused step (the first layer's fused update, `backward_first`)
//! against `backprop` then the book's update.

use std::collections::HashSet;

use staticnet::optim::{Method, Optimizer};
use staticnet::prelude::*;
use staticnet::{GradientCheck, gradient_check};

use my::Swish;

/// Layers of the user's own, written against the public `Layer` trait only.
mod my {
    use staticnet::prelude::*;

    /// What `Softplus` needs of the scalar beyond `Scalar`: a network
    /// holding one says `where T: my::Smooth`.
    pub trait Smooth: Scalar {
        /// `ln(1 + eˣ)`.
        fn softplus(self) -> Self;
        /// `1 / (1 + e⁻ˣ)`, the derivative of `softplus`.
        fn logistic(self) -> Self;
    }

    impl Smooth for f32 {
        fn softplus(self) -> f32 {
            self.exp().ln_1p()
        }
        fn logistic(self) -> f32 {
            1.0 / (1.0 + (-self).exp())
        }
    }

    impl Smooth for f64 {
        fn softplus(self) -> f64 {
            self.exp().ln_1p()
        }
        fn logistic(self) -> f64 {
            1.0 / (1.0 + (-self).exp())
        }
    }

    /// `y = ln(1 + eˣ)`, for samples of any shape `S`; only for scalars
    /// that are `Smooth`.
    #[derive(Clone, Debug)]
    pub struct Softplus<T: Scalar, S: Shape> {
        out: Batch<T, S>,
        dx: Batch<T, S>,
    }

    impl<T: Smooth, S: Shape> Layer<T> for Softplus<T, S> {
        type In = S;
        type Out = S;

        fn init(_rng: &mut dyn RngCore, _init: Init) -> Self {
            Softplus {
                out: BatchStorage::zeros(0),
                dx: BatchStorage::zeros(0),
            }
        }

        fn forward(&mut self, x: &Batch<T, S>) -> &Batch<T, S> {
            self.out.set_size_like(x);
            for (y, &x) in self.out.as_mut_slice().iter_mut().zip(x.as_slice()) {
                *y = x.softplus();
            }
            &self.out
        }

        fn output(&self) -> &Batch<T, S> {
            &self.out
        }

        fn backward(&mut self, x: &Batch<T, S>, dout: &Batch<T, S>) -> &Batch<T, S> {
            self.dx.set_size_like(dout);
            let dx = self.dx.as_mut_slice().iter_mut();
            for ((dx, &x), &d) in dx.zip(x.as_slice()).zip(dout.as_slice()) {
                *dx = d * x.logistic();
            }
            &self.dx
        }
    }

    /// `y = x·σ(x)`, for samples of any shape `S` and any scalar.
    #[derive(Clone, Debug)]
    pub struct Swish<T: Scalar, S: Shape> {
        out: Batch<T, S>,
        dx: Batch<T, S>,
    }

    fn sigma<T: Scalar>(x: T) -> T {
        T::one() / (T::one() + (-x).exp())
    }

    /// `y = x·σ(x)` for one value.
    pub fn swish<T: Scalar>(x: T) -> T {
        x * sigma(x)
    }

    impl<T: Scalar, S: Shape> Layer<T> for Swish<T, S> {
        type In = S;
        type Out = S;

        fn init(_rng: &mut dyn RngCore, _init: Init) -> Self {
            Swish {
                out: BatchStorage::zeros(0),
                dx: BatchStorage::zeros(0),
            }
        }

        fn forward(&mut self, x: &Batch<T, S>) -> &Batch<T, S> {
            self.out.set_size_like(x);
            for (y, &x) in self.out.as_mut_slice().iter_mut().zip(x.as_slice()) {
                *y = swish(x);
            }
            &self.out
        }

        fn output(&self) -> &Batch<T, S> {
            &self.out
        }

        fn backward(&mut self, x: &Batch<T, S>, dout: &Batch<T, S>) -> &Batch<T, S> {
            self.dx.set_size_like(dout);
            let dx = self.dx.as_mut_slice().iter_mut();
            for ((dx, &x), &d) in dx.zip(x.as_slice()).zip(dout.as_slice()) {
                let s = sigma(x);
                *dx = d * (s + x * s * (T::one() - s));
            }
            &self.dx
        }
    }

    /// `y = K·x`, for samples of shape `S`: a layer whose shape is given
    /// as `_` in `network!` (`my::Gain<_, 3>`) and a size of its own.
    #[derive(Clone, Debug)]
    pub struct Gain<T: Scalar, S: Shape, const K: usize> {
        out: Batch<T, S>,
        dx: Batch<T, S>,
    }

    impl<T: Scalar, S: Shape, const K: usize> Layer<T> for Gain<T, S, K> {
        type In = S;
        type Out = S;

        fn init(_rng: &mut dyn RngCore, _init: Init) -> Self {
            Gain {
                out: BatchStorage::zeros(0),
                dx: BatchStorage::zeros(0),
            }
        }

        fn forward(&mut self, x: &Batch<T, S>) -> &Batch<T, S> {
            self.out.set_size_like(x);
            for (y, &x) in self.out.as_mut_slice().iter_mut().zip(x.as_slice()) {
                *y = x * T::of_f64(K as f64);
            }
            &self.out
        }

        fn output(&self) -> &Batch<T, S> {
            &self.out
        }

        fn backward(&mut self, _x: &Batch<T, S>, dout: &Batch<T, S>) -> &Batch<T, S> {
            self.dx.set_size_like(dout);
            for (dx, &d) in self.dx.as_mut_slice().iter_mut().zip(dout.as_slice()) {
                *dx = d * T::of_f64(K as f64);
            }
            &self.dx
        }
    }

    /// `y = x·W + b`, written out by hand (no `Affine` inside): a layer
    /// with sizes and parameters of its own, named `W` and `b` for the
    /// network to number.
    #[derive(Clone, Debug)]
    pub struct Linear<T: Scalar, const I: usize, const O: usize> {
        /// `I × O`, column by column.
        pub w: HeapMatrix<T, I, O>,
        /// `1 × O`.
        pub b: HeapMatrix<T, 1, O>,
        dw: HeapMatrix<T, I, O>,
        db: HeapMatrix<T, 1, O>,
        out: Batch<T, Const<O>>,
        dx: Batch<T, Const<I>>,
    }

    impl<T: Scalar, const I: usize, const O: usize> Layer<T> for Linear<T, I, O> {
        type In = Const<I>;
        type Out = Const<O>;

        fn init(rng: &mut dyn RngCore, init: Init) -> Self {
            // Uniform with the standard deviation `init` asks for.
            let half_width = init.std(I) * 3f64.sqrt();
            Linear {
                w: HeapMatrix::from_fn(|_, _| T::of_f64(rng.random_range(-half_width..half_width))),
                b: HeapMatrix::zeros(),
                dw: HeapMatrix::zeros(),
                db: HeapMatrix::zeros(),
                out: BatchStorage::zeros(0),
                dx: BatchStorage::zeros(0),
            }
        }

        fn forward(&mut self, x: &Batch<T, Const<I>>) -> &Batch<T, Const<O>> {
            // Batches are column-major `N × F`: feature `j` of sample `n`
            // is at `j·N + n`.
            let n = x.batch_size();
            self.out.set_batch_size(n);
            let (x, w, b) = (x.as_slice(), self.w.as_slice(), self.b.as_slice());
            let out = self.out.as_mut_slice();
            for o in 0..O {
                for r in 0..n {
                    let mut sum = b[o];
                    for i in 0..I {
                        sum += x[i * n + r] * w[o * I + i];
                    }
                    out[o * n + r] = sum;
                }
            }
            &self.out
        }

        fn output(&self) -> &Batch<T, Const<O>> {
            &self.out
        }

        fn backward(
            &mut self,
            x: &Batch<T, Const<I>>,
            dout: &Batch<T, Const<O>>,
        ) -> &Batch<T, Const<I>> {
            let n = x.batch_size();
            let (x, d, w) = (x.as_slice(), dout.as_slice(), self.w.as_slice());
            let (dw, db) = (self.dw.as_mut_slice(), self.db.as_mut_slice());
            for o in 0..O {
                db[o] = (0..n).fold(T::zero(), |sum, r| sum + d[o * n + r]);
                for i in 0..I {
                    dw[o * I + i] =
                        (0..n).fold(T::zero(), |sum, r| sum + x[i * n + r] * d[o * n + r]);
                }
            }
            self.dx.set_batch_size(n);
            let dx = self.dx.as_mut_slice();
            for i in 0..I {
                for r in 0..n {
                    dx[i * n + r] =
                        (0..O).fold(T::zero(), |sum, o| sum + d[o * n + r] * w[o * I + i]);
                }
            }
            &self.dx
        }

        fn visit_params(&self, f: &mut dyn FnMut(ParamRef<'_, T>)) {
            f(ParamRef {
                name: ParamName::new("W"),
                shape: ParamShape::Matrix { rows: I, cols: O },
                value: self.w.as_slice(),
                grad: self.dw.as_slice(),
            });
            f(ParamRef {
                name: ParamName::new("b"),
                shape: ParamShape::Vector(O),
                value: self.b.as_slice(),
                grad: self.db.as_slice(),
            });
        }

        fn visit_params_mut(&mut self, f: &mut dyn FnMut(ParamMut<'_, T>)) {
            f(ParamMut {
                name: ParamName::new("W"),
                shape: ParamShape::Matrix { rows: I, cols: O },
                value: self.w.as_mut_slice(),
                grad: self.dw.as_mut_slice(),
            });
            f(ParamMut {
                name: ParamName::new("b"),
                shape: ParamShape::Vector(O),
                value: self.b.as_mut_slice(),
                grad: self.db.as_mut_slice(),
            });
        }
    }
}

// ---------------------------------------------------------------------------
// The networks.

network! {
    struct TanhNet<Affine<5, 4>, Tanh, Affine<4, 3>, SoftmaxWithLoss>
}

network! {
    struct LeakyNet<Affine<5, 4>, LeakyRelu<0.2>, Affine<4, 3>, SoftmaxWithLoss>
}

network! {
    struct SoftmaxNet<Affine<5, 4>, Softmax, Affine<4, 3>, SoftmaxWithLoss>
}

network! {
    /// A user layer that keeps the shape, written as a path, whose scalar
    /// needs a bound of its own.
    struct SoftplusNet<Affine<5, 4>, my::Softplus, Affine<4, 3>, SoftmaxWithLoss>
    where T: my::Smooth
}

network! {
    /// A user layer that keeps the shape, written as a bare name.
    struct SwishNet<Affine<5, 4>, Swish, Affine<4, 3>, IdentityWithSquaredLoss>
}

network! {
    /// A user layer with sizes and parameters of its own, first.
    struct LinearNet<my::Linear<5, 4>, Tanh, Affine<4, 3>, SoftmaxWithLoss>
}

network! {
    /// A user layer with parameters between two `Affine`s.
    struct LinearBetween<Affine<5, 4>, Tanh, my::Linear<4, 4>, Tanh, Affine<4, 3>, SoftmaxWithLoss>
}

network! {
    /// Two layers and an activation, without a loss layer: a layer.
    struct Block<Affine<4, 4>, Tanh, Affine<4, 4>>
}

network! {
    /// The smallest block, nested inside `Outer`.
    struct Stage<Affine<4, 4>, Tanh>
}

network! {
    /// A block holding another block and a user layer.
    struct Outer<Affine<4, 4>, Tanh, Stage, Swish, Affine<4, 4>>
}

network! {
    struct NestedNet<Affine<5, 4>, Tanh, Block, Tanh, Affine<4, 3>, SoftmaxWithLoss>
}

network! {
    struct ResidualAffineNet<Affine<5, 4>, Tanh, Residual<Affine<4, 4>>, Tanh, Affine<4, 3>, SoftmaxWithLoss>
}

network! {
    struct ResidualBlockNet<Affine<5, 4>, Tanh, Residual<Outer>, Tanh, Affine<4, 3>, SoftmaxWithLoss>
}

// ---------------------------------------------------------------------------
// Helpers.

/// `n` samples of shape `S`, each value uniform in `[low, high)`.
fn uniform<S: Shape>(rng: &mut StdRng, n: usize, low: f64, high: f64) -> Batch<f64, S> {
    let mut x = Batch::<f64, S>::zeros(n);
    for v in x.as_mut_slice() {
        *v = rng.random_range(low..high);
    }
    x
}

/// Values in `±[0.2, 1)`: away from 0, where ReLU-like layers have a kink.
fn away_from_zero<S: Shape>(rng: &mut StdRng, n: usize) -> Batch<f64, S> {
    let mut x = uniform::<S>(rng, n, 0.2, 1.0);
    for v in x.as_mut_slice() {
        if rng.random_bool(0.5) {
            *v = -*v;
        }
    }
    x
}

fn names<N: Network<f64>>(net: &N) -> Vec<String> {
    let mut names = Vec::new();
    net.visit_params(&mut |p| names.push(p.name.to_string()));
    names
}

fn buffer_names<N: Network<f64>>(net: &N) -> Vec<String> {
    let mut names = Vec::new();
    net.visit_buffers(&mut |b| names.push(b.name.to_string()));
    names
}

fn params<N: Network<f64>>(net: &N) -> Vec<f64> {
    let mut values = Vec::new();
    net.visit_params(&mut |p| values.extend_from_slice(p.value));
    values
}

/// Runs the gradient check of `net` on `x` against `t`, prints each
/// parameter's mean |backprop − numerical|, and checks that the names are
/// `expected`, that every difference is at most 1e-8, and that no
/// parameter's gradient is zero throughout (the check is not vacuous).
fn check_gradients<'t, N: Network<f64>>(
    what: &str,
    net: &mut N,
    x: &Batch<f64, N::In>,
    t: impl Into<Targets<'t, f64, N::Out>>,
    expected: &[&str],
) -> Vec<GradientCheck> {
    let t = t.into();
    let checks = gradient_check(net, x, t);
    let figures: Vec<String> = checks
        .iter()
        .map(|c| format!("{} {:.3e}", c.name, c.mean_abs_diff))
        .collect();
    println!("{what}: {}", figures.join(", "));
    let got: Vec<String> = checks.iter().map(|c| c.name.to_string()).collect();
    assert_eq!(got, expected, "{what}: parameter names");
    for c in &checks {
        assert!(
            c.mean_abs_diff <= 1e-8,
            "{what}: {}: mean |backprop − numerical| = {:e}",
            c.name,
            c.mean_abs_diff
        );
    }
    for g in net.gradient(x, t).iter() {
        let largest = g.values.iter().fold(0f64, |m, v| m.max(v.abs()));
        assert!(
            largest > 1e-6,
            "{what}: the gradient of {} is zero: {largest:e}",
            g.name
        );
    }
    checks
}

const T3: [usize; 3] = [0, 2, 1];

// ---------------------------------------------------------------------------
// 1. Gradient checks.

#[test]
fn tanh_gradients_match_numerical_ones() {
    let mut rng = StdRng::seed_from_u64(1);
    let mut net = TanhNet::<f64>::init(&mut rng, Init::Normal { std: 0.5 });
    let x = uniform::<Const<5>>(&mut rng, 3, -1.0, 1.0);
    check_gradients("Tanh", &mut net, &x, &T3, &["W1", "b1", "W2", "b2"]);
    // The layer is tanh: its output is tanh of its input.
    net.predict(&x);
    let (h, y) = (
        net.affine1.output().as_slice(),
        net.tanh1.output().as_slice(),
    );
    for (&h, &y) in h.iter().zip(y) {
        assert!((y - h.tanh()).abs() < 1e-15, "tanh({h}) = {y}");
    }
}

#[test]
fn leaky_relu_gradients_match_numerical_ones() {
    let mut rng = StdRng::seed_from_u64(2);
    let mut net = LeakyNet::<f64>::init(&mut rng, Init::Normal { std: 0.5 });
    assert_eq!(net.leakyrelu1.slope(), 0.2);
    let x = away_from_zero::<Const<5>>(&mut rng, 3);
    net.predict(&x);
    // The pre-activations are on both sides of the kink, and far from it
    // compared with the step 1e-4 of the numerical gradient.
    let h = net.affine1.output().as_slice().to_vec();
    let y = net.leakyrelu1.output().as_slice();
    assert!(
        h.iter().any(|&v| v < 0.0) && h.iter().any(|&v| v > 0.0),
        "{h:?}"
    );
    let nearest = h.iter().fold(f64::INFINITY, |m, v| m.min(v.abs()));
    println!("LeakyRelu<0.2>: nearest pre-activation to 0: {nearest:.3e}");
    assert!(
        nearest > 1e-2,
        "a pre-activation is {nearest} from the kink"
    );
    for (&h, &y) in h.iter().zip(y) {
        let expected = if h > 0.0 { h } else { 0.2 * h };
        assert!((y - expected).abs() < 1e-15, "LeakyRelu<0.2>({h}) = {y}");
    }
    check_gradients(
        "LeakyRelu<0.2>",
        &mut net,
        &x,
        &T3,
        &["W1", "b1", "W2", "b2"],
    );
}

#[test]
fn softmax_layer_gradients_match_numerical_ones() {
    let mut rng = StdRng::seed_from_u64(3);
    let mut net = SoftmaxNet::<f64>::init(&mut rng, Init::Normal { std: 1.0 });
    let x = uniform::<Const<5>>(&mut rng, 3, -1.0, 1.0);
    check_gradients("Softmax", &mut net, &x, &T3, &["W1", "b1", "W2", "b2"]);
    net.predict(&x);
    let y = net.softmax1.output();
    for n in 0..3 {
        let row: f64 = (0..4).map(|j| y[(n, j)]).sum();
        assert!((row - 1.0).abs() < 1e-12, "row {n} sums to {row}");
    }
}

#[test]
fn user_layer_that_keeps_the_shape_gradients_match_numerical_ones() {
    let mut rng = StdRng::seed_from_u64(4);
    let mut net = SoftplusNet::<f64>::init(&mut rng, Init::Normal { std: 0.5 });
    let x = uniform::<Const<5>>(&mut rng, 3, -1.0, 1.0);
    check_gradients("my::Softplus", &mut net, &x, &T3, &["W1", "b1", "W2", "b2"]);
    // The field is named after the type, and is the user's layer.
    let _: &my::Softplus<f64, Const<4>> = &net.softplus1;
    // `where T: my::Smooth` is kept: the f32 network exists too. On zero
    // input with zero biases, every hidden unit is softplus(0) = ln 2.
    let mut net32 = SoftplusNet::<f32>::init(&mut rng, Init::Xavier);
    net32.predict(&Batch::<f32, Const<5>>::zeros(2));
    for &h in net32.softplus1.output().as_slice() {
        assert!((h - 2f32.ln()).abs() < 1e-6, "{h}");
    }

    let mut net = SwishNet::<f64>::init(&mut rng, Init::Normal { std: 0.5 });
    let x = uniform::<Const<5>>(&mut rng, 3, -1.0, 1.0);
    let t = uniform::<Const<3>>(&mut rng, 3, -1.0, 1.0);
    check_gradients("Swish", &mut net, &x, &t, &["W1", "b1", "W2", "b2"]);
    let _: &Swish<f64, Const<4>> = &net.swish1;
}

#[test]
fn user_layer_with_its_own_sizes_gradients_match_numerical_ones() {
    let mut rng = StdRng::seed_from_u64(5);
    let mut net = LinearNet::<f64>::init(&mut rng, Init::Normal { std: 0.5 });
    let x = uniform::<Const<5>>(&mut rng, 3, -1.0, 1.0);
    check_gradients(
        "my::Linear first",
        &mut net,
        &x,
        &T3,
        &["W1", "b1", "W2", "b2"],
    );
    let _: &my::Linear<f64, 5, 4> = &net.linear1;

    let mut net = LinearBetween::<f64>::init(&mut rng, Init::Normal { std: 0.5 });
    check_gradients(
        "my::Linear between Affines",
        &mut net,
        &x,
        &T3,
        &["W1", "b1", "W2", "b2", "W3", "b3"],
    );
    // W2 is the user layer's.
    let w2 = net.gradient(&x, &T3).get("W2").unwrap().to_vec();
    assert_eq!(w2.len(), 16);
    net.linear1.w.as_mut_slice().fill(0.25);
    let mut w2_value = Vec::new();
    net.visit_params(&mut |p| {
        if p.name.to_string() == "W2" {
            w2_value = p.value.to_vec();
        }
    });
    assert_eq!(w2_value, [0.25; 16]);
}

#[test]
fn nested_network_gradients_match_numerical_ones() {
    let mut rng = StdRng::seed_from_u64(6);
    let mut net = NestedNet::<f64>::init(&mut rng, Init::Normal { std: 0.5 });
    let x = uniform::<Const<5>>(&mut rng, 3, -1.0, 1.0);
    check_gradients(
        "nested Block",
        &mut net,
        &x,
        &T3,
        &[
            "W1",
            "b1",
            "block1.W1",
            "block1.b1",
            "block1.W2",
            "block1.b2",
            "W2",
            "b2",
        ],
    );
    // The block is a field of its own type, with its own fields.
    let _: &Block<f64, Const<4>> = &net.block1;
    assert_eq!(
        Block::<f64>::LAYERS,
        ["Affine<4, 4>", "Tanh", "Affine<4, 4>"]
    );
}

#[test]
fn residual_affine_gradients_match_numerical_ones() {
    let mut rng = StdRng::seed_from_u64(7);
    let mut net = ResidualAffineNet::<f64>::init(&mut rng, Init::Normal { std: 0.5 });
    let x = uniform::<Const<5>>(&mut rng, 3, -1.0, 1.0);
    check_gradients(
        "Residual<Affine<4, 4>>",
        &mut net,
        &x,
        &T3,
        &["W1", "b1", "W2", "b2", "W3", "b3"],
    );
    // y = x + f(x).
    net.predict(&x);
    let h = net.tanh1.output().as_slice();
    let f = net.residual1.inner.output().as_slice();
    let y = net.residual1.output().as_slice();
    for k in 0..h.len() {
        assert_eq!(y[k], h[k] + f[k]);
    }
}

#[test]
fn residual_block_with_a_nested_block_gradients_match_numerical_ones() {
    let mut rng = StdRng::seed_from_u64(8);
    let mut net = ResidualBlockNet::<f64>::init(&mut rng, Init::Normal { std: 0.5 });
    let x = uniform::<Const<5>>(&mut rng, 3, -1.0, 1.0);
    check_gradients(
        "Residual<Outer> (Outer holds Stage and Swish)",
        &mut net,
        &x,
        &T3,
        &[
            "W1",
            "b1",
            "residual1.W1",
            "residual1.b1",
            "residual1.stage1.W1",
            "residual1.stage1.b1",
            "residual1.W2",
            "residual1.b2",
            "W2",
            "b2",
        ],
    );
    // Zeroing the block's last layer makes the block the identity.
    net.residual1.inner.affine2.w.as_mut_slice().fill(0.0);
    net.residual1.inner.affine2.b.as_mut_slice().fill(0.0);
    net.predict(&x);
    assert_eq!(
        net.residual1.output().as_slice(),
        net.tanh1.output().as_slice()
    );
}

// ---------------------------------------------------------------------------
// 2. Names.

network! {
    struct NormBlock<Affine<4, 4>, BatchNorm, Tanh>
}

network! {
    /// Every way of holding parameters at once.
    struct Named<
        Affine<5, 4>,
        BatchNorm,
        Tanh,
        NormBlock,
        Residual<Affine<4, 4>>,
        Residual<Outer>,
        my::Linear<4, 4>,
        Tanh,
        Affine<4, 3>,
        SoftmaxWithLoss,
    >
}

#[test]
fn names_of_nested_and_residual_parameters_are_unique_and_as_expected() {
    let mut rng = StdRng::seed_from_u64(9);
    let mut net = Named::<f64>::init(&mut rng, Init::Normal { std: 0.5 });
    let names = names(&net);
    println!("Named parameters: {names:?}");
    assert_eq!(
        names,
        [
            "W1",
            "b1",
            "gamma1",
            "beta1",
            "norm_block1.W1",
            "norm_block1.b1",
            "norm_block1.gamma1",
            "norm_block1.beta1",
            "W2",
            "b2",
            "residual2.W1",
            "residual2.b1",
            "residual2.stage1.W1",
            "residual2.stage1.b1",
            "residual2.W2",
            "residual2.b2",
            "W3",
            "b3",
            "W4",
            "b4",
        ]
    );
    let unique: HashSet<&String> = names.iter().collect();
    assert_eq!(unique.len(), names.len());
    let buffers = buffer_names(&net);
    println!("Named buffers: {buffers:?}");
    assert_eq!(
        buffers,
        [
            "running_mean1",
            "running_var1",
            "norm_block1.running_mean1",
            "norm_block1.running_var1",
        ]
    );
    // The gradients and the mutable visit give the same names.
    let x = uniform::<Const<5>>(&mut rng, 4, -1.0, 1.0);
    let grads = net.gradient(&x, &[0, 1, 2, 0]);
    let grad_names: Vec<String> = grads.iter().map(|g| g.name.to_string()).collect();
    assert_eq!(grad_names, names);
    let mut mut_names = Vec::new();
    net.visit_params_mut(&mut |p| mut_names.push(p.name.to_string()));
    assert_eq!(mut_names, names);
    let mut mut_buffers = Vec::new();
    net.visit_buffers_mut(&mut |b| mut_buffers.push(b.name.to_string()));
    assert_eq!(mut_buffers, buffers);
    // W3 is the user's Linear, numbered among the Affines.
    net.linear1
        .b
        .as_mut_slice()
        .copy_from_slice(&[1.0, 2.0, 3.0, 4.0]);
    let mut b3 = Vec::new();
    net.visit_params(&mut |p| {
        if p.name.to_string() == "b3" {
            b3 = p.value.to_vec();
        }
    });
    assert_eq!(b3, [1.0, 2.0, 3.0, 4.0]);
}

#[test]
fn a_user_linear_is_numbered_among_the_affines() {
    let mut rng = StdRng::seed_from_u64(10);
    let net = LinearBetween::<f64>::new(&mut rng);
    assert_eq!(names(&net), ["W1", "b1", "W2", "b2", "W3", "b3"]);
    let mut shapes = Vec::new();
    net.visit_params(&mut |p| shapes.push(p.shape.dims()));
    assert_eq!(
        shapes,
        [
            vec![5, 4],
            vec![4],
            vec![4, 4],
            vec![4],
            vec![4, 3],
            vec![3]
        ]
    );
    let net = LinearNet::<f64>::new(&mut rng);
    assert_eq!(names(&net), ["W1", "b1", "W2", "b2"]);
}

network! { struct Deep1<Affine<4, 4>> }
network! { struct Deep2<Deep1, Deep1> }
network! { struct Deep3<Deep2> }
network! { struct Deep4<Deep3> }
network! { struct Deep5<Deep4> }
network! { struct DeepNet<Deep5, Affine<4, 2>, SoftmaxWithLoss> }

/// Five levels of nesting (within `Scope::DEPTH`, 8): the two innermost
/// `Affine`s must still get different names, or the weights cannot be
/// saved (two tensors with one name).
#[test]
fn names_nested_five_deep_stay_unique() {
    let mut rng = StdRng::seed_from_u64(11);
    let net = DeepNet::<f64>::new(&mut rng);
    let names = names(&net);
    println!("DeepNet parameters: {names:?}");
    let unique: HashSet<&String> = names.iter().collect();
    assert_eq!(unique.len(), names.len(), "{names:?}");
    staticnet::io::to_safetensors_bytes(&net).expect("the weights can be saved");
}

// ---------------------------------------------------------------------------
// 3. Save and load.

network! {
    /// A nested block (itself holding a block and a user layer), a user
    /// layer with parameters, one needing a bound of the scalar.
    struct Saved<
        Affine<5, 4>,
        Tanh,
        Outer,
        my::Linear<4, 4>,
        my::Softplus,
        Residual<Block>,
        Affine<4, 3>,
        SoftmaxWithLoss,
    > where T: my::Smooth
}

#[test]
fn weights_of_nested_and_user_layers_survive_save_and_load() {
    let mut rng = StdRng::seed_from_u64(12);
    let mut net = Saved::<f64>::init(&mut rng, Init::Xavier);
    let x = uniform::<Const<5>>(&mut rng, 4, -1.0, 1.0);
    // Train a little, so that no parameter is at its initial value.
    for _ in 0..5 {
        Optimizer::sgd(0.1).train_step(&mut net, &x, Targets::Classes(&[0, 1, 2, 1]));
    }
    let expected = net.predict(&x).clone();

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("saved.safetensors");
    staticnet::io::save_weights(&net, &path).unwrap();

    let mut loaded = Saved::<f64>::init(&mut StdRng::seed_from_u64(99), Init::Xavier);
    assert_ne!(loaded.predict(&x).as_slice(), expected.as_slice());
    staticnet::io::load_weights(&mut loaded, &path).unwrap();
    let got = loaded.predict(&x);
    let bits = |b: &Batch<f64, Const<3>>| -> Vec<u64> {
        b.as_slice().iter().map(|v| v.to_bits()).collect()
    };
    assert_eq!(bits(got), bits(&expected));
    assert_eq!(params(&loaded), params(&net));
    assert_eq!(names(&loaded), names(&net));
    println!("Saved parameters: {:?}", names(&net));

    // The file holds the tensors under the network's names.
    let bytes = std::fs::read(&path).unwrap();
    let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut in_file: Vec<String> = file.names().into_iter().map(str::to_owned).collect();
    let mut expected_names = names(&net);
    in_file.sort();
    expected_names.sort();
    assert_eq!(in_file, expected_names);
    let w = file.tensor("linear1.W1");
    assert!(
        w.is_err(),
        "the user layer's weight is numbered, not scoped"
    );
    // W2 is the user's Linear<4, 4>: the nested block's weights are
    // scoped, not counted among the network's own.
    assert_eq!(file.tensor("W2").unwrap().shape(), [4, 4]);
    assert_eq!(file.tensor("W3").unwrap().shape(), [4, 3]);
    assert_eq!(file.tensor("outer1.stage1.W1").unwrap().shape(), [4, 4]);
    assert_eq!(file.tensor("residual1.W2").unwrap().shape(), [4, 4]);
}

network! {
    struct NormSaved<Affine<5, 4>, BatchNorm, Tanh, NormBlock, Affine<4, 3>, SoftmaxWithLoss>
}

/// `BatchNorm`'s running statistics are buffers "saved and loaded beside
/// the parameters" (`BufferRef`'s docs); in inference they are what the
/// layer normalizes with.
#[test]
fn batch_norm_running_statistics_survive_save_and_load() {
    let mut rng = StdRng::seed_from_u64(13);
    let mut net = NormSaved::<f64>::init(&mut rng, Init::Xavier);
    let x = uniform::<Const<5>>(&mut rng, 8, -1.0, 1.0);
    let t = [0, 1, 2, 0, 1, 2, 0, 1];
    for _ in 0..20 {
        Optimizer::sgd(0.1).train_step(&mut net, &x, Targets::Classes(&t));
    }
    let expected = net.predict(&x).clone();
    let bytes = staticnet::io::to_safetensors_bytes(&net).unwrap();
    let mut loaded = NormSaved::<f64>::init(&mut StdRng::seed_from_u64(98), Init::Xavier);
    staticnet::io::load_weights_from_bytes(&mut loaded, &bytes).unwrap();
    let mut buffers = (Vec::new(), Vec::new());
    net.visit_buffers(&mut |b| buffers.0.extend_from_slice(b.value));
    loaded.visit_buffers(&mut |b| buffers.1.extend_from_slice(b.value));
    assert_eq!(buffers.1, buffers.0, "running statistics");
    assert_eq!(loaded.predict(&x).as_slice(), expected.as_slice());
}

/// The same through a checkpoint.
#[test]
fn batch_norm_running_statistics_survive_a_checkpoint() {
    let mut rng = StdRng::seed_from_u64(15);
    let mut net = NormSaved::<f64>::init(&mut rng, Init::Xavier);
    let x = uniform::<Const<5>>(&mut rng, 8, -1.0, 1.0);
    let t = [2, 1, 0, 0, 1, 2, 2, 1];
    for _ in 0..20 {
        Optimizer::sgd(0.1).train_step(&mut net, &x, Targets::Classes(&t));
    }
    let expected = net.predict(&x).clone();
    let meta = staticnet::io::CheckpointMeta {
        iteration: 20,
        seed: 15,
        optimizer: "sgd",
        dataset: None,
        settings: None,
        evaluation: None,
    };
    let bytes = staticnet::io::checkpoint_to_bytes(&net, &meta, &[]).unwrap();
    let mut loaded = NormSaved::<f64>::init(&mut StdRng::seed_from_u64(97), Init::Xavier);
    let checkpoint = staticnet::io::load_checkpoint_from_bytes(&mut loaded, &bytes).unwrap();
    assert_eq!(checkpoint.loaded.note(), None);
    assert_eq!(loaded.predict(&x).as_slice(), expected.as_slice());
}

/// A weight file written before buffers were saved holds only the
/// parameters: it still loads, its parameters are taken, the buffers keep
/// their values, and the result says which are missing.
#[test]
fn a_file_without_buffers_loads_and_says_so() {
    let mut rng = StdRng::seed_from_u64(16);
    let net = NormSaved::<f64>::init(&mut rng, Init::Xavier);
    let bytes = staticnet::io::to_safetensors_bytes(&net).unwrap();
    let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let params: Vec<(String, safetensors::tensor::TensorView<'_>)> = file
        .tensors()
        .into_iter()
        .filter(|(name, _)| !name.contains("running_"))
        .collect();
    assert_eq!(
        params.len(),
        10,
        "W1 b1 gamma1 beta1, the block's four, W2 b2"
    );
    let old = safetensors::tensor::serialize(params, None).unwrap();

    let mut loaded = NormSaved::<f64>::init(&mut StdRng::seed_from_u64(96), Init::Xavier);
    let mut before = Vec::new();
    loaded.visit_buffers(&mut |b| before.extend_from_slice(b.value));
    let result = staticnet::io::load_weights_from_bytes(&mut loaded, &old).unwrap();
    assert_eq!(
        result.missing_buffers,
        [
            "running_mean1",
            "running_var1",
            "norm_block1.running_mean1",
            "norm_block1.running_var1"
        ]
    );
    let note = result.note().expect("a note");
    assert!(
        note.contains("`running_mean1`") && note.contains("start afresh"),
        "{note}"
    );
    let mut after = Vec::new();
    loaded.visit_buffers(&mut |b| after.extend_from_slice(b.value));
    assert_eq!(after, before, "the buffers keep their values");
    let (mut expected, mut got) = (Vec::new(), Vec::new());
    net.visit_params(&mut |p| expected.extend_from_slice(p.value));
    loaded.visit_params(&mut |p| got.extend_from_slice(p.value));
    assert_eq!(got, expected, "the parameters are the file's");
}

// ---------------------------------------------------------------------------
// 4. Training.

network! {
    struct Block8<Affine<8, 8>, Swish, Affine<8, 8>>
}

network! {
    /// XOR of the signs of two inputs.
    struct XorNet<my::Linear<2, 8>, Tanh, Residual<Block8>, Tanh, Affine<8, 2>, SoftmaxWithLoss>
}

/// 64 points around the four corners (±1, ±1), class 1 where the signs
/// differ.
fn xor_data() -> (Batch<f64, Const<2>>, Vec<usize>) {
    let mut rng = StdRng::seed_from_u64(14);
    let n = 64;
    let mut x = Batch::<f64, Const<2>>::zeros(n);
    let mut t = Vec::with_capacity(n);
    for r in 0..n {
        let (a, b) = (r % 2 == 0, (r / 2) % 2 == 0);
        let sign = |s: bool| if s { 1.0 } else { -1.0 };
        x[(r, 0)] = sign(a) + rng.random_range(-0.3..0.3);
        x[(r, 1)] = sign(b) + rng.random_range(-0.3..0.3);
        t.push(usize::from(a != b));
    }
    (x, t)
}

#[test]
fn a_net_with_a_user_layer_and_a_residual_block_learns_xor_with_sgd() {
    let (x, t) = xor_data();
    let mut net = XorNet::<f64>::init(&mut StdRng::seed_from_u64(15), Init::Auto);
    let (before, accuracy_before) = net.loss_and_accuracy(&x, &t);
    for _ in 0..300 {
        let loss = Optimizer::sgd(0.3).train_step(&mut net, &x, Targets::Classes(&t));
        assert!(loss.is_finite());
    }
    let (after, accuracy) = net.loss_and_accuracy(&x, &t);
    println!("XOR, SGD: loss {before:.4} → {after:.4}, accuracy {accuracy_before} → {accuracy}");
    assert!(after < 0.2 * before, "loss {before} → {after}");
    assert_eq!(accuracy, 1.0);
}

#[test]
fn a_net_with_a_user_layer_and_a_residual_block_learns_xor_with_adam() {
    let (x, t) = xor_data();
    let mut net = XorNet::<f64>::init(&mut StdRng::seed_from_u64(16), Init::Auto);
    let mut adam = Optimizer::<f64>::new(Method::from_name("adam").unwrap(), 0.01);
    let (before, accuracy_before) = net.loss_and_accuracy(&x, &t);
    for _ in 0..300 {
        let loss = adam.train_step(&mut net, &x, Targets::Classes(&t));
        assert!(loss.is_finite());
    }
    let (after, accuracy) = net.loss_and_accuracy(&x, &t);
    println!("XOR, Adam: loss {before:.4} → {after:.4}, accuracy {accuracy_before} → {accuracy}");
    assert!(after < 0.2 * before, "loss {before} → {after}");
    assert_eq!(accuracy, 1.0);
    assert_eq!(adam.steps(), 300);
    // Adam kept state for every parameter, under the network's names.
    let state: Vec<&str> = adam.state_tensors().iter().map(|s| s.0).collect();
    assert!(state.contains(&"optimizer.m.residual1.W2"), "{state:?}");
    assert!(state.contains(&"optimizer.v.W1"), "{state:?}");
}

network! { struct Stem<Affine<4, 6>, Tanh> }

network! {
    /// A nested network first: its `backward_first` runs its own chain,
    /// whose first `Affine` fuses the update.
    struct StemFirst<Stem, Affine<6, 3>, SoftmaxWithLoss>
}

network! {
    /// A user layer first: the default `backward_first`.
    struct LinearFirst<my::Linear<4, 6>, Tanh, Affine<6, 3>, SoftmaxWithLoss>
}

network! {
    /// A residual block first, around a block holding a block.
    struct ResidualFirst<Residual<Outer>, Affine<4, 3>, SoftmaxWithLoss>
}

network! {
    /// A block first whose first layer is a user layer with parameters.
    struct LinearStem<my::Linear<4, 6>, Swish>
}

network! {
    struct LinearStemFirst<LinearStem, Tanh, Affine<6, 3>, SoftmaxWithLoss>
}

/// Ten steps of the fused SGD step against ten of `backprop` then
/// the book's update, from the same network: the losses and the parameters agree
/// to 1e-12 (relative), and the parameters moved.
fn fused_step_matches<N: Network<f64>>(what: &str, build: impl Fn() -> N, x: &Batch<f64, N::In>) {
    let t = [0, 1, 2, 1, 0];
    let (mut fused, mut apart) = (build(), build());
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * (1.0 + b.abs());
    for step in 0..10 {
        let fused_loss = Optimizer::sgd(0.2).train_step(&mut fused, x, Targets::Classes(&t));
        let loss = apart.backprop(x, Targets::Classes(&t));
        apart.visit_params_mut(&mut |p| p.descend(0.2));
        assert!(
            close(fused_loss, loss),
            "{what}, step {step}: loss {fused_loss} vs {loss}"
        );
    }
    let (got, expected) = (params(&fused), params(&apart));
    assert_eq!(got.len(), expected.len());
    let largest = got
        .iter()
        .zip(&expected)
        .fold(0f64, |m, (a, b)| m.max((a - b).abs()));
    println!("{what}: largest |fused − apart| after 10 steps: {largest:.3e}");
    for (k, (&got, &expected)) in got.iter().zip(&expected).enumerate() {
        assert!(
            close(got, expected),
            "{what}, parameter {k}: {got} vs {expected}"
        );
    }
    // Every parameter of the first layer moved, in both.
    let start = params(&build());
    let first = names(&fused)[0].clone();
    let mut first_len = 0;
    fused.visit_params(&mut |p| {
        if p.name.to_string() == first {
            first_len = p.value.len();
        }
    });
    let moved = (0..first_len).filter(|&k| got[k] != start[k]).count();
    assert_eq!(
        moved, first_len,
        "{what}: {first} moved in {moved} of {first_len} entries"
    );
}

#[test]
fn sgd_train_step_equals_forward_backward_then_sgd_step_with_nested_or_user_first_layers() {
    let mut rng = StdRng::seed_from_u64(17);
    let x = uniform::<Const<4>>(&mut rng, 5, -1.0, 1.0);
    let init = Init::Normal { std: 0.5 };
    fused_step_matches(
        "nested network first",
        || StemFirst::<f64>::init(&mut StdRng::seed_from_u64(18), init),
        &x,
    );
    fused_step_matches(
        "user layer first",
        || LinearFirst::<f64>::init(&mut StdRng::seed_from_u64(19), init),
        &x,
    );
    fused_step_matches(
        "Residual<Outer> first",
        || ResidualFirst::<f64>::init(&mut StdRng::seed_from_u64(20), init),
        &x,
    );
    fused_step_matches(
        "nested network with a user layer first",
        || LinearStemFirst::<f64>::init(&mut StdRng::seed_from_u64(21), init),
        &x,
    );
    assert_eq!(
        names(&StemFirst::<f64>::new(&mut rng)),
        ["stem1.W1", "stem1.b1", "W1", "b1"]
    );
    assert_eq!(
        names(&LinearStemFirst::<f64>::new(&mut rng)),
        ["linear_stem1.W1", "linear_stem1.b1", "W1", "b1"]
    );
}

// ---------------------------------------------------------------------------
// 5. Input shapes.

network! {
    /// `Input<784>` gives the shape the user layer without sizes takes.
    struct Wide<Input<784>, Swish, Affine<784, 10>, SoftmaxWithLoss>
}

network! {
    struct Narrow<Input<6>, Swish, my::Linear<6, 4>, Tanh, my::Gain<_, 3>, Affine<4, 3>, SoftmaxWithLoss>
}

network! {
    /// User layers on images, after `Flatten`, and with `_` for the shape.
    struct Images<
        Input<1, 5, 5>,
        Swish,
        Conv2d<2, 3>,    // 2 × 3 × 3
        Tanh,
        my::Gain<_, 2>,
        Flatten,         // 18
        Swish,
        my::Linear<18, 4>,
        Tanh,
        Affine<4, 3>,
        SoftmaxWithLoss,
    >
}

fn takes_784<N: Network<f64, In = Const<784>, Out = Const<10>>>(_: &N) {}

#[test]
fn input_width_then_a_user_layer_without_sizes() {
    let mut rng = StdRng::seed_from_u64(22);
    let mut net = Wide::<f64>::init(&mut rng, Init::Normal { std: 0.1 });
    takes_784(&net);
    let _: &Swish<f64, Const<784>> = &net.swish1;
    assert_eq!(
        Wide::<f64>::LAYERS,
        ["Input<784>", "Swish", "Affine<784, 10>", "SoftmaxWithLoss"]
    );
    assert_eq!(names(&net), ["W1", "b1"]);
    let x = uniform::<Const<784>>(&mut rng, 2, -1.0, 1.0);
    // The scores are swish(x)·W + b.
    let y = net.predict(&x).clone();
    let (w, b) = (net.affine1.w.view(), net.affine1.b.as_slice());
    for n in 0..2 {
        for o in 0..10 {
            let expected = b[o]
                + (0..784)
                    .map(|i| my::swish(x[(n, i)]) * w[(i, o)])
                    .sum::<f64>();
            assert!(
                (y[(n, o)] - expected).abs() < 1e-12,
                "{} vs {expected}",
                y[(n, o)]
            );
        }
    }
    // And it trains.
    let t = [3, 7];
    let before = net.loss(&x, &t);
    for _ in 0..20 {
        Optimizer::sgd(0.1).train_step(&mut net, &x, Targets::Classes(&t));
    }
    let after = net.loss(&x, &t);
    assert!(after < 0.5 * before, "{before} → {after}");

    let mut net = Narrow::<f64>::init(&mut rng, Init::Normal { std: 0.5 });
    let _: &my::Gain<f64, Const<4>, 3> = &net.gain1;
    let x = uniform::<Const<6>>(&mut rng, 3, -1.0, 1.0);
    check_gradients(
        "Input<6>, Swish, …",
        &mut net,
        &x,
        &T3,
        &["W1", "b1", "W2", "b2"],
    );
}

#[test]
fn user_layers_on_images_and_after_flatten() {
    let mut rng = StdRng::seed_from_u64(23);
    let mut net = Images::<f64>::init(&mut rng, Init::Normal { std: 0.3 });
    let x = uniform::<<Images<f64> as Network<f64>>::In>(&mut rng, 3, -1.0, 1.0);
    let _: &Swish<f64, Const<18>> = &net.swish2;
    check_gradients(
        "images: Swish, Conv2d, Gain<_, 2>, Flatten, Swish, my::Linear",
        &mut net,
        &x,
        &T3,
        &["W1", "b1", "W2", "b2", "W3", "b3"],
    );
    // The first Swish saw the 25 pixels of each image.
    net.predict(&x);
    assert_eq!(net.swish1.output().as_slice().len(), 3 * 25);
    assert_eq!(net.gain1.output().as_slice().len(), 3 * 18);
}
