//! Widths chosen at run time that no machine can allocate: refused with an
//! error naming the width, the layer and the bytes, before anything is
//! allocated or when the allocator says no, never a panic or an abort.

use staticnet::prelude::*;
use staticnet::{AffineLayer, Dyn, WidthError};

network! {
    /// The book's two-layer net, its hidden width chosen at run time.
    pub struct Hidden<Affine<784, dyn>, Relu, Affine<dyn, 10>, SoftmaxWithLoss>
}

const WIDTH: &str = "the width between `Affine<784, dyn>` and `Affine<dyn, 10>`";

#[test]
fn a_width_too_large_to_allocate_is_an_error() {
    let error = Hidden::<f32>::with_widths(&mut StdRng::seed_from_u64(0), Init::He, [usize::MAX])
        .expect_err("usize::MAX");
    // 2 × (784 × w + w) values of 4 bytes: W, b and their gradients.
    let bytes = 2 * (784 * u128::from(u64::MAX) + u128::from(u64::MAX)) * 4;
    assert_eq!(
        error,
        WidthError::TooLarge {
            width: WIDTH.to_owned(),
            value: usize::MAX,
            layer: "`Affine<784, dyn>` (affine1)".to_owned(),
            bytes,
        }
    );
    assert_eq!(
        error.to_string(),
        format!(
            "{WIDTH} is {}: `Affine<784, dyn>` (affine1) would need {bytes} bytes for its \
             weights and their gradients, more than the {} bytes one buffer can hold",
            usize::MAX,
            isize::MAX
        )
    );
}

/// The allocation of 3 TB is tried and refused (by any allocator that
/// refuses what the machine cannot back: not one that promises every
/// request), so the width is an error, quickly, not an abort.
#[test]
fn a_width_the_allocator_refuses_is_an_error_not_an_abort() {
    let started = std::time::Instant::now();
    let error =
        Hidden::<f32>::with_widths(&mut StdRng::seed_from_u64(0), Init::He, [1_000_000_000])
            .expect_err("a 784 × 10⁹ matrix");
    assert_eq!(
        error,
        WidthError::OutOfMemory {
            width: WIDTH.to_owned(),
            value: 1_000_000_000,
            layer: "`Affine<784, dyn>` (affine1)".to_owned(),
            bytes: 6_280_000_000_000,
        }
    );
    assert_eq!(
        error.to_string(),
        format!(
            "{WIDTH} is 1000000000: `Affine<784, dyn>` (affine1) would need 6280000000000 bytes \
             for its weights and their gradients, which could not be allocated"
        )
    );
    assert!(started.elapsed().as_secs() < 10, "{:?}", started.elapsed());
}

#[test]
fn a_layer_built_alone_with_a_width_too_large_is_an_error() {
    let error = AffineLayer::<f64, Const<3>, Dyn>::try_with_widths(
        &mut StdRng::seed_from_u64(0),
        Init::He,
        3,
        usize::MAX / 2,
    )
    .expect_err("too large");
    assert!(matches!(
        error,
        WidthError::TooLarge { ref width, value, ref layer, .. }
            if width == "the outputs of the layer" && value == usize::MAX / 2
                && *layer == format!("`Affine<3, {}>`", usize::MAX / 2)
    ));
    let small = AffineLayer::<f64, Const<3>, Dyn>::try_with_widths(
        &mut StdRng::seed_from_u64(0),
        Init::He,
        3,
        4,
    )
    .expect("a 3 × 4 layer");
    assert_eq!((small.inputs(), small.outputs()), (3, 4));
}

/// A safetensors file whose header claims tensors far larger than the
/// file: `W1` of 784 × 10⁹.
#[test]
fn a_file_claiming_a_huge_width_is_an_error() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("huge.safetensors");
    let w1 = 784u64 * 1_000_000_000 * 4;
    let header = format!(
        r#"{{"W1":{{"dtype":"F32","shape":[784,1000000000],"data_offsets":[0,{w1}]}},"W2":{{"dtype":"F32","shape":[1000000000,10],"data_offsets":[{w1},{}]}}}}"#,
        w1 + 40_000_000_000
    );
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(&[0; 64]);
    std::fs::write(&path, bytes).expect("write");
    let started = std::time::Instant::now();
    let error = Hidden::<f32>::from_weights(&path).expect_err("a width of 10⁹");
    assert!(error.to_string().contains("huge.safetensors"), "{error}");
    assert!(started.elapsed().as_secs() < 10, "{:?}", started.elapsed());
}
