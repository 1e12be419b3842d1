//! Code generation, one module per kind of item it emits: the struct
//! ([`structure`]), its `Network` impl — or, for a network without a loss
//! layer, its `Layer` impl — ([`impls`]) built from the chains of calls
//! through the layers ([`passes`], [`visits`]), the checks the compiler
//! makes ([`checks`]), the functions of runtime widths ([`runtime`]), and,
//! after errors, a fallback item ([`fallback`]) so that later uses of the
//! type add no errors of their own, the inference form ([`freeze`]), and
//! the network read from a file ([`load`]), its ONNX form ([`export`]), and
//! its summary and the rustdoc table of it ([`summary`]).
//! [`signatures`] spells each trait method once, for the impls and the
//! fallback alike.

mod checks;
mod export;
mod fallback;
mod freeze;
mod impls;
mod load;
mod passes;
mod runtime;
mod signatures;
mod structure;
mod summary;
#[cfg(test)]
mod tests;
mod visits;

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::Ident;

use crate::ast::NetworkDecl;
use crate::catalog::Kind;
use crate::model::{Resolved, RuntimeBoundary};
use crate::validate::validate;
use fallback::fallback;
use structure::{field_doc, layer_names, struct_header};

/// The whole expansion of one `network!`.
pub fn expand(decl: &NetworkDecl) -> TokenStream {
    let checked = validate(decl);
    match checked.error {
        None => Network::new(decl, &checked.layers, &checked.runtime).expand(),
        Some(error) => {
            let errors = error.to_compile_error();
            let fallback = fallback(decl, &checked.layers);
            quote!(#errors #fallback)
        }
    }
}

/// A valid network, ready to expand.
struct Network<'a> {
    decl: &'a NetworkDecl,
    /// `Input<…>`, when the network states its input shape.
    input: Option<&'a Resolved<'a>>,
    /// Every layer but the loss, in order.
    layers: Vec<&'a Resolved<'a>>,
    /// The loss layer; a network without one is a layer of other networks.
    loss: Option<&'a Resolved<'a>>,
    /// Every layer as declared, `Input<…>` and the loss included.
    declared: &'a [Resolved<'a>],
    /// The widths left to run time.
    runtime: &'a [RuntimeBoundary],
}

/// The declaration's `where` clause, open for more bounds after it: `where`
/// alone, or the clause and a comma.
fn where_and(decl: &NetworkDecl) -> TokenStream {
    let where_clause = &decl.where_clause;
    if where_clause.is_empty() {
        quote!(where)
    } else {
        quote!(#where_clause,)
    }
}

/// A name the user's code cannot see or shadow.
fn local(name: &str) -> Ident {
    Ident::new(name, Span::mixed_site())
}

impl<'a> Network<'a> {
    fn new(
        decl: &'a NetworkDecl,
        resolved: &'a [Resolved<'a>],
        runtime: &'a [RuntimeBoundary],
    ) -> Self {
        let (loss, layers) = match resolved.split_last() {
            Some((last, rest)) if last.is(Kind::Loss) => (Some(last), rest),
            _ => (None, resolved),
        };
        Network {
            decl,
            input: layers.iter().find(|l| l.is(Kind::Input)),
            layers: layers.iter().filter(|l| !l.is(Kind::Input)).collect(),
            loss,
            declared: resolved,
            runtime,
        }
    }

    fn expand(&self) -> TokenStream {
        let decl = self.decl;
        let fields = self.all().map(|l| {
            let (field, ty, doc) = (&l.field, l.ty(), field_doc(l));
            quote!(#[doc = #doc] pub #field: #ty,)
        });
        let first_in = self.first_in();
        let table = self.doc_table();
        let table = Some(table.as_str());
        let (header, input_field, body) = match self.loss {
            Some(loss) => (
                struct_header(decl, &self.all().collect::<Vec<_>>(), None, table),
                None,
                self.network_impl(loss, &first_in),
            ),
            None => (
                struct_header(
                    decl,
                    &self.all().collect::<Vec<_>>(),
                    Some(&first_in),
                    table,
                ),
                Some(quote!(__input: ::core::marker::PhantomData<fn() -> S>,)),
                self.layer_impl(&first_in),
            ),
        };
        let names = layer_names(decl, self.loss.is_none());
        let untrainable = self.loss.is_none().then(|| self.untrainable());
        let nonzero = self.nonzero_checks();
        let windows = self.window_checks();
        let checks = self.check_traits();
        let freeze = self.freeze_impl();
        let export = self.export_impl();
        let load = self.loss.is_some().then(|| self.load_impl());
        let summary = self.summary_impl(&first_in);
        quote! {
            #header {
                #(#fields)*
                #input_field
            }

            #names
            #untrainable
            #nonzero
            #windows
            #checks
            #body
            #freeze
            #export
            #load
            #summary
        }
    }

    /// The shape of one input sample: `Input<…>`'s, the first layer's as
    /// the macro worked it out, or as its type says.
    fn first_in(&self) -> TokenStream {
        if let Some(dims) = self.input.and_then(|input| input.output.as_ref()) {
            return dims.shape_type();
        }
        let first = self.layers[0];
        match &first.input {
            Some(dims) => dims.shape_type(),
            None => {
                let ty = first.ty();
                quote_spanned!(first.decl.name.span()=> <#ty as ::staticnet::Layer<T>>::In)
            }
        }
    }

    /// Every layer, the loss last.
    fn all(&self) -> impl Iterator<Item = &'a Resolved<'a>> + '_ {
        self.layers.iter().copied().chain(self.loss)
    }
}
