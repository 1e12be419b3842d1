//! The type each layer becomes in the generated struct.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

use super::Resolved;
use super::dims::{Dims, typenum};
use crate::catalog::Kind;
use crate::print::tokens_to_string;

impl Resolved<'_> {
    /// The layer's type: `::staticnet::Affine<T, 784, 50>`, spanned at its name.
    pub fn ty(&self) -> TokenStream {
        let layer = self;
        let name = &layer.decl.name;
        let info = layer.info.expect("only known layers have types");
        let shape = |dims: &Option<Dims>| dims.as_ref().expect("valid").shape_type();
        let width = |dims: &Option<Dims>| dims.as_ref().and_then(Dims::width_arg).expect("valid");
        match info.kind {
            Kind::Dense => {
                let runtime = [&layer.input, &layer.output]
                    .iter()
                    .any(|dims| matches!(dims, Some(Dims::Runtime(_))));
                if runtime {
                    let side = |dims: &Option<Dims>| {
                        dims.as_ref().and_then(Dims::width_type).expect("valid")
                    };
                    let (i, o) = (side(&layer.input), side(&layer.output));
                    return quote_spanned!(name.span()=> ::staticnet::AffineLayer<T, #i, #o>);
                }
                let (i, o) = (width(&layer.input), width(&layer.output));
                quote_spanned!(name.span()=> ::staticnet::#name<T, #i, #o>)
            }
            Kind::ShapePreserving if info.takes_width => {
                let w = width(&layer.input);
                quote_spanned!(name.span()=> ::staticnet::#name<T, #w>)
            }
            Kind::ShapePreserving => {
                let s = shape(&layer.input);
                quote_spanned!(name.span()=> ::staticnet::#name<T, #s>)
            }
            Kind::Loss => {
                let (path, w) = (layer.type_path(), width(&layer.input));
                quote_spanned!(name.span()=> #path<T, #w>)
            }
            Kind::Conv | Kind::Pool => {
                let input = shape(&layer.input);
                let window = layer.window.as_ref().expect("valid");
                let (size, stride, pad) = (
                    typenum(&window.size),
                    typenum(&window.stride),
                    typenum(&window.pad),
                );
                let filters = window.filters.as_ref().map(|f| {
                    let f = typenum(f);
                    quote!(#f,)
                });
                quote_spanned!(name.span()=> ::staticnet::#name<T, #input, #filters #size, #size, #stride, #pad>)
            }
            Kind::Flatten => {
                let (input, n) = (shape(&layer.input), width(&layer.output));
                quote_spanned!(name.span()=> ::staticnet::#name<T, #input, #n>)
            }
            // Not a layer: the network's input shape.
            Kind::Input => shape(&layer.output),
            Kind::Residual => {
                let inner = layer.inner.as_ref().expect("valid").ty();
                quote_spanned!(name.span()=> ::staticnet::Residual<T, #inner>)
            }
            Kind::User => {
                let path = &layer.decl.path;
                let input = layer.input.as_ref().map(Dims::shape_type);
                let args: Vec<TokenStream> = match &layer.decl.args {
                    Some(args) => args
                        .sizes
                        .iter()
                        .map(|size| match &input {
                            Some(input) if tokens_to_string(size) == "_" => input.clone(),
                            _ => size.clone(),
                        })
                        .collect(),
                    None => input.into_iter().collect(),
                };
                quote_spanned!(name.span()=> #path #name<T, #(#args),*>)
            }
        }
    }

    /// `::staticnet::Name` for a layer the macro knows, the path as written for
    /// the user's own.
    fn type_path(&self) -> TokenStream {
        let name = &self.decl.name;
        if self.info.is_some_and(|info| info.name.is_empty()) {
            let path = &self.decl.path;
            quote!(#path #name)
        } else {
            quote_spanned!(name.span()=> ::staticnet::#name)
        }
    }
}
