//! The items around the `Network` impl: the struct itself, its `LAYERS`
//! list, and the fallback item emitted after errors.

use std::collections::HashSet;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::punctuated::Punctuated;
use syn::{Attribute, Ident, Token};

use crate::ast::NetworkDecl;
use crate::catalog::Kind;
use crate::model::Resolved;
use crate::model::dims::Dims;

/// The doc comment of a layer's field: what it is, and its shapes.
pub fn field_doc(layer: &Resolved<'_>) -> String {
    let text = |dims: &Option<Dims>| dims.as_ref().map_or("?".to_owned(), Dims::describe);
    match layer.info.map(|i| i.kind) {
        Some(Kind::Loss) => format!(
            "The loss layer, `{}`, over {} scores.",
            layer.decl.display(),
            text(&layer.input)
        ),
        _ => format!(
            "`{}`: {} → {}.",
            layer.decl.display(),
            text(&layer.input),
            text(&layer.output)
        ),
    }
}

/// The user's attributes, our derives, the visibility, `struct Name<T>`;
/// for a network without a loss layer, `struct Name<T, S = Input>`, where
/// `S` takes the shape of the layer before it in another network (see
/// `expand`).
pub fn struct_header(
    decl: &NetworkDecl,
    layers: &[&Resolved<'_>],
    input: Option<&TokenStream>,
) -> TokenStream {
    let (attrs, vis, name) = (&decl.attrs, &decl.vis, &decl.name);
    let where_clause = &decl.where_clause;
    let written: Vec<String> = layers.iter().map(|l| l.decl.display()).collect();
    let summary = format!(
        "Declared with `network!` as `{}<{}>`.",
        name,
        written.join(", ")
    );
    let has_docs = attrs.iter().any(|a| a.path().is_ident("doc"));
    let separator = has_docs.then(|| quote!(#[doc = ""]));
    let derived = user_derives(attrs);
    let derives: Vec<Ident> = ["Clone", "Debug"]
        .iter()
        .filter(|d| !derived.contains(**d))
        .map(|d| format_ident!("{d}"))
        .collect();
    let derive = (!derives.is_empty()).then(|| quote!(#[derive(#(#derives),*)]));
    let input_param = input.map(|input| quote!(, S = #input));
    quote! {
        #(#attrs)*
        #separator
        #[doc = #summary]
        #derive
        #vis struct #name<T: ::staticnet::Scalar = f32 #input_param> #where_clause
    }
}

/// `impl Net<T> { pub const LAYERS: &[&str] }`: the layers as written
/// (`Net<T, S>` for a network that is a layer).
pub fn layer_names(decl: &NetworkDecl, is_layer: bool) -> TokenStream {
    let name = &decl.name;
    let written = decl.layers.iter().map(|l| l.display());
    let (params, args) = if is_layer {
        (quote!(<T: ::staticnet::Scalar, S>), quote!(<T, S>))
    } else {
        (quote!(<T: ::staticnet::Scalar>), quote!(<T>))
    };
    let where_clause = &decl.where_clause;
    quote! {
        impl #params #name #args #where_clause {
            /// The layers as declared in `network!`, in order.
            #[allow(dead_code)]
            pub const LAYERS: &'static [&'static str] = &[#(#written),*];
        }
    }
}

/// The names the user already derives, such as `Clone`.
fn user_derives(attrs: &[Attribute]) -> HashSet<String> {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("derive"))
        .filter_map(|a| {
            a.parse_args_with(Punctuated::<syn::Path, Token![,]>::parse_terminated)
                .ok()
        })
        .flatten()
        .filter_map(|p| p.segments.last().map(|s| s.ident.to_string()))
        .collect()
}

/// After errors: the struct with the user's name and a `Network` impl (or,
/// without a loss layer, a `Layer` impl) whose bodies are
/// `unimplemented!()`, with the shapes guessed from what could be read, so
/// that code using the network adds no errors.
pub fn fallback(decl: &NetworkDecl, layers: &[Resolved<'_>]) -> TokenStream {
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
    let message = format!("`{name}` was declared with errors");
    let where_clause = &decl.where_clause;
    let has_loss = layers.last().is_some_and(|l| l.is(Kind::Loss));
    let all: Vec<&Resolved<'_>> = layers.iter().collect();
    let names = layer_names(decl, !has_loss);
    let (header, generics, body) = if has_loss {
        let header = struct_header(decl, &all, None);
        let body = quote! {
            impl<T: ::staticnet::Scalar> ::staticnet::Network<T> for #name<T> #where_clause {
                type In = #guess_in;
                type Out = ::staticnet::Const<#guess_out>;
                fn init(_: &mut dyn ::staticnet::rand::RngCore, _: ::staticnet::Init) -> Self {
                    ::core::unimplemented!(#message)
                }
                fn forward(&mut self, _: &::staticnet::Batch<T, Self::In>) -> &::staticnet::Batch<T, Self::Out> {
                    ::core::unimplemented!(#message)
                }
                fn forward_loss(&mut self, _: &::staticnet::Batch<T, Self::In>, _: ::staticnet::Targets<'_, T, Self::Out>) -> T {
                    ::core::unimplemented!(#message)
                }
                fn scores(&self) -> &::staticnet::Batch<T, Self::Out> {
                    ::core::unimplemented!(#message)
                }
                fn backward(&mut self, _: &::staticnet::Batch<T, Self::In>, _: ::staticnet::Targets<'_, T, Self::Out>, _: ::staticnet::ParamUpdate<T>) {
                    ::core::unimplemented!(#message)
                }
                fn visit_params(&self, _: &mut dyn FnMut(::staticnet::ParamRef<'_, T>)) {
                    ::core::unimplemented!(#message)
                }
                fn visit_params_mut(&mut self, _: &mut dyn FnMut(::staticnet::ParamMut<'_, T>)) {
                    ::core::unimplemented!(#message)
                }
            }
        };
        (header, quote!(T), body)
    } else {
        let header = struct_header(decl, &all, Some(&guess_in));
        let out = quote!(::staticnet::Const<#guess_out>);
        let body = quote! {
            impl<T: ::staticnet::Scalar, S> ::staticnet::Layer<T> for #name<T, S> #where_clause {
                type In = #guess_in;
                type Out = #out;
                fn init(_: &mut dyn ::staticnet::rand::RngCore, _: ::staticnet::Init) -> Self {
                    ::core::unimplemented!(#message)
                }
                fn forward(&mut self, _: &::staticnet::Batch<T, Self::In>) -> &::staticnet::Batch<T, Self::Out> {
                    ::core::unimplemented!(#message)
                }
                fn output(&self) -> &::staticnet::Batch<T, Self::Out> {
                    ::core::unimplemented!(#message)
                }
                fn backward(&mut self, _: &::staticnet::Batch<T, Self::In>, _: &::staticnet::Batch<T, Self::Out>) -> &::staticnet::Batch<T, Self::In> {
                    ::core::unimplemented!(#message)
                }
            }
        };
        (header, quote!((T, S)), body)
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
