//! Dropout: the book's `Dropout` layer.

use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};

use core::marker::PhantomData;

use crate::infer::{Freeze, Infer, Output, Pointwise};
use crate::shape::map_batch;
use crate::{Batch, BatchStorage, Init, InitBefore, Layer, Scalar, Shape};

/// The book's default fraction of units dropped.
pub const DEFAULT_RATIO: f64 = 0.5;

/// Drops each unit with probability `ratio` in training, and scales every
/// unit by `1 − ratio` in inference, for any sample shape `S` (Srivastava
/// et al., 2014).
///
/// - Training mode: a fresh mask per forward pass, `keep = u > ratio` for
///   `u` uniform in `[0, 1)` as the book draws it; `y = x·keep`, and
///   backward lets the gradient through the kept units only.
/// - Inference mode: `y = x·(1 − ratio)`, the expected output in
///   training.
///
/// The masks come from the layer's own generator, seeded when the layer
/// is drawn (from the network's generator), so a seeded run drops the same
/// units every time. For a gradient check, [`hold_mask`](Dropout::hold_mask)
/// keeps one mask across forward passes.
///
/// In `network!`, `Dropout` drops half the units, and `Dropout<0.3>` the
/// given fraction.
///
/// ```
/// use net_core::{Const, Dropout, Layer, batch_from_rows};
/// let mut dropout = Dropout::<f64, Const<2>>::new(7).with_ratio(0.2);
/// dropout.set_training(false);
/// let y = dropout.forward(&batch_from_rows(&[[1.0, 10.0]]));
/// assert_eq!(y.as_slice(), &[0.8, 8.0]);
/// ```
#[derive(Clone, Debug)]
pub struct Dropout<T: Scalar, S: Shape> {
    ratio: f64,
    training: bool,
    hold_mask: bool,
    rng: StdRng,
    /// 1 for the units kept by the last training forward, 0 for the
    /// dropped ones.
    mask: Vec<T>,
    out: Batch<T, S>,
    dx: Batch<T, S>,
}

impl<T: Scalar, S: Shape> Dropout<T, S> {
    /// A layer dropping the book's half of the units, in training mode,
    /// whose masks are drawn from a generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Dropout {
            ratio: DEFAULT_RATIO,
            training: true,
            hold_mask: false,
            rng: StdRng::seed_from_u64(seed),
            mask: Vec::new(),
            out: BatchStorage::zeros(0),
            dx: BatchStorage::zeros(0),
        }
    }

    /// The same layer dropping the fraction `ratio` of the units.
    ///
    /// # Panics
    /// When `ratio` is not in `[0, 1)`: `network!` checks the ratio it is
    /// given at compile time.
    pub fn with_ratio(mut self, ratio: f64) -> Self {
        assert!(
            (0.0..1.0).contains(&ratio),
            "a dropout ratio is a fraction in [0, 1), not {ratio}"
        );
        self.ratio = ratio;
        self
    }

    /// The fraction of the units dropped in training.
    pub fn ratio(&self) -> f64 {
        self.ratio
    }

    /// Whether the layer is in training mode.
    pub fn is_training(&self) -> bool {
        self.training
    }

    /// While `hold` is set, training forward passes reuse the last mask
    /// (drawing one only when there is none for the batch's size), so the
    /// layer is a fixed function of its input: what a gradient check
    /// needs.
    pub fn hold_mask(&mut self, hold: bool) {
        self.hold_mask = hold;
    }

    /// The mask of the last training forward pass: 1 for each unit kept,
    /// 0 for each unit dropped, in the batch's storage order.
    pub fn mask(&self) -> &[T] {
        &self.mask
    }
}

impl<T: Scalar, S: Shape> Layer<T> for Dropout<T, S> {
    type In = S;
    type Out = S;

    /// Keeps its input's shape; no parameters or products.
    fn describe(input: &crate::summary::SampleShape) -> crate::summary::Description {
        crate::summary::Description::elementwise(input)
    }
    const INIT_BEFORE: InitBefore = InitBefore::LookPast;

    /// Seeds the layer's mask generator with one draw from `rng` (so the
    /// layers after it are drawn from further along the same stream);
    /// `init` is unused.
    fn init(rng: &mut dyn RngCore, _init: Init) -> Self {
        Self::new(rng.next_u64())
    }

    fn set_training(&mut self, training: bool) {
        self.training = training;
    }

    fn forward(&mut self, x: &Batch<T, S>) -> &Batch<T, S> {
        if !self.training {
            let scale = T::of_f64(1.0 - self.ratio);
            map_batch::<T, S>(&mut self.out, x, |x| x * scale);
            return &self.out;
        }
        self.out.set_size_like(x);
        let x = x.as_slice();
        if !(self.hold_mask && self.mask.len() == x.len()) {
            self.mask.resize(x.len(), T::zero());
            for keep in &mut self.mask {
                let u: f64 = self.rng.random();
                *keep = if u > self.ratio { T::one() } else { T::zero() };
            }
        }
        for ((y, &x), &keep) in self.out.as_mut_slice().iter_mut().zip(x).zip(&self.mask) {
            *y = x * keep;
        }
        &self.out
    }

    /// The gradient through the units the last training forward kept (or,
    /// after an inference forward, scaled by `1 − ratio`).
    fn output(&self) -> &Batch<T, S> {
        &self.out
    }

    fn backward(&mut self, _x: &Batch<T, S>, dout: &Batch<T, S>) -> &Batch<T, S> {
        self.dx.set_size_like(dout);
        let (dx, dout) = (self.dx.as_mut_slice(), dout.as_slice());
        if self.training {
            for ((dx, &d), &keep) in dx.iter_mut().zip(dout).zip(&self.mask) {
                *dx = d * keep;
            }
        } else {
            let scale = T::of_f64(1.0 - self.ratio);
            for (dx, &d) in dx.iter_mut().zip(dout) {
                *dx = d * scale;
            }
        }
        &self.dx
    }
}

/// Dropout frozen for inference ([`Freeze`]): `y = x·(1 − ratio)`, folded
/// into the layer before it when that layer can scale its own weights
/// (an `Affine`, a `Conv2d`, through a ReLU between them).
#[derive(Clone, Debug)]
pub struct FrozenDropout<S> {
    ratio: f64,
    skipped: bool,
    shape: PhantomData<fn() -> S>,
}

impl<T: Scalar, S: Shape> Freeze<T> for Dropout<T, S> {
    type Frozen = FrozenDropout<S>;

    fn freeze(&self) -> FrozenDropout<S> {
        FrozenDropout {
            ratio: self.ratio,
            skipped: false,
            shape: PhantomData,
        }
    }
}

impl<T: Scalar, S: Shape> Infer<T> for FrozenDropout<S> {
    type In = S;
    type Out = S;
    type Scratch = Output<T, S>;

    fn infer<'a>(&'a self, x: &'a Batch<T, S>, out: &'a mut Output<T, S>) -> &'a Batch<T, S> {
        if self.skipped {
            return x;
        }
        let scale = T::of_f64(1.0 - self.ratio);
        out.map(x, |x| x * scale)
    }

    fn pointwise(&self) -> Option<Pointwise<T>> {
        (!self.skipped).then(|| Pointwise::ScaleShift {
            scale: vec![T::of_f64(1.0 - self.ratio)],
            shift: vec![T::zero()],
        })
    }

    fn skip(&mut self) {
        self.skipped = true;
    }
}

/// Dropout in inference mode: `x·(1 − ratio)`, as the book's.
impl<T: Scalar, S: Shape> crate::onnx::Export<T> for Dropout<T, S> {
    fn export(
        &self,
        graph: &mut crate::onnx::Graph<T>,
        x: crate::onnx::Value,
    ) -> crate::onnx::Value {
        let keep = graph.initializer("keep", &[], &[T::of_f64(1.0 - self.ratio)]);
        graph.node("Mul", &[&x.name, &keep], &[], x.dims.clone())
    }
}

#[cfg(test)]
mod tests {
    use nalgebra::{Const, Dyn, OMatrix};

    use super::*;

    type Rows = OMatrix<f64, Dyn, Const<100>>;

    #[test]
    fn training_drops_about_the_ratio_and_backward_follows_the_mask() {
        let mut dropout = Dropout::<f64, Const<100>>::new(1).with_ratio(0.3);
        let x = Rows::from_fn_generic(Dyn(100), Const::<100>, |n, j| (n * 100 + j + 1) as f64);
        let y = dropout.forward(&x).clone();
        let dropped = dropout.mask().iter().filter(|&&k| k == 0.0).count();
        // 10,000 units: 3,000 ± 46 expected dropped.
        assert!((2800..3200).contains(&dropped), "{dropped} dropped");
        for ((&y, &x), &keep) in y.iter().zip(x.iter()).zip(dropout.mask()) {
            assert_eq!(y, if keep == 1.0 { x } else { 0.0 });
        }
        let dout = Rows::from_element_generic(Dyn(100), Const::<100>, 2.0);
        let dx = dropout.backward(&x, &dout).clone();
        for (&dx, &keep) in dx.iter().zip(dropout.mask()) {
            assert_eq!(dx, 2.0 * keep);
        }
    }

    #[test]
    fn masks_are_fresh_each_pass_but_seeded() {
        let x = Rows::from_element_generic(Dyn(4), Const::<100>, 1.0);
        let mut a = Dropout::<f64, Const<100>>::new(9);
        let mut b = Dropout::<f64, Const<100>>::new(9);
        let first = a.forward(&x).clone();
        assert_eq!(&first, b.forward(&x), "the same seed, the same mask");
        assert_ne!(&first, a.forward(&x), "a new mask per pass");
        a.hold_mask(true);
        let held = a.forward(&x).clone();
        assert_eq!(&held, a.forward(&x), "a held mask stays");
    }

    #[test]
    fn inference_scales_by_the_kept_fraction() {
        let mut dropout = Dropout::<f64, Const<2>>::new(3);
        dropout.set_training(false);
        assert!(!dropout.is_training());
        let x = crate::batch_from_rows(&[[2.0, -4.0], [1.0, 0.5]]);
        let y = dropout.forward(&x).clone();
        assert_eq!(y, crate::batch_from_rows(&[[1.0, -2.0], [0.5, 0.25]]));
        let dx = dropout.backward(&x, &x);
        assert_eq!(dx, &y);
        assert_eq!(dropout.ratio(), 0.5);
    }

    #[test]
    #[should_panic(expected = "a dropout ratio is a fraction in [0, 1), not 1")]
    fn a_ratio_of_one_is_refused() {
        let _ = Dropout::<f32, Const<1>>::new(0).with_ratio(1.0);
    }
}
