//! The ONNX form of a valid network: `ExportNetwork<T>` for a network with
//! a loss layer, `Export<T>` for one without, so that it is written inside
//! another. Each layer is bound by `Export<T>` at its own tokens: a network
//! holding a layer without an ONNX form still trains, and `export_onnx`
//! names that layer.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

use super::{Network, local, where_and};

impl Network<'_> {
    pub(super) fn export_impl(&self) -> TokenStream {
        let name = &self.decl.name;
        let (graph, x) = (local("graph"), local("x"));
        let bounds = self.layers.iter().map(|l| {
            let ty = l.ty();
            quote_spanned!(l.decl.name.span()=> #ty: ::staticnet::onnx::Export<T>)
        });
        let where_clause = where_and(self.decl);
        let where_clause = quote!(#where_clause #(#bounds,)*);
        let steps = self.layers.iter().map(|l| {
            let (field, field_name) = (&l.field, l.field.to_string());
            quote! {
                let #x = #graph.scoped(#field_name, |#graph| ::staticnet::onnx::Export::<T>::export(&self.#field, #graph, #x));
            }
        });
        let body = quote!(#(#steps)* #x);
        match self.loss {
            Some(_) => quote! {
                impl<T: ::staticnet::Scalar> ::staticnet::onnx::ExportNetwork<T> for #name<T> #where_clause {
                    fn export_layers(&self, #graph: &mut ::staticnet::onnx::Graph<T>, #x: ::staticnet::onnx::Value) -> ::staticnet::onnx::Value {
                        #body
                    }
                }
            },
            None => quote! {
                impl<T: ::staticnet::Scalar, S> ::staticnet::onnx::Export<T> for #name<T, S> #where_clause {
                    fn export(&self, #graph: &mut ::staticnet::onnx::Graph<T>, #x: ::staticnet::onnx::Value) -> ::staticnet::onnx::Value {
                        #body
                    }
                }
            },
        }
    }
}
