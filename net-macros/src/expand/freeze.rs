//! The inference form of a valid network: `FreezeNetwork<T>` for a network
//! with a loss layer (a `Predictor` over its frozen layers), `Freeze<T>`
//! for one without, so that it freezes inside another. Each layer is bound
//! by `Freeze<T>` (as `FreezeAs`, with its shapes) at its own tokens: a network holding a layer without an
//! inference form still trains, and `freeze` names that layer.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

use super::Network;

impl Network<'_> {
    pub(super) fn freeze_impl(&self) -> TokenStream {
        let name = &self.decl.name;
        let bounds = self.layers.iter().map(|l| {
            let ty = l.ty();
            quote_spanned!(l.decl.name.span()=> #ty: ::staticnet::infer::FreezeAs<
                T,
                <#ty as ::staticnet::Layer<T>>::In,
                <#ty as ::staticnet::Layer<T>>::Out,
            >)
        });
        // Each output is the next input: when two layers disagree (the
        // compiler's check has said so, at the layer), the network has no
        // frozen form, and no second error about it.
        let pairs = self.layers.windows(2).map(|pair| {
            let (out, next) = (pair[0].ty(), pair[1].ty());
            quote!(<#out as ::staticnet::Layer<T>>::Out: ::staticnet::infer::Feeds<<#next as ::staticnet::Layer<T>>::In>)
        });
        let where_clause = &self.decl.where_clause;
        let where_clause = if where_clause.is_empty() {
            quote!(where #(#bounds,)* #(#pairs,)*)
        } else {
            quote!(#where_clause, #(#bounds,)* #(#pairs,)*)
        };
        // Then<A, Then<B, C>>, from the last layer back.
        let mut layers = self.layers.iter().rev();
        let last = layers.next().expect("a valid network has a layer");
        let frozen = |ty: TokenStream| quote!(::staticnet::infer::FrozenLayer<T, #ty>);
        let freeze =
            |field: &syn::Ident| quote!(::staticnet::infer::FreezeAs::freeze_as(&self.#field));
        let (mut chain, mut build) = (frozen(last.ty()), freeze(&last.field));
        for layer in layers {
            let (ty, layer) = (frozen(layer.ty()), freeze(&layer.field));
            chain = quote!(::staticnet::infer::Then<#ty, #chain>);
            build = quote!(::staticnet::infer::Then::new(#layer, #build));
        }
        match self.loss {
            Some(_) => quote! {
                impl<T: ::staticnet::Scalar> ::staticnet::FreezeNetwork<T> for #name<T> #where_clause {
                    type Frozen = ::staticnet::Predictor<T, #chain>;

                    fn freeze(&self) -> Self::Frozen {
                        ::staticnet::Predictor::new(#build)
                    }
                }
            },
            None => quote! {
                impl<T: ::staticnet::Scalar, S> ::staticnet::Freeze<T> for #name<T, S> #where_clause {
                    type Frozen = #chain;

                    fn freeze(&self) -> Self::Frozen {
                        #build
                    }
                }
            },
        }
    }
}
