//! The weight file: what its header says (hidden size, dtype, checkpoint
//! or not), and the network of that size loaded from it to score an image.
//! Three formats are read: staticnet's own (a weight file or a
//! checkpoint), a PyTorch `state_dict` of the same net saved with
//! safetensors, and the book's NumPy `.npz` archive.

use std::cmp::Ordering;
use std::path::Path;

use staticnet::io::{ImportOptions, IoError, load_npz, load_pytorch, npz_shapes, read_header};
use staticnet::prelude::*;

use crate::Failure;
use crate::frame::{PIXELS, Pixels};
use crate::two_layer_nets::TwoLayerNet;

/// The number of classes.
pub const CLASSES: usize = 10;

/// The format of a weight file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// staticnet's safetensors weights or checkpoint (`W1` `[784, H]`, …).
    Staticnet,
    /// A PyTorch `state_dict` of `nn.Sequential(Linear(784, H), ReLU(),
    /// Linear(H, 10))`, saved with safetensors (`0.weight` `[H, 784]`, …).
    Pytorch,
    /// A NumPy archive of the book's `params` (`np.savez`): `W1` `(784,
    /// H)`, `b1`, `W2`, `b2`.
    Npz,
}

impl Format {
    /// The format given, or else the one of the file's name: `.npz` is
    /// NumPy's, anything else staticnet's.
    pub fn of(given: Option<Format>, path: &Path) -> Format {
        given.unwrap_or_else(|| {
            let npz = path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("npz"));
            if npz { Format::Npz } else { Format::Staticnet }
        })
    }

    /// How the report names the format (nothing for staticnet's own).
    pub fn note(self) -> Option<&'static str> {
        match self {
            Format::Staticnet => None,
            Format::Pytorch => Some("PyTorch state_dict"),
            Format::Npz => Some("NumPy archive"),
        }
    }
}

/// The scalar type of a weight file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dtype {
    F32,
    F64,
}

impl Dtype {
    pub fn name(self) -> &'static str {
        match self {
            Dtype::F32 => "f32",
            Dtype::F64 => "f64",
        }
    }

    /// The dtype a header names (`F32`, `F64`), if it is one of them.
    fn of(name: &str) -> Option<Dtype> {
        match name {
            "F32" => Some(Dtype::F32),
            "F64" => Some(Dtype::F64),
            _ => None,
        }
    }
}

/// What the header of a weight file says.
pub struct WeightsInfo {
    pub format: Format,
    /// The hidden size: the second dimension of `W1` (the first of
    /// PyTorch's `0.weight`).
    pub hidden: usize,
    /// The first layer's weight tensor, by its name in the file.
    pub first: String,
    /// The dtype of the first layer's weight; `None` for an archive, whose
    /// arrays are tried as f64 (NumPy's default), then as f32.
    pub dtype: Option<Dtype>,
    /// Whether the file is a checkpoint (weights plus metadata and maybe
    /// optimizer state).
    pub checkpoint: bool,
    /// A checkpoint's iteration.
    pub iteration: Option<u64>,
    /// What a checkpoint records it was trained on, such as `"MNIST"`.
    pub dataset: Option<String>,
}

impl WeightsInfo {
    /// The shape of the first layer's weight for a hidden size, in the
    /// file's layout.
    pub fn shape_for(&self, hidden: usize) -> [usize; 2] {
        match self.format {
            Format::Pytorch => [hidden, PIXELS],
            Format::Staticnet | Format::Npz => [PIXELS, hidden],
        }
    }
}

/// Reads the header of the weight file: the hidden size, the dtype, and
/// whether it is a checkpoint.
pub fn inspect_weights(path: &Path, format: Format) -> Result<WeightsInfo, Failure> {
    let mut dataset = None;
    let (first, shape, dtype, checkpoint, iteration) = match format {
        Format::Staticnet => {
            let header = read_header(path).map_err(|e| e.to_string())?;
            let w1 = header.tensors.get("W1").ok_or_else(|| {
                format!(
                    "`{}` has no tensor `W1`: it does not hold the weights of a two-layer net",
                    path.display()
                )
            })?;
            let dtype = stored_as(&w1.dtype, "W1", path)?;
            let shape = w1.shape.clone();
            dataset = header.dataset.clone();
            (
                "W1".to_owned(),
                shape,
                Some(dtype),
                header.checkpoint,
                header.iteration,
            )
        }
        Format::Pytorch => {
            let header = read_header(path).map_err(|e| e.to_string())?;
            // The first module's weight: `0.weight` in an `nn.Sequential`.
            let (name, weight) = header
                .tensors
                .iter()
                .filter(|(name, _)| name.rsplit('.').next() == Some("weight"))
                .min_by(|a, b| natural(a.0, b.0))
                .ok_or_else(|| {
                    format!(
                        "`{}` has no `weight` tensor: it does not hold the state_dict of \
                         nn.Sequential(Linear(784, H), ReLU(), Linear(H, 10))",
                        path.display()
                    )
                })?;
            let dtype = stored_as(&weight.dtype, name, path)?;
            (name.clone(), weight.shape.clone(), Some(dtype), false, None)
        }
        Format::Npz => {
            let shapes = npz_shapes(path).map_err(|e| e.to_string())?;
            let w1 = shapes.get("W1").ok_or_else(|| {
                format!(
                    "`{}` has no array `W1`: it does not hold the book's params of a \
                     two-layer net",
                    path.display()
                )
            })?;
            ("W1".to_owned(), w1.clone(), None, false, None)
        }
    };
    let hidden = match (format, &shape[..]) {
        (Format::Pytorch, &[hidden, PIXELS]) => hidden,
        (Format::Staticnet | Format::Npz, &[PIXELS, hidden]) => hidden,
        _ => {
            let expected = match format {
                Format::Pytorch => "[hidden, 784]",
                Format::Staticnet | Format::Npz => "[784, hidden]",
            };
            return Err(Failure::Runtime(format!(
                "`{first}` has shape {shape:?} in `{}`, but a two-layer net for 28×28 images \
                 has {expected}",
                path.display()
            )));
        }
    };
    Ok(WeightsInfo {
        format,
        hidden,
        first,
        dtype,
        checkpoint,
        iteration,
        dataset,
    })
}

/// The dtype of a tensor of a safetensors header, if the net can take it.
fn stored_as(dtype: &str, name: &str, path: &Path) -> Result<Dtype, Failure> {
    Dtype::of(dtype).ok_or_else(|| {
        Failure::Runtime(format!(
            "`{name}` is stored as {dtype} in `{}`; only F32 and F64 weights can be loaded",
            path.display()
        ))
    })
}

/// Orders PyTorch's module names as it numbers them: `2` before `10`.
fn natural(a: &str, b: &str) -> Ordering {
    let parts = |s: &str| {
        s.split('.')
            .map(|p| (p.parse::<u64>().ok(), p.to_owned()))
            .collect::<Vec<_>>()
    };
    parts(a).cmp(&parts(b))
}

/// The scores of the two-layer net the file holds (its hidden size read
/// from it) for one image, and the dtype it was loaded as.
pub fn classify(
    path: &Path,
    info: &WeightsInfo,
    pixels: &Pixels,
) -> Result<([f64; CLASSES], Dtype), Failure> {
    let model = match info.dtype {
        Some(Dtype::F32) => Model::F32(load::<f32>(path, info)?),
        Some(Dtype::F64) => Model::F64(load::<f64>(path, info)?),
        None => match load::<f64>(path, info) {
            Ok(model) => Model::F64(model),
            Err(as_f64) => match load::<f32>(path, info) {
                Ok(model) => Model::F32(model),
                // The refusal of the closer fit: fewer disagreements.
                Err(as_f32) if disagreements(&as_f32) < disagreements(&as_f64) => {
                    return Err(as_f32.into());
                }
                Err(_) => return Err(as_f64.into()),
            },
        },
    };
    match model {
        Model::F32(model) => Ok((score(&model, pixels)?, Dtype::F32)),
        Model::F64(model) => Ok((score(&model, pixels)?, Dtype::F64)),
    }
}

/// The frozen two-layer net of scalar type `T`.
type Frozen<T> = <TwoLayerNet<T> as FreezeNetwork<T>>::Frozen;

/// The net as loaded, of either scalar type.
enum Model {
    F32(Frozen<f32>),
    F64(Frozen<f64>),
}

/// Why the net cannot be loaded.
enum Refusal {
    /// The loader's error.
    Io(IoError),
    /// The width the file states cannot be built.
    Width(WidthError),
}

impl From<Refusal> for Failure {
    fn from(refusal: Refusal) -> Self {
        Failure::Runtime(match refusal {
            Refusal::Io(e) => e.to_string(),
            Refusal::Width(e) => e.to_string(),
        })
    }
}

/// How many disagreements a refusal lists (any other counts as one).
fn disagreements(refusal: &Refusal) -> usize {
    match refusal {
        Refusal::Io(IoError::Disagreements { problems, .. }) => problems.len(),
        _ => 1,
    }
}

/// The net of the file, loaded as `T` and frozen.
fn load<T: Scalar>(path: &Path, info: &WeightsInfo) -> Result<Frozen<T>, Refusal> {
    if info.format == Format::Staticnet {
        return TwoLayerNet::<T>::load_frozen(path).map_err(Refusal::Io);
    }
    let mut rng = StdRng::seed_from_u64(0);
    let mut net = TwoLayerNet::<T>::with_widths(&mut rng, Init::Auto, [info.hidden])
        .map_err(Refusal::Width)?;
    let loaded = if info.format == Format::Pytorch {
        load_pytorch(&mut net, path, ImportOptions::new())
    } else {
        load_npz(&mut net, path, ImportOptions::new())
    };
    loaded.map_err(Refusal::Io)?;
    Ok(net.freeze())
}

/// The scores of `model` for one image.
fn score<T: Scalar>(model: &Frozen<T>, pixels: &Pixels) -> Result<[f64; CLASSES], Failure> {
    // One image, as a slice, on the batch-of-one path.
    let image: Vec<T> = pixels.iter().map(|&p| T::of_f64(p / 255.0)).collect();
    let mut scratch = model.scratch();
    let y = model
        .predict_sample(&image, &mut scratch)
        .map_err(|e| e.to_string())?;
    let mut scores = [0.0; CLASSES];
    for (dst, &s) in scores.iter_mut().zip(y) {
        *dst = s.as_f64();
    }
    Ok(scores)
}
