//! PyTorch's `state_dict`, saved with safetensors
//! (`safetensors.torch.save_file(model.state_dict(), path)`), in and out.
//!
//! PyTorch names a tensor by its module's place and its role (`0.weight`,
//! `1.running_mean`, `features.3.bias`), where staticnet numbers it by kind
//! (`W1`, `running_mean1`). The mapping follows the declaration's order:
//! the modules of the file that hold tensors, in the order of their names
//! (numbers compared as numbers), are the network's layers that hold
//! tensors, in the order declared — the k-th `Linear` is the k-th `Affine`,
//! a `Conv2d` a `Conv2d`, a `BatchNorm1d` a `BatchNorm` with its running
//! statistics. `weight` is `W` (or `γ`), `bias` `b` (or `β`); a `Linear`'s
//! weight is `[outputs, inputs]`, the transpose of `W`; convolution filters
//! are `[FN, C, FH, FW]` in both. `num_batches_tracked` counts batches
//! seen in training, which inference does not use: it is left aside.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use safetensors::Dtype;

use super::format::{OwnedTensor, encode, header_limit, parse, read_file, serialize, specs};
use super::import::{ForeignDtype, ForeignTensor, ImportOptions, Wanted, describe, import};
use super::{IoError, MEMORY};
use crate::files::write_atomically;
use crate::{LayerTensors, Network, ParamShape, Scalar, TensorSpec};

/// PyTorch's buffer that counts training batches, never a network's.
const BATCHES_TRACKED: &str = "num_batches_tracked";

/// PyTorch's name for the role of a tensor staticnet names `base`.
fn role(base: &str) -> &str {
    match base {
        "W" | "gamma" => "weight",
        "b" | "beta" => "bias",
        other => other,
    }
}

/// One module's worth of a layer's tensors: those that share a number and
/// a scope (a nested network's layers are modules of their own).
fn modules(layers: &[LayerTensors]) -> Vec<(&LayerTensors, Vec<TensorSpec>)> {
    let mut modules: Vec<(&LayerTensors, Vec<TensorSpec>)> = Vec::new();
    for layer in layers {
        let first = modules.len();
        for &spec in &layer.tensors {
            let family = |s: &TensorSpec| (s.name.scope, s.name.index, is_norm(s.name.base));
            match modules[first..]
                .iter_mut()
                .find(|(_, m)| m.first().is_some_and(|t| family(t) == family(&spec)))
            {
                Some((_, module)) => module.push(spec),
                None => modules.push((layer, vec![spec])),
            }
        }
    }
    modules
}

fn is_norm(base: &str) -> bool {
    matches!(base, "gamma" | "beta" | "running_mean" | "running_var")
}

/// The module part of a PyTorch key: `features.3` of `features.3.weight`.
fn module_of(key: &str) -> &str {
    key.rsplit_once('.').map_or("", |(module, _)| module)
}

/// Orders module names as PyTorch numbers them: `2` before `10`.
fn natural(a: &str, b: &str) -> std::cmp::Ordering {
    let parts = |s: &'_ str| {
        s.split('.')
            .map(|p| (p.parse::<u64>().ok(), p.to_owned()))
            .collect::<Vec<_>>()
    };
    parts(a).cmp(&parts(b))
}

/// Loads a PyTorch `state_dict` saved with safetensors into `net`: every
/// tensor checked against the declaration (its place, its shape, its
/// dtype, finite values) before any is written, and all disagreements
/// reported together.
///
/// A tensor of the file that no layer takes is an error unless
/// `options` says [`ignore_unused`](ImportOptions::ignore_unused); `f64`
/// tensors go into an `f32` network (and `f32` into `f64`) only with
/// [`convert_dtype`](ImportOptions::convert_dtype).
///
/// # Errors
/// [`IoError::Read`], [`IoError::NotSafetensors`] and the other errors of a
/// damaged safetensors file; [`IoError::Disagreements`] for a file that
/// does not fit the network, each disagreement naming the layer as
/// declared, the file's tensor and both shapes.
pub fn load_pytorch<T: Scalar, N: Network<T>>(
    net: &mut N,
    path: impl AsRef<Path>,
    options: ImportOptions,
) -> Result<(), IoError> {
    let path = path.as_ref();
    load_bytes(net, &read_file(path)?, options, path)
}

/// Loads a PyTorch `state_dict` from the bytes of a safetensors file (see
/// [`load_pytorch`]).
///
/// # Errors
/// Those of [`load_pytorch`] but `Read`; the path in the error is
/// [`MEMORY`].
pub fn load_pytorch_from_bytes<T: Scalar, N: Network<T>>(
    net: &mut N,
    bytes: &[u8],
    options: ImportOptions,
) -> Result<(), IoError> {
    load_bytes(net, bytes, options, Path::new(MEMORY))
}

fn load_bytes<T: Scalar, N: Network<T>>(
    net: &mut N,
    bytes: &[u8],
    options: ImportOptions,
    path: &Path,
) -> Result<(), IoError> {
    // Each tensor, and a `num_batches_tracked` or an ignored one beside it.
    let parsed = parse(bytes, header_limit(4 * specs(net, path)?.len() + 64), path)?;
    let tensors: BTreeMap<String, ForeignTensor<'_>> = parsed
        .tensors
        .iter()
        .map(|(name, raw)| {
            let dtype = match raw.dtype {
                Dtype::F32 => ForeignDtype::F32,
                Dtype::F64 => ForeignDtype::F64,
                other => ForeignDtype::Other(other.to_string()),
            };
            let tensor = ForeignTensor {
                dtype,
                shape: raw.shape.clone(),
                data: Cow::Borrowed(raw.data),
            };
            (name.clone(), tensor)
        })
        .collect();
    let is_tracked = |key: &str| key == BATCHES_TRACKED || key.ends_with(".num_batches_tracked");
    let mut names: Vec<&str> = tensors
        .keys()
        .filter(|k| !is_tracked(k))
        .map(|k| module_of(k))
        .collect();
    names.sort_by(|a, b| natural(a, b));
    names.dedup();

    let layers = net.tensor_layers();
    let modules = modules(&layers);
    let mut wanted = Vec::new();
    let mut problems = Vec::new();
    for (k, (layer, specs)) in modules.iter().enumerate() {
        let Some(module) = names.get(k) else {
            let held: Vec<String> = specs.iter().map(|s| format!("`{}`", s.name)).collect();
            problems.push(format!(
                "{}: the file has {} modules with tensors, and none is left for this layer \
                 (its {})",
                describe(layer),
                names.len(),
                held.join(", ")
            ));
            continue;
        };
        for &spec in specs {
            let role = role(spec.name.base);
            wanted.push(Wanted {
                layer: describe(layer),
                spec,
                key: if module.is_empty() {
                    role.to_owned()
                } else {
                    format!("{module}.{role}")
                },
                transposed: matches!(spec.shape, ParamShape::Matrix { .. }),
            });
        }
    }
    import(net, &tensors, &wanted, problems, is_tracked, options, path)
}

/// Saves the weights of `net` as a PyTorch `state_dict` in safetensors,
/// atomically: the keys and layouts that `load_state_dict` of the
/// equivalent `nn.Sequential` takes as they are (`0.weight` `[50, 784]`,
/// `0.bias`, `2.weight`, …; each layer at its place in the declaration, the
/// loss left out, a `Residual` written as the layer it wraps, at its
/// place). `safetensors.torch.load_file(path)` reads it.
///
/// # Errors
/// [`IoError::NonFinite`] for a parameter that is not finite;
/// [`IoError::Unsupported`] for a network with a nested network, which
/// has no one `nn.Sequential` equivalent; [`IoError::Write`].
pub fn save_pytorch<T: Scalar, N: Network<T>>(
    net: &N,
    path: impl AsRef<Path>,
) -> Result<(), IoError> {
    let path = path.as_ref();
    let bytes = state_dict_bytes(net, path)?;
    Ok(write_atomically(path, &bytes)?)
}

/// The weights of `net` as the bytes of a PyTorch `state_dict` in
/// safetensors (see [`save_pytorch`]).
///
/// # Errors
/// Those of [`save_pytorch`] but `Write`; the path in the error is
/// [`MEMORY`].
pub fn pytorch_to_bytes<T: Scalar, N: Network<T>>(net: &N) -> Result<Vec<u8>, IoError> {
    state_dict_bytes(net, Path::new(MEMORY))
}

fn state_dict_bytes<T: Scalar, N: Network<T>>(net: &N, path: &Path) -> Result<Vec<u8>, IoError> {
    let mut values: HashMap<String, Vec<T>> = HashMap::new();
    net.visit_params(&mut |p| {
        values.insert(p.name.to_string(), p.value.to_vec());
    });
    net.visit_buffers(&mut |b| {
        values.insert(b.name.to_string(), b.value.to_vec());
    });
    let mut tensors: Vec<(String, OwnedTensor)> = Vec::new();
    for layer in net.tensor_layers() {
        for spec in &layer.tensors {
            if !spec.name.scope.is_empty() {
                return Err(IoError::Unsupported {
                    path: path.to_path_buf(),
                    problem: format!(
                        "{} is a network inside the network, which no one `nn.Sequential` \
                         holds as it is",
                        describe(&layer)
                    ),
                });
            }
            let name = spec.name.to_string();
            let key = format!("{}.{}", layer.position, role(spec.name.base));
            let value = values.get(&name).map_or(&[][..], Vec::as_slice);
            let tensor = match spec.shape {
                // Column-major `[inputs, outputs]` is row-major `[outputs, inputs]`.
                ParamShape::Matrix { rows, cols } => {
                    let mut tensor = encode(&name, ParamShape::Vector(rows * cols), value, path)?;
                    tensor.shape = vec![cols, rows];
                    tensor
                }
                shape => encode(&name, shape, value, path)?,
            };
            tensors.push((key, tensor));
        }
    }
    serialize(&tensors, None, path)
}
