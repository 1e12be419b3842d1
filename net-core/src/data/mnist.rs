//! The MNIST loader (also Fashion-MNIST: same format, same file names).
//!
//! The images stay `u8` in memory — the 60,000 training images cost
//! 47,040,000 bytes, not 188 MB of `f32`. The book's `normalize`,
//! `one_hot_label` and `flatten` options ([`LoadOptions`]) are applied per
//! batch, when a batch is gathered into a buffer the caller owns (the
//! training driver does this for you: see `Mnist::train_samples` and
//! `train::Batches`):
//!
//! ```no_run
//! use net_core::data::{BatchLayout, LoadOptions, load_mnist};
//! use net_core::{Const, Dyn, OMatrix};
//!
//! let options = LoadOptions::default();
//! let mnist = load_mnist("data/mnist", &options)?;
//! let indices = [0, 5, 42];
//! let mut x = OMatrix::<f32, Dyn, Const<784>>::zeros(indices.len());
//! mnist.train.gather_batch(&indices, options.normalize, x.as_mut_slice(), BatchLayout::ColumnMajor)?;
//! let mut t = Vec::new();
//! mnist.train.gather_labels_vec(&indices, &mut t)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::path::{Path, PathBuf};

use super::dataset::{
    TEST_IMAGES, TEST_LABELS, TRAIN_IMAGES, TRAIN_LABELS, check_data_dir, locate_file,
};
// `BatchError` is public here too, where it always was.
pub use super::samples::BatchError;
use super::samples::check_indices;
use super::{DataError, MissingFiles, read_idx};
use crate::Scalar;
use crate::kernels::{prefetch, transpose_bytes};

/// The number of classes of MNIST and Fashion-MNIST; labels are below it.
pub const NUM_CLASSES: usize = 10;

/// The book's `load_mnist` options. They do not change what is loaded: they
/// say how batches are to be gathered (see [`Split::gather_batch`],
/// [`Split::gather_labels`], [`Split::gather_one_hot`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LoadOptions {
    /// Pixels as `x / 255` in `[0, 1]` (else `0..=255` as floats).
    pub normalize: bool,
    /// Labels as one-hot rows of an `N × 10` matrix (else class indices).
    pub one_hot_label: bool,
    /// Images as flat rows of an `N × 784` matrix, column-major as
    /// nalgebra's `OMatrix<T, Dyn, Const<784>>` stores it
    /// ([`BatchLayout::ColumnMajor`]); else one image after the other, each
    /// row-major (the book's `N × 1 × 28 × 28`, [`BatchLayout::RowMajor`]).
    pub flatten: bool,
}

impl Default for LoadOptions {
    /// The book's defaults: `normalize: true, flatten: true,
    /// one_hot_label: false`.
    fn default() -> Self {
        LoadOptions {
            normalize: true,
            one_hot_label: false,
            flatten: true,
        }
    }
}

impl LoadOptions {
    /// The batch layout `flatten` asks for.
    pub fn layout(&self) -> BatchLayout {
        if self.flatten {
            BatchLayout::ColumnMajor
        } else {
            BatchLayout::RowMajor
        }
    }
}

/// How an `N × F` batch (`F` features per sample) is laid out in a flat
/// buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum BatchLayout {
    /// Element `(n, f)` at `f * N + n`: nalgebra's column-major storage of
    /// `OMatrix<T, Dyn, Const<F>>`, the layers' batch type.
    #[default]
    ColumnMajor,
    /// Element `(n, f)` at `n * F + f`: sample after sample (for images,
    /// `N × rows × cols` in C order).
    RowMajor,
}

/// The in-memory data given to [`Split::new`] is inconsistent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SplitError {
    /// An image has no pixels.
    #[error("images must have at least one row and one column, got {rows}×{cols}")]
    EmptyImage {
        /// Rows per image.
        rows: usize,
        /// Columns per image.
        cols: usize,
    },
    /// The image buffer is not `labels × rows × cols` bytes long.
    #[error("the image buffer holds {actual} bytes, {expected} expected for the labels given")]
    ImagesLength {
        /// `labels.len() × rows × cols` (`usize::MAX` on overflow).
        expected: usize,
        /// The buffer's length.
        actual: usize,
    },
    /// A label is not a class index.
    #[error("label {value} at index {index} is not a class index (must be below {NUM_CLASSES})")]
    LabelOutOfRange {
        /// The index of the label.
        index: usize,
        /// Its value.
        value: u8,
    },
}

/// One split (training or test) of MNIST: images as `u8` and labels.
///
/// Its `Debug` output summarizes (sizes and class counts) rather than
/// dumping 47 MB of pixels.
#[derive(Clone, PartialEq, Eq)]
pub struct Split {
    /// `len × rows × cols` bytes, image after image, each row-major.
    images: Vec<u8>,
    /// One class index (`< 10`) per image.
    labels: Vec<u8>,
    rows: usize,
    cols: usize,
}

impl fmt::Debug for Split {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Split")
            .field("len", &self.len())
            .field("rows", &self.rows)
            .field("cols", &self.cols)
            .field("class_counts", &self.class_counts())
            .finish_non_exhaustive()
    }
}

impl Split {
    /// A split from images (`labels.len() × rows × cols` bytes, image after
    /// image, each row-major) and labels (each below [`NUM_CLASSES`]).
    pub fn new(
        images: Vec<u8>,
        labels: Vec<u8>,
        rows: usize,
        cols: usize,
    ) -> Result<Self, SplitError> {
        if rows == 0 || cols == 0 {
            return Err(SplitError::EmptyImage { rows, cols });
        }
        // rows × cols must not overflow even when there is no image.
        let expected = rows
            .checked_mul(cols)
            .and_then(|ppi| ppi.checked_mul(labels.len()))
            .unwrap_or(usize::MAX);
        if images.len() != expected {
            return Err(SplitError::ImagesLength {
                expected,
                actual: images.len(),
            });
        }
        if let Some((index, value)) = first_bad_label(&labels) {
            return Err(SplitError::LabelOutOfRange { index, value });
        }
        Ok(Split {
            images,
            labels,
            rows,
            cols,
        })
    }

    /// The number of samples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether the split holds no sample.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Rows per image (28).
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Columns per image (28).
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Pixels per image, `rows × cols` (784): the number of features of a
    /// flattened sample.
    pub fn pixels_per_image(&self) -> usize {
        self.rows * self.cols
    }

    /// Image `i`, row-major, or `None` when out of range.
    pub fn image(&self, i: usize) -> Option<&[u8]> {
        let ppi = self.pixels_per_image();
        let start = i.checked_mul(ppi)?;
        self.images.get(start..start.checked_add(ppi)?)
    }

    /// The label of sample `i`, or `None` when out of range.
    pub fn label(&self, i: usize) -> Option<u8> {
        self.labels.get(i).copied()
    }

    /// All images, `len × rows × cols` bytes.
    pub fn images(&self) -> &[u8] {
        &self.images
    }

    /// All labels.
    pub fn labels(&self) -> &[u8] {
        &self.labels
    }

    /// How many samples each class has.
    pub fn class_counts(&self) -> [usize; NUM_CLASSES] {
        let mut counts = [0; NUM_CLASSES];
        for &label in &self.labels {
            if let Some(c) = counts.get_mut(usize::from(label)) {
                *c += 1;
            }
        }
        counts
    }

    /// The heap memory the split holds, in bytes.
    pub fn heap_bytes(&self) -> usize {
        self.images.capacity() + self.labels.capacity()
    }

    fn check_indices(&self, indices: &[usize]) -> Result<(), BatchError> {
        check_indices(indices, self.len())
    }

    /// Fills `images_out` with the images of the samples `indices`, as an
    /// `N × pixels_per_image()` batch (`N = indices.len()`) in `layout`.
    /// With `normalize` each pixel `x` becomes `x / 255`, else `x`.
    ///
    /// For [`BatchLayout::ColumnMajor`], `images_out` can be the storage of
    /// an `OMatrix<T, Dyn, Const<784>>` with `N` rows (`as_mut_slice()`).
    /// Nothing is allocated. Indices may repeat.
    ///
    /// # Errors
    /// [`BatchError::BufferSize`] unless `images_out.len() == N ×
    /// pixels_per_image()`, [`BatchError::IndexOutOfRange`] for an index not
    /// below [`len`](Self::len); `images_out` is then left untouched.
    pub fn gather_batch<T: Scalar>(
        &self,
        indices: &[usize],
        normalize: bool,
        images_out: &mut [T],
        layout: BatchLayout,
    ) -> Result<(), BatchError> {
        let n = indices.len();
        let ppi = self.pixels_per_image();
        check_len("images", n.checked_mul(ppi), images_out.len())?;
        self.check_indices(indices)?;
        if n == 0 || ppi == 0 {
            return Ok(());
        }
        let divisor = if normalize { 255.0 } else { 1.0 };
        match layout {
            BatchLayout::RowMajor => {
                for (dst, &i) in images_out.chunks_exact_mut(ppi).zip(indices) {
                    let src = self.image(i).unwrap_or_default();
                    for (d, &p) in dst.iter_mut().zip(src) {
                        *d = T::of_f64(f64::from(p) / divisor);
                    }
                }
            }
            BatchLayout::ColumnMajor => {
                // Writing each image down a column would touch a cache line
                // per pixel; instead a few images at a time are converted
                // and transposed together into the columns (in 8 × 8
                // register blocks where the CPU can).
                const SAMPLES: usize = 8;
                let blocks = indices.chunks(SAMPLES);
                let next_blocks = indices.chunks(SAMPLES).skip(1).map(Some).chain([None]);
                for (block, (block_indices, next)) in blocks.zip(next_blocks).enumerate() {
                    // Mini-batches are random images of a 47 MB array: ask
                    // for the next block's while this one is converted.
                    self.prefetch(next.unwrap_or_default());
                    let mut images: [&[u8]; SAMPLES] = [&[]; SAMPLES];
                    for (image, &i) in images.iter_mut().zip(block_indices) {
                        *image = self.image(i).unwrap_or_default();
                    }
                    let images = &images[..block_indices.len()];
                    transpose_bytes(images, divisor, &mut images_out[block * SAMPLES..], n);
                }
            }
        }
        Ok(())
    }

    /// Asks the CPU to start bringing the images `indices` into the cache
    /// (indices out of range are skipped): a hint ahead of a gather.
    pub fn prefetch(&self, indices: &[usize]) {
        for &i in indices {
            prefetch(self.image(i).unwrap_or_default());
        }
    }

    /// Fills `labels_out` with the class indices of the samples `indices`
    /// (the form [`Targets::Classes`](crate::Targets::Classes) takes).
    ///
    /// # Errors
    /// [`BatchError::BufferSize`] unless `labels_out.len() == indices.len()`,
    /// [`BatchError::IndexOutOfRange`] for an index out of range;
    /// `labels_out` is then left untouched.
    pub fn gather_labels(
        &self,
        indices: &[usize],
        labels_out: &mut [usize],
    ) -> Result<(), BatchError> {
        check_len("labels", Some(indices.len()), labels_out.len())?;
        self.check_indices(indices)?;
        for (d, &i) in labels_out.iter_mut().zip(indices) {
            *d = self.label(i).map_or(0, usize::from);
        }
        Ok(())
    }

    /// Replaces the content of `labels_out` with the class indices of the
    /// samples `indices`. It allocates only when its capacity is too small,
    /// so a vector reused from batch to batch allocates once.
    ///
    /// # Errors
    /// [`BatchError::IndexOutOfRange`] for an index out of range;
    /// `labels_out` is then left untouched.
    pub fn gather_labels_vec(
        &self,
        indices: &[usize],
        labels_out: &mut Vec<usize>,
    ) -> Result<(), BatchError> {
        self.check_indices(indices)?;
        labels_out.clear();
        labels_out.extend(
            indices
                .iter()
                .map(|&i| self.label(i).map_or(0, usize::from)),
        );
        Ok(())
    }

    /// Fills `one_hot_out` with the one-hot labels of the samples `indices`:
    /// an `N × 10` batch in `layout` (for [`BatchLayout::ColumnMajor`], the
    /// storage of an `OMatrix<T, Dyn, Const<10>>`). Nothing is allocated.
    ///
    /// # Errors
    /// [`BatchError::BufferSize`] unless `one_hot_out.len() == N × 10`,
    /// [`BatchError::IndexOutOfRange`] for an index out of range;
    /// `one_hot_out` is then left untouched.
    pub fn gather_one_hot<T: Scalar>(
        &self,
        indices: &[usize],
        one_hot_out: &mut [T],
        layout: BatchLayout,
    ) -> Result<(), BatchError> {
        let n = indices.len();
        check_len("one-hot", n.checked_mul(NUM_CLASSES), one_hot_out.len())?;
        self.check_indices(indices)?;
        let zero = T::zero();
        let one = T::one();
        one_hot_out.fill(zero);
        for (row, &i) in indices.iter().enumerate() {
            let class = self.label(i).map_or(0, usize::from);
            let at = match layout {
                BatchLayout::ColumnMajor => class.checked_mul(n).and_then(|x| x.checked_add(row)),
                BatchLayout::RowMajor => row
                    .checked_mul(NUM_CLASSES)
                    .and_then(|x| x.checked_add(class)),
            };
            if let Some(slot) = at.and_then(|at| one_hot_out.get_mut(at)) {
                *slot = one;
            }
        }
        Ok(())
    }
}

fn check_len(
    buffer: &'static str,
    expected: Option<usize>,
    actual: usize,
) -> Result<(), BatchError> {
    match expected {
        Some(expected) if expected == actual => Ok(()),
        _ => Err(BatchError::BufferSize {
            buffer,
            expected: expected.unwrap_or(usize::MAX),
            actual,
        }),
    }
}

/// The first label that is not a class index, with its index.
fn first_bad_label(labels: &[u8]) -> Option<(usize, u8)> {
    labels
        .iter()
        .enumerate()
        .find(|&(_, &l)| usize::from(l) >= NUM_CLASSES)
        .map(|(i, &l)| (i, l))
}

/// MNIST (or Fashion-MNIST): the training and test splits, and the options
/// it was loaded with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mnist {
    /// The 60,000 training samples.
    pub train: Split,
    /// The 10,000 test samples.
    pub test: Split,
    /// The options given to [`load_mnist`], to apply when gathering batches.
    pub options: LoadOptions,
}

/// Loads MNIST or Fashion-MNIST from `dir`, which holds the four canonical
/// files `train-images-idx3-ubyte.gz`, `train-labels-idx1-ubyte.gz`,
/// `t10k-images-idx3-ubyte.gz` and `t10k-labels-idx1-ubyte.gz` — each one
/// gzip-compressed or raw (whatever its name says), and with or without the
/// `.gz` suffix (the `.gz` name is preferred when both exist).
///
/// `options` are kept in [`Mnist::options`]; they apply when batches are
/// gathered, not to the stored data.
///
/// # Errors
/// [`DataError::Missing`] listing every missing file with how to get it
/// (all four when `dir` does not exist); [`DataError::NotADirectory`] when
/// `dir` (or a directory on its path) is a file, and
/// [`DataError::UnreadableDir`] when it cannot be read (see
/// [`check_data_dir`]);
/// for a file that cannot be read or is invalid, an error naming it:
/// [`DataError::Io`], [`DataError::Idx`], [`DataError::WrongShape`] (images
/// must be 3-D with non-empty images, labels 1-D),
/// [`DataError::CountMismatch`], [`DataError::LabelOutOfRange`],
/// [`DataError::ImageSizeMismatch`] (train and test images differ in size).
pub fn load_mnist(dir: impl AsRef<Path>, options: &LoadOptions) -> Result<Mnist, DataError> {
    let dir = dir.as_ref();
    let stems = [TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS];
    // A directory that is a file, or cannot be read, is said to be so
    // rather than reported as missing its four files.
    check_data_dir(dir)?;
    let mut found: [Option<PathBuf>; 4] = Default::default();
    for (slot, stem) in found.iter_mut().zip(stems) {
        *slot = locate_file(dir, stem)?;
    }
    let missing: Vec<String> = stems
        .iter()
        .zip(&found)
        .filter(|(_, path)| path.is_none())
        .map(|(stem, _)| format!("{stem}.gz"))
        .collect();
    let [
        Some(train_images),
        Some(train_labels),
        Some(test_images),
        Some(test_labels),
    ] = found
    else {
        return Err(DataError::Missing(Box::new(MissingFiles {
            dataset: None,
            dir: dir.to_path_buf(),
            missing,
            mirrors: Vec::new(),
            attempts: Vec::new(),
        })));
    };
    // The test split (a seventh of the data) is decompressed on a second
    // thread, beside the training split.
    let (train, test) = std::thread::scope(|scope| {
        let test = scope.spawn(|| load_split(&test_images, &test_labels));
        let train = load_split(&train_images, &train_labels);
        let test = test
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (train, test)
    });
    let (train, test) = (train?, test?);
    if (train.rows, train.cols) != (test.rows, test.cols) {
        return Err(DataError::ImageSizeMismatch {
            train_path: train_images,
            train: (train.rows, train.cols),
            test_path: test_images,
            test: (test.rows, test.cols),
        });
    }
    Ok(Mnist {
        train,
        test,
        options: *options,
    })
}

/// Loads one split from an image file and a label file (IDX, gzip or raw),
/// validated as [`load_mnist`] does.
pub fn load_split(images_path: &Path, labels_path: &Path) -> Result<Split, DataError> {
    let images = read_idx(images_path)?;
    let (count, rows, cols) = match images.dims[..] {
        [count, rows, cols] if rows > 0 && cols > 0 => (count, rows, cols),
        _ => {
            return Err(DataError::WrongShape {
                path: images_path.to_path_buf(),
                expected: "a 3-D array [images, rows, cols] with rows, cols > 0",
                dims: images.dims,
            });
        }
    };
    let labels = read_idx(labels_path)?;
    if labels.dims.len() != 1 {
        return Err(DataError::WrongShape {
            path: labels_path.to_path_buf(),
            expected: "a 1-D array [labels]",
            dims: labels.dims,
        });
    }
    if labels.data.len() != count {
        return Err(DataError::CountMismatch {
            images_path: images_path.to_path_buf(),
            images: count,
            labels_path: labels_path.to_path_buf(),
            labels: labels.data.len(),
        });
    }
    let path = |p: &Path| -> PathBuf { p.to_path_buf() };
    Split::new(images.data, labels.data, rows, cols).map_err(|e| match e {
        SplitError::LabelOutOfRange { index, value } => DataError::LabelOutOfRange {
            path: path(labels_path),
            index,
            value,
        },
        // The parser guarantees data.len() == count × rows × cols, and rows,
        // cols > 0 was checked above.
        SplitError::EmptyImage { .. } | SplitError::ImagesLength { .. } => DataError::WrongShape {
            path: path(images_path),
            expected: "a 3-D array [images, rows, cols] with rows, cols > 0",
            dims: vec![count, rows, cols],
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 3 images of 2 × 3 with distinct pixels; labels 7, 0, 9.
    fn split() -> Split {
        let images: Vec<u8> = (0..18).map(|x| x * 10).collect();
        Split::new(images, vec![7, 0, 9], 2, 3).unwrap()
    }

    #[test]
    fn accessors() {
        let s = split();
        assert_eq!(
            (s.len(), s.rows(), s.cols(), s.pixels_per_image()),
            (3, 2, 3, 6)
        );
        assert_eq!(s.image(1), Some(&[60, 70, 80, 90, 100, 110][..]));
        assert_eq!(s.image(3), None);
        assert_eq!(s.image(usize::MAX), None);
        assert_eq!(s.label(2), Some(9));
        assert_eq!(s.label(3), None);
        assert_eq!(s.class_counts(), [1, 0, 0, 0, 0, 0, 0, 1, 0, 1]);
        assert!(!s.is_empty());
        assert_eq!(
            format!("{s:?}"),
            "Split { len: 3, rows: 2, cols: 3, class_counts: [1, 0, 0, 0, 0, 0, 0, 1, 0, 1], .. }"
        );
    }

    #[test]
    fn new_validates() {
        assert_eq!(
            Split::new(vec![0; 5], vec![1], 2, 3),
            Err(SplitError::ImagesLength {
                expected: 6,
                actual: 5
            })
        );
        assert_eq!(
            Split::new(vec![], vec![], 0, 3),
            Err(SplitError::EmptyImage { rows: 0, cols: 3 })
        );
        assert_eq!(
            Split::new(vec![0; 12], vec![1, 10], 2, 3),
            Err(SplitError::LabelOutOfRange {
                index: 1,
                value: 10
            })
        );
        for labels in [vec![], vec![0]] {
            assert!(matches!(
                Split::new(vec![], labels, usize::MAX, 2),
                Err(SplitError::ImagesLength {
                    expected: usize::MAX,
                    ..
                })
            ));
        }
    }

    #[test]
    fn gather_column_major() {
        let s = split();
        let idx = [2, 0, 2, 1];
        let mut out = vec![-1.0f32; 4 * 6];
        s.gather_batch(&idx, false, &mut out, BatchLayout::ColumnMajor)
            .unwrap();
        for (n, &i) in idx.iter().enumerate() {
            for f in 0..6 {
                assert_eq!(out[f * 4 + n], f32::from(s.image(i).unwrap()[f]));
            }
        }
        let mut out = vec![0.0f64; 4 * 6];
        s.gather_batch(&idx, true, &mut out, BatchLayout::ColumnMajor)
            .unwrap();
        assert_eq!(out[5 * 4], 170.0 / 255.0);
        assert!(out.iter().all(|&x| (0.0..=1.0).contains(&x)));
    }

    /// Batches of any size, on images of MNIST's size, come out as the
    /// row-major gather transposed (the column-major gather works in tiles
    /// of 8 images × 512 pixels).
    #[test]
    fn column_major_is_the_transposed_row_major_gather() {
        let images: Vec<u8> = (0..20 * 784).map(|k| (k * 7 % 256) as u8).collect();
        let s = Split::new(images, vec![1; 20], 28, 28).unwrap();
        for n in [1, 7, 8, 9, 17] {
            let idx: Vec<usize> = (0..n).map(|k| (k * 3) % 20).collect();
            let mut rows = vec![0.0f32; n * 784];
            let mut columns = vec![f32::NAN; n * 784];
            s.gather_batch(&idx, true, &mut rows, BatchLayout::RowMajor)
                .unwrap();
            s.gather_batch(&idx, true, &mut columns, BatchLayout::ColumnMajor)
                .unwrap();
            for k in 0..n {
                for p in 0..784 {
                    assert_eq!(
                        columns[p * n + k],
                        rows[k * 784 + p],
                        "{n} images: ({k}, {p})"
                    );
                }
            }
        }
    }

    #[test]
    fn gather_row_major() {
        let s = split();
        let mut out = vec![0.0f32; 2 * 6];
        s.gather_batch(&[1, 0], false, &mut out, BatchLayout::RowMajor)
            .unwrap();
        let expected: Vec<f32> = [60, 70, 80, 90, 100, 110, 0, 10, 20, 30, 40, 50]
            .iter()
            .map(|&x| x as f32)
            .collect();
        assert_eq!(out, expected);
    }

    #[test]
    fn gather_errors_leave_buffers_untouched() {
        let s = split();
        let mut out = vec![5.0f32; 12];
        assert_eq!(
            s.gather_batch(&[0, 3], true, &mut out, BatchLayout::ColumnMajor),
            Err(BatchError::IndexOutOfRange {
                position: 1,
                index: 3,
                len: 3
            })
        );
        assert!(out.iter().all(|&x| x == 5.0));
        assert_eq!(
            s.gather_batch(&[0], true, &mut out, BatchLayout::ColumnMajor),
            Err(BatchError::BufferSize {
                buffer: "images",
                expected: 6,
                actual: 12
            })
        );
        assert!(matches!(
            s.gather_batch(&[0; 3], true, &mut out, BatchLayout::RowMajor),
            Err(BatchError::BufferSize { .. })
        ));
        let mut labels = [99usize; 2];
        assert!(s.gather_labels(&[0, usize::MAX], &mut labels).is_err());
        assert_eq!(labels, [99, 99]);
        assert!(matches!(
            s.gather_labels(&[0], &mut labels),
            Err(BatchError::BufferSize {
                buffer: "labels",
                ..
            })
        ));
        let mut v = vec![1, 2, 3];
        assert!(s.gather_labels_vec(&[4], &mut v).is_err());
        assert_eq!(v, [1, 2, 3]);
        let mut hot = vec![0.5f32; 20];
        assert!(
            s.gather_one_hot(&[0, 3], &mut hot, BatchLayout::ColumnMajor)
                .is_err()
        );
        assert!(
            s.gather_one_hot(&[0], &mut hot, BatchLayout::ColumnMajor)
                .is_err()
        );
        assert!(hot.iter().all(|&x| x == 0.5));
        // Empty batches are fine.
        s.gather_batch::<f32>(&[], true, &mut [], BatchLayout::ColumnMajor)
            .unwrap();
        s.gather_one_hot::<f32>(&[], &mut [], BatchLayout::ColumnMajor)
            .unwrap();
    }

    #[test]
    fn labels_and_one_hot() {
        let s = split();
        let idx = [2, 0, 1];
        let mut labels = [0usize; 3];
        s.gather_labels(&idx, &mut labels).unwrap();
        assert_eq!(labels, [9, 7, 0]);
        let mut v = Vec::with_capacity(8);
        let ptr = v.as_ptr();
        s.gather_labels_vec(&idx, &mut v).unwrap();
        s.gather_labels_vec(&idx[..2], &mut v).unwrap();
        assert_eq!(v, [9, 7]);
        assert_eq!(v.as_ptr(), ptr, "no reallocation");

        let mut hot = vec![7.0f32; 30];
        s.gather_one_hot(&idx, &mut hot, BatchLayout::ColumnMajor)
            .unwrap();
        for (n, &class) in labels.iter().enumerate() {
            for j in 0..10 {
                let expected = if j == class { 1.0 } else { 0.0 };
                assert_eq!(hot[j * 3 + n], expected);
            }
        }
        s.gather_one_hot(&idx, &mut hot, BatchLayout::RowMajor)
            .unwrap();
        for (n, &class) in labels.iter().enumerate() {
            for j in 0..10 {
                assert_eq!(hot[n * 10 + j], if j == class { 1.0 } else { 0.0 });
            }
        }
    }

    #[test]
    fn gathers_into_layer_batches() {
        use nalgebra::{Const, Dyn, OMatrix};
        let s = split();
        let idx = [1, 2];
        let mut x = OMatrix::<f32, Dyn, Const<6>>::zeros(idx.len());
        s.gather_batch(&idx, true, x.as_mut_slice(), BatchLayout::ColumnMajor)
            .unwrap();
        for (n, &i) in idx.iter().enumerate() {
            for f in 0..6 {
                assert_eq!(x[(n, f)], f32::from(s.image(i).unwrap()[f]) / 255.0);
            }
        }
        let mut t = OMatrix::<f64, Dyn, Const<10>>::zeros(idx.len());
        s.gather_one_hot(&idx, t.as_mut_slice(), BatchLayout::ColumnMajor)
            .unwrap();
        assert_eq!(t[(0, 0)], 1.0);
        assert_eq!(t[(1, 9)], 1.0);
        assert_eq!(t.sum(), 2.0);
    }

    #[test]
    fn options() {
        let o = LoadOptions::default();
        assert!(o.normalize && o.flatten && !o.one_hot_label);
        assert_eq!(o.layout(), BatchLayout::ColumnMajor);
        let o = LoadOptions {
            flatten: false,
            ..o
        };
        assert_eq!(o.layout(), BatchLayout::RowMajor);
    }
}
