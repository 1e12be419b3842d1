//! The `network!` macro of staticnet: parse a declared list of layers,
//! check that their shapes agree, and expand to a struct implementing
//! `staticnet::Network`.
//!
//! Use it through the `staticnet` crate, which re-exports it; the
//! expansion names `::staticnet`.
//!
//! The crate is laid out like `serde_derive`: `ast` keeps the user's
//! tokens, `validate` collects every mistake in one pass and resolves the
//! layers into the `model`, and `expand` generates the code from the model
//! (or, after errors, a fallback item). Each builds only on the ones
//! before it (the workspace's `tests/module_graph.rs` checks it).
#![deny(missing_docs)]

use proc_macro::TokenStream;

mod ast;
mod catalog;
mod expand;
mod model;
mod print;
mod size;
mod validate;

/// Declares a neural network as a list of layers whose shapes the compiler
/// checks.
///
/// # Syntax
///
/// ```text
/// network! {
///     /// Docs and #[attributes] go on the struct.
///     pub struct Name<Layer, Layer, …, LossLayer>
/// }
/// ```
///
/// - The visibility is optional; the layers are separated by commas, on one
///   line or one per line, and a trailing comma is allowed.
/// - `Affine<inputs, outputs>` is a fully connected layer. Each size is a
///   whole number (`784`), a constant (`HIDDEN`, `sizes::HIDDEN`) or a const
///   expression (`{ 28 * 28 }`, or just `28 * 28`).
/// - `Relu`, `Sigmoid`, `Tanh`, `LeakyRelu`, `Softmax`, `BatchNorm` and
///   `Dropout` keep the width of the layer before them, and take no sizes.
///   They cannot come first: the first layer is an `Affine`. `Dropout` drops
///   half its units in training; `Dropout<0.3>` drops the given fraction,
///   and `LeakyRelu<0.2>` has the given slope below zero (0.01 unless
///   given), each a decimal number from 0 up to (not including) 1.
/// - The last layer, and only the last, is a loss layer — `SoftmaxWithLoss`
///   or `IdentityWithSquaredLoss` — which takes the width of the layer
///   before it. Without one, the declaration is a layer itself (see
///   below).
///
/// ## Widths chosen at run time
///
/// A size of `Affine` may be `dyn`: `Affine<784, dyn>, Relu, Affine<dyn,
/// 10>` leaves the hidden width to run time. Each width left open is one
/// value, given when the network is built —
/// `Net::<f32>::with_widths(&mut rng, init, [77])` returns a `Result` —
/// or read from a weight file by `Net::<f32>::from_weights(path)`, which
/// refuses tensors that disagree, naming both layers and sizes; `widths()`
/// gives them back. A `dyn` beside a compiled-in width is that width, and
/// everything compiled in is checked by the compiler as before. The first
/// layer's inputs, the loss layer's scores, `BatchNorm`, `Softmax`,
/// `Residual` and networks without a loss layer need their widths compiled
/// in; a `dyn` there is an error at it. A network with a width left open
/// has no `init` or `new`.
///
/// ## Your own layers, networks inside networks, residual blocks
///
/// Any type that implements `Layer` is written in the list like a
/// built-in one, by its name or its path (`Swish`, `self::Swish`,
/// `crate::layers::Linear<784, 50>`). The macro gives it the scalar type
/// `T` first, then the sizes as written (`Linear<T, 784, 50>`), or, when
/// none are written, the shape of the layer before it (`Swish<T,
/// Const<50>>`): so a layer that keeps the shape is declared `struct
/// Swish<T: Scalar, S: Shape>`, and one with sizes of its own `struct
/// Linear<T: Scalar, const I: usize, const O: usize>`. A `_` among the sizes
/// stands for the shape before it. The compiler checks the layer's input
/// against the layer before, and reports a mismatch at the layer as
/// written, naming both. A loss layer of your own is written last and
/// named `…Loss`; it implements `LossLayer` and is given `T` and the
/// width before it. A name that only differs from a built-in's in letter
/// case (`ReLU`) is taken for a mistake.
///
/// A declaration without a loss layer is a `Layer`, to be written inside
/// another network: `network! { pub struct Block<Affine<50, 50>, Relu> }`,
/// then `…, Block, …`. Its struct is `Block<T, S>`, where `S` is what the
/// network around it passes (the shape before it), which it checks against
/// its own input. Its parameters appear behind its field's name:
/// `block1.W1`, `block1.b1`.
///
/// `Residual<Layer>` computes `y = x + f(x)` around one layer `f` that keeps
/// the shape, such as `Residual<Affine<50, 50>>` or `Residual<Block>`; a
/// layer that changes the shape is an error at it.
///
/// A `where` clause after the list bounds the scalar type, for layers that
/// exist only for some: `pub struct Net<…> where T: MyScalar`.
///
/// ## Images
///
/// A network of images starts with `Input<channels, height, width>`, which
/// is not a layer but the shape of one sample, and lists the layers of the
/// book's chapter 7 with the book's arguments:
///
/// - `Conv2d<filters, size>`: `filters` filters of `size × size`, with
///   stride 1 and no padding; `Conv2d<filters, size, stride, pad>` or
///   `Conv2d<30, 5, stride = 2, pad = 1>` say otherwise.
/// - `MaxPool2d<size>`: the maximum of each `size × size` window, with
///   stride 1 and no padding unless given, as the book's `Pooling`; the
///   book's SimpleConvNet pools with `MaxPool2d<2, stride = 2>`.
/// - `Flatten`: the image's values as a flat vector, for an `Affine`.
/// - `Relu` and `Sigmoid` keep the shape of images too.
///
/// The macro computes each output size as the book and PyTorch do,
/// `⌊(H + 2·pad − size)/stride⌋ + 1` (`MaxPool2d<2, stride = 2>` turns 7×7
/// pixels into 3×3), so the `Affine` after `Flatten` is checked like any
/// other; a filter or window larger than its padded input is an error at
/// that layer.
/// The types carry the same computation, on [typenum] integers, so sizes
/// given as named constants are checked by the compiler.
///
/// ```
/// use staticnet::prelude::*;
///
/// network! {
///     /// The book's SimpleConvNet.
///     pub struct SimpleConvNet<
///         Input<1, 28, 28>,
///         Conv2d<30, 5>,            // 30 × 24 × 24
///         Relu,
///         MaxPool2d<2, stride = 2>, // 30 × 12 × 12
///         Flatten,                  // 4320
///         Affine<4320, 100>,
///         Relu,
///         Affine<100, 10>,
///         SoftmaxWithLoss,
///     >
/// }
///
/// let mut net = SimpleConvNet::<f32>::new(&mut StdRng::seed_from_u64(0));
/// let x = ImageBatch::zeros(2);
/// let loss = net.loss(&x, &[3, 7]);
/// assert!((loss - 10f32.ln()).abs() < 1e-3);
/// let mut names = Vec::new();
/// net.visit_params(&mut |p| names.push(format!("{} {:?}", p.name, p.shape.dims())));
/// assert_eq!(names, ["W1 [30, 1, 5, 5]", "b1 [30]", "W2 [4320, 100]", "b2 [100]", "W3 [100, 10]", "b3 [10]"]);
/// ```
///
/// [typenum]: https://docs.rs/typenum
///
/// # What it expands to
///
/// For `pub struct TwoLayerNet<Affine<784, 50>, Relu, Affine<50, 10>, SoftmaxWithLoss>`:
///
/// ```text
/// #[derive(Clone, Debug)]
/// pub struct TwoLayerNet<T: Scalar = f32> {
///     pub affine1: Affine<T, 784, 50>,
///     pub relu1: Relu<T, Const<50>>,
///     pub affine2: Affine<T, 50, 10>,
///     pub loss: SoftmaxWithLoss<T, 10>,
/// }
///
/// impl<T: Scalar> TwoLayerNet<T> {
///     pub const LAYERS: &'static [&'static str] =
///         &["Affine<784, 50>", "Relu", "Affine<50, 10>", "SoftmaxWithLoss"];
/// }
///
/// impl<T: Scalar> Network<T> for TwoLayerNet<T> {
///     type In = Const<784>;
///     type Out = Const<10>;
///     fn init(rng, init) -> Self {
///         /* each layer's `init`, with `Init::Auto` resolved for the activation
///            after it (He before `Relu`, Xavier otherwise); the loss's `new` */
///     }
///     fn set_training(&mut self, training) { /* every layer's `set_training` */ }
///     fn forward(&mut self, x) -> &Batch<T, Const<10>> {
///         let h1 = self.affine1.forward(x);
///         let h2 = self.relu1.forward(h1);
///         self.affine2.forward(h2)
///     }
///     fn forward_loss(&mut self, x, t) -> T { /* the same chain, then */ self.loss.forward(h3, t) }
///     fn scores(&self) -> &Batch<T, Const<10>> { self.affine2.output() }
///     fn backward(&mut self, x, t, update: ParamUpdate<T>) {
///         let d = self.loss.backward(t);
///         let d = self.affine2.backward(self.relu1.output(), d);
///         let d = self.relu1.backward(self.affine1.output(), d);
///         self.affine1.backward_first(x, d, update); // no input gradient for the first layer
///         update.apply(&mut self.relu1);             // p ← p − lr·∂L/∂p with `Sgd`,
///         update.apply(&mut self.affine2);           // nothing with `StoreGradients`
///     }
///     fn visit_params(&self, f) { /* W1, b1, W2, b2: each layer's, numbered */ }
///     /* visit_params_mut, visit_buffers, visit_buffers_mut: the same */
/// }
/// ```
///
/// The chains decide nothing: the mode, the guard against a loss that is
/// not finite and the update are the caller's — `Network::backprop` (the
/// gradients stored, in training mode) and `Optimizer::train_step` (one
/// step) call `forward_loss`, then `backward`. Without a loss layer the
/// same chains implement `Layer` (`forward`, `output`, `backward`,
/// `backward_first`) instead.
///
/// The fields are named as the book names its layers: `affine1`, `relu1`,
/// `affine2`, `sigmoid1`, `conv1`, `pool1`, `flatten1`, `batchnorm1`,
/// `dropout1`, `residual1`, …, a layer of your own after its type in snake
/// case (`swish1` for `Swish`, `two_layer_block1` for `TwoLayerBlock`), and
/// `loss`. Parameters are numbered by layer as the book does: the `k`-th
/// layer whose first parameter is `W` (an `Affine`, a `Conv2d`, a layer of
/// your own) has `Wk` and `bk`, the `k`-th `BatchNorm` `gammak`, `betak`,
/// `running_meank` and `running_vark`. `T` is `f32` unless given:
/// `TwoLayerNet::<f64>::new(&mut rng)`. Everything else —
/// `new`, `predict`, `loss`, `backprop`, `gradient`, `numerical_gradient`,
/// `accuracy` — comes from the `Network` trait.
///
/// # Example
///
/// ```
/// use staticnet::prelude::*;
///
/// const HIDDEN: usize = 50;
///
/// network! {
///     /// The book's two-layer net.
///     pub struct TwoLayerNet<Affine<{ 28 * 28 }, HIDDEN>, Relu, Affine<HIDDEN, 10>, SoftmaxWithLoss>
/// }
///
/// let mut rng = StdRng::seed_from_u64(0);
/// let mut net = TwoLayerNet::<f32>::new(&mut rng);
/// let x = Batch::<f32, Const<784>>::zeros(2);
/// let loss = net.loss(&x, &[3, 7]);
/// assert!((loss - 10f32.ln()).abs() < 1e-3);
/// let names: Vec<String> = net.gradient(&x, &[3, 7]).iter().map(|g| g.name.to_string()).collect();
/// assert_eq!(names, ["W1", "b1", "W2", "b2"]);
/// ```
///
/// # Errors
///
/// Every mistake is reported in the same compile, once, at the tokens that
/// are wrong. Two layers whose sizes are written as numbers and disagree:
///
/// ```compile_fail
/// use staticnet::prelude::*;
/// network! {
///     struct Net<Affine<784, 50>, Relu, Affine<60, 10>, SoftmaxWithLoss>
/// }
/// ```
///
/// ```text
/// error: `Affine<60, 10>` expects 60 inputs, but the layer before it, `Relu`, outputs 50 (the width of `Affine<784, 50>`)
///  --> src/main.rs:3:39
///   |
/// 3 |     struct Net<Affine<784, 50>, Relu, Affine<60, 10>, SoftmaxWithLoss>
///   |                                       ^^^^^^^^^^^^^^
/// ```
///
/// When a size is a named constant, or a layer is one of your own, the macro
/// cannot see the sizes; the compiler checks them instead, and a mismatch is
/// reported at the later layer, naming both:
///
/// ```text
/// error[E0277]: `Affine<60, 10>` cannot follow `Relu`: it expects `Const<60>` inputs, but `Relu` outputs `Const<50>`
/// ```
///
/// Other mistakes — an empty network, a loss layer that is not last, a
/// built-in layer's name in the wrong case, a layer that cannot be stacked,
/// a `Residual` around a layer that changes the shape, a size of zero, the wrong number of sizes, sizes on `Relu`, a fraction or a
/// negative size, a dropout ratio outside `[0, 1)` or not written as a
/// decimal number, a missing comma, `<` or `>` — each get one error saying
/// what to write instead. After errors the macro still declares the struct
/// (with `unimplemented!()` methods), so code that uses it adds no errors of
/// its own.
#[proc_macro]
pub fn network(input: TokenStream) -> TokenStream {
    match syn::parse::<ast::NetworkDecl>(input) {
        Ok(decl) => expand::expand(&decl).into(),
        Err(error) => error.to_compile_error().into(),
    }
}
