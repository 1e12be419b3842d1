//! The weight file: what its header says (hidden size, dtype, checkpoint
//! or not), and the network of that size loaded from it to score an image.

use std::path::Path;

use staticnet::io::read_header;
use staticnet::prelude::*;

use crate::Failure;
use crate::frame::{PIXELS, Pixels};
use crate::two_layer_nets::TwoLayerNet;

/// The number of classes.
pub const CLASSES: usize = 10;

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
}

/// What the header of a weight file says.
pub struct WeightsInfo {
    /// The hidden size: the second dimension of `W1`.
    pub hidden: usize,
    /// The dtype of `W1`.
    pub dtype: Dtype,
    /// Whether the file is a checkpoint (weights plus metadata and maybe
    /// optimizer state).
    pub checkpoint: bool,
    /// A checkpoint's iteration.
    pub iteration: Option<u64>,
}

/// Reads the header of the weight file: the hidden size, the dtype, and
/// whether it is a checkpoint.
pub fn inspect_weights(path: &Path) -> Result<WeightsInfo, Failure> {
    let header = read_header(path).map_err(|e| e.to_string())?;
    let w1 = header.tensors.get("W1").ok_or_else(|| {
        format!(
            "`{}` has no tensor `W1`: it does not hold the weights of a two-layer net",
            path.display()
        )
    })?;
    let hidden = match w1.shape[..] {
        [PIXELS, hidden] => hidden,
        _ => {
            return Err(Failure::Runtime(format!(
                "`W1` has shape {:?} in `{}`, but a two-layer net for 28×28 images has \
                 [784, hidden]",
                w1.shape,
                path.display()
            )));
        }
    };
    let dtype = match w1.dtype.as_str() {
        "F32" => Dtype::F32,
        "F64" => Dtype::F64,
        other => {
            return Err(Failure::Runtime(format!(
                "`W1` is stored as {other} in `{}`; only F32 and F64 weights can be loaded",
                path.display()
            )));
        }
    };
    Ok(WeightsInfo {
        hidden,
        dtype,
        checkpoint: header.checkpoint,
        iteration: header.iteration,
    })
}

/// The scores of the two-layer net the file holds (a weight file or a
/// checkpoint, its hidden size read from it) for one image.
pub fn classify<T: Scalar>(path: &Path, pixels: &Pixels) -> Result<[f64; CLASSES], Failure> {
    let model = TwoLayerNet::<T>::load_frozen(path).map_err(|e| e.to_string())?;
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
