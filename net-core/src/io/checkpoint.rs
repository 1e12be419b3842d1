//! Training checkpoints: weights, optimizer state and metadata in one
//! safetensors file.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use super::format::{
    commit, decode, encode, encode_params, header_limit, param_shape, parse, read_file, serialize,
    specs, stage_params,
};
use super::{IoError, MEMORY};
use crate::files::write_atomically;
pub use crate::optim::STATE_PREFIX;
use crate::{Network, ParamShape, Scalar};

/// The `format` entry of a checkpoint's metadata.
const FORMAT: &str = "staticnet.checkpoint";
/// The `format_version` entry this code writes and reads.
const FORMAT_VERSION: &str = "1";

/// The metadata key prefix of a checkpoint's recorded settings:
/// `setting.batch_size`.
const SETTING_PREFIX: &str = "setting.";

/// What a checkpoint records besides tensors; stored in the file's
/// `__metadata__` map as text.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CheckpointMeta<'a> {
    /// The number of training iterations done.
    pub iteration: u64,
    /// The seed of the run, to draw the same batches on resuming.
    pub seed: u64,
    /// The optimizer's name, such as `"sgd"`.
    pub optimizer: &'a str,
    /// What the network was trained on, such as `"mnist"`, so that a run
    /// can refuse to resume it on other data; `None` if not said.
    pub dataset: Option<&'a str>,
    /// How the weights were made besides the seed, the optimizer's name
    /// and the dataset: named settings as text, such as
    /// `batch_size` → `100`, so that a resume can refuse to change them
    /// (the training driver records its own; see `train::Setting`).
    pub settings: Option<&'a BTreeMap<String, String>>,
    /// How the weights did on held-out data, when the writer measured
    /// these very weights.
    pub evaluation: Option<&'a RecordedEvaluation>,
}

/// How a checkpoint's weights did on held-out data when it was written:
/// what a run compares itself with before it replaces the file.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordedEvaluation {
    /// The data evaluated on, such as `"test"`.
    pub data: String,
    /// The mean loss on it.
    pub loss: f64,
    /// The accuracy on it, for a classifier.
    pub accuracy: Option<f64>,
}

impl RecordedEvaluation {
    /// The metadata entries of the evaluation.
    fn entries(&self) -> Vec<(String, String)> {
        let mut entries = vec![
            ("evaluation.data".to_owned(), self.data.clone()),
            ("evaluation.loss".to_owned(), self.loss.to_string()),
        ];
        if let Some(accuracy) = self.accuracy {
            entries.push(("evaluation.accuracy".to_owned(), accuracy.to_string()));
        }
        entries
    }

    /// The evaluation a file's metadata records, if any.
    ///
    /// # Errors
    /// [`IoError::BadMetadata`] for an evaluation whose loss or accuracy
    /// is not a number.
    pub(crate) fn of_metadata(
        metadata: &HashMap<String, String>,
        path: &Path,
    ) -> Result<Option<RecordedEvaluation>, IoError> {
        let number = |key: &'static str| -> Result<Option<f64>, IoError> {
            metadata
                .get(key)
                .map(|text| {
                    text.parse::<f64>().map_err(|_| IoError::BadMetadata {
                        path: path.to_path_buf(),
                        key,
                        problem: format!("{text:?} is not a number"),
                    })
                })
                .transpose()
        };
        let (Some(data), Some(loss)) =
            (metadata.get("evaluation.data"), number("evaluation.loss")?)
        else {
            return Ok(None);
        };
        Ok(Some(RecordedEvaluation {
            data: data.clone(),
            loss,
            accuracy: number("evaluation.accuracy")?,
        }))
    }
}

/// An optimizer state tensor read from a checkpoint.
#[derive(Clone, Debug, PartialEq)]
pub struct StateTensor<T> {
    /// Its name, starting with [`STATE_PREFIX`].
    pub name: String,
    /// Its shape: a 1-D tensor is a vector, a 2-D one a matrix.
    pub shape: ParamShape,
    /// Its values, in the order `shape` gives (column-major for a matrix,
    /// like the parameters).
    pub values: Vec<T>,
}

impl<T> StateTensor<T> {
    /// The tensor as [`save_checkpoint`] takes it.
    pub fn as_entry(&self) -> (&str, ParamShape, &[T]) {
        (&self.name, self.shape, &self.values)
    }
}

/// A loaded checkpoint: its metadata and optimizer state (the weights went
/// into the network).
#[derive(Clone, Debug, PartialEq)]
pub struct Checkpoint<T> {
    /// The number of training iterations done.
    pub iteration: u64,
    /// The seed of the run.
    pub seed: u64,
    /// The optimizer's name.
    pub optimizer: String,
    /// What the network was trained on, when the checkpoint says (files
    /// written before it did say nothing).
    pub dataset: Option<String>,
    /// The settings it records (see [`CheckpointMeta::settings`]), by
    /// name; empty for files written before checkpoints recorded them.
    pub settings: BTreeMap<String, String>,
    /// How its weights did on held-out data, when the writer measured it.
    pub evaluation: Option<RecordedEvaluation>,
    /// The file it was loaded from (`None` when loaded from bytes), so
    /// that a run can tell a resume of a file from a write over another.
    pub source: Option<PathBuf>,
    /// The optimizer state tensors, in the order they were saved.
    pub state: Vec<StateTensor<T>>,
    /// The network's buffers the checkpoint lacks (see
    /// [`Loaded`](super::Loaded), whose `note` explains them).
    pub loaded: super::Loaded,
}

impl<T> Checkpoint<T> {
    /// The metadata, as [`save_checkpoint`] takes it.
    pub fn meta(&self) -> CheckpointMeta<'_> {
        CheckpointMeta {
            iteration: self.iteration,
            seed: self.seed,
            optimizer: &self.optimizer,
            dataset: self.dataset.as_deref(),
            // No settings and an empty map write the same file.
            settings: (!self.settings.is_empty()).then_some(&self.settings),
            evaluation: self.evaluation.as_ref(),
        }
    }

    /// The state tensor named `name`, such as `"optimizer.v.W1"`.
    pub fn state_tensor(&self, name: &str) -> Option<&StateTensor<T>> {
        self.state.iter().find(|s| s.name == name)
    }

    /// The state tensors, as [`save_checkpoint`] takes them.
    pub fn state_entries(&self) -> Vec<(&str, ParamShape, &[T])> {
        self.state.iter().map(StateTensor::as_entry).collect()
    }
}

/// Whether a file's `__metadata__` map marks it as a checkpoint.
pub(crate) fn is_checkpoint(metadata: &HashMap<String, String>) -> bool {
    metadata.get("format").map(String::as_str) == Some(FORMAT)
}

/// Whether `name` is a valid state tensor name.
fn is_state_name(name: &str) -> bool {
    name.strip_prefix(STATE_PREFIX)
        .is_some_and(|rest| !rest.is_empty())
}

/// A checkpoint as the bytes of a safetensors file: the weights of `net`
/// (as [`to_safetensors_bytes`](super::to_safetensors_bytes) writes them),
/// the `state` tensors, each given as `(name, shape, values)` with values in
/// the order `shape` gives, and `meta` in the `__metadata__` map.
///
/// # Errors
/// [`IoError::BadStateName`] for a state name that does not start with
/// [`STATE_PREFIX`]; [`IoError::DuplicateName`];
/// [`IoError::LengthMismatch`] for values that do not fill their shape;
/// [`IoError::NonFinite`].
pub fn checkpoint_to_bytes<T: Scalar, N: Network<T>>(
    net: &N,
    meta: &CheckpointMeta<'_>,
    state: &[(&str, ParamShape, &[T])],
) -> Result<Vec<u8>, IoError> {
    checkpoint_bytes(net, meta, state, Path::new(MEMORY))
}

fn checkpoint_bytes<T: Scalar, N: Network<T>>(
    net: &N,
    meta: &CheckpointMeta<'_>,
    state: &[(&str, ParamShape, &[T])],
    path: &Path,
) -> Result<Vec<u8>, IoError> {
    let mut tensors = encode_params(net, path)?;
    let mut names: HashSet<String> = tensors.iter().map(|(name, _)| name.clone()).collect();
    for &(name, shape, values) in state {
        if !is_state_name(name) {
            return Err(IoError::BadStateName {
                path: path.to_path_buf(),
                name: name.to_owned(),
            });
        }
        if !names.insert(name.to_owned()) {
            return Err(IoError::DuplicateName {
                path: path.to_path_buf(),
                name: name.to_owned(),
            });
        }
        tensors.push((name.to_owned(), encode(name, shape, values, path)?));
    }
    let mut metadata = BTreeMap::from([
        ("format".to_owned(), FORMAT.to_owned()),
        ("format_version".to_owned(), FORMAT_VERSION.to_owned()),
        ("iteration".to_owned(), meta.iteration.to_string()),
        ("seed".to_owned(), meta.seed.to_string()),
        ("optimizer".to_owned(), meta.optimizer.to_owned()),
    ]);
    if let Some(dataset) = meta.dataset {
        metadata.insert("dataset".to_owned(), dataset.to_owned());
    }
    for (name, value) in meta.settings.into_iter().flatten() {
        metadata.insert(format!("{SETTING_PREFIX}{name}"), value.clone());
    }
    metadata.extend(
        meta.evaluation
            .map(RecordedEvaluation::entries)
            .unwrap_or_default(),
    );
    serialize(&tensors, Some(metadata), path)
}

/// Saves a checkpoint (see [`checkpoint_to_bytes`]) to `path`, atomically:
/// whenever the process stops, `path` holds either the previous checkpoint
/// or the new one.
///
/// # Errors
/// Those of [`checkpoint_to_bytes`], and [`IoError::Write`].
///
/// ```no_run
/// # use net_core::io::{CheckpointMeta, save_checkpoint};
/// # fn demo<N: net_core::Network<f32>>(net: &N) -> Result<(), net_core::io::IoError> {
/// let meta = CheckpointMeta {
///     iteration: 1000,
///     seed: 42,
///     optimizer: "sgd",
///     dataset: Some("mnist"),
///     ..CheckpointMeta::default()
/// };
/// save_checkpoint(net, &meta, &[], std::path::Path::new("run.ckpt.safetensors"))?;
/// # Ok(()) }
/// ```
pub fn save_checkpoint<T: Scalar, N: Network<T>>(
    net: &N,
    meta: &CheckpointMeta<'_>,
    state: &[(&str, ParamShape, &[T])],
    path: impl AsRef<Path>,
) -> Result<(), IoError> {
    let path = path.as_ref();
    let bytes = checkpoint_bytes(net, meta, state, path)?;
    Ok(write_atomically(path, &bytes)?)
}

/// Loads a checkpoint from the bytes of a safetensors file: the weights go
/// into `net`, all or nothing (as in
/// [`load_weights_from_bytes`](super::load_weights_from_bytes)); the
/// metadata and state tensors are returned.
///
/// Every check (metadata, weights, state tensors) passes before `net` is
/// touched.
///
/// # Errors
/// Those of [`load_weights_from_bytes`](super::load_weights_from_bytes);
/// [`IoError::NotACheckpoint`] for a file without checkpoint metadata;
/// [`IoError::BadMetadata`]; [`IoError::UnsupportedShape`] for a state
/// tensor that is neither 1-D nor 2-D.
pub fn load_checkpoint_from_bytes<T: Scalar, N: Network<T>>(
    net: &mut N,
    bytes: &[u8],
) -> Result<Checkpoint<T>, IoError> {
    load_bytes(net, bytes, Path::new(MEMORY)).map(|checkpoint| Checkpoint {
        source: None,
        ..checkpoint
    })
}

/// Loads a checkpoint from the file at `path` (see
/// [`load_checkpoint_from_bytes`]).
///
/// # Errors
/// Those of [`load_checkpoint_from_bytes`], with `path`, and
/// [`IoError::Read`].
pub fn load_checkpoint<T: Scalar, N: Network<T>>(
    net: &mut N,
    path: impl AsRef<Path>,
) -> Result<Checkpoint<T>, IoError> {
    let path = path.as_ref();
    let bytes = read_file(path)?;
    load_bytes(net, &bytes, path)
}

fn load_bytes<T: Scalar, N: Network<T>>(
    net: &mut N,
    bytes: &[u8],
    path: &Path,
) -> Result<Checkpoint<T>, IoError> {
    // Each parameter, and up to three optimizer states of it.
    let parsed = parse(bytes, header_limit(4 * specs(net, path)?.len()), path)?;
    let entry = |key: &'static str| {
        parsed
            .metadata
            .get(key)
            .ok_or_else(|| IoError::BadMetadata {
                path: path.to_path_buf(),
                key,
                problem: "it is missing".to_owned(),
            })
    };
    let number = |key: &'static str| {
        let text = entry(key)?;
        text.parse::<u64>().map_err(|_| IoError::BadMetadata {
            path: path.to_path_buf(),
            key,
            problem: format!("{text:?} is not a whole number from 0 to {}", u64::MAX),
        })
    };
    if !is_checkpoint(&parsed.metadata) {
        return Err(IoError::NotACheckpoint {
            path: path.to_path_buf(),
        });
    }
    let version = entry("format_version")?;
    if version != FORMAT_VERSION {
        return Err(IoError::BadMetadata {
            path: path.to_path_buf(),
            key: "format_version",
            problem: format!("version {version:?} is not known; this staticnet reads version 1"),
        });
    }
    let iteration = number("iteration")?;
    let seed = number("seed")?;
    let optimizer = entry("optimizer")?.clone();
    let dataset = parsed.metadata.get("dataset").cloned();
    let settings = parsed
        .metadata
        .iter()
        .filter_map(|(key, value)| {
            let name = key.strip_prefix(SETTING_PREFIX)?;
            Some((name.to_owned(), value.clone()))
        })
        .collect();
    let evaluation = RecordedEvaluation::of_metadata(&parsed.metadata, path)?;

    let staged = stage_params(net, &parsed, |name| name.starts_with(STATE_PREFIX), path)?;
    let mut state_raw: Vec<_> = parsed
        .tensors
        .iter()
        .filter(|(name, _)| name.starts_with(STATE_PREFIX))
        .collect();
    state_raw.sort_by_key(|(_, raw)| raw.offset);
    let mut state = Vec::new();
    for (name, raw) in state_raw {
        if !is_state_name(name) {
            return Err(IoError::BadStateName {
                path: path.to_path_buf(),
                name: name.clone(),
            });
        }
        let Some(shape) = param_shape(&raw.shape) else {
            return Err(IoError::UnsupportedShape {
                path: path.to_path_buf(),
                name: name.clone(),
                shape: raw.shape.clone(),
            });
        };
        let values = decode::<T>(name, raw, shape, path)?;
        state.push(StateTensor {
            name: name.clone(),
            shape,
            values,
        });
    }
    let loaded = super::Loaded {
        missing_buffers: staged.missing_buffers.clone(),
    };
    commit(net, staged, path)?;
    Ok(Checkpoint {
        iteration,
        seed,
        optimizer,
        dataset,
        settings,
        evaluation,
        source: Some(path.to_path_buf()),
        state,
        loaded,
    })
}
