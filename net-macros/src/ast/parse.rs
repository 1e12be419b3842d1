//! The header of `network!`, `#[attrs] vis struct Name`, parsed with
//! `syn`; the layer list after it is handed to [`super::layer_list`].

use proc_macro2::TokenStream;
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::{Attribute, Error, Ident, Token, Visibility};

use super::NetworkDecl;
use super::layer_list;

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
