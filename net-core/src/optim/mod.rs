//! The update rules of the book's chapter 6 — SGD, Momentum, Nesterov,
//! AdaGrad, RMSprop and Adam — and weight decay.
//!
//! An [`Optimizer`] is one [`Method`] (the rule, with its settings), a
//! learning rate and an optional weight decay. It keeps the per-parameter
//! state the rule needs (Momentum's `v`, AdaGrad's `h`, Adam's `m` and
//! `v`): the buffers are allocated at the first [`step`](Optimizer::step),
//! sized from the network's parameters, and reused, so later steps
//! allocate nothing.
//!
//! The methods are an enum rather than one type each so that a rule can be
//! chosen by name at run time (`--optimizer adam`) and its state saved in
//! and restored from a checkpoint by one piece of code.
//!
//! ```
//! use net_core::optim::{Method, Optimizer};
//! let mut adam = Optimizer::<f32>::new("adam".parse::<Method>()?, 0.001);
//! assert_eq!(adam.method().name(), "adam");
//! # Ok::<(), net_core::optim::UnknownMethod>(())
//! ```

mod adagrad;
mod adam;
mod momentum;
mod nesterov;
mod rmsprop;
pub(crate) mod sgd;
mod weight_decay;

use core::fmt;
use core::str::FromStr;

pub use adam::{DEFAULT_BETA1, DEFAULT_BETA2};
pub use rmsprop::DEFAULT_DECAY_RATE;
pub use weight_decay::{add_weight_decay, weight_decay_penalty};

use crate::{Batch, Network, ParamName, ParamShape, ParamUpdate, Scalar, Targets};

/// The book's momentum for `Momentum` and `Nesterov`.
pub const DEFAULT_MOMENTUM: f64 = 0.9;

/// An update rule with its settings. [`Method::from_name`] (or `parse`)
/// gives each with the book's defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum Method {
    /// `p ← p − lr·g`.
    Sgd,
    /// `v ← momentum·v − lr·g; p ← p + v`.
    Momentum {
        /// How much of the last step is kept (the book: 0.9).
        momentum: f64,
    },
    /// The book's Nesterov form:
    /// `v ← momentum·v − lr·g; p ← p + momentum²·v − (1 + momentum)·lr·g`.
    Nesterov {
        /// How much of the last step is kept (the book: 0.9).
        momentum: f64,
    },
    /// `h ← h + g²; p ← p − lr·g / (√h + 1e-7)`.
    AdaGrad,
    /// `h ← decay·h + (1 − decay)·g²; p ← p − lr·g / (√h + 1e-7)`.
    RmsProp {
        /// How much of the running mean of `g²` is kept per step (the
        /// book: 0.99).
        decay_rate: f64,
    },
    /// `m ← m + (1 − β₁)(g − m); v ← v + (1 − β₂)(g² − v);
    /// p ← p − lr_t·m / (√v + 1e-7)` with the book's bias-corrected
    /// `lr_t = lr·√(1 − β₂ᵗ) / (1 − β₁ᵗ)` at step `t` (from 1).
    Adam {
        /// The decay rate of the first moment (the book: 0.9).
        beta1: f64,
        /// The decay rate of the second moment (the book: 0.999).
        beta2: f64,
    },
}

impl Method {
    /// The names [`from_name`](Method::from_name) knows, as the command
    /// line writes them.
    pub const NAMES: [&'static str; 6] =
        ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"];

    /// The method named `name` (as in [`NAMES`](Method::NAMES), in any
    /// case: `"Adam"` is `"adam"`), with the book's settings.
    pub fn from_name(name: &str) -> Option<Method> {
        Some(match name.to_ascii_lowercase().as_str() {
            "sgd" => Method::Sgd,
            "momentum" => Method::Momentum {
                momentum: DEFAULT_MOMENTUM,
            },
            "nesterov" => Method::Nesterov {
                momentum: DEFAULT_MOMENTUM,
            },
            "adagrad" => Method::AdaGrad,
            "rmsprop" => Method::RmsProp {
                decay_rate: DEFAULT_DECAY_RATE,
            },
            "adam" => Method::Adam {
                beta1: DEFAULT_BETA1,
                beta2: DEFAULT_BETA2,
            },
            _ => return None,
        })
    }

    /// The method's name, as [`from_name`](Method::from_name) reads it and
    /// as checkpoints record it.
    pub fn name(&self) -> &'static str {
        match self {
            Method::Sgd => "sgd",
            Method::Momentum { .. } => "momentum",
            Method::Nesterov { .. } => "nesterov",
            Method::AdaGrad => "adagrad",
            Method::RmsProp { .. } => "rmsprop",
            Method::Adam { .. } => "adam",
        }
    }

    /// The names of the state kept per parameter, as the book names it;
    /// a checkpoint stores each as `optimizer.<state>.<param>`.
    pub fn state_names(&self) -> &'static [&'static str] {
        match self {
            Method::Sgd => &[],
            Method::Momentum { .. } | Method::Nesterov { .. } => &["v"],
            Method::AdaGrad | Method::RmsProp { .. } => &["h"],
            Method::Adam { .. } => &["m", "v"],
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is not an optimizer's.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown optimizer `{0}`; choose one of sgd, momentum, nesterov, adagrad, rmsprop, adam")]
pub struct UnknownMethod(pub String);

impl FromStr for Method {
    type Err = UnknownMethod;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Method::from_name(name).ok_or_else(|| UnknownMethod(name.to_owned()))
    }
}

/// The start of the name of every optimizer state tensor in a checkpoint:
/// `optimizer.<state>.<param>`, such as `optimizer.v.W1`. The optimizer
/// names its state so; checkpoints store it under those names.
pub const STATE_PREFIX: &str = "optimizer.";

/// Why a checkpoint's optimizer state could not be restored.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// The checkpoint was written by another optimizer.
    #[error(
        "the checkpoint was trained with `{saved}`, not `{current}`: resume with the same optimizer"
    )]
    OtherMethod {
        /// The optimizer the checkpoint names.
        saved: String,
        /// The optimizer asked to resume.
        current: &'static str,
    },
    /// A state tensor the optimizer needs is not in the checkpoint.
    #[error("the checkpoint has no optimizer state `{0}`")]
    Missing(String),
    /// A state tensor does not have its parameter's shape.
    #[error(
        "the optimizer state `{name}` has shape {found}, but its parameter has shape {expected}"
    )]
    Shape {
        /// The tensor's name.
        name: String,
        /// The parameter's shape.
        expected: ParamShape,
        /// The tensor's shape.
        found: ParamShape,
    },
    /// A state tensor holds another number of values than its shape says.
    #[error("the optimizer state `{name}` has shape {shape} but holds {len} values")]
    Length {
        /// The tensor's name.
        name: String,
        /// Its shape.
        shape: ParamShape,
        /// The number of values given.
        len: usize,
    },
    /// The checkpoint holds a state tensor this optimizer does not keep.
    #[error("the checkpoint has optimizer state `{0}`, which this optimizer does not keep")]
    Unexpected(String),
}

/// One state buffer of one parameter, with its checkpoint name.
#[derive(Clone, Debug)]
struct Buffer<T> {
    /// `optimizer.<state>.<param>`, such as `optimizer.m.W1`.
    name: String,
    values: Vec<T>,
}

/// The state of one parameter: one buffer per name in
/// [`Method::state_names`].
#[derive(Clone, Debug)]
struct ParamState<T> {
    param: ParamName,
    shape: ParamShape,
    buffers: Vec<Buffer<T>>,
}

/// An update rule applied to every parameter of a network, with the state
/// it keeps between steps.
#[derive(Clone, Debug)]
pub struct Optimizer<T: Scalar> {
    method: Method,
    learning_rate: f64,
    weight_decay: f64,
    steps: u64,
    /// Allocated at the first step (or restored from a checkpoint).
    state: Option<Vec<ParamState<T>>>,
}

impl<T: Scalar> Optimizer<T> {
    /// An optimizer with no weight decay.
    pub fn new(method: Method, learning_rate: f64) -> Self {
        Optimizer {
            method,
            learning_rate,
            weight_decay: 0.0,
            steps: 0,
            state: None,
        }
    }

    /// The same optimizer with the book's weight decay `λ`: before each
    /// update, `λ·W` is added to the gradient of every weight `W` (not to
    /// the biases), so that the update follows the penalized loss
    /// `L + ½·λ·ΣW²` (see [`weight_decay_penalty`]).
    pub fn with_weight_decay(mut self, lambda: f64) -> Self {
        self.weight_decay = lambda;
        self
    }

    /// Plain SGD, `p ← p − lr·g` (the book's chapter 4).
    pub fn sgd(learning_rate: f64) -> Self {
        Optimizer::new(Method::Sgd, learning_rate)
    }

    /// Momentum with the book's 0.9.
    pub fn momentum(learning_rate: f64) -> Self {
        Optimizer::new(
            Method::Momentum {
                momentum: DEFAULT_MOMENTUM,
            },
            learning_rate,
        )
    }

    /// Adam with the book's β₁ = 0.9 and β₂ = 0.999 (its usual rate:
    /// 0.001).
    pub fn adam(learning_rate: f64) -> Self {
        Optimizer::new(
            Method::Adam {
                beta1: DEFAULT_BETA1,
                beta2: DEFAULT_BETA2,
            },
            learning_rate,
        )
    }

    /// The update rule.
    pub fn method(&self) -> Method {
        self.method
    }

    /// The learning rate of the next step.
    pub fn learning_rate(&self) -> f64 {
        self.learning_rate
    }

    /// Sets the learning rate of the steps to come (a schedule calls this
    /// before every step; see [`Schedule`](crate::train::Schedule)).
    pub fn set_learning_rate(&mut self, learning_rate: f64) {
        self.learning_rate = learning_rate;
    }

    /// The weight decay `λ` (0 for none).
    pub fn weight_decay(&self) -> f64 {
        self.weight_decay
    }

    /// The number of steps taken (or restored).
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Updates every parameter of `net` from the gradients of its last
    /// backward pass (with `λ·W` added first when there is a weight decay:
    /// the stored gradients then include it, as the book's `gradient`
    /// returns them).
    ///
    /// # Panics
    /// When `net`'s parameters are not those of the network of the first
    /// step: an optimizer's state belongs to one network.
    pub fn step<N: Network<T>>(&mut self, net: &mut N) {
        self.steps += 1;
        let method = self.method;
        let rates = Rates::new(method, self.learning_rate, self.steps);
        let lambda = (self.weight_decay != 0.0).then(|| T::of_f64(self.weight_decay));
        let states = self.state.get_or_insert_with(|| fresh_state(method, net));
        let mut states = states.iter_mut();
        net.visit_params_mut(&mut |p| {
            let state = states
                .next()
                .filter(|s| s.param == p.name && s.shape == p.shape)
                .expect("an optimizer steps the same network every time");
            if let Some(lambda) = lambda {
                weight_decay::add_to_gradient(&p.name, p.value, p.grad, lambda);
            }
            rates.update(p.value, p.grad, &mut state.buffers);
        });
    }

    /// One training step on the batch `x` against `t`, in training mode:
    /// the forward pass, then — when the loss is finite — the backward
    /// pass and the update. Returns the loss of the batch before the
    /// update.
    ///
    /// This is the one place that decides a step: plain SGD with no weight
    /// decay asks the backward pass to apply the update as it goes
    /// ([`ParamUpdate::Sgd`], which the first layer fuses into its
    /// product: the same step up to rounding, with that layer's gradients
    /// not stored); every other rule has the gradients stored, then
    /// [`step`](Optimizer::step)s. A loss that is NaN or infinite leaves
    /// the parameters as they were and is not counted as a step.
    ///
    /// # Panics
    /// As [`step`](Optimizer::step), and when `t` does not fit `x` (as
    /// [`Network::loss`] does).
    pub fn train_step<'t, N: Network<T>>(
        &mut self,
        net: &mut N,
        x: &Batch<T, N::In>,
        t: impl Into<Targets<'t, T, N::Out>>,
    ) -> T {
        let t = t.into();
        net.set_training(true);
        let loss = net.forward_loss(x, t);
        if !loss.is_finite() {
            return loss;
        }
        if matches!(self.method, Method::Sgd) && self.weight_decay == 0.0 {
            let lr = T::of_f64(self.learning_rate);
            net.backward(x, t, ParamUpdate::Sgd { lr });
            self.steps += 1;
        } else {
            net.backward(x, t, ParamUpdate::StoreGradients);
            self.step(net);
        }
        loss
    }

    /// The state tensors to save in a checkpoint, as `io::save_checkpoint`
    /// takes them: none before the first step, and none for plain SGD.
    pub fn state_tensors(&self) -> Vec<(&str, ParamShape, &[T])> {
        self.state
            .iter()
            .flatten()
            .flat_map(|s| {
                s.buffers
                    .iter()
                    .map(|b| (b.name.as_str(), s.shape, b.values.as_slice()))
            })
            .collect()
    }

    /// Restores the state saved by the optimizer named `method` after
    /// `steps` steps, for the parameters of `net`, from the named `tensors`
    /// as [`state_tensors`](Self::state_tensors) gave them: a checkpoint's
    /// `state_entries()`, with its `optimizer` and `iteration` (a training
    /// run takes one step per iteration). The optimizer is left unchanged on
    /// error.
    ///
    /// # Errors
    /// [`StateError`]: another optimizer's state, or state tensors missing,
    /// misshapen or unknown.
    pub fn restore<N: Network<T>>(
        &mut self,
        net: &N,
        method: &str,
        steps: u64,
        tensors: &[(&str, ParamShape, &[T])],
    ) -> Result<(), StateError> {
        if method != self.method.name() {
            return Err(StateError::OtherMethod {
                saved: method.to_owned(),
                current: self.method.name(),
            });
        }
        let mut state = fresh_state(self.method, net);
        for param in &mut state {
            for buffer in &mut param.buffers {
                let &(_, shape, values) = tensors
                    .iter()
                    .find(|(name, _, _)| *name == buffer.name)
                    .ok_or_else(|| StateError::Missing(buffer.name.clone()))?;
                if shape != param.shape {
                    return Err(StateError::Shape {
                        name: buffer.name.clone(),
                        expected: param.shape,
                        found: shape,
                    });
                }
                if values.len() != buffer.values.len() {
                    return Err(StateError::Length {
                        name: buffer.name.clone(),
                        shape,
                        len: values.len(),
                    });
                }
                buffer.values.copy_from_slice(values);
            }
        }
        let known = |name: &str| {
            state
                .iter()
                .flat_map(|s| &s.buffers)
                .any(|b| b.name == name)
        };
        if let Some((extra, _, _)) = tensors.iter().find(|(name, _, _)| !known(name)) {
            return Err(StateError::Unexpected((*extra).to_owned()));
        }
        self.steps = steps;
        self.state = Some(state);
        Ok(())
    }
}

/// Zeroed state for every parameter of `net`.
fn fresh_state<T: Scalar, N: Network<T>>(method: Method, net: &N) -> Vec<ParamState<T>> {
    let mut state = Vec::new();
    net.visit_params(&mut |p| {
        let buffers = method
            .state_names()
            .iter()
            .map(|kind| Buffer {
                name: format!("{STATE_PREFIX}{kind}.{}", p.name),
                values: vec![T::zero(); p.value.len()],
            })
            .collect();
        state.push(ParamState {
            param: p.name,
            shape: p.shape,
            buffers,
        });
    });
    state
}

/// A method's constants for one step, converted to `T` once.
enum Rates<T> {
    Sgd {
        lr: T,
    },
    Momentum {
        lr: T,
        momentum: T,
    },
    Nesterov {
        lr: T,
        momentum: T,
        momentum_squared: T,
        gradient_rate: T,
    },
    AdaGrad {
        lr: T,
    },
    RmsProp {
        lr: T,
        decay_rate: T,
        keep_rate: T,
    },
    Adam {
        lr_t: T,
        one_minus_beta1: T,
        one_minus_beta2: T,
    },
}

impl<T: Scalar> Rates<T> {
    /// The constants of `method` at step `step` (from 1).
    fn new(method: Method, lr: f64, step: u64) -> Self {
        let lr_f64 = lr;
        let lr = T::of_f64(lr);
        match method {
            Method::Sgd => Rates::Sgd { lr },
            Method::Momentum { momentum } => Rates::Momentum {
                lr,
                momentum: T::of_f64(momentum),
            },
            Method::Nesterov { momentum } => Rates::Nesterov {
                lr,
                momentum: T::of_f64(momentum),
                momentum_squared: T::of_f64(momentum * momentum),
                gradient_rate: T::of_f64((1.0 + momentum) * lr_f64),
            },
            Method::AdaGrad => Rates::AdaGrad { lr },
            Method::RmsProp { decay_rate } => Rates::RmsProp {
                lr,
                decay_rate: T::of_f64(decay_rate),
                keep_rate: T::of_f64(1.0 - decay_rate),
            },
            Method::Adam { beta1, beta2 } => Rates::Adam {
                lr_t: T::of_f64(adam::step_size(lr_f64, beta1, beta2, step)),
                one_minus_beta1: T::of_f64(1.0 - beta1),
                one_minus_beta2: T::of_f64(1.0 - beta2),
            },
        }
    }

    /// Updates one parameter with its state buffers.
    fn update(&self, value: &mut [T], grad: &[T], buffers: &mut [Buffer<T>]) {
        match (self, buffers) {
            (&Rates::Sgd { lr }, []) => sgd::update(value, grad, lr),
            (&Rates::Momentum { lr, momentum }, [v]) => {
                momentum::update(value, grad, &mut v.values, lr, momentum)
            }
            (
                &Rates::Nesterov {
                    lr,
                    momentum,
                    momentum_squared,
                    gradient_rate,
                },
                [v],
            ) => nesterov::update(
                value,
                grad,
                &mut v.values,
                lr,
                momentum,
                momentum_squared,
                gradient_rate,
            ),
            (&Rates::AdaGrad { lr }, [h]) => adagrad::update(value, grad, &mut h.values, lr),
            (
                &Rates::RmsProp {
                    lr,
                    decay_rate,
                    keep_rate,
                },
                [h],
            ) => rmsprop::update(value, grad, &mut h.values, lr, decay_rate, keep_rate),
            (
                &Rates::Adam {
                    lr_t,
                    one_minus_beta1,
                    one_minus_beta2,
                },
                [m, v],
            ) => adam::update(
                value,
                grad,
                &mut m.values,
                &mut v.values,
                lr_t,
                one_minus_beta1,
                one_minus_beta2,
            ),
            _ => unreachable!("the buffers are allocated from the method's state names"),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The parameter every rule's test starts from.
    pub(crate) const START: [f64; 2] = [1.0, -2.0];
    /// The gradients of its first three steps.
    pub(crate) const GRADS: [[f64; 2]; 3] = [[0.5, -1.0], [0.25, 0.5], [-1.0, 2.0]];

    /// Each step's parameter against the value worked out by hand (in
    /// Python, with the book's formulas).
    pub(crate) fn assert_steps(got: &[[f64; 2]], expected: &[[f64; 2]]) {
        assert_eq!(got.len(), expected.len());
        for (step, (got, expected)) in got.iter().zip(expected).enumerate() {
            for (g, e) in got.iter().zip(expected) {
                assert!(
                    (g - e).abs() < 1e-12,
                    "step {}: {got:?}, expected {expected:?}",
                    step + 1
                );
            }
        }
    }

    #[test]
    fn names_round_trip() {
        for name in Method::NAMES {
            let method: Method = name.parse().expect("a known name");
            assert_eq!(method.name(), name);
            assert_eq!(method.to_string(), name);
        }
        // Any case: "Adam" is "adam".
        assert_eq!("Adam".parse::<Method>(), "adam".parse::<Method>());
        assert_eq!("RMSProp".parse::<Method>().map(|m| m.name()), Ok("rmsprop"));
        assert_eq!(
            "AdamW".parse::<Method>(),
            Err(UnknownMethod("AdamW".to_owned()))
        );
        assert_eq!(
            Method::from_name("adam"),
            Some(Method::Adam {
                beta1: 0.9,
                beta2: 0.999
            })
        );
    }
}
