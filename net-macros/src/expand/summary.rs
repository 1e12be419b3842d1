//! The network's summary: `declared_summary()` from the types (and
//! `summary()`, the same for `f32`), `built_summary(&self)` from a built
//! network, each layer described by its own
//! `Layer::describe` (or `describe_built`) on the shape before it; for a
//! network without a loss layer, its `describe` hooks, which put its
//! layers under the row of the network that holds it. And the table the
//! struct's rustdoc shows, worked out here from the declaration.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

use super::{Network, local};
use crate::catalog::Kind;
use crate::model::Resolved;
use crate::model::dims::Dims;

/// How the layers are described: from their types, or as built.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Form {
    Declared,
    Built,
}

impl Network<'_> {
    /// The rows of the layers, each described on the shape the one before
    /// it outputs, starting from the local `input`; the loss last.
    fn summary_rows(&self, form: Form) -> TokenStream {
        let (rows, shape, d) = (local("rows"), local("shape"), local("d"));
        let steps = self.layers.iter().map(|l| {
            let (ty, field) = (l.ty(), &l.field);
            let (field_name, declared) = (field.to_string(), l.decl.display());
            let describe = match form {
                Form::Declared => quote_spanned!(l.decl.name.span()=>
                    <#ty as ::staticnet::Layer<T>>::describe(&#shape)),
                Form::Built => quote_spanned!(l.decl.name.span()=>
                    ::staticnet::Layer::<T>::describe_built(&self.#field, &#shape)),
            };
            quote! {
                let #d = #describe;
                let #shape = #d.output.clone();
                #rows.push(::staticnet::summary::Row::layer(#field_name, #declared, #d));
            }
        });
        let loss = self.loss.map(|l| {
            let (field, declared) = (l.field.to_string(), l.decl.display());
            quote!(#rows.push(::staticnet::summary::Row::loss(#field, #declared, &#shape));)
        });
        let input = local("input");
        quote! {{
            let mut #rows = ::std::vec::Vec::new();
            let #shape = ::core::clone::Clone::clone(#input);
            #(#steps)*
            #loss
            #rows
        }}
    }

    /// `describe` and `describe_built` of a network without a loss layer:
    /// a block, its layers under it.
    pub(super) fn describe_methods(&self) -> TokenStream {
        let input = local("input");
        let (declared, built) = (
            self.summary_rows(Form::Declared),
            self.summary_rows(Form::Built),
        );
        quote! {
            fn describe(#input: &::staticnet::summary::SampleShape) -> ::staticnet::summary::Description {
                ::staticnet::summary::Description::block(#input, #declared)
            }

            fn describe_built(&self, #input: &::staticnet::summary::SampleShape) -> ::staticnet::summary::Description {
                ::staticnet::summary::Description::block(#input, #built)
            }
        }
    }

    /// The inherent `summary()` and `built_summary(&self)`.
    pub(super) fn summary_impl(&self, first_in: &TokenStream) -> TokenStream {
        let (name, input) = (&self.decl.name, local("input"));
        let name_text = name.to_string();
        let where_clause = &self.decl.where_clause;
        let of_input = quote!(::staticnet::summary::SampleShape::of::<#first_in>());
        let (declared, built) = match self.loss {
            Some(_) => (
                self.summary_rows(Form::Declared),
                self.summary_rows(Form::Built),
            ),
            None => (
                quote!(<Self as ::staticnet::Layer<T>>::describe(#input).children),
                quote!(::staticnet::Layer::<T>::describe_built(self, #input).children),
            ),
        };
        let generics = match self.loss {
            Some(_) => quote!(<T: ::staticnet::Scalar> #name<T>),
            None => quote!(<T: ::staticnet::Scalar, S> #name<T, S>),
        };
        let table = self.doc_table();
        let table_doc = quote! {
            /// The table of this struct's rustdoc, in Markdown: what
            /// `network!` works out from the declaration alone, as
            /// [`Summary::markdown`](::staticnet::summary::Summary::markdown)
            /// writes it (a count it cannot see is `?`).
            pub const SUMMARY_DOC: &'static str = #table;
        };
        // `Net::summary()` names no scalar: it is `f32`'s, the default,
        // and calls the generic form, so that a layer the compiler refuses
        // is reported once, for `T`. A declaration that bounds the scalar
        // has the generic form only.
        let shortcut = self.decl.where_clause.is_empty().then(|| {
            let ty = match self.loss {
                Some(_) => quote!(#name),
                None => quote!(#name<f32>),
            };
            quote! {
                #[allow(dead_code)]
                impl #ty {
                    #table_doc

                    /// This network's summary, from its declaration alone, for the
                    /// default scalar `f32` (see
                    /// [`declared_summary`](Self::declared_summary), and
                    /// [`Summary::for_scalar`](::staticnet::summary::Summary::for_scalar)
                    /// for another scalar's memory). `println!("{}", Net::summary())`
                    /// prints the table.
                    pub fn summary() -> ::staticnet::summary::Summary {
                        Self::declared_summary()
                    }
                }
            }
        });
        let generic_table_doc = shortcut.is_none().then_some(table_doc);
        quote! {
            #shortcut

            #[allow(dead_code)]
            impl #generics #where_clause {
                #generic_table_doc

                /// This network's summary, from its declaration alone, for
                /// the scalar `T`: per layer its field, declaration, output
                /// shape, parameters, multiply-adds and activations per
                /// sample, the totals, and the memory of a training step and
                /// an inference call (see [`staticnet::summary`](::staticnet::summary)).
                /// A width chosen at run time shows as `dyn`, and what depends
                /// on it as `?`; [`built_summary`](Self::built_summary) has
                /// their values.
                pub fn declared_summary() -> ::staticnet::summary::Summary {
                    let #input = &#of_input;
                    ::staticnet::summary::Summary::new::<T>(#name_text, ::core::clone::Clone::clone(#input), #declared)
                }

                /// The summary of this built network, for its scalar `T`:
                /// as `declared_summary()`, with the widths chosen at run
                /// time at the values it was built with, and the parameters
                /// of layers that do not describe themselves counted.
                pub fn built_summary(&self) -> ::staticnet::summary::Summary {
                    let #input = &#of_input;
                    ::staticnet::summary::Summary::new::<T>(#name_text, ::core::clone::Clone::clone(#input), #built)
                }
            }
        }
    }

    /// The Markdown table of the struct's rustdoc, as
    /// `Summary::markdown` writes it, from what the declaration says: a
    /// count the macro cannot see (a layer of one's own, a nested network,
    /// a named constant) is `?`.
    pub(super) fn doc_table(&self) -> String {
        let mut table = String::from(
            "| layer | declared | output | params | MACs/sample |\n| --- | --- | --- | ---: | ---: |\n",
        );
        let mut totals = Some((0u64, 0u64));
        for l in self.all() {
            let counts = counts(l);
            totals = totals
                .zip(counts)
                .and_then(|((p, m), (lp, lm))| Some((p.checked_add(lp)?, m.checked_add(lm)?)));
            let output = match l.is(Kind::Loss) {
                true => "loss".to_owned(),
                false => l.output.as_ref().map_or("?".to_owned(), shape_text),
            };
            table += &format!(
                "| `{}` | `{}` | {output} | {} | {} |\n",
                l.field,
                l.decl.display(),
                count(counts.map(|c| c.0)),
                count(counts.map(|c| c.1)),
            );
        }
        table += &format!(
            "| total | | | {} | {} |\n",
            count(totals.map(|t| t.0)),
            count(totals.map(|t| t.1))
        );
        table
    }
}

/// `N×30×24×24`, `N×dyn`, `N×HIDDEN`; `?` for a shape only the compiler
/// knows.
fn shape_text(dims: &Dims) -> String {
    match dims {
        Dims::Flat(size) => format!(
            "N×{}",
            size.value.map_or(size.text.clone(), |v| v.to_string())
        ),
        Dims::Image(image) => image
            .sizes
            .map_or("?".to_owned(), |[c, h, w]| format!("N×{c}×{h}×{w}")),
        Dims::Runtime(_) => "N×dyn".to_owned(),
        Dims::Opaque(_) => "?".to_owned(),
    }
}

/// A flat width or an image's size, when the macro knows it.
fn numel(dims: &Option<Dims>) -> Option<u64> {
    match dims.as_ref()? {
        Dims::Flat(size) => size.value,
        Dims::Image(image) => image.sizes.map(|[c, h, w]| c * h * w),
        Dims::Runtime(_) | Dims::Opaque(_) => None,
    }
}

/// The layer's parameters and multiply-adds per sample, as
/// `Layer::describe` counts them, when the declaration gives every size.
fn counts(layer: &Resolved<'_>) -> Option<(u64, u64)> {
    let kind = layer.info.map(|i| i.kind)?;
    match kind {
        Kind::Dense => {
            let (i, o) = (numel(&layer.input)?, numel(&layer.output)?);
            Some((i * o + o, i * o))
        }
        Kind::Conv => {
            let window = layer.window.as_ref()?;
            let channels = match layer.input.as_ref()? {
                Dims::Image(image) => image.sizes?[0],
                _ => return None,
            };
            let (filters, size) = (window.filters.as_ref()?.value?, window.size.value?);
            let filter = channels * size * size;
            Some((filters * filter + filters, numel(&layer.output)? * filter))
        }
        Kind::ShapePreserving if layer.info?.fixed_width => Some((2 * numel(&layer.input)?, 0)),
        Kind::Residual => counts(layer.inner.as_deref()?),
        Kind::ShapePreserving | Kind::Pool | Kind::Flatten | Kind::Loss => Some((0, 0)),
        Kind::Input | Kind::User => None,
    }
}

/// `433,890`, or `?`.
fn count(n: Option<u64>) -> String {
    let Some(n) = n else {
        return "?".to_owned();
    };
    let digits = n.to_string();
    let mut out = String::new();
    for (k, c) in digits.chars().enumerate() {
        if k > 0 && (digits.len() - k) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}
