//! The book's two-layer net, its hidden width chosen at run time. The
//! `mnist`, `predict` and `serve` examples include this file with `#[path]`.

use staticnet::prelude::*;

network! {
    /// The book's two-layer net: `Affine<784, H>, Relu, Affine<H, 10>`,
    /// with `H` given to `with_widths` (or read from a weight file).
    pub struct TwoLayerNet<Affine<784, dyn>, Relu, Affine<dyn, 10>, SoftmaxWithLoss>
}

/// Parses a hidden size for clap: any number of units from 1.
pub fn parse_hidden(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("a hidden layer needs at least one unit".to_owned()),
        Ok(hidden) => Ok(hidden),
        Err(e) => Err(e.to_string()),
    }
}
