//! The `network!` macro of staticnet: parse a declared list of layers,
//! check that their shapes agree, and expand to a struct implementing
//! `staticnet::Network`.
//!
//! Use it through the `staticnet` crate, which re-exports it; the
//! expansion names `::staticnet`.
//!
//! The crate is laid out like `serde_derive`: `parse` keeps the user's
//! tokens, `validate` collects every mistake in one pass, and `expand`
//! generates the code (or, after errors, a fallback item).
#![deny(missing_docs)]

use proc_macro::TokenStream;

mod catalog;
mod cursor;
mod dims;
mod expand;
mod items;
mod layer_list;
mod parse;
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
/// - `Relu`, `Sigmoid`, `BatchNorm` and `Dropout` keep the width of the
///   layer before them, and take no sizes. They cannot come first: the
///   first layer is an `Affine`. `Dropout` drops half its units in
///   training; `Dropout<0.3>` drops the given fraction, a decimal number
///   from 0 up to (not including) 1.
/// - The last layer, and only the last, is a loss layer — `SoftmaxWithLoss`
///   or `IdentityWithSquaredLoss` — which takes the width of the layer
///   before it.
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
/// The macro computes each output size, `(H + 2·pad − size)/stride + 1`,
/// so the `Affine` after `Flatten` is checked like any other; a filter or
/// window that does not fit (larger than its padded input, or a stride that
/// does not divide the pixels it moves over) is an error at that layer.
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
///     fn predict(&mut self, x) -> &Batch<T, Const<10>> {
///         self.set_training(false); // inference, as the book's `train_flg=False`
///         let h1 = self.affine1.forward(x);
///         let h2 = self.relu1.forward(h1);
///         self.affine2.forward(h2)
///     }
///     fn forward_loss(&mut self, x, t) -> T { /* the same chain, then */ self.loss.forward(h3, t) }
///     fn forward_backward(&mut self, x, t) -> T {
///         self.set_training(true);
///         // forward, keeping each layer's input, then backward in reverse:
///         let d = self.loss.backward(t);
///         let d = self.affine2.backward(h2, d);
///         let d = self.relu1.backward(h1, d);
///         self.affine1.backward_params(x, d); // no input gradient for the first layer
///         loss
///     }
///     fn sgd_train_step(&mut self, x, t, lr) -> T {
///         /* as forward_backward, returning early if the loss is not finite,
///            up to the first layer, whose update is fused into its backward: */
///         self.affine1.backward_params_sgd(x, d, lr); // W1 ← W1 − lr·xᵀ·d, no dW1 stored
///         /* then p ← p − lr·∂L/∂p for the parameters of every other layer */
///         loss
///     }
///     fn visit_params(&self, f) { /* W1, b1, W2, b2: the layers with parameters, numbered in order */ }
///     fn visit_params_mut(&mut self, f) { /* the same, mutably */ }
/// }
/// ```
///
/// The fields are named as the book names its layers: `affine1`, `relu1`,
/// `affine2`, `sigmoid1`, `conv1`, `pool1`, `flatten1`, `batchnorm1`,
/// `dropout1`, …, and `loss`; the k-th `BatchNorm`'s parameters are `gammak`
/// and `betak`. `T` is `f32` unless given:
/// `TwoLayerNet::<f64>::new(&mut rng)`. Everything else —
/// `new`, `loss`, `gradient`, `numerical_gradient`, `accuracy`, `sgd_step`
/// — comes from the `Network` trait.
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
/// When a size is a named constant, the macro cannot see its value; the
/// compiler checks it instead, and a mismatch is reported at the later
/// layer, naming both:
///
/// ```text
/// error[E0277]: `Affine<T, 60, 10>` cannot follow `Relu<T, Const<50>>`: it expects `Const<60>` inputs, but that layer outputs `Const<50>`
/// ```
///
/// Other mistakes — an empty network, a loss layer that is not last, no loss
/// layer, an unknown layer (the message lists the known ones), a size of
/// zero, the wrong number of sizes, sizes on `Relu`, a fraction or a
/// negative size, a dropout ratio outside `[0, 1)` or not written as a
/// decimal number, a missing comma, `<` or `>` — each get one error saying
/// what to write instead. After errors the macro still declares the struct
/// (with `unimplemented!()` methods), so code that uses it adds no errors of
/// its own.
#[proc_macro]
pub fn network(input: TokenStream) -> TokenStream {
    match syn::parse::<parse::NetworkDecl>(input) {
        Ok(decl) => expand::expand(&decl).into(),
        Err(error) => error.to_compile_error().into(),
    }
}
