//! The book's two-layer net at every hidden size the examples compile in.
//!
//! Each hidden size is its own network type, so a size chosen at run time
//! is matched to a type with [`with_two_layer_net!`]. The `mnist`,
//! `predict` and `bench` examples include this file with `#[path]`.

use staticnet::prelude::*;

network! {
    /// The book's two-layer net, 50 hidden units.
    pub struct TwoLayerNet50<Affine<784, 50>, Relu, Affine<50, 10>, SoftmaxWithLoss>
}
network! { pub struct TwoLayerNet100<Affine<784, 100>, Relu, Affine<100, 10>, SoftmaxWithLoss> }
network! { pub struct TwoLayerNet128<Affine<784, 128>, Relu, Affine<128, 10>, SoftmaxWithLoss> }
network! { pub struct TwoLayerNet256<Affine<784, 256>, Relu, Affine<256, 10>, SoftmaxWithLoss> }
network! { pub struct TwoLayerNet512<Affine<784, 512>, Relu, Affine<512, 10>, SoftmaxWithLoss> }
network! { pub struct TwoLayerNet1000<Affine<784, 1000>, Relu, Affine<1000, 10>, SoftmaxWithLoss> }
network! { pub struct TwoLayerNet1024<Affine<784, 1024>, Relu, Affine<1024, 10>, SoftmaxWithLoss> }

/// The hidden sizes compiled in.
pub const HIDDEN_SIZES: [usize; 7] = [50, 100, 128, 256, 512, 1000, 1024];

/// Parses a hidden size for clap, refusing sizes that are not compiled in.
pub fn parse_hidden(text: &str) -> Result<usize, String> {
    let hidden: usize = text.parse().map_err(|e| format!("{e}"))?;
    if HIDDEN_SIZES.contains(&hidden) {
        Ok(hidden)
    } else {
        Err(format!(
            "{hidden} is not compiled in; choose one of {HIDDEN_SIZES:?}"
        ))
    }
}

/// `with_two_layer_net!(hidden, Net => body)` evaluates `body` with `Net<T>`
/// naming the two-layer net of that hidden size: `Some(body)`, or `None`
/// when the size is not compiled in.
macro_rules! with_two_layer_net {
    ($hidden:expr, $net:ident => $body:expr) => {{
        use $crate::two_layer_nets::*;
        match $hidden {
            50 => {
                type $net<T> = TwoLayerNet50<T>;
                Some($body)
            }
            100 => {
                type $net<T> = TwoLayerNet100<T>;
                Some($body)
            }
            128 => {
                type $net<T> = TwoLayerNet128<T>;
                Some($body)
            }
            256 => {
                type $net<T> = TwoLayerNet256<T>;
                Some($body)
            }
            512 => {
                type $net<T> = TwoLayerNet512<T>;
                Some($body)
            }
            1000 => {
                type $net<T> = TwoLayerNet1000<T>;
                Some($body)
            }
            1024 => {
                type $net<T> = TwoLayerNet1024<T>;
                Some($body)
            }
            _ => None,
        }
    }};
}
pub(crate) use with_two_layer_net;
