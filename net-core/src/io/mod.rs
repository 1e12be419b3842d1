//! Saving and loading networks: weights and training checkpoints, as
//! [safetensors](https://huggingface.co/docs/safetensors) files.
//!
//! # Weights
//!
//! [`save_weights`] writes one tensor per parameter, under the book's names
//! (`W1`, `b1`, `W2`, `b2`, …) and in the book's NumPy layout: a weight
//! `W1` of an `Affine<784, 50>` is a row-major `[784, 50]` tensor, a bias is
//! a 1-D `[50]` tensor. The dtype is `F32` or `F64`, as the network's
//! scalar type. In memory, matrices are column-major, so they are transposed
//! on the way out and back on the way in. Such a file opens in Python with
//! `safetensors.numpy.load_file` and gives arrays the book's `params`
//! dictionary would hold.
//!
//! [`load_weights`] checks the whole file against the network **before it
//! touches the network**: every parameter must be there (no more, no
//! fewer), with the same shape and the network's dtype, and every value must
//! be finite. All tensors are decoded into buffers of their own first; only
//! when every one of them is good are they copied into the network. A
//! failed load, whatever the file holds, leaves the network exactly as it
//! was, and no file content makes the loader panic. Gradients are never
//! touched.
//!
//! # Checkpoints
//!
//! [`save_checkpoint`] writes the weights (same names, same layout) plus the
//! optimizer's state tensors, named `optimizer.<state>.<param>` (such as
//! `optimizer.v.W1` for Momentum), and puts the iteration, the seed and the
//! optimizer's name in the file's `__metadata__` map. [`load_checkpoint`]
//! loads the weights all-or-nothing, as [`load_weights`] does, and hands
//! back a [`Checkpoint`] with the metadata and the state tensors.
//! [`load_weights`] reads a checkpoint's weights alone, for a program that
//! only predicts.
//!
//! # Choices
//!
//! - **Atomic saves.** Both savers write a temporary file
//!   `.<name>.tmp-<pid>-<n>` in the target's directory, `fsync` it, rename it
//!   over the target and `fsync` the directory. A crash or a `SIGKILL` at any
//!   moment leaves either the old file or the new one, never a torn one.
//!   Temporary files left behind by killed processes (on Linux: processes
//!   that no longer exist) are removed by the next save to the same path. A
//!   symbolic link at the target is replaced by the file, not followed.
//!   The same facility is public, for any file a program writes:
//!   [`AtomicFile`] (written as a stream, then persisted) and
//!   [`write_atomically`] (bytes in memory).
//! - **No dtype conversion.** An `F64` file does not load into an `f32`
//!   network, nor the other way round: the error names both dtypes. Loading
//!   is bit-exact or fails.
//! - **Finite values only.** NaN and ±∞ are refused both when saving and when
//!   loading ([`IoError::NonFinite`], naming the parameter and the
//!   position), so a diverged run cannot silently overwrite a good file, and
//!   every file that saves also loads.
//! - **Whole files in memory.** A file is read whole before it is parsed
//!   (after a look at its first 8 bytes, so that an image or a text file
//!   given by mistake is refused without being read), and built whole in
//!   memory before it is written. Only regular files are read: a device or
//!   a pipe is refused with [`IoError::Read`].
//! - **Digests of the data and of the header.** Both savers record two
//!   SHA-256 digests in the metadata, and loading verifies them before it
//!   reads any tensor: `sha256`, of the tensor data, and `header_sha256`,
//!   of what the header says (every tensor's name, dtype, shape and
//!   offsets, sorted by name, and every other metadata entry, `sha256`
//!   among them). A value changed after the file was written, even to one
//!   just as finite, is refused as damage ([`IoError::DigestMismatch`]);
//!   so is a header changed with the data left alone
//!   ([`IoError::HeaderDigestMismatch`]): two tensors' offsets swapped (W1
//!   would get b1's bytes), a shape rewritten (`[784, 50]` as `[50, 784]`),
//!   a tensor renamed, a checkpoint's iteration edited, the data digest
//!   removed while the header digest stays. Either error names the file.
//!   The JSON text itself (spacing, order of keys, escapes) is not
//!   covered, only what it says. A header that names a tensor twice, or repeats any key, is
//!   refused ([`FormatError::BadHeader`], naming the key), where JSON
//!   parsers would keep the last one.
//!
//!   What is not detected: a file without `header_sha256` loads as one
//!   written before it was recorded, or by another tool (with `sha256`
//!   alone, only the data are checked; with neither, nothing is), so
//!   whoever removes both keys, or the header one alone, removes the
//!   checks. Nor are the digests signatures: anyone who edits a file on
//!   purpose can recompute them. They find damage, and edits by tools that
//!   keep the metadata they do not know; they do not prove who wrote a
//!   file. Other readers ignore both keys.
//! - **Buffers.** A layer's persistent state that is not a parameter
//!   (`BatchNorm`'s `running_mean1`, `running_var1`) is saved and loaded
//!   beside the parameters; a file written before holds none, loads all the
//!   same, and [`Loaded::note`] says so.
//! - **Deterministic bytes.** The header's keys are sorted and the tensors
//!   laid out in the network's order (then the state tensors in the order
//!   given), so the same network and metadata always give the same file.
//! - The in-memory variants ([`to_safetensors_bytes`],
//!   [`load_weights_from_bytes`], …) report errors with the path
//!   [`MEMORY`] (`<memory>`).

mod checkpoint;
mod format;
mod import;
mod npz;
mod pytorch;
mod weights;

use std::path::{Path, PathBuf};

pub use checkpoint::{
    Checkpoint, CheckpointMeta, RecordedEvaluation, STATE_PREFIX, StateTensor, checkpoint_to_bytes,
    load_checkpoint, load_checkpoint_from_bytes, save_checkpoint,
};
// Where they always were for programs that save networks; they live in
// `files`, which `data` uses too.
pub use crate::files::{AtomicFile, WriteError, write_atomically};
pub use crate::onnx::{OnnxOptions, export_onnx, onnx_to_bytes};
pub use import::ImportOptions;
pub use npz::{load_npz, load_npz_from_bytes, npz_shapes};
pub use pytorch::{load_pytorch, load_pytorch_from_bytes, pytorch_to_bytes, save_pytorch};
pub use weights::{
    FileHeader, Loaded, TensorHeader, load_weights, load_weights_from_bytes, read_header,
    save_weights, tensor_shapes, to_safetensors_bytes,
};

/// The path the in-memory savers and loaders put in their errors.
pub const MEMORY: &str = "<memory>";

/// Checks that a file can be written at `path` the way this crate writes
/// every file — a temporary file created beside it, then renamed over it —
/// so that a run can refuse a bad destination before its first step rather
/// than fail after its last. The path must name a file (not a directory,
/// nor a device), its directory must exist, and a file must be creatable
/// there: one is created and removed to make sure.
///
/// # Errors
/// [`IoError::Unwritable`], naming the path and saying why.
pub fn check_writable(path: &Path) -> Result<(), IoError> {
    crate::files::check_writable(path).map_err(|reason| IoError::Unwritable {
        path: path.to_path_buf(),
        reason,
    })
}

impl From<WriteError> for IoError {
    fn from(e: WriteError) -> Self {
        IoError::Write {
            path: e.path,
            source: e.source,
        }
    }
}

/// Why a file or a network could not be saved or loaded.
///
/// Every variant names the file (or [`MEMORY`]); those about one tensor name
/// it too.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum IoError {
    /// The file's tensor data do not match the SHA-256 digest recorded in
    /// its metadata when it was written: it was changed or damaged since.
    #[error("`{}` is damaged: its tensor data do not match the SHA-256 digest recorded when it was written (recorded {recorded}, computed {actual}); the file was changed after it was saved", path.display())]
    DigestMismatch {
        /// The file.
        path: PathBuf,
        /// The digest in its metadata.
        recorded: String,
        /// The digest of its tensor data.
        actual: String,
    },
    /// The file's header does not match the SHA-256 digest of its content
    /// recorded in its metadata when it was written: a tensor was renamed,
    /// retyped, reshaped or moved to other bytes, or a metadata entry was
    /// changed, added or removed, with the tensor data left as they were.
    #[error("`{}` is damaged: the header was changed after it was saved: its tensors' names, dtypes, shapes and offsets, or its metadata, do not match the SHA-256 digest recorded when it was written (recorded {recorded}, computed {actual})", path.display())]
    HeaderDigestMismatch {
        /// The file.
        path: PathBuf,
        /// The digest in its metadata (`header_sha256`).
        recorded: String,
        /// The digest of its header's content.
        actual: String,
    },
    /// The network cannot be written in the format asked for.
    #[error("`{}` cannot be written: {problem}", path.display())]
    Unsupported {
        /// The file.
        path: PathBuf,
        /// Why.
        problem: String,
    },
    /// A file of another framework does not fit the network: every
    /// disagreement found, each naming the layer as declared, the file's
    /// tensor and both shapes (or dtypes).
    #[error("`{}` does not fit the network ({} {}):\n  - {}", path.display(), problems.len(), if problems.len() == 1 { "disagreement" } else { "disagreements" }, problems.join("\n  - "))]
    Disagreements {
        /// The file.
        path: PathBuf,
        /// What disagrees, one sentence each.
        problems: Vec<String>,
    },
    /// The bytes are not a NumPy `.npz` archive: the zip structure is
    /// broken, an entry is not a `.npy` array, or an array's header is
    /// malformed.
    #[error("`{}` is not a NumPy .npz archive: {problem}", path.display())]
    NotNpz {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
    /// The file could not be read.
    #[error("could not read `{}`: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },

    /// A file cannot be written at the path (checked before the work that
    /// would write it).
    #[error("`{}` cannot be written: {reason}", path.display())]
    Unwritable {
        /// The path.
        path: PathBuf,
        /// Why: what the path is, or what the system said.
        reason: String,
    },

    /// The file could not be written (or moved into place).
    #[error("could not write `{}`: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },

    /// The bytes are not a safetensors file.
    #[error("`{}` is not a safetensors file: {problem}", path.display())]
    NotSafetensors {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        problem: FormatError,
    },

    /// The header describes more tensor data than the file holds.
    #[error(
        "`{}` is cut short: its header describes {expected} bytes of tensor data, but only \
         {actual} bytes follow it",
        path.display()
    )]
    Truncated {
        /// The file.
        path: PathBuf,
        /// The number of bytes of tensor data the header describes.
        expected: u64,
        /// The number of bytes after the header.
        actual: u64,
    },

    /// A parameter of the network has no tensor in the file.
    #[error("`{}` has no tensor `{name}`, which the network needs", path.display())]
    MissingTensor {
        /// The file.
        path: PathBuf,
        /// The parameter's name, such as `W2`.
        name: String,
    },

    /// The file holds a tensor that the network has no parameter for.
    #[error(
        "`{}` holds a tensor `{name}`, but the network has no parameter of that name",
        path.display()
    )]
    UnexpectedTensor {
        /// The file.
        path: PathBuf,
        /// The tensor's name.
        name: String,
    },

    /// A tensor's shape differs from the parameter's.
    #[error(
        "`{name}` has shape {file_shape:?} in the file `{}`, but the network's `{name}` is \
         {net_shape:?}",
        path.display()
    )]
    WrongShape {
        /// The file.
        path: PathBuf,
        /// The parameter's name.
        name: String,
        /// The tensor's shape in the file.
        file_shape: Vec<usize>,
        /// The parameter's shape, in the book's order (`[rows, cols]` or `[n]`).
        net_shape: Vec<usize>,
    },

    /// The widths a network leaves to run time cannot be taken from the
    /// file: its tensors disagree, or do not hold them.
    #[error("`{}`: {source}", path.display())]
    Widths {
        /// The file.
        path: PathBuf,
        /// What is wrong with the widths.
        source: crate::WidthError,
    },

    /// A tensor's dtype is not the network's scalar type.
    #[error(
        "`{name}` is stored as {file_dtype} in `{}`, but the network computes in {net_dtype} \
         ({expected_dtype}); staticnet does not convert between dtypes",
        path.display()
    )]
    WrongDtype {
        /// The file.
        path: PathBuf,
        /// The tensor's name.
        name: String,
        /// The tensor's safetensors dtype, such as `F64` or `BF16`.
        file_dtype: String,
        /// The network's scalar type, `f32` or `f64`.
        net_dtype: &'static str,
        /// The safetensors dtype matching it, `F32` or `F64`.
        expected_dtype: &'static str,
    },

    /// A value is NaN or infinite.
    #[error(
        "`{name}` holds the non-finite value {value} at {position:?} (`{}`); weights and \
         optimizer state must be finite to be saved or loaded",
        path.display()
    )]
    NonFinite {
        /// The file being written or read.
        path: PathBuf,
        /// The tensor's name.
        name: String,
        /// Where the value is, in the book's order (`[row, col]` or `[i]`).
        position: Vec<usize>,
        /// The value.
        value: f64,
    },

    /// Two tensors would have the same name: two parameters of the network,
    /// or a state tensor and another tensor.
    #[error("two tensors are named `{name}` (saving to `{}`)", path.display())]
    DuplicateName {
        /// The file being written.
        path: PathBuf,
        /// The name.
        name: String,
    },

    /// The number of values does not match the shape.
    #[error(
        "`{name}` has shape {shape:?} but holds {len} values (saving to `{}`)",
        path.display()
    )]
    LengthMismatch {
        /// The file being written.
        path: PathBuf,
        /// The tensor's name.
        name: String,
        /// Its shape, in the book's order.
        shape: Vec<usize>,
        /// The number of values given.
        len: usize,
    },

    /// A state tensor's name does not start with [`STATE_PREFIX`] or is
    /// nothing but it.
    #[error(
        "the checkpoint tensor `{name}` (`{}`) is not named `optimizer.<state>.<param>`",
        path.display()
    )]
    BadStateName {
        /// The file.
        path: PathBuf,
        /// The name.
        name: String,
    },

    /// A state tensor is neither a vector nor a matrix.
    #[error(
        "the checkpoint tensor `{name}` in `{}` has shape {shape:?}; only vectors and \
         matrices are supported",
        path.display()
    )]
    UnsupportedShape {
        /// The file.
        path: PathBuf,
        /// The tensor's name.
        name: String,
        /// Its shape in the file.
        shape: Vec<usize>,
    },

    /// The file is a safetensors file but not a staticnet checkpoint.
    #[error(
        "`{}` is not a staticnet checkpoint: its metadata has no `format` entry \
         `staticnet.checkpoint` (for a weights file, use `load_weights`)",
        path.display()
    )]
    NotACheckpoint {
        /// The file.
        path: PathBuf,
    },

    /// A checkpoint's metadata entry is missing or unreadable.
    #[error("the checkpoint `{}` has a bad metadata entry `{key}`: {problem}", path.display())]
    BadMetadata {
        /// The file.
        path: PathBuf,
        /// The metadata key, such as `iteration`.
        key: &'static str,
        /// What is wrong with it.
        problem: String,
    },
}

/// How bytes fail to be a safetensors file.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    /// The file is empty.
    #[error("it is empty")]
    Empty,

    /// The file is shorter than the 8-byte header length.
    #[error("it is only {len} bytes long, shorter than the 8-byte header length")]
    TooShort {
        /// Its length.
        len: usize,
    },

    /// The header length is larger than what follows it.
    #[error(
        "its first 8 bytes announce a header of {declared} bytes, but only {available} bytes \
         follow{}",
        looks_like_note(*looks_like)
    )]
    HeaderBeyondFile {
        /// The header length the file announces.
        declared: u64,
        /// The number of bytes after the length.
        available: u64,
        /// What the file seems to be instead, from its first bytes, such as
        /// `"a PNG image"`.
        looks_like: Option<&'static str>,
    },

    /// The header length is above what a file of the network needs (and
    /// never above the format's limit of 100 MB).
    #[error(
        "its header would be {declared} bytes long, more than a file of this network needs ({limit} bytes at most){}",
        looks_like_note(*looks_like)
    )]
    HeaderTooLarge {
        /// The header length the file announces.
        declared: u64,
        /// The longest header accepted.
        limit: u64,
        /// What the file seems to be instead, from its first bytes.
        looks_like: Option<&'static str>,
    },

    /// The header is not UTF-8 text.
    #[error("its header is not UTF-8 text")]
    HeaderNotUtf8,

    /// The header is not a valid safetensors JSON header.
    #[error("its header is not a valid safetensors header ({detail})")]
    BadHeader {
        /// What the parser said.
        detail: String,
    },

    /// More bytes follow the tensor data than the header describes.
    #[error("{actual} bytes follow the header, but it describes only {expected}")]
    TrailingBytes {
        /// The number of bytes of tensor data the header describes.
        expected: u64,
        /// The number of bytes after the header.
        actual: u64,
    },
}

/// `" (it looks like …)"`, or nothing.
fn looks_like_note(looks_like: Option<&str>) -> String {
    looks_like
        .map(|kind| format!(" (it looks like {kind})"))
        .unwrap_or_default()
}
