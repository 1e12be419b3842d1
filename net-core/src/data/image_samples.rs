//! MNIST's splits as [`Samples`]: flat vectors or images, normalized as
//! the dataset's options say.

use super::mnist::{BatchLayout, Mnist, Split};
use super::samples::{BatchError, Samples};
use crate::{Batch, BatchStorage, Chw, Const, Scalar, Shape};

/// A split of an image dataset as flat samples of `N` pixels
/// (`Const<784>`, the book's `flatten=True`) or as images (`Chw<U1, U28,
/// U28>`, `flatten=False`), scaled to `[0, 1]` when `normalize` is set (the
/// book's `normalize=True`). [`Mnist::train_samples`] and
/// [`Mnist::test_samples`] make one with the dataset's
/// [`LoadOptions`](crate::data::LoadOptions).
#[derive(Clone, Copy, Debug)]
pub struct ImageSamples<'a> {
    /// The images and labels.
    pub split: &'a Split,
    /// Whether pixels are divided by 255.
    pub normalize: bool,
}

impl Mnist {
    /// The training images and labels, normalized as the options given to
    /// [`load_mnist`](crate::data::load_mnist) say.
    pub fn train_samples(&self) -> ImageSamples<'_> {
        ImageSamples {
            split: &self.train,
            normalize: self.options.normalize,
        }
    }

    /// The test images and labels, normalized as the options given to
    /// [`load_mnist`](crate::data::load_mnist) say.
    pub fn test_samples(&self) -> ImageSamples<'_> {
        ImageSamples {
            split: &self.test,
            normalize: self.options.normalize,
        }
    }
}

impl ImageSamples<'_> {
    /// The images `indices` into `images`, laid out as `layout`, and their
    /// classes into `labels`: the gather of both sample shapes.
    fn gather_into<T: Scalar>(
        &self,
        indices: &[usize],
        images: &mut [T],
        layout: BatchLayout,
        labels: &mut Vec<usize>,
    ) -> Result<(), BatchError> {
        self.split
            .gather_batch(indices, self.normalize, images, layout)?;
        self.split.gather_labels_vec(indices, labels)
    }
}

impl<T: Scalar, const N: usize> Samples<T, Const<N>> for ImageSamples<'_> {
    type Targets = Vec<usize>;

    fn len(&self) -> usize {
        self.split.len()
    }

    fn gather(
        &self,
        indices: &[usize],
        x: &mut Batch<T, Const<N>>,
        labels: &mut Vec<usize>,
    ) -> Result<(), BatchError> {
        self.gather_into(indices, x.as_mut_slice(), BatchLayout::ColumnMajor, labels)
    }

    fn prefetch(&self, indices: &[usize]) {
        self.split.prefetch(indices);
    }
}

impl<T: Scalar, C, H, W> Samples<T, Chw<C, H, W>> for ImageSamples<'_>
where
    Chw<C, H, W>: Shape,
{
    type Targets = Vec<usize>;

    fn len(&self) -> usize {
        self.split.len()
    }

    fn gather(
        &self,
        indices: &[usize],
        x: &mut Batch<T, Chw<C, H, W>>,
        labels: &mut Vec<usize>,
    ) -> Result<(), BatchError> {
        self.gather_into(indices, x.as_mut_slice(), BatchLayout::RowMajor, labels)
    }

    fn prefetch(&self, indices: &[usize]) {
        self.split.prefetch(indices);
    }
}
