//! A network's weights as a safetensors file.

use std::collections::BTreeMap;
use std::path::Path;

use super::checkpoint::{RecordedEvaluation, STATE_PREFIX, is_checkpoint};
use super::format::{
    commit, encode_params, header_limit, parse, read_file, serialize, specs, stage_params,
};
use super::{IoError, MEMORY};
use crate::files::write_atomically;
use crate::{Network, Scalar};

/// The weights of `net` as the bytes of a safetensors file: one tensor per
/// parameter, named as in the book (`W1`, `b1`, …), and one per buffer
/// (`BatchNorm`'s `running_mean1`, `running_var1`, …), row-major, of dtype
/// `F32` or `F64`.
///
/// # Errors
/// [`IoError::NonFinite`] if a parameter holds NaN or ±∞;
/// [`IoError::DuplicateName`] if two parameters share a name.
pub fn to_safetensors_bytes<T: Scalar, N: Network<T>>(net: &N) -> Result<Vec<u8>, IoError> {
    weights_bytes(net, Path::new(MEMORY))
}

fn weights_bytes<T: Scalar, N: Network<T>>(net: &N, path: &Path) -> Result<Vec<u8>, IoError> {
    serialize(&encode_params(net, path)?, None, path)
}

/// Saves the weights of `net` to `path` (see [`to_safetensors_bytes`]),
/// atomically: whenever the process stops, `path` holds either its old
/// content or the new file.
///
/// # Errors
/// Those of [`to_safetensors_bytes`], and [`IoError::Write`] if the file
/// cannot be written.
///
/// ```no_run
/// # fn demo<N: net_core::Network<f32>>(net: &N) -> Result<(), net_core::io::IoError> {
/// net_core::io::save_weights(net, std::path::Path::new("two_layer.safetensors"))?;
/// # Ok(()) }
/// ```
pub fn save_weights<T: Scalar, N: Network<T>>(
    net: &N,
    path: impl AsRef<Path>,
) -> Result<(), IoError> {
    let path = path.as_ref();
    let bytes = weights_bytes(net, path)?;
    Ok(write_atomically(path, &bytes)?)
}

/// What loading a file found besides the tensors it copied in.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Loaded {
    /// The network's buffers the file does not hold: it was written before
    /// layers' state was saved. They keep the values they had.
    pub missing_buffers: Vec<String>,
}

impl Loaded {
    /// A sentence for the user when buffers were missing, such as
    /// `BatchNorm`'s running statistics, which then start afresh.
    pub fn note(&self) -> Option<String> {
        if self.missing_buffers.is_empty() {
            return None;
        }
        let names: Vec<String> = self
            .missing_buffers
            .iter()
            .map(|n| format!("`{n}`"))
            .collect();
        Some(format!(
            "the file holds no {}: it was written before layers' state was saved, so {} kept {} value (batch normalization's running statistics start afresh, and predictions in inference mode differ from the network that was saved)",
            names.join(", "),
            if names.len() == 1 { "it" } else { "they" },
            if names.len() == 1 { "its" } else { "their" },
        ))
    }
}

/// Loads the weights of `net` from the bytes of a safetensors file: a
/// weights file, or a checkpoint, whose optimizer state and metadata are
/// left aside (to resume training, [`load_checkpoint`](super::load_checkpoint)
/// reads them).
///
/// The file must hold exactly the network's parameters and buffers, by
/// name, with the network's shapes and dtype, and finite values; a file
/// written before buffers were saved may lack the buffers, which the
/// returned [`Loaded`] lists. Everything is checked and decoded before the
/// network is touched: on error, `net` is unchanged.
///
/// # Errors
/// [`IoError::NotSafetensors`] and [`IoError::Truncated`] for a damaged
/// file (a header that repeats a key among them);
/// [`IoError::DigestMismatch`] and [`IoError::HeaderDigestMismatch`] for a
/// file changed after it was saved; [`IoError::MissingTensor`], [`IoError::UnexpectedTensor`],
/// [`IoError::WrongShape`], [`IoError::WrongDtype`] and
/// [`IoError::NonFinite`] for a file that does not fit the network. The
/// path in the error is [`MEMORY`].
pub fn load_weights_from_bytes<T: Scalar, N: Network<T>>(
    net: &mut N,
    bytes: &[u8],
) -> Result<Loaded, IoError> {
    load_bytes(net, bytes, Path::new(MEMORY))
}

fn load_bytes<T: Scalar, N: Network<T>>(
    net: &mut N,
    bytes: &[u8],
    path: &Path,
) -> Result<Loaded, IoError> {
    // A checkpoint holds up to three optimizer states per parameter.
    let parsed = parse(bytes, header_limit(4 * specs(net, path)?.len()), path)?;
    let checkpoint = is_checkpoint(&parsed.metadata);
    let is_state = |name: &str| checkpoint && name.starts_with(STATE_PREFIX);
    let staged = stage_params(net, &parsed, is_state, path)?;
    let loaded = Loaded {
        missing_buffers: staged.missing_buffers.clone(),
    };
    commit(net, staged, path)?;
    Ok(loaded)
}

/// Loads the weights of `net` from the safetensors file at `path`, all or
/// nothing (see [`load_weights_from_bytes`]).
///
/// # Errors
/// Those of [`load_weights_from_bytes`], with `path`, and
/// [`IoError::Read`] if the file cannot be read.
pub fn load_weights<T: Scalar, N: Network<T>>(
    net: &mut N,
    path: impl AsRef<Path>,
) -> Result<Loaded, IoError> {
    let path = path.as_ref();
    let bytes = read_file(path)?;
    load_bytes(net, &bytes, path)
}

/// The shape of every tensor of the safetensors file at `path`, by name,
/// in the book's order (`[rows, cols]`): what a network with widths chosen
/// at run time reads its widths from (`from_weights`).
///
/// # Errors
/// Those of [`read_header`].
pub fn tensor_shapes(path: impl AsRef<Path>) -> Result<BTreeMap<String, Vec<usize>>, IoError> {
    Ok(read_header(path)?
        .tensors
        .into_iter()
        .map(|(name, tensor)| (name, tensor.shape))
        .collect())
}

/// What the header of a safetensors file says, read without a network:
/// what a program needs to pick the network (its widths, its scalar type)
/// and the loader ([`load_weights`] or
/// [`load_checkpoint`](super::load_checkpoint)).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct FileHeader {
    /// Every tensor, by name.
    pub tensors: BTreeMap<String, TensorHeader>,
    /// Whether the file is a staticnet checkpoint (weights, metadata and
    /// optimizer state), to be read with
    /// [`load_checkpoint`](super::load_checkpoint) to resume training
    /// (its weights alone load as a weights file's do).
    pub checkpoint: bool,
    /// A checkpoint's iteration, when its metadata states one.
    pub iteration: Option<u64>,
    /// What a checkpoint's weights were trained on, when it says (such as
    /// `"MNIST"`).
    pub dataset: Option<String>,
    /// How a checkpoint's weights did on held-out data, when it says.
    pub evaluation: Option<RecordedEvaluation>,
}

/// One tensor of a [`FileHeader`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TensorHeader {
    /// Its shape, in the book's order (`[rows, cols]`).
    pub shape: Vec<usize>,
    /// Its safetensors dtype, such as `F32`, `F64` or `BF16`.
    pub dtype: String,
}

/// Reads the header of the safetensors file at `path`: its tensors'
/// shapes and dtypes, and whether it is a checkpoint. The whole file is
/// checked as a load checks it (framing, offsets, repeated keys, digests).
///
/// # Errors
/// [`IoError::Read`] if the file cannot be read; [`IoError::NotSafetensors`],
/// [`IoError::Truncated`], [`IoError::DigestMismatch`] and
/// [`IoError::HeaderDigestMismatch`] for a damaged file.
pub fn read_header(path: impl AsRef<Path>) -> Result<FileHeader, IoError> {
    let path = path.as_ref();
    let bytes = read_file(path)?;
    // Any header the format allows: the network's size is not known yet.
    let parsed = parse(&bytes, u64::MAX, path)?;
    let checkpoint = is_checkpoint(&parsed.metadata);
    let evaluation = if checkpoint {
        RecordedEvaluation::of_metadata(&parsed.metadata, path)?
    } else {
        None
    };
    Ok(FileHeader {
        checkpoint,
        iteration: checkpoint
            .then(|| parsed.metadata.get("iteration")?.parse().ok())
            .flatten(),
        dataset: checkpoint
            .then(|| parsed.metadata.get("dataset").cloned())
            .flatten(),
        evaluation,
        tensors: parsed
            .tensors
            .into_iter()
            .map(|(name, tensor)| {
                let header = TensorHeader {
                    shape: tensor.shape,
                    dtype: tensor.dtype.to_string(),
                };
                (name, header)
            })
            .collect(),
    })
}
