//! Another framework's tensors into a declared network: each tensor the
//! network needs is looked for where the format's mapping says, and every
//! disagreement — a missing tensor, another shape, another dtype, a value
//! that is not finite, a tensor no layer takes — is collected before a
//! value is written, so that one error lists them all.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use super::IoError;
use super::format::{Staged, book_position, commit, file_values, network_order};
use crate::{LayerTensors, Network, ParamShape, Scalar, TensorSpec};

/// What an import does with what the declaration does not settle.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ImportOptions {
    convert_dtype: bool,
    ignore_unused: bool,
}

impl ImportOptions {
    /// Refuse another float type, refuse tensors no layer takes.
    pub fn new() -> Self {
        Self::default()
    }

    /// Convert tensors of the other float type (`f64` values into an `f32`
    /// network are rounded) instead of refusing them.
    pub fn convert_dtype(mut self, convert: bool) -> Self {
        self.convert_dtype = convert;
        self
    }

    /// Leave aside tensors of the file that no layer takes, instead of
    /// refusing the file.
    pub fn ignore_unused(mut self, ignore: bool) -> Self {
        self.ignore_unused = ignore;
        self
    }
}

/// The scalar type of a tensor in a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ForeignDtype {
    F32,
    F64,
    /// Any other, by the file's name for it.
    Other(String),
}

impl ForeignDtype {
    fn name(&self) -> &str {
        match self {
            ForeignDtype::F32 => "F32",
            ForeignDtype::F64 => "F64",
            ForeignDtype::Other(name) => name,
        }
    }
}

/// A tensor of a file: its values little-endian, in row-major order.
pub(crate) struct ForeignTensor<'a> {
    pub dtype: ForeignDtype,
    pub shape: Vec<usize>,
    pub data: Cow<'a, [u8]>,
}

/// Where the file keeps one tensor of the network.
pub(crate) struct Wanted {
    /// The layer, as the messages name it: `` `Affine<784, 50>` (affine1) ``.
    pub layer: String,
    pub spec: TensorSpec,
    /// Its name in the file.
    pub key: String,
    /// Whether the file stores a matrix transposed (`[outputs, inputs]`,
    /// as PyTorch's `Linear` does), rather than in the book's order.
    pub transposed: bool,
}

/// A layer as the messages name it.
pub(crate) fn describe(layer: &LayerTensors) -> String {
    format!("`{}` ({})", layer.declared, layer.field)
}

/// The shape of `spec` as the file should hold it.
pub(crate) fn file_shape(shape: ParamShape, transposed: bool) -> Vec<usize> {
    match shape {
        ParamShape::Matrix { rows, cols } if transposed => vec![cols, rows],
        _ => shape.dims(),
    }
}

/// Reads every wanted tensor from `tensors` into `net`, or none: all the
/// disagreements, `problems` (the mapping's own) first, in one error.
/// `ignorable` names tensors of the file that are never the network's.
pub(crate) fn import<T: Scalar, N: Network<T>>(
    net: &mut N,
    tensors: &BTreeMap<String, ForeignTensor<'_>>,
    wanted: &[Wanted],
    mut problems: Vec<String>,
    ignorable: impl Fn(&str) -> bool,
    options: ImportOptions,
    path: &Path,
) -> Result<(), IoError> {
    let mut staged = Staged {
        values: Vec::with_capacity(wanted.len()),
        missing_buffers: Vec::new(),
    };
    for want in wanted {
        match tensors.get(&want.key) {
            None => problems.push(format!(
                "{}: the file has no `{}` (its `{}`, shape {:?})",
                want.layer,
                want.key,
                want.spec.name,
                file_shape(want.spec.shape, want.transposed)
            )),
            Some(tensor) => match read::<T>(want, tensor, options) {
                Ok(values) => staged.values.push((want.spec.name.to_string(), values)),
                Err(problem) => problems.push(format!("{}: {problem}", want.layer)),
            },
        }
    }
    let used: HashSet<&str> = wanted.iter().map(|w| w.key.as_str()).collect();
    if !options.ignore_unused {
        for (key, tensor) in tensors {
            if !used.contains(key.as_str()) && !ignorable(key) {
                problems.push(format!(
                    "`{key}` (shape {:?}) is in the file, but no layer of the network takes it \
                     (to leave it aside, import with `ImportOptions::ignore_unused`)",
                    tensor.shape
                ));
            }
        }
    }
    if !problems.is_empty() {
        return Err(IoError::Disagreements {
            path: path.to_path_buf(),
            problems,
        });
    }
    commit(net, staged, path)
}

/// One tensor's values in the network's order, or what is wrong with it.
fn read<T: Scalar>(
    want: &Wanted,
    tensor: &ForeignTensor<'_>,
    options: ImportOptions,
) -> Result<Vec<T>, String> {
    let key = &want.key;
    let net_dtype = if T::NAME == "f32" {
        ForeignDtype::F32
    } else {
        ForeignDtype::F64
    };
    let width = match tensor.dtype {
        ForeignDtype::F32 => 4,
        ForeignDtype::F64 => 8,
        ForeignDtype::Other(ref name) => {
            return Err(format!(
                "`{key}` is stored as {name}; only F32 and F64 tensors can be read"
            ));
        }
    };
    if tensor.dtype != net_dtype && !options.convert_dtype {
        return Err(format!(
            "`{key}` is {}, but the network's scalars are {} (to convert, import with \
             `ImportOptions::convert_dtype`)",
            tensor.dtype.name(),
            T::NAME
        ));
    }
    let expected = file_shape(want.spec.shape, want.transposed);
    if tensor.shape != expected {
        return Err(format!(
            "`{key}` has shape {:?} in the file, but the layer's `{}` needs {expected:?}",
            tensor.shape, want.spec.name
        ));
    }
    let len = want.spec.shape.len();
    if len.checked_mul(width) != Some(tensor.data.len()) {
        return Err(format!(
            "`{key}` holds {} bytes, but {len} values of {} take {}",
            tensor.data.len(),
            tensor.dtype.name(),
            len.saturating_mul(width)
        ));
    }
    let file = file_values(&tensor.data, width);
    let shape = || crate::io::format::param_shape(&expected).unwrap_or(want.spec.shape);
    if let Some(k) = file.iter().position(|v| !v.is_finite()) {
        return Err(format!(
            "`{key}` holds {} at {:?}",
            file[k],
            book_position(shape(), k)
        ));
    }
    // Converted from f64, a value beyond f32's range would become ±∞.
    if let Some(k) = file
        .iter()
        .position(|&v| !T::of_f64(v).as_f64().is_finite())
    {
        return Err(format!(
            "`{key}` holds {} at {:?}, beyond the range of {}",
            file[k],
            book_position(shape(), k),
            T::NAME
        ));
    }
    // PyTorch's `[cols, rows]` is the network's own column-major order;
    // the book's `[rows, cols]` is put in it.
    let order = if want.transposed {
        ParamShape::Vector(len)
    } else {
        want.spec.shape
    };
    Ok(network_order(&file, order))
}
