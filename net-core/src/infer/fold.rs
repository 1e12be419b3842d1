//! Folding pointwise layers into the layer before them, once, when a
//! network is frozen.

use super::Infer;
use crate::Scalar;

/// What a pointwise layer does to each value, for the layer before it to
/// absorb (see [`Infer::absorb`]).
#[derive(Clone, Debug, PartialEq)]
pub enum Pointwise<T> {
    /// `y = max(x, 0)`, the book's ReLU (a NaN passes through).
    Relu,
    /// `y = scale·x + shift` per feature: batch normalization in inference
    /// mode, or dropout's `1 − ratio`. Each of `scale` and `shift` holds one
    /// value for every feature, or a single value for all of them.
    ScaleShift {
        /// The factor of each feature, or of all.
        scale: Vec<T>,
        /// The offset of each feature, or of all.
        shift: Vec<T>,
    },
}

impl<T: Scalar> Pointwise<T> {
    /// `(scale, shift)` of feature `k`, for a map of `ScaleShift`.
    pub fn scale_shift(&self, k: usize) -> Option<(T, T)> {
        match self {
            Pointwise::Relu => None,
            Pointwise::ScaleShift { scale, shift } => {
                let pick = |values: &[T]| match values {
                    [one] => Some(*one),
                    many => many.get(k).copied(),
                };
                Some((pick(scale)?, pick(shift)?))
            }
        }
    }

    /// Whether the map commutes with a ReLU before it, `f(max(x, 0)) =
    /// max(f(x), 0)`: a scale by positive factors with no shift.
    pub fn commutes_with_relu(&self) -> bool {
        match self {
            Pointwise::Relu => true,
            Pointwise::ScaleShift { scale, shift } => {
                scale.iter().all(|&s| s > T::zero()) && shift.iter().all(|&c| c == T::zero())
            }
        }
    }

    /// Whether a layer with `features` outputs can take the map: one value
    /// for all, or one per feature.
    pub fn fits(&self, features: usize) -> bool {
        match self {
            Pointwise::Relu => true,
            Pointwise::ScaleShift { scale, shift } => [scale.len(), shift.len()]
                .iter()
                .all(|&len| len == 1 || len == features),
        }
    }
}

/// The layers of a frozen network in order, for folding: each frozen
/// layer adds itself (or, for a chain, its own layers) in
/// [`Infer::fold_list`].
pub struct FoldList<'a, T> {
    layers: Vec<&'a mut dyn Fold<T>>,
}

impl<'a, T: Scalar> FoldList<'a, T> {
    /// Adds one layer.
    pub fn push<L: Infer<T> + 'a>(&mut self, layer: &'a mut L) {
        self.layers.push(layer);
    }

    /// Folds every pointwise layer into the nearest layer before it that
    /// absorbs it: `Affine, Relu` becomes one pass, `Affine, BatchNorm,
    /// Relu, Dropout` too.
    pub(crate) fn fold<L: Infer<T>>(chain: &mut L) {
        let mut list = FoldList { layers: Vec::new() };
        chain.fold_list(&mut list);
        let mut absorber: Option<usize> = None;
        for k in 0..list.layers.len() {
            if let (Some(a), Some(map)) = (absorber, list.layers[k].pointwise()) {
                if list.layers[a].absorb(&map) {
                    list.layers[k].skip();
                    continue;
                }
            }
            absorber = Some(k);
        }
    }
}

/// The folding methods of [`Infer`], as an object, so that one list holds
/// layers of different types.
trait Fold<T> {
    fn pointwise(&self) -> Option<Pointwise<T>>;
    fn absorb(&mut self, map: &Pointwise<T>) -> bool;
    fn skip(&mut self);
}

impl<T: Scalar, L: Infer<T>> Fold<T> for L {
    fn pointwise(&self) -> Option<Pointwise<T>> {
        Infer::pointwise(self)
    }

    fn absorb(&mut self, map: &Pointwise<T>) -> bool {
        Infer::absorb(self, map)
    }

    fn skip(&mut self) {
        Infer::skip(self)
    }
}
