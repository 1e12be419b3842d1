//! Datasets: the IDX file format and the MNIST loader.
//!
//! * [`idx`]: a defensive parser for IDX files, raw or gzip-compressed
//!   (detected by content). A header never drives an allocation larger than
//!   the input can actually fill.
//! * [`mnist`]: the four files of MNIST (or Fashion-MNIST), validated and kept
//!   as `u8` in memory; the book's `normalize` / `one_hot_label` / `flatten`
//!   options are applied per batch, into caller-provided buffers.
//! * [`Samples`]: what training gathers its batches from, which the
//!   splits of MNIST are as [`ImageSamples`].
//! * [`dataset`]: where the files live (`--data DIR`, `$MNIST_DIR`, a per-user
//!   cache directory), their canonical names, SHA-256 digests and mirrors.
//! * `download` (cargo feature `download`): fetching missing files from
//!   mirrors, verifying their SHA-256 and moving them into place atomically.
//!
//! Every error coming from a file names that file: see [`DataError`].

mod canonical;
pub mod dataset;
#[cfg(feature = "download")]
pub mod download;
pub mod idx;
mod image_samples;
pub mod mnist;
mod samples;

use std::fmt;
use std::path::PathBuf;

pub use canonical::{check_canonical, dataset_of_file};
pub use dataset::{
    Dataset, FileSpec, MIRROR_ENV, check_data_dir, file_kind, locate_file, resolve_data_dir,
    resolve_mirrors,
};
#[cfg(feature = "download")]
pub use download::{
    DownloadEvent, DownloadLimits, download_file, download_file_with, ensure_downloaded,
    ensure_downloaded_with, sha256_hex,
};
pub use idx::{IdxArray, IdxError, parse_idx, read_idx};
pub use image_samples::ImageSamples;
pub use mnist::{
    BatchLayout, LoadOptions, Mnist, NUM_CLASSES, Split, SplitError, load_mnist, load_split,
};
pub(crate) use samples::check_indices;
pub use samples::{BatchError, Samples};

/// An error while reading, validating or downloading a dataset. Every
/// variant that comes from a file names that file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    /// The file could not be read (or written, for downloads).
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a valid IDX file.
    #[error("{}: {source}", path.display())]
    Idx {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        #[source]
        source: IdxError,
    },
    /// The file is valid IDX but its array has the wrong shape for its role
    /// (images must be 3-D, labels 1-D).
    #[error("{}: expected {expected}, found an array of shape {dims:?}", path.display())]
    WrongShape {
        /// The file.
        path: PathBuf,
        /// What the file should hold.
        expected: &'static str,
        /// The dimensions it declares.
        dims: Vec<usize>,
    },
    /// An image file and its label file disagree on the number of samples.
    #[error(
        "{} holds {images} images but {} holds {labels} labels",
        images_path.display(),
        labels_path.display()
    )]
    CountMismatch {
        /// The image file.
        images_path: PathBuf,
        /// The number of images.
        images: usize,
        /// The label file.
        labels_path: PathBuf,
        /// The number of labels.
        labels: usize,
    },
    /// The training and test images have different sizes.
    #[error(
        "{} holds {}×{} images but {} holds {}×{} images",
        train_path.display(),
        train.0,
        train.1,
        test_path.display(),
        test.0,
        test.1
    )]
    ImageSizeMismatch {
        /// The training image file.
        train_path: PathBuf,
        /// Its `(rows, cols)`.
        train: (usize, usize),
        /// The test image file.
        test_path: PathBuf,
        /// Its `(rows, cols)`.
        test: (usize, usize),
    },
    /// A label is not a class index (`0..10`).
    #[error(
        "{}: label {value} at index {index} is not a class index (must be below {})",
        path.display(),
        mnist::NUM_CLASSES
    )]
    LabelOutOfRange {
        /// The label file.
        path: PathBuf,
        /// The index of the offending label.
        index: usize,
        /// Its value.
        value: u8,
    },
    /// A downloaded file does not have the expected SHA-256 digest. The
    /// download was discarded; nothing was written under the file's name.
    #[error(
        "checksum mismatch for {file} downloaded from {url}: expected SHA-256 {expected}, \
         got {actual}; the download was discarded"
    )]
    ChecksumMismatch {
        /// The file name.
        file: String,
        /// Where it was downloaded from.
        url: String,
        /// The expected SHA-256, lowercase hex.
        expected: String,
        /// The SHA-256 of what was received, lowercase hex.
        actual: String,
    },
    /// The dataset directory, or a directory on its path, is not a
    /// directory.
    #[error("{}: not a directory (it is {what})", path.display())]
    NotADirectory {
        /// The path that is not a directory.
        path: PathBuf,
        /// What it is instead: "a regular file", "a character device"…
        what: &'static str,
    },
    /// The dataset directory exists but cannot be read (its permissions):
    /// whether its files are there cannot be told.
    #[error("{}: the data directory cannot be read: {source}", path.display())]
    UnreadableDir {
        /// The directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Files are missing and cannot be downloaded into the directory: it
    /// cannot be created, or no file can be created in it.
    #[error("{}: missing files cannot be downloaded here: {reason}", path.display())]
    UnwritableDir {
        /// The directory.
        path: PathBuf,
        /// Why, as the system said it.
        reason: String,
    },
    /// A dataset file is none of the canonical files (see
    /// [`check_canonical`]): damaged, or data of one's own.
    #[error("{}: not the canonical {} file (its SHA-256 is {sha256}): the file is damaged or is other data (data of one's own in the MNIST layout loads with `load_mnist` without this check)", path.display(), dataset.name())]
    NotCanonical {
        /// The file.
        path: PathBuf,
        /// The dataset it was taken for.
        dataset: Dataset,
        /// Its SHA-256, hex.
        sha256: String,
    },
    /// A dataset file is the other dataset's.
    #[error("{}: this is the {} file, not the {} one", path.display(), found.name(), expected.name())]
    OtherDataset {
        /// The file.
        path: PathBuf,
        /// The dataset asked for.
        expected: Dataset,
        /// The dataset the file is.
        found: Dataset,
    },
    /// The images of a split are one dataset's and its labels the other's.
    #[error("{} holds {} images but {} holds {} labels: the two files must come from the same dataset", images.display(), images_dataset.name(), labels.display(), labels_dataset.name())]
    MixedDatasets {
        /// The images file.
        images: PathBuf,
        /// Its dataset.
        images_dataset: Dataset,
        /// The labels file.
        labels: PathBuf,
        /// Its dataset.
        labels_dataset: Dataset,
    },
    /// Dataset files are missing, and could not be downloaded (or downloading
    /// was not attempted). The message says how to get them.
    #[error("{0}")]
    Missing(Box<MissingFiles>),
}

/// Which dataset files are missing, where they were looked for, which
/// downloads were attempted, and how to get the files: the payload of
/// [`DataError::Missing`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingFiles {
    /// The dataset, when known.
    pub dataset: Option<Dataset>,
    /// The directory the files were looked for in.
    pub dir: PathBuf,
    /// The canonical names of the missing files.
    pub missing: Vec<String>,
    /// The mirrors that were tried (empty when no download was attempted).
    pub mirrors: Vec<String>,
    /// One line per failed download attempt: `url: reason`.
    pub attempts: Vec<String>,
}

impl fmt::Display for MissingFiles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = self.dataset.map_or("dataset", Dataset::name);
        write!(
            f,
            "{} {what} file(s) missing in {}: {}",
            self.missing.len(),
            self.dir.display(),
            self.missing.join(", ")
        )?;
        if !self.attempts.is_empty() {
            write!(f, "\ndownloading failed:")?;
            for attempt in &self.attempts {
                write!(f, "\n  {attempt}")?;
            }
        }
        let env = match self.dataset {
            Some(dataset) => dataset.env_var().to_owned(),
            None => format!(
                "{} (or {} for Fashion-MNIST)",
                Dataset::Mnist.env_var(),
                Dataset::Fashion.env_var()
            ),
        };
        write!(
            f,
            "\nto get them: load a directory that holds the four files (${env} names the \
             default one), or download them into {}",
            self.dir.display()
        )?;
        let mirrors: Vec<String> = if self.mirrors.is_empty() {
            let dataset = self.dataset.unwrap_or(Dataset::Mnist);
            dataset
                .default_mirrors()
                .iter()
                .map(|m| (*m).to_owned())
                .collect()
        } else {
            self.mirrors.clone()
        };
        if !mirrors.is_empty() {
            write!(f, " from one of these mirrors (URL = mirror + file name):")?;
            for mirror in &mirrors {
                write!(f, "\n  {mirror}")?;
            }
        }
        Ok(())
    }
}
