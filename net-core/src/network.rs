//! What every declared network offers: the methods of the book's
//! `TwoLayerNet` (table 5-2).

use rand::RngCore;

use crate::layer::argmax_row;
use crate::{
    Batch, BatchStorage, Init, ParamMut, ParamName, ParamRef, ParamShape, Scalar, Shape, Targets,
};

/// A stack of layers ending in a loss layer, as `network!` declares it.
///
/// The macro implements the required methods, chaining the layers' typed
/// batches; everything else is provided here.
pub trait Network<T: Scalar>: Sized {
    /// The shape of one input sample.
    type In: Shape;
    /// The shape of one output sample: the scores the loss layer reads.
    type Out: Shape;

    /// A network whose layers are drawn as `init` says.
    fn init(rng: &mut dyn RngCore, init: Init) -> Self;

    /// The scores for `x`: every layer but the loss.
    fn predict(&mut self, x: &Batch<T, Self::In>) -> &Batch<T, Self::Out>;

    /// The loss for `x` against `t`, with no backward pass.
    fn forward_loss(&mut self, x: &Batch<T, Self::In>, t: Targets<'_, T, Self::Out>) -> T;

    /// One forward and one backward pass: afterwards every parameter's
    /// gradient is stored beside it. Returns the loss.
    fn forward_backward(&mut self, x: &Batch<T, Self::In>, t: Targets<'_, T, Self::Out>) -> T;

    /// Calls `f` on each parameter, with its book name (`W1`, `b1`, …).
    fn visit_params(&self, f: &mut dyn FnMut(ParamRef<'_, T>));

    /// Calls `f` on each parameter, mutably, with its book name.
    fn visit_params_mut(&mut self, f: &mut dyn FnMut(ParamMut<'_, T>));

    /// A network with the book's initialization: weights `0.01·N(0, 1)`,
    /// biases zero.
    fn new<R: RngCore>(rng: &mut R) -> Self {
        Self::init(rng, Init::BOOK)
    }

    /// The loss for `x` against `t` (one-hot rows or class indices).
    fn loss<'t>(&mut self, x: &Batch<T, Self::In>, t: impl Into<Targets<'t, T, Self::Out>>) -> T {
        self.forward_loss(x, t.into())
    }

    /// Backpropagation without copying: the gradients stay beside the
    /// parameters (see [`visit_params`](Network::visit_params)). Returns
    /// the loss.
    fn backprop<'t>(
        &mut self,
        x: &Batch<T, Self::In>,
        t: impl Into<Targets<'t, T, Self::Out>>,
    ) -> T {
        self.forward_backward(x, t.into())
    }

    /// The gradient of every parameter by backpropagation, by name, as the
    /// book's `gradient` returns it.
    fn gradient<'t>(
        &mut self,
        x: &Batch<T, Self::In>,
        t: impl Into<Targets<'t, T, Self::Out>>,
    ) -> Gradients<T> {
        self.forward_backward(x, t.into());
        let mut entries = Vec::new();
        self.visit_params(&mut |p| {
            entries.push(Gradient {
                name: p.name,
                shape: p.shape,
                values: p.grad.to_vec(),
            })
        });
        Gradients { entries }
    }

    /// The gradient of every parameter by central differences, as the
    /// book's `numerical_gradient`: slow, and only for checking
    /// [`gradient`](Network::gradient).
    fn numerical_gradient<'t>(
        &mut self,
        x: &Batch<T, Self::In>,
        t: impl Into<Targets<'t, T, Self::Out>>,
    ) -> Gradients<T> {
        let t = t.into();
        let h = T::of_f64(1e-4);
        let mut entries = Vec::new();
        self.visit_params(&mut |p| {
            entries.push(Gradient {
                name: p.name,
                shape: p.shape,
                values: vec![T::zero(); p.value.len()],
            })
        });
        for (k, entry) in entries.iter_mut().enumerate() {
            for (j, slope) in entry.values.iter_mut().enumerate() {
                let original = with_param(self, k, |values| values[j]);
                with_param(self, k, |values| values[j] = original + h);
                let above = self.forward_loss(x, t);
                with_param(self, k, |values| values[j] = original - h);
                let below = self.forward_loss(x, t);
                with_param(self, k, |values| values[j] = original);
                *slope = (above - below) / (h + h);
            }
        }
        Gradients { entries }
    }

    /// The fraction of samples whose highest score is the target class.
    fn accuracy<'t>(
        &mut self,
        x: &Batch<T, Self::In>,
        t: impl Into<Targets<'t, T, Self::Out>>,
    ) -> f64 {
        let t = t.into();
        let y = self.predict(x);
        let rows = y.batch_size();
        assert_eq!(
            t.batch_size(),
            rows,
            "the targets hold {} samples but the batch holds {rows}",
            t.batch_size()
        );
        if rows == 0 {
            return 0.0;
        }
        let correct = (0..rows)
            .filter(|&n| argmax_row(y.as_slice(), rows, n) == t.class(n))
            .count();
        correct as f64 / rows as f64
    }

    /// The book's update: `p ← p − lr·∂L/∂p` for every parameter, with the
    /// gradients of the last backward pass.
    fn sgd_step(&mut self, lr: T) {
        self.visit_params_mut(&mut |p| {
            for (value, &grad) in p.value.iter_mut().zip(p.grad.iter()) {
                *value -= lr * grad;
            }
        });
    }

    /// The total number of scalar parameters.
    fn param_count(&self) -> usize {
        let mut count = 0;
        self.visit_params(&mut |p| count += p.value.len());
        count
    }
}

/// Runs `f` on the values of the `k`-th parameter.
fn with_param<T: Scalar, N: Network<T>, R>(
    net: &mut N,
    k: usize,
    f: impl FnOnce(&mut [T]) -> R,
) -> R {
    let mut f = Some(f);
    let mut result = None;
    let mut index = 0;
    net.visit_params_mut(&mut |p| {
        if index == k {
            if let Some(f) = f.take() {
                result = Some(f(p.value));
            }
        }
        index += 1;
    });
    result.expect("the parameter index comes from the same network's visit")
}

/// One parameter's gradient.
#[derive(Clone, Debug, PartialEq)]
pub struct Gradient<T> {
    /// The parameter's name.
    pub name: ParamName,
    /// Its shape.
    pub shape: ParamShape,
    /// `∂L/∂p`, in the order `shape` gives.
    pub values: Vec<T>,
}

/// The gradients of all parameters, in the network's order: the book's
/// `grads` dictionary.
#[derive(Clone, Debug, PartialEq)]
pub struct Gradients<T> {
    entries: Vec<Gradient<T>>,
}

impl<T> Gradients<T> {
    /// The gradient of the parameter named `name` (such as `"W1"`).
    pub fn get(&self, name: &str) -> Option<&[T]> {
        self.entries
            .iter()
            .find(|g| g.name.to_string() == name)
            .map(|g| g.values.as_slice())
    }

    /// All gradients, in the network's order.
    pub fn iter(&self) -> impl Iterator<Item = &Gradient<T>> {
        self.entries.iter()
    }
}
