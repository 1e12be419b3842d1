//! Parameters: heap-allocated fixed-size matrices, and how they are named
//! and visited.

use core::fmt;

use nalgebra::{Const, Dim, MatrixView, MatrixViewMut};

use crate::Scalar;

/// An `R × C` matrix whose values live on the heap, in column-major order,
/// and whose shape is part of its type: compiled in as [`Const<N>`], or
/// chosen at run time as [`Dyn`](nalgebra::Dyn).
///
/// nalgebra's `SMatrix` keeps its values inline, so an `Affine<784, 2048>`
/// would put 12 MiB on the stack; this type never does, even in debug
/// builds.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamMatrix<T, R: Dim, C: Dim> {
    values: Box<[T]>,
    rows: R,
    cols: C,
}

/// A [`ParamMatrix`] whose both sizes are compiled in.
pub type HeapMatrix<T, const R: usize, const C: usize> = ParamMatrix<T, Const<R>, Const<C>>;

impl<T: Scalar, const R: usize, const C: usize> ParamMatrix<T, Const<R>, Const<C>> {
    /// A matrix of zeros.
    pub fn zeros() -> Self {
        Self::zeros_generic(Const::<R>, Const::<C>)
    }

    /// A matrix whose entry `(i, j)` is `f(i, j)`, filled column by column.
    pub fn from_fn(f: impl FnMut(usize, usize) -> T) -> Self {
        Self::from_fn_generic(Const::<R>, Const::<C>, f)
    }
}

impl<T: Scalar, R: Dim, C: Dim> ParamMatrix<T, R, C> {
    /// A `rows × cols` matrix of zeros.
    ///
    /// # Panics
    /// As [`from_fn_generic`](Self::from_fn_generic).
    pub fn zeros_generic(rows: R, cols: C) -> Self {
        Self::from_fn_generic(rows, cols, |_, _| T::zero())
    }

    /// A `rows × cols` matrix whose entry `(i, j)` is `f(i, j)`, filled
    /// column by column.
    ///
    /// # Panics
    /// When the matrix cannot be allocated: its size overflows, or the
    /// allocator refuses it ([`try_from_fn_generic`](Self::try_from_fn_generic)
    /// returns `None` instead).
    pub fn from_fn_generic(rows: R, cols: C, f: impl FnMut(usize, usize) -> T) -> Self {
        let (r, c) = (rows.value(), cols.value());
        Self::try_from_fn_generic(rows, cols, f)
            .unwrap_or_else(|| panic!("a {r} × {c} matrix cannot be allocated"))
    }

    /// [`from_fn_generic`](Self::from_fn_generic), with the allocation
    /// tried first: `None`, with nothing kept, when `rows × cols` values
    /// overflow, take more than `isize::MAX` bytes, or are refused by the
    /// allocator — an error to return, not an abort.
    pub fn try_from_fn_generic(
        rows: R,
        cols: C,
        mut f: impl FnMut(usize, usize) -> T,
    ) -> Option<Self> {
        let r = rows.value();
        let len = r.checked_mul(cols.value())?;
        let mut values = Vec::new();
        values.try_reserve_exact(len).ok()?;
        values.extend((0..len).map(|k| f(k % r, k / r)));
        Some(ParamMatrix {
            values: values.into_boxed_slice(),
            rows,
            cols,
        })
    }

    /// A `rows × cols` matrix of zeros, with the allocation tried first, as
    /// [`try_from_fn_generic`](Self::try_from_fn_generic) does.
    pub fn try_zeros_generic(rows: R, cols: C) -> Option<Self> {
        Self::try_from_fn_generic(rows, cols, |_, _| T::zero())
    }

    /// The number of rows.
    pub fn nrows(&self) -> usize {
        self.rows.value()
    }

    /// The number of columns.
    pub fn ncols(&self) -> usize {
        self.cols.value()
    }

    /// The matrix as an nalgebra view.
    pub fn view(&self) -> MatrixView<'_, T, R, C> {
        MatrixView::from_slice_generic(&self.values, self.rows, self.cols)
    }

    /// The matrix as a mutable nalgebra view.
    pub fn view_mut(&mut self) -> MatrixViewMut<'_, T, R, C> {
        MatrixViewMut::from_slice_generic(&mut self.values, self.rows, self.cols)
    }

    /// The values, column by column.
    pub fn as_slice(&self) -> &[T] {
        &self.values
    }

    /// The values, column by column, mutably.
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        &mut self.values
    }
}

/// The name of a parameter as the book writes it: `W1`, `b2`, …, or, inside
/// a network used as a layer, with the layer's field before it:
/// `block1.W1`.
///
/// A layer names its parameters (`W`, `b`: [`ParamName::new`]); the network
/// numbers the layer. The `k`-th layer whose first parameter has a given
/// name gets `k`: `W1` and `b1` for the first layer with weights (an
/// `Affine` or a `Conv2d`), `W2` for the second, `gamma1` for the first
/// `BatchNorm`. A layer whose names are already numbered — a network used
/// as a layer — keeps them, behind its field's name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ParamName {
    /// The layer's own name for the parameter, such as `W` or `b`.
    pub base: &'static str,
    /// The number of the layer among its kind, from 1; 0 for a lone layer.
    pub index: usize,
    /// The fields of the networks it sits in, outermost first.
    pub scope: Scope,
}

impl ParamName {
    /// The name a layer gives its parameter, before a network numbers it.
    pub const fn new(base: &'static str) -> Self {
        ParamName {
            base,
            index: 0,
            scope: Scope::EMPTY,
        }
    }

    /// The name `base` followed by `index`, as the book writes it (`W1`).
    pub const fn numbered(base: &'static str, index: usize) -> Self {
        ParamName {
            base,
            index,
            scope: Scope::EMPTY,
        }
    }

    /// Whether a network still has to number it: neither numbered nor
    /// scoped.
    pub fn is_unnumbered(&self) -> bool {
        self.index == 0 && self.scope.is_empty()
    }
}

impl fmt::Display for ParamName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for field in self.scope.fields() {
            write!(f, "{field}.")?;
        }
        if self.index == 0 {
            f.write_str(self.base)
        } else {
            write!(f, "{}{}", self.base, self.index)
        }
    }
}

/// The fields of the nested networks a parameter sits in, outermost first:
/// `block1` in `block1.W1`. Up to [`Scope::DEPTH`] levels are kept; past
/// that, the outermost ones are, and two names may then repeat, which
/// saving the network reports as an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Scope {
    fields: [&'static str; Scope::DEPTH],
    len: usize,
}

impl Scope {
    /// How many levels of nesting a name records.
    pub const DEPTH: usize = 8;

    /// No nesting.
    pub const EMPTY: Scope = Scope {
        fields: [""; Scope::DEPTH],
        len: 0,
    };

    /// The fields, outermost first.
    pub fn fields(&self) -> &[&'static str] {
        &self.fields[..self.len]
    }

    /// Whether there is no nesting.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// This scope inside `field`.
    pub fn within(mut self, field: &'static str) -> Scope {
        let kept = self.len.min(Scope::DEPTH - 1);
        self.fields.copy_within(..kept, 1);
        self.fields[0] = field;
        self.len = kept + 1;
        self
    }
}

/// The shape of a parameter, with how its values are ordered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamShape {
    /// A vector of this length, such as a bias.
    Vector(usize),
    /// A matrix stored column by column, such as a weight.
    Matrix {
        /// Number of rows.
        rows: usize,
        /// Number of columns.
        cols: usize,
    },
    /// A bank of convolution filters, `[count, channels, height, width]`,
    /// stored row-major as the book's NumPy array (`W1` of shape
    /// `(30, 1, 5, 5)`): filter by filter, each channel by channel, each
    /// row by row.
    Filters {
        /// Number of filters (`FN`).
        count: usize,
        /// Channels of each filter (`C`).
        channels: usize,
        /// Rows of each filter (`FH`).
        height: usize,
        /// Columns of each filter (`FW`).
        width: usize,
    },
}

impl ParamShape {
    /// The number of values.
    pub fn len(&self) -> usize {
        match *self {
            ParamShape::Vector(n) => n,
            ParamShape::Matrix { rows, cols } => rows * cols,
            ParamShape::Filters { .. } => self.dims().iter().product(),
        }
    }

    /// Whether the parameter holds no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The dimensions in the book's (row-major) order: `[n]`, `[rows, cols]`
    /// or `[count, channels, height, width]`.
    pub fn dims(&self) -> Vec<usize> {
        match *self {
            ParamShape::Vector(n) => vec![n],
            ParamShape::Matrix { rows, cols } => vec![rows, cols],
            ParamShape::Filters {
                count,
                channels,
                height,
                width,
            } => vec![count, channels, height, width],
        }
    }
}

impl fmt::Display for ParamShape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ParamShape::Vector(n) => write!(f, "({n},)"),
            ParamShape::Matrix { rows, cols } => write!(f, "({rows}, {cols})"),
            ParamShape::Filters {
                count,
                channels,
                height,
                width,
            } => write!(f, "({count}, {channels}, {height}, {width})"),
        }
    }
}

/// One layer of a network with the tensors it keeps in a file, as
/// [`Network::tensor_layers`](crate::Network::tensor_layers) lists them:
/// what an importer of another framework's file matches, layer by layer,
/// and names in its messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayerTensors {
    /// The layer as declared, such as `Affine<784, 50>`.
    pub declared: &'static str,
    /// Its field in the network's struct, such as `affine1`.
    pub field: &'static str,
    /// Its place among the network's layers, from 0 (`Input` and the loss
    /// not counted): the index of the same layer in an `nn.Sequential`.
    pub position: usize,
    /// Its parameters, then its buffers, named as in a file (`W1`).
    pub tensors: Vec<TensorSpec>,
}

/// A tensor of a layer: a parameter or a buffer, by name and shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TensorSpec {
    /// Its name in the network (`W1`, `running_mean1`, `block1.W1`).
    pub name: ParamName,
    /// Its shape.
    pub shape: ParamShape,
    /// Whether it is a buffer (state such as a running mean), not a
    /// parameter.
    pub buffer: bool,
}

/// A parameter and its gradient, read-only.
#[derive(Debug)]
pub struct ParamRef<'a, T> {
    /// The parameter's name.
    pub name: ParamName,
    /// Its shape.
    pub shape: ParamShape,
    /// Its values, in the order `shape` gives.
    pub value: &'a [T],
    /// The gradient of the loss with respect to it, from the last backward pass.
    pub grad: &'a [T],
}

/// A parameter and its gradient, with the values writable (for optimizers
/// and loading).
#[derive(Debug)]
pub struct ParamMut<'a, T> {
    /// The parameter's name.
    pub name: ParamName,
    /// Its shape.
    pub shape: ParamShape,
    /// Its values, in the order `shape` gives.
    pub value: &'a mut [T],
    /// The gradient of the loss with respect to it, from the last backward pass.
    pub grad: &'a mut [T],
}

impl<T: Scalar> ParamMut<'_, T> {
    /// The book's update, `p ← p − lr·∂L/∂p`, from the stored gradient.
    pub fn descend(self, lr: T) {
        descend(self.value, self.grad, lr);
    }
}

/// `value ← value − lr·grad`, element by element: plain SGD, which
/// [`ParamUpdate::Sgd`](crate::ParamUpdate::Sgd) and the `sgd` optimizer
/// share, so that the two are the same arithmetic.
pub(crate) fn descend<T: Scalar>(value: &mut [T], grad: &[T], lr: T) {
    for (value, &grad) in value.iter_mut().zip(grad) {
        *value -= lr * grad;
    }
}

/// A layer's persistent state that is not a parameter, read-only: what it
/// learns without a gradient, such as `BatchNorm`'s running mean and
/// variance. Saved and loaded beside the parameters.
#[derive(Debug)]
pub struct BufferRef<'a, T> {
    /// The buffer's name, numbered as parameters are: `running_mean1`.
    pub name: ParamName,
    /// Its shape.
    pub shape: ParamShape,
    /// Its values, in the order `shape` gives.
    pub value: &'a [T],
}

/// A layer's persistent state that is not a parameter, writable (for
/// loading).
#[derive(Debug)]
pub struct BufferMut<'a, T> {
    /// The buffer's name, numbered as parameters are: `running_mean1`.
    pub name: ParamName,
    /// Its shape.
    pub shape: ParamShape,
    /// Its values, in the order `shape` gives.
    pub value: &'a mut [T],
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heap_matrix_is_column_major() {
        let m = HeapMatrix::<f64, 2, 3>::from_fn(|i, j| (10 * i + j) as f64);
        assert_eq!(m.as_slice(), &[0.0, 10.0, 1.0, 11.0, 2.0, 12.0]);
        assert_eq!(m.view()[(1, 2)], 12.0);
    }

    #[test]
    fn a_matrix_too_large_to_allocate_is_none() {
        use nalgebra::Dyn;
        let overflowing = ParamMatrix::<f32, Dyn, Dyn>::try_zeros_generic(Dyn(usize::MAX), Dyn(2));
        assert!(overflowing.is_none());
        let past_isize = ParamMatrix::<f32, Dyn, Dyn>::try_zeros_generic(Dyn(1 << 62), Dyn(1));
        assert!(past_isize.is_none());
        let small = ParamMatrix::<f32, Dyn, Dyn>::try_zeros_generic(Dyn(2), Dyn(3)).unwrap();
        assert_eq!(
            (small.nrows(), small.ncols(), small.as_slice()),
            (2, 3, &[0.0; 6][..])
        );
    }

    #[test]
    fn names_print_as_in_the_book() {
        assert_eq!(ParamName::numbered("W", 1).to_string(), "W1");
        assert_eq!(ParamName::new("b").to_string(), "b");
        assert_eq!(
            ParamShape::Matrix {
                rows: 784,
                cols: 50
            }
            .to_string(),
            "(784, 50)"
        );
        let filters = ParamShape::Filters {
            count: 30,
            channels: 1,
            height: 5,
            width: 5,
        };
        assert_eq!(filters.to_string(), "(30, 1, 5, 5)");
        let mut nested = ParamName::numbered("W", 2);
        nested.scope = nested.scope.within("block1").within("outer");
        assert_eq!(nested.to_string(), "outer.block1.W2");
        assert_eq!((filters.len(), filters.dims()), (750, vec![30, 1, 5, 5]));
    }
}
