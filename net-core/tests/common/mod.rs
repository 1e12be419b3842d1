//! A hand-written two-layer network, implemented as `network!` will expand
//! `Affine → Relu → Affine → SoftmaxWithLoss`, and helpers for the `io`
//! tests.
#![allow(dead_code)]

use net_core::rand::SeedableRng;
use net_core::rand::rngs::StdRng;
use net_core::{
    Affine, Batch, Const, Init, Layer, LossLayer, Network, ParamMut, ParamRef, ParamUpdate, Relu,
    Scalar, SoftmaxWithLoss, Targets,
};
use rand::RngCore;

/// `Affine<I, H> → Relu → Affine<H, O> → SoftmaxWithLoss<O>`.
#[derive(Clone, Debug)]
pub struct TwoLayer<T: Scalar, const I: usize, const H: usize, const O: usize> {
    pub affine1: Affine<T, I, H>,
    pub relu1: Relu<T, Const<H>>,
    pub affine2: Affine<T, H, O>,
    pub loss: SoftmaxWithLoss<T, O>,
}

/// The brief's test network, in f64.
pub type Net64 = TwoLayer<f64, 4, 3, 2>;
/// The same network in f32.
pub type Net32 = TwoLayer<f32, 4, 3, 2>;

impl<T: Scalar, const I: usize, const H: usize, const O: usize> Network<T>
    for TwoLayer<T, I, H, O>
{
    type In = Const<I>;
    type Out = Const<O>;

    fn init(rng: &mut dyn RngCore, init: Init) -> Self {
        TwoLayer {
            affine1: Layer::init(rng, init),
            relu1: Layer::init(rng, init),
            affine2: Layer::init(rng, init),
            loss: LossLayer::new(),
        }
    }

    fn forward(&mut self, x: &Batch<T, Const<I>>) -> &Batch<T, Const<O>> {
        let h = self.affine1.forward(x);
        let h = self.relu1.forward(h);
        self.affine2.forward(h)
    }

    fn forward_loss(&mut self, x: &Batch<T, Const<I>>, t: Targets<'_, T, Const<O>>) -> T {
        let h = self.affine1.forward(x);
        let h = self.relu1.forward(h);
        let y = self.affine2.forward(h);
        self.loss.forward(y, t)
    }

    fn scores(&self) -> &Batch<T, Const<O>> {
        self.affine2.output()
    }

    fn backward(
        &mut self,
        x: &Batch<T, Const<I>>,
        t: Targets<'_, T, Const<O>>,
        update: ParamUpdate<T>,
    ) {
        let dy = self.loss.backward(t);
        let dr1 = self.affine2.backward(self.relu1.output(), dy);
        let da1 = self.relu1.backward(self.affine1.output(), dr1);
        self.affine1.backward_first(x, da1, update);
        update.apply(&mut self.affine2);
    }

    fn visit_params(&self, f: &mut dyn FnMut(ParamRef<'_, T>)) {
        self.affine1.visit_params(&mut |mut p| {
            p.name.index = 1;
            f(p)
        });
        self.relu1.visit_params(f);
        self.affine2.visit_params(&mut |mut p| {
            p.name.index = 2;
            f(p)
        });
    }

    fn visit_params_mut(&mut self, f: &mut dyn FnMut(ParamMut<'_, T>)) {
        self.affine1.visit_params_mut(&mut |mut p| {
            p.name.index = 1;
            f(p)
        });
        self.relu1.visit_params_mut(f);
        self.affine2.visit_params_mut(&mut |mut p| {
            p.name.index = 2;
            f(p)
        });
    }
}

/// A network with every weight and bias drawn from `N(0, 1)` (biases too,
/// so that they are not all zero), from `seed`.
pub fn random_net<T: Scalar, N: Network<T>>(seed: u64) -> N {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut net = N::init(&mut rng, Init::Normal { std: 1.0 });
    net.visit_params_mut(&mut |p| {
        for v in p.value.iter_mut() {
            // Uniform in [-2, 2), with all mantissa bits in use.
            let u = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
            *v = T::of_f64(4.0 * u - 2.0);
        }
    });
    net
}

/// Every parameter's values, as bit patterns (through `f64`, which holds
/// every `f32` exactly), by name.
pub fn snapshot<T: Scalar, N: Network<T>>(net: &N) -> Vec<(String, Vec<u64>)> {
    let mut out = Vec::new();
    net.visit_params(&mut |p| {
        out.push((
            p.name.to_string(),
            p.value.iter().map(|v| v.as_f64().to_bits()).collect(),
        ))
    });
    out
}

/// The bytes of a safetensors file with the given header and data, framed
/// by hand (no validation at all).
pub fn frame(header: &str, data: &[u8]) -> Vec<u8> {
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(data);
    bytes
}

/// A safetensors file of the given tensors, `(name, dtype, shape, data)`,
/// written by the `safetensors` crate.
pub fn crate_file(tensors: &[(&str, safetensors::Dtype, Vec<usize>, Vec<u8>)]) -> Vec<u8> {
    let views: Vec<_> = tensors
        .iter()
        .map(|(name, dtype, shape, data)| {
            (
                name.to_string(),
                safetensors::tensor::TensorView::new(*dtype, shape.clone(), data)
                    .expect("the test builds consistent tensors"),
            )
        })
        .collect();
    safetensors::serialize(views, None).expect("the test builds a valid file")
}

/// Little-endian bytes of f32 values.
pub fn f32_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// Little-endian bytes of f64 values.
pub fn f64_bytes(values: &[f64]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}
