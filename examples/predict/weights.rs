//! The weight file: what its header says (hidden size, dtype, checkpoint
//! or not), and the network of that size loaded from it to score an image.

use std::path::Path;

use staticnet::io::{load_checkpoint, load_weights, read_header};
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
    /// optimizer state), to be read with `load_checkpoint`.
    pub checkpoint: bool,
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
    })
}

/// The network's scores for one image, and the checkpoint's iteration.
pub struct Loaded {
    pub scores: [f64; CLASSES],
    pub iteration: Option<u64>,
}

/// Loads the weights into the two-layer net of `hidden` units and scores
/// the image.
pub fn classify<T: Scalar>(
    hidden: usize,
    path: &Path,
    checkpoint: bool,
    pixels: &Pixels,
) -> Result<Loaded, Failure> {
    // Every parameter is overwritten by the load; the draw does not matter.
    let mut net =
        TwoLayerNet::<T>::with_widths(&mut StdRng::seed_from_u64(0), Init::Auto, [hidden])
            .map_err(|e| e.to_string())?;
    let iteration = if checkpoint {
        Some(
            load_checkpoint(&mut net, path)
                .map_err(|e| e.to_string())?
                .iteration,
        )
    } else {
        let loaded = load_weights(&mut net, path).map_err(|e| e.to_string())?;
        if let Some(note) = loaded.note() {
            eprintln!("note: {note}");
        }
        None
    };
    // Frozen for inference: one image, as a slice, on the batch-of-one path.
    let (model, image): (_, Vec<T>) = (
        net.freeze(),
        pixels.iter().map(|&p| T::of_f64(p / 255.0)).collect(),
    );
    let mut scratch = model.scratch();
    let y = model
        .predict_sample(&image, &mut scratch)
        .map_err(|e| e.to_string())?;
    let mut scores = [0.0; CLASSES];
    for (dst, &s) in scores.iter_mut().zip(y) {
        *dst = s.as_f64();
    }
    Ok(Loaded { scores, iteration })
}
