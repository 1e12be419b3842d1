//! Widths chosen at run time: a network declared with `Affine<784, dyn>`
//! is built with the width it leaves open (`with_widths`), or takes it from
//! a weight file (`from_weights`); this is what those check.

use std::collections::BTreeMap;

/// A width chosen at run time that the network cannot be built with.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WidthError {
    /// A width of 0.
    #[error("{width} is 0: every layer needs at least one input and one output")]
    Zero {
        /// Which width, as the network's declaration shows it.
        width: String,
    },
    /// Two layers that meet disagree on the width between them: widths
    /// read from a weight file, where each layer's tensor says its own.
    #[error("{next} expects {inputs} inputs, but {layer} before it outputs {outputs}")]
    Mismatch {
        /// The layer that outputs the width, with where it says so.
        layer: String,
        /// What it outputs.
        outputs: usize,
        /// The layer that takes the width, with where it says so.
        next: String,
        /// What it takes.
        inputs: usize,
    },
    /// No tensor of the file gives the width.
    #[error("{width} cannot be read from the file: {reason}")]
    NotInFile {
        /// Which width.
        width: String,
        /// Why not.
        reason: String,
    },
    /// A width whose layer's weights need more memory than one buffer may
    /// take: more than `isize::MAX` bytes, the most any allocation can
    /// hold. How much memory the machine has cannot be known portably, so
    /// this is the bound checked before anything is allocated; a smaller
    /// size that the allocator refuses is [`WidthError::OutOfMemory`].
    #[error(
        "{width} is {value}: {layer} would need {} for its weights and their gradients, more than the {} bytes one buffer can hold",
        show_bytes(*bytes),
        isize::MAX
    )]
    TooLarge {
        /// Which width, as the network's declaration shows it.
        width: String,
        /// The width asked for.
        value: usize,
        /// The layer whose weights have the width as a size, with its
        /// field: `` `Affine<784, dyn>` (affine1) ``.
        layer: String,
        /// The bytes the layer's weights, biases and their gradients would
        /// take; `u128::MAX` when even a `u128` cannot count them.
        bytes: u128,
    },
    /// A width whose layer's weights the allocator could not give memory
    /// for: the allocation was tried, and failed, and nothing is kept.
    #[error(
        "{width} is {value}: {layer} would need {} for its weights and their gradients, which could not be allocated",
        show_bytes(*bytes)
    )]
    OutOfMemory {
        /// Which width, as the network's declaration shows it.
        width: String,
        /// The width asked for.
        value: usize,
        /// The layer whose weights have the width as a size, with its
        /// field.
        layer: String,
        /// The bytes the layer's weights, biases and their gradients would
        /// take.
        bytes: u128,
    },
}

/// `3136000000000 bytes`, or words for a count past `u128`.
fn show_bytes(bytes: u128) -> String {
    match bytes {
        u128::MAX => "more bytes than a u128 can count".to_owned(),
        bytes => format!("{bytes} bytes"),
    }
}

/// The bytes an `inputs × outputs` layer's weights, biases and their
/// gradients take, `size` bytes a value: `None` past `u128`.
pub(crate) fn layer_bytes(inputs: usize, outputs: usize, size: usize) -> Option<u128> {
    let values = (inputs as u128)
        .checked_mul(outputs as u128)?
        .checked_add(outputs as u128)?;
    values.checked_mul(2)?.checked_mul(size as u128)
}

/// `error`, from [`AffineLayer::try_with_widths`](crate::AffineLayer::try_with_widths),
/// naming the network's width and the layer `layer`: `sides` are the
/// widths chosen at run time the layer takes, with their values; the
/// largest is named. Any other error is returned as it is.
#[doc(hidden)]
pub fn name_width_error(
    error: WidthError,
    layer: &str,
    sides: &[(&RuntimeWidth, usize)],
) -> WidthError {
    let Some(&(declared, chosen)) = sides.iter().max_by_key(|(_, value)| *value) else {
        return error;
    };
    let (name, at) = (declared.name.to_owned(), layer.to_owned());
    match error {
        WidthError::TooLarge { bytes, .. } => WidthError::TooLarge {
            width: name,
            value: chosen,
            layer: at,
            bytes,
        },
        WidthError::OutOfMemory { bytes, .. } => WidthError::OutOfMemory {
            width: name,
            value: chosen,
            layer: at,
            bytes,
        },
        other => other,
    }
}

/// One side of a width chosen at run time: a layer whose weight matrix
/// has the width as one of its sizes.
#[doc(hidden)]
#[derive(Clone, Copy, Debug)]
pub struct WidthSide {
    /// The layer as written, with its field: `` `Affine<784, dyn>` (affine1) ``.
    pub layer: &'static str,
    /// The name of its weight tensor, `W1`, when the macro can tell it.
    pub tensor: Option<&'static str>,
    /// The axis of that tensor that is the width: 0 for inputs, 1 for outputs.
    pub axis: usize,
}

/// A width chosen at run time, between the layer that outputs it and the
/// one that takes it.
#[doc(hidden)]
#[derive(Clone, Copy, Debug)]
pub struct RuntimeWidth {
    /// The width for messages: `` the width between `Affine<784, dyn>` and `Affine<dyn, 10>` ``.
    pub name: &'static str,
    /// The layer that outputs it.
    pub from: WidthSide,
    /// The layer that takes it.
    pub to: WidthSide,
}

/// Checks that every width is at least 1.
#[doc(hidden)]
pub fn check_widths(declared: &[RuntimeWidth], widths: &[usize]) -> Result<(), WidthError> {
    match declared.iter().zip(widths).find(|&(_, &w)| w == 0) {
        Some((width, _)) => Err(WidthError::Zero {
            width: width.name.to_owned(),
        }),
        None => Ok(()),
    }
}

/// The widths a weight file's tensor shapes give, each read from both
/// layers around it, which must agree.
#[doc(hidden)]
pub fn widths_from_shapes<const K: usize>(
    declared: &[RuntimeWidth; K],
    shapes: &BTreeMap<String, Vec<usize>>,
) -> Result<[usize; K], WidthError> {
    let mut widths = [0; K];
    for (width, declared) in widths.iter_mut().zip(declared) {
        let read = |side: &WidthSide| {
            let tensor = side.tensor?;
            let shape = shapes.get(tensor)?;
            let value = *shape.get(side.axis)?;
            let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
            Some((
                value,
                format!("{} (`{tensor}` is {})", side.layer, dims.join("×")),
            ))
        };
        *width = match (read(&declared.from), read(&declared.to)) {
            (Some((outputs, layer)), Some((inputs, next))) if outputs != inputs => {
                return Err(WidthError::Mismatch {
                    layer,
                    outputs,
                    next,
                    inputs,
                });
            }
            (Some((value, _)), _) | (None, Some((value, _))) => value,
            (None, None) => {
                let names = |side: &WidthSide| match side.tensor {
                    Some(tensor) => format!("no 2-D tensor `{tensor}` for {}", side.layer),
                    None => format!(
                        "the tensor of {} has no name the network can tell before it is built",
                        side.layer
                    ),
                };
                return Err(WidthError::NotInFile {
                    width: declared.name.to_owned(),
                    reason: format!("{}, and {}", names(&declared.from), names(&declared.to)),
                });
            }
        };
    }
    check_widths(declared, &widths)?;
    Ok(widths)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HIDDEN: RuntimeWidth = RuntimeWidth {
        name: "the width between `Affine<784, dyn>` and `Affine<dyn, 10>`",
        from: WidthSide {
            layer: "`Affine<784, dyn>` (affine1)",
            tensor: Some("W1"),
            axis: 1,
        },
        to: WidthSide {
            layer: "`Affine<dyn, 10>` (affine2)",
            tensor: Some("W2"),
            axis: 0,
        },
    };

    fn shapes(w1: [usize; 2], w2: [usize; 2]) -> BTreeMap<String, Vec<usize>> {
        BTreeMap::from([
            ("W1".to_owned(), w1.to_vec()),
            ("W2".to_owned(), w2.to_vec()),
        ])
    }

    #[test]
    fn both_tensors_give_the_width() {
        let widths = widths_from_shapes(&[HIDDEN], &shapes([784, 77], [77, 10]));
        assert_eq!(widths, Ok([77]));
    }

    #[test]
    fn tensors_that_disagree_name_both_layers_and_sizes() {
        let error = widths_from_shapes(&[HIDDEN], &shapes([784, 77], [78, 10])).unwrap_err();
        assert_eq!(
            error.to_string(),
            "`Affine<dyn, 10>` (affine2) (`W2` is 78×10) expects 78 inputs, but \
             `Affine<784, dyn>` (affine1) (`W1` is 784×77) before it outputs 77"
        );
    }

    #[test]
    fn one_tensor_is_enough() {
        let mut only_w1 = shapes([784, 50], [50, 10]);
        only_w1.remove("W2");
        assert_eq!(widths_from_shapes(&[HIDDEN], &only_w1), Ok([50]));
    }

    #[test]
    fn a_width_no_tensor_gives_is_an_error() {
        let error = widths_from_shapes(&[HIDDEN], &BTreeMap::new()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "the width between `Affine<784, dyn>` and `Affine<dyn, 10>` cannot be read from \
             the file: no 2-D tensor `W1` for `Affine<784, dyn>` (affine1), and no 2-D tensor \
             `W2` for `Affine<dyn, 10>` (affine2)"
        );
    }

    #[test]
    fn a_zero_width_is_refused() {
        let error = widths_from_shapes(&[HIDDEN], &shapes([784, 0], [0, 10])).unwrap_err();
        assert_eq!(
            error.to_string(),
            "the width between `Affine<784, dyn>` and `Affine<dyn, 10>` is 0: every layer \
             needs at least one input and one output"
        );
        assert!(check_widths(&[HIDDEN], &[1]).is_ok());
    }
}
