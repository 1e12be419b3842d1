//! The syntax of `network!`: a typed AST that keeps the user's tokens, so
//! that every error can point at what was written.
//!
//! The header (`#[attrs] vis struct Name`) is parsed with `syn` in
//! [`parse`]; the layer list after it by hand in [`layer_list`].

use proc_macro2::TokenStream;
use syn::{Attribute, Error, Ident, Visibility};

use crate::print::tokens_to_string;

mod cursor;
mod layer_list;
mod parse;

/// `#[attrs] vis struct Name<Layer, …, LossLayer>`.
pub struct NetworkDecl {
    /// Doc comments and attributes, for the generated struct.
    pub attrs: Vec<Attribute>,
    /// The struct's visibility.
    pub vis: Visibility,
    /// The struct's name.
    pub name: Ident,
    /// The layer list's tokens, `<` to `>`, for errors about the whole list.
    pub list: TokenStream,
    /// The layers, in order.
    pub layers: Vec<LayerDecl>,
    /// `where T: Bound` after the list, for layers that need more of the
    /// scalar type than `Scalar`; empty if not written.
    pub where_clause: TokenStream,
    /// Syntax errors the parser recovered from.
    pub errors: Vec<Error>,
}

/// One layer as written: `Affine<784, 50>`, `Relu`, `my::Tanh`.
pub struct LayerDecl {
    /// The path before the name, with its last `::` (`my::` in
    /// `my::Tanh`); empty for a bare name.
    pub path: TokenStream,
    /// The layer's name: the last segment of its path.
    pub name: Ident,
    /// Its sizes, when it has `<…>`.
    pub args: Option<Args>,
    /// All its tokens, for errors about the layer.
    pub tokens: TokenStream,
    /// The layers written inside it, as the one of `Residual<Affine<50, 50>>`.
    pub inner: Vec<LayerDecl>,
}

/// `<size, size>` after a layer's name.
pub struct Args {
    /// The tokens from `<` to `>`, for errors about the sizes as a whole.
    pub tokens: TokenStream,
    /// Each size's tokens, split at top-level commas.
    pub sizes: Vec<TokenStream>,
}

impl LayerDecl {
    /// The layer as the user wrote it, in normalized spacing:
    /// `Affine<784, 50>`, `Relu`.
    pub fn display(&self) -> String {
        let name = format!("{}{}", tokens_to_string(&self.path), self.name);
        match &self.args {
            None => name,
            Some(args) => {
                let sizes: Vec<String> = args.sizes.iter().map(tokens_to_string).collect();
                format!("{name}<{}>", sizes.join(", "))
            }
        }
    }

    /// Whether it is written as a bare name, which may be a layer the
    /// macro knows, rather than a path (`my::Tanh`), which never is.
    pub fn is_bare(&self) -> bool {
        self.path.is_empty()
    }
}
