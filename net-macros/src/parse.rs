//! The syntax of `network!`: a typed AST that keeps the user's tokens, so
//! that every error can point at what was written.
//!
//! The header (`#[attrs] vis struct Name`) is parsed here with `syn`; the
//! layer list after it is parsed by hand in [`crate::layer_list`].

use proc_macro2::TokenStream;
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::{Attribute, Error, Ident, Token, Visibility};

use crate::layer_list;
use crate::print::tokens_to_string;

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

impl Parse for NetworkDecl {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis: Visibility = input.parse()?;
        let mut errors = Vec::new();
        if input.peek(Token![struct]) {
            input.parse::<Token![struct]>()?;
        } else if !input.peek(Ident) && input.peek(Ident::peek_any) && input.peek2(Ident) {
            let keyword = input.call(Ident::parse_any)?;
            errors.push(Error::new(
                keyword.span(),
                format!("a network is declared as a `struct`, not with `{keyword}`: write `struct Name<Layer, …, LossLayer>`"),
            ));
        } else if input.peek(Ident) {
            let name: Ident = input.fork().parse()?;
            errors.push(Error::new(
                name.span(),
                format!("expected `struct` before the network's name: write `struct {name}<…>`"),
            ));
        } else {
            return Err(input.error(
                "expected a network declaration: `struct Name<Layer, …, LossLayer>`, as in `pub struct TwoLayerNet<Affine<784, 50>, Relu, Affine<50, 10>, SoftmaxWithLoss>`",
            ));
        }
        if !input.peek(Ident) {
            return Err(input.error(
                "expected the network's name after `struct`, as in `struct TwoLayerNet<…>`",
            ));
        }
        let name: Ident = input.parse()?;
        let rest: TokenStream = input.parse()?;
        let parsed = layer_list::parse(rest, &name, &mut errors);
        Ok(NetworkDecl {
            attrs,
            vis,
            name,
            list: parsed.list,
            layers: parsed.layers,
            where_clause: parsed.where_clause,
            errors,
        })
    }
}
