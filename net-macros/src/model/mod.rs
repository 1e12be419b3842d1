//! The resolved model: each layer as validation worked it out (its kind,
//! field, shapes and window), the widths left to run time, and the
//! types the layers become. Validation builds it; expansion reads it.

use proc_macro2::{Ident, TokenStream};
use syn::Error;

use crate::ast::LayerDecl;
use crate::catalog::{Kind, LayerInfo};
use crate::size::Size;

pub mod dims;
mod types;

use dims::Dims;

/// A layer with its kind, field and widths worked out.
pub struct Resolved<'a> {
    /// The layer as written.
    pub decl: &'a LayerDecl,
    /// What it is; `None` for an unknown name.
    pub info: Option<&'static LayerInfo>,
    /// Its field in the generated struct: `affine1`, `relu2`, `loss`.
    pub field: Ident,
    /// The shape it takes, when known.
    pub input: Option<Dims>,
    /// The shape it gives, when known (a loss layer gives none).
    pub output: Option<Dims>,
    /// The filter or window of a `Conv2d` or `MaxPool2d`.
    pub window: Option<WindowArgs>,
    /// Whether only the compiler can check its input against the output
    /// of the layer before it (named constants).
    pub check: bool,
    /// The fraction written in its angle brackets, such as the `0.3` of
    /// `Dropout<0.3>`, once checked.
    pub fraction: Option<TokenStream>,
    /// The layer a `Residual` wraps.
    pub inner: Option<Box<Resolved<'a>>>,
}

/// A width left to run time (`dyn`): between the layer that outputs it
/// and the layer that takes it, with only layers that keep the width
/// between them.
pub struct RuntimeBoundary {
    /// The index of the `Affine` that outputs it.
    pub from: usize,
    /// The index of the layer that takes it, once known.
    pub to: Option<usize>,
}

/// The outcome of validation: the layers as far as they could be worked
/// out, and every error found.
pub struct Checked<'a> {
    /// The layers, in order.
    pub layers: Vec<Resolved<'a>>,
    /// The widths left to run time, in order.
    pub runtime: Vec<RuntimeBoundary>,
    /// All errors, combined; `None` when the network is valid.
    pub error: Option<Error>,
}

/// The sizes of a `Conv2d` or `MaxPool2d`.
#[derive(Clone)]
pub struct WindowArgs {
    /// The number of filters (`Conv2d` only).
    pub filters: Option<Size>,
    /// The side of the square filter or window.
    pub size: Size,
    /// How far it moves at each step (1 unless given).
    pub stride: Size,
    /// Zeros added on each side of the input (0 unless given).
    pub pad: Size,
}

impl WindowArgs {
    /// Whether the macro knows every size, and so has checked the geometry.
    pub fn all_known(&self) -> bool {
        [
            Some(&self.size),
            Some(&self.stride),
            Some(&self.pad),
            self.filters.as_ref(),
        ]
        .into_iter()
        .flatten()
        .all(|s| s.value.is_some())
    }
}

impl Resolved<'_> {
    /// Whether it is a known layer of this kind.
    pub fn is(&self, kind: Kind) -> bool {
        self.info.is_some_and(|info| info.kind == kind)
    }
}
