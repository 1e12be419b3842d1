//! What every declared network offers: the methods of the book's
//! `TwoLayerNet` (table 5-2).

use rand::RngCore;

use crate::targets::{argmax_row, classes_of};
use crate::{
    Batch, BatchStorage, BufferMut, BufferRef, FixedShape, Init, LayerTensors, ParamMut, ParamName,
    ParamRef, ParamShape, ParamUpdate, Scalar, Shape, Targets, TargetsError,
};

/// A stack of layers ending in a loss layer, as `network!` declares it.
///
/// The macro implements the required methods, chaining the layers' typed
/// batches; everything else is provided here.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a network that can be trained: it has no loss layer",
    label = "declared without a loss layer, so it is a layer, not a network",
    note = "a network declared without a loss layer is a `Layer`, to be written inside another `network!`; to train it on its own, end its list with `SoftmaxWithLoss` or `IdentityWithSquaredLoss`"
)]
pub trait Network<T: Scalar>: Sized {
    /// The shape of one input sample.
    type In: FixedShape;
    /// The shape of one output sample: the scores the loss layer reads.
    type Out: FixedShape;

    /// A network whose layers are drawn as `init` says.
    fn init(rng: &mut dyn RngCore, init: Init) -> Self;

    /// The scores for `x`: every layer but the loss, in the mode the
    /// layers are in (see [`set_training`](Network::set_training)). The
    /// result stays in the network until the next forward pass.
    fn forward(&mut self, x: &Batch<T, Self::In>) -> &Batch<T, Self::Out>;

    /// The loss for `x` against `t`: [`forward`](Network::forward), then
    /// the loss layer, in the mode the layers are in.
    fn forward_loss(&mut self, x: &Batch<T, Self::In>, t: Targets<'_, T, Self::Out>) -> T;

    /// The scores of the last forward pass: what the loss layer read.
    fn scores(&self) -> &Batch<T, Self::Out>;

    /// The backward pass of the last [`forward_loss`](Network::forward_loss)
    /// on `x` against `t`, from the loss layer to the first layer: every
    /// parameter's gradient is stored beside it
    /// ([`ParamUpdate::StoreGradients`]), or the book's update
    /// `p ← p − lr·∂L/∂p` is applied as the gradients are computed
    /// ([`ParamUpdate::Sgd`]; the first layer may fuse it into its
    /// product, see [`Layer::backward_first`](crate::Layer::backward_first)).
    ///
    /// It decides nothing: the mode, what to do with a loss that is not
    /// finite, and which update to ask for are the caller's —
    /// [`backprop`](Network::backprop) for gradients,
    /// [`Optimizer::train_step`](crate::optim::Optimizer::train_step) for
    /// a training step.
    fn backward(
        &mut self,
        x: &Batch<T, Self::In>,
        t: Targets<'_, T, Self::Out>,
        update: ParamUpdate<T>,
    );

    /// The scores for `x` in inference mode: the book's
    /// `predict(x, train_flg=False)`.
    fn predict(&mut self, x: &Batch<T, Self::In>) -> &Batch<T, Self::Out> {
        self.set_training(false);
        self.forward(x)
    }

    /// Puts every layer in training mode (`true`) or inference mode
    /// (`false`); only dropout and batch normalization tell them apart
    /// (see [`Layer::set_training`](crate::Layer::set_training)).
    ///
    /// The mode follows the book's `train_flg`: [`backprop`] (and so
    /// [`gradient`]) and a training step switch to training, [`predict`]
    /// (and so [`accuracy`]) and [`loss`] to inference, and
    /// [`numerical_gradient`] to training, to match [`gradient`].
    /// [`forward`] and [`forward_loss`] run in the mode last set.
    ///
    /// `network!` calls every layer's; the default does nothing, which is
    /// right for a network written by hand whose layers have no modes.
    ///
    /// [`backprop`]: Network::backprop
    /// [`gradient`]: Network::gradient
    /// [`predict`]: Network::predict
    /// [`accuracy`]: Network::accuracy
    /// [`loss`]: Network::loss
    /// [`numerical_gradient`]: Network::numerical_gradient
    /// [`forward`]: Network::forward
    /// [`forward_loss`]: Network::forward_loss
    fn set_training(&mut self, training: bool) {
        let _ = training;
    }

    /// Calls `f` on each parameter, with its book name (`W1`, `b1`, …).
    fn visit_params(&self, f: &mut dyn FnMut(ParamRef<'_, T>));

    /// Calls `f` on each parameter, mutably, with its book name.
    fn visit_params_mut(&mut self, f: &mut dyn FnMut(ParamMut<'_, T>));

    /// Calls `f` on each persistent buffer (`BatchNorm`'s running mean and
    /// variance, `running_mean1`, …), named as parameters are.
    fn visit_buffers(&self, f: &mut dyn FnMut(BufferRef<'_, T>)) {
        let _ = f;
    }

    /// Calls `f` on each persistent buffer, mutably.
    fn visit_buffers_mut(&mut self, f: &mut dyn FnMut(BufferMut<'_, T>)) {
        let _ = f;
    }

    /// The layers that keep tensors in a file (parameters or buffers), in
    /// the order they are declared, each with its tensors: what an
    /// importer of another framework's weights matches layer by layer, and
    /// names in its messages. `network!` writes it; a network written by
    /// hand lists none, and an importer then has nothing to match.
    fn tensor_layers(&self) -> Vec<LayerTensors> {
        Vec::new()
    }

    /// A network with the book's initialization: weights `0.01·N(0, 1)`,
    /// biases zero.
    fn new<R: RngCore>(rng: &mut R) -> Self {
        Self::init(rng, Init::BOOK)
    }

    /// The loss for `x` against `t` (one-hot rows or class indices), in
    /// inference mode.
    ///
    /// # Panics
    /// When `t` holds another number of samples than `x`, or a class index
    /// the network does not score; an empty batch gives NaN.
    /// [`try_loss`](Network::try_loss) returns these as errors.
    fn loss<'t>(&mut self, x: &Batch<T, Self::In>, t: impl Into<Targets<'t, T, Self::Out>>) -> T {
        self.set_training(false);
        self.forward_loss(x, t.into())
    }

    /// Backpropagation, in training mode: one forward and one backward
    /// pass, after which every parameter's gradient is stored beside it
    /// (see [`visit_params`](Network::visit_params)), uncopied. Returns
    /// the loss.
    fn backprop<'t>(
        &mut self,
        x: &Batch<T, Self::In>,
        t: impl Into<Targets<'t, T, Self::Out>>,
    ) -> T {
        let t = t.into();
        self.set_training(true);
        let loss = self.forward_loss(x, t);
        self.backward(x, t, ParamUpdate::StoreGradients);
        loss
    }

    /// The gradient of every parameter by backpropagation, by name, as the
    /// book's `gradient` returns it.
    fn gradient<'t>(
        &mut self,
        x: &Batch<T, Self::In>,
        t: impl Into<Targets<'t, T, Self::Out>>,
    ) -> Gradients<T> {
        self.backprop(x, t);
        let mut entries = Vec::new();
        self.visit_params(&mut |p| {
            entries.push(Gradient {
                name: p.name,
                shape: p.shape,
                values: book_order(p.shape, p.grad),
            })
        });
        Gradients { entries }
    }

    /// The gradient of every parameter by central differences, as the
    /// book's `numerical_gradient`: slow, and only for checking
    /// [`gradient`](Network::gradient). It runs in training mode, as
    /// `gradient` does; a network with dropout must hold its masks
    /// ([`Dropout::hold_mask`](crate::Dropout::hold_mask)) for the two to
    /// agree.
    fn numerical_gradient<'t>(
        &mut self,
        x: &Batch<T, Self::In>,
        t: impl Into<Targets<'t, T, Self::Out>>,
    ) -> Gradients<T> {
        let t = t.into();
        self.set_training(true);
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
            entry.values = book_order(entry.shape, &entry.values);
        }
        Gradients { entries }
    }

    /// The class of each sample of `x`: the index of its highest score.
    fn classify(&mut self, x: &Batch<T, Self::In>) -> Vec<usize> {
        classes_of::<T, Self::Out>(self.predict(x)).collect()
    }

    /// [`loss`](Network::loss), with the targets checked first: an empty
    /// batch, targets for another number of samples, or a class the network
    /// does not score is an error instead of a panic (or, for an empty
    /// batch, a NaN).
    fn try_loss<'t>(
        &mut self,
        x: &Batch<T, Self::In>,
        t: impl Into<Targets<'t, T, Self::Out>>,
    ) -> Result<T, TargetsError> {
        let t = t.into();
        t.check(x.batch_size())?;
        Ok(self.loss(x, t))
    }

    /// [`accuracy`](Network::accuracy), with the targets checked first, as
    /// in [`try_loss`](Network::try_loss) (an empty batch is an error, not
    /// an accuracy of 0).
    fn try_accuracy<'t>(
        &mut self,
        x: &Batch<T, Self::In>,
        t: impl Into<Targets<'t, T, Self::Out>>,
    ) -> Result<f64, TargetsError> {
        let t = t.into();
        t.check(x.batch_size())?;
        Ok(self.accuracy(x, t))
    }

    /// [`backprop`](Network::backprop), with the targets checked first, as
    /// in [`try_loss`](Network::try_loss).
    fn try_backprop<'t>(
        &mut self,
        x: &Batch<T, Self::In>,
        t: impl Into<Targets<'t, T, Self::Out>>,
    ) -> Result<T, TargetsError> {
        let t = t.into();
        t.check(x.batch_size())?;
        Ok(self.backprop(x, t))
    }

    /// The fraction of samples whose highest score is the target class
    /// (0 for an empty batch).
    ///
    /// # Panics
    /// When `t` holds another number of samples than `x`
    /// ([`try_accuracy`](Network::try_accuracy) returns an error instead).
    fn accuracy<'t>(
        &mut self,
        x: &Batch<T, Self::In>,
        t: impl Into<Targets<'t, T, Self::Out>>,
    ) -> f64 {
        let t = t.into();
        accuracy_of(self.predict(x), t)
    }

    /// [`loss`](Network::loss) and [`accuracy`](Network::accuracy)
    /// together, from one forward pass in inference mode.
    fn loss_and_accuracy<'t>(
        &mut self,
        x: &Batch<T, Self::In>,
        t: impl Into<Targets<'t, T, Self::Out>>,
    ) -> (T, f64) {
        let t = t.into();
        self.set_training(false);
        let loss = self.forward_loss(x, t);
        (loss, accuracy_of(self.scores(), t))
    }

    /// The total number of scalar parameters.
    fn param_count(&self) -> usize {
        let mut count = 0;
        self.visit_params(&mut |p| count += p.value.len());
        count
    }
}

/// The fraction of the rows of the scores `y` whose highest score is the
/// target class.
pub fn accuracy_of<T: Scalar, S: Shape>(y: &Batch<T, S>, t: Targets<'_, T, S>) -> f64 {
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

/// A parameter's values, from its storage order to the book's: a matrix,
/// stored column by column, row by row as NumPy holds it (and as weight
/// files store it); vectors and filters are already in that order.
fn book_order<T: Scalar>(shape: ParamShape, stored: &[T]) -> Vec<T> {
    match shape {
        ParamShape::Matrix { rows, cols } => (0..rows * cols)
            .map(|k| stored[(k % cols) * rows + k / cols])
            .collect(),
        _ => stored.to_vec(),
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
    /// `∂L/∂p` in the book's order: a weight of shape `[rows, cols]` row by
    /// row, as NumPy's `grads['W1']` and the weight files hold it (in
    /// memory, [`ParamRef::grad`] is column by column).
    pub values: Vec<T>,
}

/// The gradients of all parameters, in the network's order: the book's
/// `grads` dictionary.
#[derive(Clone, Debug, PartialEq)]
pub struct Gradients<T> {
    entries: Vec<Gradient<T>>,
}

impl<T> Gradients<T> {
    /// The gradient of the parameter named `name` (such as `"W1"`), in
    /// the book's order (see [`Gradient::values`]).
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
