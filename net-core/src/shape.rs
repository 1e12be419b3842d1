//! Shapes of samples, and how a batch of samples is stored.

use nalgebra::{Const, Dyn, OMatrix};

use crate::Scalar;

/// The shape of one sample, as a type.
///
/// A flat feature vector of `N` values is nalgebra's [`Const<N>`]; its batch
/// is the book's `(N, F)` matrix, `OMatrix<T, Dyn, Const<F>>`. The batch
/// storage is an associated type so that shapes with more axes (channels ×
/// height × width) can choose their own layout.
pub trait Shape: 'static {
    /// The number of scalars in one sample.
    const NUMEL: usize;
    /// How a batch of samples of this shape is stored.
    type Batch<T: Scalar>: BatchStorage<T>;
}

impl<const N: usize> Shape for Const<N> {
    const NUMEL: usize = N;
    type Batch<T: Scalar> = OMatrix<T, Dyn, Const<N>>;
}

/// A batch of samples of shape `S` with scalar `T`.
pub type Batch<T, S> = <S as Shape>::Batch<T>;

/// What every batch storage offers: its size and its scalars.
pub trait BatchStorage<T>: Clone + core::fmt::Debug {
    /// A batch of `batch_size` samples, all zero.
    fn zeros(batch_size: usize) -> Self;
    /// The number of samples.
    fn batch_size(&self) -> usize;
    /// All scalars, in storage order.
    fn as_slice(&self) -> &[T];
    /// All scalars, in storage order, mutably.
    fn as_mut_slice(&mut self) -> &mut [T];
    /// Makes room for `batch_size` samples. The allocation is kept when the
    /// size is unchanged; the values are unspecified afterwards.
    fn set_batch_size(&mut self, batch_size: usize);
}

impl<T: Scalar, const N: usize> BatchStorage<T> for OMatrix<T, Dyn, Const<N>> {
    fn zeros(batch_size: usize) -> Self {
        OMatrix::zeros_generic(Dyn(batch_size), Const::<N>)
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
            *self = Self::zeros(batch_size);
        }
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
