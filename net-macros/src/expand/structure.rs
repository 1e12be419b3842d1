//! The struct itself, with a doc line per field, and its `LAYERS` list:
//! emitted for a valid network and, after errors, for the fallback.

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
pub(super) fn field_doc(layer: &Resolved<'_>) -> String {
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
///
/// `table`, when given, is the network's summary in Markdown, shown under a
/// heading of its own.
pub(super) fn struct_header(
    decl: &NetworkDecl,
    layers: &[&Resolved<'_>],
    input: Option<&TokenStream>,
    table: Option<&str>,
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
    let table = table.map(|table| {
        let text = format!(
            "\n# Summary\n\n{table}\nPer sample (`N` is the batch): the output's shape, and the \
             multiply-adds of the products (`Affine<I, O>`: `I·O`; `Conv2d`: \
             `out_h·out_w·FN·C·FH·FW`; other layers 0). A `?` is a count only the compiler \
             knows (a layer of one's own, a nested network, a named constant): \
             `{name}::summary()` has it, and the memory of training and inference."
        );
        quote!(#[doc = ""] #[doc = #text])
    });
    quote! {
        #(#attrs)*
        #separator
        #[doc = #summary]
        #table
        #derive
        #vis struct #name<T: ::staticnet::Scalar = f32 #input_param> #where_clause
    }
}

/// `impl Net<T> { pub const LAYERS: &[&str] }`: the layers as written
/// (`Net<T, S>` for a network that is a layer).
pub(super) fn layer_names(decl: &NetworkDecl, is_layer: bool) -> TokenStream {
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
