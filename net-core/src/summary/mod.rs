//! A declared network's summary, from its declaration alone: per layer
//! its field, the layer as written, its output shape, its parameters, its
//! multiply-adds and its activation memory per sample; the totals, and the
//! memory a training step and an inference call need at a batch size.
//!
//! `network!` gives every network two forms of it:
//!
//! - `Net::declared_summary()`, from the types alone, without an instance:
//!   a width chosen at run time (`Affine<784, dyn>`) is shown as `dyn`,
//!   and what depends on it (parameters, multiply-adds, memory) as `?`.
//!   `Net::summary()` is the same for the default scalar `f32`, so that it
//!   names none (a declaration with a `where` clause on the scalar has
//!   `declared_summary` only); [`Summary::for_scalar`] gives the memory of
//!   another scalar.
//! - `net.built_summary()`, of a built network: the same table with the
//!   widths it was built with, for its own scalar `T`.
//!
//! Each layer describes itself through [`Layer::describe`](crate::Layer::describe) and
//! [`Layer::describe_built`](crate::Layer::describe_built), optional hooks
//! with defaults, so that every layer, one's own included, has a row (see
//! [`Description::undescribed`] for what the defaults say).
//!
//! # What is counted
//!
//! - **Parameters**: every scalar a layer's `visit_params` lists (weights
//!   and biases; not `BatchNorm`'s running statistics, which are buffers).
//! - **Multiply-adds per sample** (MACs), the book's products only: an
//!   `Affine<I, O>` does `I·O` (its `x·W`), a `Conv2d` `out_h·out_w·FN·C·FH·FW`;
//!   every other layer 0 (additions of biases, activations, pooling,
//!   normalization and the residual sum are not multiply-adds of a
//!   product). torchinfo's "mult-adds" add one per bias and output position:
//!   `O` more for an `Affine`, `out_h·out_w·FN` more for a `Conv2d`.
//! - **Activations per sample**: the elements of each layer's output, times
//!   `size_of::<T>()`. A loss layer's is what it keeps, its probabilities
//!   (or predictions), as many as its scores.
//! - **A training step at batch `B`** ([`Summary::training_bytes`]):
//!   the parameters and their gradients, plus `B` times, per layer, its
//!   output and the input gradient its backward pass returns (as many
//!   elements as its input). Not counted: the optimizer's state
//!   ([`Summary::optimizer_state_bytes`]: 0 tensors per parameter for SGD,
//!   1 for Momentum, Nesterov, AdaGrad and RMSprop, 2 for Adam), the input
//!   batch and targets, and the workspaces of `Conv2d` (its unfolded
//!   `im2col` columns), `MaxPool2d` (the argmax of each window) and
//!   `Dropout` (its mask).
//! - **An inference call at batch `B`** ([`Summary::inference_bytes`]): the
//!   frozen form's weights (as many as the parameters) plus `B` times every
//!   layer's output, the buffers of its `Scratch`. This is an upper bound:
//!   a layer folded into the one before it when freezing (a ReLU after an
//!   `Affine` or a `Conv2d`, dropout's scaling, a `BatchNorm` after an
//!   `Affine`) writes no output of its own; `Conv2d`'s columns are not
//!   counted.

mod table;

use crate::shape::Shape;

/// The batch size [`Summary`]'s table shows the memory at, unless
/// [`Summary::at_batch`] says another: the book's mini-batch of 100.
pub const DEFAULT_BATCH: usize = 100;

/// One sample's shape as a summary knows it: each axis a size, or `None`
/// for a width chosen at run time that is not known here.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SampleShape {
    axes: Vec<Option<usize>>,
}

impl SampleShape {
    /// A shape whose every axis is known: `[50]`, `[30, 24, 24]`.
    pub fn known(dims: &[usize]) -> Self {
        SampleShape {
            axes: dims.iter().copied().map(Some).collect(),
        }
    }

    /// A flat vector whose width is chosen at run time and not known here.
    pub fn runtime_width() -> Self {
        SampleShape { axes: vec![None] }
    }

    /// The shape `S` as its type says ([`Shape::known_dims`]), a width
    /// chosen at run time when the type does not say.
    pub fn of<S: Shape>() -> Self {
        S::known_dims().map_or_else(Self::runtime_width, |dims| Self::known(&dims))
    }

    /// Its axes, `None` for a size not known here.
    pub fn axes(&self) -> &[Option<usize>] {
        &self.axes
    }

    /// Its number of elements, when every axis is known.
    pub fn numel(&self) -> Option<usize> {
        self.axes.iter().try_fold(1usize, |n, &a| n.checked_mul(a?))
    }
}

/// `N×30×24×24`: the batch axis `N`, then each axis, `dyn` for a width
/// chosen at run time.
impl core::fmt::Display for SampleShape {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("N")?;
        for axis in &self.axes {
            match axis {
                Some(size) => write!(f, "×{size}")?,
                None => f.write_str("×dyn")?,
            }
        }
        Ok(())
    }
}

/// The product `x·W` of an `Affine`, for the diagrams' dimension matching.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Product {
    /// `W`'s rows, the layer's inputs.
    pub inputs: Option<usize>,
    /// `W`'s columns, the layer's outputs.
    pub outputs: Option<usize>,
}

/// What a layer says of itself in a summary
/// ([`Layer::describe`](crate::Layer::describe)). Counts
/// are per sample; `None` is a count not known here (a width chosen at run
/// time, or a layer that does not say).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Description {
    /// The shape of one output sample.
    pub output: SampleShape,
    /// The scalar parameters.
    pub params: Option<usize>,
    /// The multiply-adds of one sample's forward pass (see the [module
    /// docs](self)).
    pub macs: Option<u64>,
    /// The elements the layer keeps per sample as outputs: its output, or,
    /// for a block, its layers' outputs.
    pub activations: Option<usize>,
    /// The elements of the input gradients its backward pass keeps per
    /// sample.
    pub input_grads: Option<usize>,
    /// The layers inside it, for a network declared without a loss layer
    /// (or a `Residual` around one).
    pub children: Vec<Row>,
    /// Whether its input is added to its output: a `Residual`.
    pub skip: bool,
    /// Its product, for an `Affine`.
    pub product: Option<Product>,
}

impl Description {
    /// A layer from `input` to `output` with `params` parameters and
    /// `macs` multiply-adds per sample, keeping its output and an input
    /// gradient.
    pub fn new(
        input: &SampleShape,
        output: SampleShape,
        params: Option<usize>,
        macs: Option<u64>,
    ) -> Self {
        Description {
            activations: output.numel(),
            input_grads: input.numel(),
            output,
            params,
            macs,
            children: Vec::new(),
            skip: false,
            product: None,
        }
    }

    /// A layer without parameters or products that keeps the shape of its
    /// input: an activation, dropout, pooling's like.
    pub fn elementwise(input: &SampleShape) -> Self {
        Self::new(input, input.clone(), Some(0), Some(0))
    }

    /// What [`Layer::describe`](crate::Layer::describe) says of a layer that does not describe
    /// itself: its output as the type `Out` says, or, when the type does
    /// not say (a width chosen at run time) and `In` and `Out` are the same
    /// type, `input` (a layer that keeps its input's shape); its
    /// parameters and multiply-adds unknown. The built form
    /// ([`Layer::describe_built`](crate::Layer::describe_built)) counts
    /// the parameters through `visit_params`; the multiply-adds stay
    /// unknown (`?`).
    pub fn undescribed<In: Shape, Out: Shape>(input: &SampleShape) -> Self {
        let output = match Out::known_dims() {
            Some(dims) => SampleShape::known(&dims),
            None if core::any::TypeId::of::<In>() == core::any::TypeId::of::<Out>() => {
                input.clone()
            }
            None => SampleShape::runtime_width(),
        };
        Self::new(input, output, None, None)
    }

    /// A block of layers (a network declared without a loss layer), from
    /// its rows: it outputs what its last layer outputs, and counts what
    /// its layers count.
    pub fn block(input: &SampleShape, children: Vec<Row>) -> Self {
        let output = children
            .last()
            .map_or_else(|| input.clone(), |row| row.description.output.clone());
        let sum = |count: fn(&Description) -> Option<usize>| {
            children
                .iter()
                .try_fold(0usize, |n, row| n.checked_add(count(&row.description)?))
        };
        Description {
            params: sum(|d| d.params),
            macs: children
                .iter()
                .try_fold(0u64, |n, row| n.checked_add(row.description.macs?)),
            activations: sum(|d| d.activations),
            input_grads: sum(|d| d.input_grads),
            output,
            children,
            skip: false,
            product: None,
        }
    }

    /// `y = x + f(x)` around `inner`, on `input`: `inner`'s counts, and the
    /// sum's output and input gradient besides.
    pub fn residual(input: &SampleShape, inner: Description) -> Self {
        let add = |inner: Option<usize>| inner?.checked_add(input.numel()?);
        Description {
            output: input.clone(),
            params: inner.params,
            macs: inner.macs,
            activations: add(inner.activations),
            input_grads: add(inner.input_grads),
            children: inner.children,
            skip: true,
            product: None,
        }
    }

    /// The parameters, counted through `visit_params`, when not known.
    pub(crate) fn or_counted_params(mut self, count: impl FnOnce() -> usize) -> Self {
        if self.params.is_none() {
            self.params = Some(count());
        }
        self
    }
}

/// One row of the table: a layer with its field and its declaration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// The field that holds the layer: `affine1`, `loss`.
    pub field: &'static str,
    /// The layer as declared: `Conv2d<30, 5>`.
    pub declared: &'static str,
    /// What the layer says of itself.
    pub description: Description,
    /// Whether it is the loss layer, which outputs one number per batch.
    pub loss: bool,
}

impl Row {
    /// The row of a layer.
    pub fn layer(field: &'static str, declared: &'static str, description: Description) -> Self {
        Row {
            field,
            declared,
            description,
            loss: false,
        }
    }

    /// The row of a loss layer over scores of shape `scores`: no
    /// parameters or products; it keeps its probabilities (or predictions)
    /// and its input gradient, each as many as the scores.
    pub fn loss(field: &'static str, declared: &'static str, scores: &SampleShape) -> Self {
        let description = Description::new(scores, scores.clone(), Some(0), Some(0));
        Row {
            field,
            declared,
            description,
            loss: true,
        }
    }
}

/// A network's summary: its rows, its scalar, and what they add up to.
/// `Display` prints the aligned table (memory at [`DEFAULT_BATCH`] unless
/// [`at_batch`](Summary::at_batch) says otherwise); see the [module
/// docs](self) for what is counted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    name: &'static str,
    scalar: &'static str,
    scalar_bytes: usize,
    rows: Vec<Row>,
    input: SampleShape,
    batch: usize,
}

impl Summary {
    /// The summary of the network `name` with samples of shape `input`,
    /// its layers `rows`, for the scalar `T`.
    pub fn new<T: crate::Scalar>(name: &'static str, input: SampleShape, rows: Vec<Row>) -> Self {
        Summary {
            name,
            scalar: T::NAME,
            scalar_bytes: core::mem::size_of::<T>(),
            rows,
            input,
            batch: DEFAULT_BATCH,
        }
    }

    /// The same summary for the scalar `T` (only the memory changes).
    pub fn for_scalar<T: crate::Scalar>(self) -> Self {
        Summary {
            scalar: T::NAME,
            scalar_bytes: core::mem::size_of::<T>(),
            ..self
        }
    }

    /// The same summary, its table showing the memory at batch `batch`.
    pub fn at_batch(self, batch: usize) -> Self {
        Summary { batch, ..self }
    }

    /// The network's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The shape of one input sample.
    pub fn input(&self) -> &SampleShape {
        &self.input
    }

    /// The layers, in order, the loss last.
    pub fn rows(&self) -> &[Row] {
        &self.rows
    }

    /// The bytes of one scalar.
    pub fn scalar_bytes(&self) -> usize {
        self.scalar_bytes
    }

    fn total(&self, count: fn(&Description) -> Option<usize>) -> Option<usize> {
        self.rows
            .iter()
            .try_fold(0usize, |n, row| n.checked_add(count(&row.description)?))
    }

    /// All parameters.
    pub fn params(&self) -> Option<usize> {
        self.total(|d| d.params)
    }

    /// All multiply-adds of one sample's forward pass.
    pub fn macs(&self) -> Option<u64> {
        self.rows
            .iter()
            .try_fold(0u64, |n, row| n.checked_add(row.description.macs?))
    }

    /// The bytes of every layer's activations for one sample.
    pub fn activation_bytes(&self) -> Option<usize> {
        self.total(|d| d.activations)?
            .checked_mul(self.scalar_bytes)
    }

    /// The bytes a training step at batch `batch` needs, as the [module
    /// docs](self) count them: parameters and gradients, and per sample
    /// every layer's output and input gradient; not the optimizer's state.
    pub fn training_bytes(&self, batch: usize) -> Option<usize> {
        let per_sample = self.total(|d| d.activations)? + self.total(|d| d.input_grads)?;
        let elements = self.params()?.checked_mul(2)? + batch.checked_mul(per_sample)?;
        elements.checked_mul(self.scalar_bytes)
    }

    /// The bytes of an optimizer's state: `tensors_per_param` tensors the
    /// size of the parameters (0 for SGD, 1 for Momentum, Nesterov,
    /// AdaGrad and RMSprop, 2 for Adam).
    pub fn optimizer_state_bytes(&self, tensors_per_param: usize) -> Option<usize> {
        self.params()?
            .checked_mul(tensors_per_param)?
            .checked_mul(self.scalar_bytes)
    }

    /// At most the bytes an inference call of the frozen form at batch
    /// `batch` needs: its weights, and every layer's output (see the
    /// [module docs](self)).
    pub fn inference_bytes(&self, batch: usize) -> Option<usize> {
        let elements = self
            .params()?
            .checked_add(batch.checked_mul(self.total(|d| d.activations)?)?)?;
        elements.checked_mul(self.scalar_bytes)
    }
}
