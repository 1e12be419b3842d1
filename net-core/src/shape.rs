//! Shapes of samples, and how a batch of samples is stored.

use nalgebra::{Const, Dyn, OMatrix};

use crate::Scalar;

/// The shape of one sample, as a type.
///
/// A flat feature vector of `N` values is nalgebra's [`Const<N>`]; its batch
/// is the book's `(N, F)` matrix, `OMatrix<T, Dyn, Const<F>>`. A flat vector
/// whose width is chosen at run time is [`Dyn`]; its batch is
/// `OMatrix<T, Dyn, Dyn>`, and the width travels with the batch. The batch
/// storage is an associated type so that shapes with more axes (channels ×
/// height × width) can choose their own layout.
pub trait Shape: 'static {
    /// How a batch of samples of this shape is stored.
    type Batch<T: Scalar>: BatchStorage<T>;

    /// The axes of one sample when the compiler knows them, as
    /// [`FixedShape::dims`] gives them; `None` for a width chosen at run
    /// time ([`Dyn`]). What a network's [summary](crate::summary) shows of
    /// a layer that does not describe its own output.
    fn known_dims() -> Option<Vec<usize>> {
        None
    }
}

/// A shape whose size the compiler knows: every shape but [`Dyn`].
pub trait FixedShape: Shape {
    /// The number of scalars in one sample.
    const NUMEL: usize;

    /// The axes of one sample: `[F]` for a flat vector, `[C, H, W]` for an
    /// image (what an exported graph's value shapes say).
    fn dims() -> Vec<usize> {
        vec![Self::NUMEL]
    }
}

impl<const N: usize> Shape for Const<N> {
    type Batch<T: Scalar> = OMatrix<T, Dyn, Const<N>>;

    fn known_dims() -> Option<Vec<usize>> {
        Some(vec![N])
    }
}

impl<const N: usize> FixedShape for Const<N> {
    const NUMEL: usize = N;
}

impl Shape for Dyn {
    type Batch<T: Scalar> = OMatrix<T, Dyn, Dyn>;
}

/// The width of a flat vector: [`Const<N>`] when it is compiled in, [`Dyn`]
/// when it is chosen at run time (`Affine<784, dyn>` in `network!`). Both
/// store a batch as an `N × width` column-major matrix, so a layer written
/// over `Width`s runs the same code for both.
pub trait Width: nalgebra::Dim + Shape {
    /// The batch as the matrix it is.
    fn matrix<T: Scalar>(batch: &Batch<T, Self>) -> &OMatrix<T, Dyn, Self>;
    /// The matrix as the batch it is.
    fn batch<T: Scalar>(matrix: &OMatrix<T, Dyn, Self>) -> &Batch<T, Self>;
}

impl<const N: usize> Width for Const<N> {
    fn matrix<T: Scalar>(batch: &Batch<T, Self>) -> &OMatrix<T, Dyn, Self> {
        batch
    }

    fn batch<T: Scalar>(matrix: &OMatrix<T, Dyn, Self>) -> &Batch<T, Self> {
        matrix
    }
}

impl Width for Dyn {
    fn matrix<T: Scalar>(batch: &Batch<T, Self>) -> &OMatrix<T, Dyn, Self> {
        batch
    }

    fn batch<T: Scalar>(matrix: &OMatrix<T, Dyn, Self>) -> &Batch<T, Self> {
        matrix
    }
}

/// A batch of samples of shape `S` with scalar `T`.
pub type Batch<T, S> = <S as Shape>::Batch<T>;

/// What every batch storage offers: its size and its scalars.
pub trait BatchStorage<T>: Clone + core::fmt::Debug + Send + Sync {
    /// A batch of `batch_size` samples, all zero.
    fn zeros(batch_size: usize) -> Self;
    /// The number of samples.
    fn batch_size(&self) -> usize;
    /// All scalars, in storage order.
    fn as_slice(&self) -> &[T];
    /// All scalars, in storage order, mutably.
    fn as_mut_slice(&mut self) -> &mut [T];
    /// Makes room for `batch_size` samples, each of the size this batch
    /// has. The allocation is kept when the size is unchanged; the values
    /// are unspecified afterwards. A layer whose output has its input's
    /// shape sizes it with [`set_size_like`](BatchStorage::set_size_like)
    /// instead, which also takes a width chosen at run time.
    fn set_batch_size(&mut self, batch_size: usize);
    /// Makes room for as many samples as `other` holds, each of its size
    /// (which differs from batch to batch only for a width chosen at run
    /// time): the resize of every layer that keeps the shape of its input,
    /// built-in or one's own. The allocation is kept when nothing changes.
    fn set_size_like(&mut self, other: &Self) {
        self.set_batch_size(other.batch_size());
    }
    /// Writes sample `n` from `values`, given in the sample's natural
    /// order (a row of features, or channels × height × width).
    ///
    /// # Panics
    /// When `n` is not below the batch size or `values` is not one
    /// sample long.
    fn set_sample(&mut self, n: usize, values: &[T]);
}

/// The batch of a flat shape: `N × width`, column-major. A width chosen at
/// run time ([`Dyn`]) is 0 in a batch made by `zeros`, until the layer that
/// writes the batch sizes it (`set_size_like`, or its own width).
impl<T: Scalar, W: nalgebra::Dim> BatchStorage<T> for OMatrix<T, Dyn, W> {
    fn zeros(batch_size: usize) -> Self {
        let width = W::from_usize(W::try_to_usize().unwrap_or(0));
        OMatrix::zeros_generic(Dyn(batch_size), width)
    }

    fn batch_size(&self) -> usize {
        self.nrows()
    }

    fn as_slice(&self) -> &[T] {
        nalgebra::Matrix::as_slice(self)
    }

    fn as_mut_slice(&mut self) -> &mut [T] {
        nalgebra::Matrix::as_mut_slice(self)
    }

    fn set_batch_size(&mut self, batch_size: usize) {
        if self.nrows() != batch_size {
            *self = OMatrix::zeros_generic(Dyn(batch_size), W::from_usize(self.ncols()));
        }
    }

    fn set_size_like(&mut self, other: &Self) {
        if self.shape() != other.shape() {
            *self = OMatrix::zeros_generic(Dyn(other.nrows()), W::from_usize(other.ncols()));
        }
    }

    fn set_sample(&mut self, n: usize, values: &[T]) {
        let width = self.ncols();
        assert_eq!(values.len(), width, "a sample holds {width} values");
        self.row_mut(n)
            .iter_mut()
            .zip(values)
            .for_each(|(x, &v)| *x = v);
    }
}

/// A batch of samples of shape `S` from a flat slice, sample after sample
/// (NumPy's `(N, …)` array, row-major): the checked way in from data of
/// one's own.
///
/// ```
/// use net_core::{Const, batch_from_slice};
/// let x = batch_from_slice::<f64, Const<2>>(&[1.0, -0.5, -2.0, 3.0])?;
/// assert_eq!(x[(1, 0)], -2.0);
/// let error = batch_from_slice::<f64, Const<2>>(&[1.0, 2.0, 3.0]).unwrap_err();
/// assert_eq!(error.to_string(), "3 values are not a whole number of samples of 2 values");
/// # Ok::<(), net_core::PartialSample>(())
/// ```
///
/// # Errors
/// [`PartialSample`] when the length is not a multiple of `S::NUMEL`.
pub fn batch_from_slice<T: Scalar, S: FixedShape>(
    values: &[T],
) -> Result<Batch<T, S>, PartialSample> {
    let per_sample = S::NUMEL;
    if per_sample == 0 || values.len() % per_sample != 0 {
        return Err(PartialSample {
            values: values.len(),
            per_sample,
        });
    }
    let mut batch = Batch::<T, S>::zeros(values.len() / per_sample);
    for (n, sample) in values.chunks_exact(per_sample).enumerate() {
        batch.set_sample(n, sample);
    }
    Ok(batch)
}

/// A flat slice that is not a whole number of samples.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{values} values are not a whole number of samples of {per_sample} values")]
pub struct PartialSample {
    /// The values given.
    pub values: usize,
    /// The values of one sample.
    pub per_sample: usize,
}

/// `out ← f(x)` value by value, `out` sized as `x`: an elementwise layer's
/// forward pass, in training and frozen.
pub(crate) fn map_batch<T: Scalar, S: Shape>(
    out: &mut Batch<T, S>,
    x: &Batch<T, S>,
    f: impl Fn(T) -> T,
) {
    out.set_size_like(x);
    for (y, &x) in out.as_mut_slice().iter_mut().zip(x.as_slice()) {
        *y = f(x);
    }
}

/// A batch built from its samples, one array per row, as the book writes
/// `np.array([[1.0, -0.5], [-2.0, 3.0]])`.
///
/// ```
/// use net_core::batch_from_rows;
/// let x = batch_from_rows(&[[1.0, -0.5], [-2.0, 3.0]]);
/// assert_eq!(x[(1, 0)], -2.0);
/// ```
pub fn batch_from_rows<T: Scalar, const N: usize>(rows: &[[T; N]]) -> OMatrix<T, Dyn, Const<N>> {
    OMatrix::from_fn_generic(Dyn(rows.len()), Const::<N>, |n, j| rows[n][j])
}
