//! After errors: the struct with the user's name and a `Network` impl (or,
//! without a loss layer, a `Layer` impl) whose bodies are
//! `unimplemented!()`, with the shapes guessed from what could be read, so
//! that code using the network adds no errors of its own.

use proc_macro2::TokenStream;
use quote::quote;

use super::signatures::{layer_methods, network_methods};
use super::structure::{layer_names, struct_header};
use crate::ast::NetworkDecl;
use crate::catalog::Kind;
use crate::model::Resolved;
use crate::model::dims::Dims;

/// The fallback item for `decl`, whose layers were read as `layers`.
pub(super) fn fallback(decl: &NetworkDecl, layers: &[Resolved<'_>]) -> TokenStream {
    let name = &decl.name;
    let first = layers.iter().find_map(|l| match l.info.map(|i| i.kind) {
        Some(Kind::Input) => l.output.as_ref(),
        Some(Kind::Dense) => l.input.as_ref(),
        _ => None,
    });
    let guess_in = first.map_or(quote!(::staticnet::Const<1>), Dims::shape_type);
    let last = layers
        .iter()
        .rev()
        .find_map(|l| l.output.as_ref().or(l.input.as_ref()).and_then(Dims::flat));
    let guess_out = last.map_or(quote!(1), |s| s.arg.clone());
    let guess_out = quote!(::staticnet::Const<#guess_out>);
    let message = format!("`{name}` was declared with errors");
    let unimplemented = quote!(::core::unimplemented!(#message));
    let where_clause = &decl.where_clause;
    let has_loss = layers.last().is_some_and(|l| l.is(Kind::Loss));
    let all: Vec<&Resolved<'_>> = layers.iter().collect();
    let names = layer_names(decl, !has_loss);
    let (header, generics, body) = if has_loss {
        let methods = network_methods(|_| unimplemented.clone());
        let body = quote! {
            #[allow(unused_variables)]
            impl<T: ::staticnet::Scalar> ::staticnet::Network<T> for #name<T> #where_clause {
                type In = #guess_in;
                type Out = #guess_out;
                #methods
            }
        };
        (struct_header(decl, &all, None, None), quote!(T), body)
    } else {
        let methods = layer_methods(|_| unimplemented.clone());
        let body = quote! {
            #[allow(unused_variables)]
            impl<T: ::staticnet::Scalar, S> ::staticnet::Layer<T> for #name<T, S> #where_clause {
                type In = #guess_in;
                type Out = #guess_out;
                #methods
            }
        };
        (
            struct_header(decl, &all, Some(&guess_in), None),
            quote!((T, S)),
            body,
        )
    };
    let phantom = quote!(::core::marker::PhantomData<fn() -> #generics>);
    quote! {
        #header {
            __layers: #phantom,
        }

        #names

        #body
    }
}
