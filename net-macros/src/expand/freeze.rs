//! The inference form of a valid network: `FreezeNetwork<T>` for a network
//! with a loss layer (a `Predictor` over its frozen layers), `Freeze<T>`
//! for one without, so that it freezes inside another. Each layer is bound
//! by `Freeze<T>` (as `FreezeAs`, with its shapes) at its own tokens: a
//! network holding a layer without an inference form still trains, and
//! `freeze` names that layer.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

use super::{Network, where_and};
use crate::catalog::Kind;
use crate::model::Resolved;

/// A layer's input and output shapes as the bounds name them. A
/// `Residual`'s are its inner layer's input: a `Residual` around a layer
/// that changes the shape is no layer, and naming its shapes would repeat
/// that error.
fn shapes(layer: &Resolved<'_>) -> (TokenStream, TokenStream) {
    let of = |ty: TokenStream| {
        (
            quote!(<#ty as ::staticnet::Layer<T>>::In),
            quote!(<#ty as ::staticnet::Layer<T>>::Out),
        )
    };
    match layer.inner.as_deref() {
        Some(inner) if layer.is(Kind::Residual) => {
            let (input, _) = of(inner.ty());
            (input.clone(), input)
        }
        _ => of(layer.ty()),
    }
}

impl Network<'_> {
    pub(super) fn freeze_impl(&self) -> TokenStream {
        let name = &self.decl.name;
        let shapes: Vec<_> = self.layers.iter().copied().map(shapes).collect();
        // Spanned at the layer, so that a layer without `Freeze` is named
        // at its tokens.
        let freeze_as = |layer: &Resolved<'_>, (input, output): &(TokenStream, TokenStream)| quote_spanned!(layer.decl.name.span()=> ::staticnet::infer::FreezeAs<T, #input, #output>);
        let bounds = self.layers.iter().zip(&shapes).map(|(l, shape)| {
            let (ty, trait_) = (l.ty(), freeze_as(l, shape));
            quote_spanned!(l.decl.name.span()=> #ty: #trait_)
        });
        // Each output is the next input: when two layers disagree (the
        // compiler's check has said so, at the layer), the network has no
        // frozen form, and no second error about it.
        let pairs = shapes.windows(2).map(|pair| {
            let ((_, out), (next, _)) = (&pair[0], &pair[1]);
            quote!(#out: ::staticnet::infer::Feeds<#next>)
        });
        let where_clause = where_and(self.decl);
        let where_clause = quote!(#where_clause #(#bounds,)* #(#pairs,)*);
        // Then<A, Then<B, C>>, from the last layer back.
        let mut layers = self.layers.iter().zip(&shapes).rev();
        let (last, last_shapes) = layers.next().expect("a valid network has a layer");
        let frozen = |layer: &Resolved<'_>, shape: &(TokenStream, TokenStream)| {
            let (ty, trait_) = (layer.ty(), freeze_as(layer, shape));
            quote!(<#ty as #trait_>::Frozen)
        };
        let freeze =
            |field: &syn::Ident| quote!(::staticnet::infer::FreezeAs::freeze_as(&self.#field));
        let (mut chain, mut build) = (frozen(last, last_shapes), freeze(&last.field));
        for (layer, shape) in layers {
            let (ty, layer) = (frozen(layer, shape), freeze(&layer.field));
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
