//! The passes a network runs, as chains of calls through its layers: the
//! initializer, forward, backward (to the input gradient, or to the
//! parameters' update), the loss and the mode.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::Ident;

use super::checks::through;
use super::runtime::sized_affine;
use super::{Network, local};
use crate::model::Resolved;

/// What the first layer's backward pass computes.
pub(super) enum First<'i> {
    /// The input gradient too, as a layer's `backward` returns it.
    InputGradient,
    /// Only the parameters' gradients, or their update: the network's own
    /// first layer, whose input gradient nobody reads.
    Params(&'i Ident),
}

impl Network<'_> {
    /// `Self { field: layer, … }`: each layer drawn with `init` resolved
    /// for the layers after it (`Layer::INIT_BEFORE`: He before a ReLU,
    /// looking past dropout), and given its fraction when one is written
    /// (`Dropout<0.3>`); then `extra`. With `widths`, an `Affine` with a
    /// width chosen at run time reads it from there.
    pub(super) fn init(&self, extra: Option<TokenStream>, widths: Option<&Ident>) -> TokenStream {
        let (rng, init) = (local("rng"), local("init"));
        let fields = self.layers.iter().enumerate().map(|(k, l)| {
            let (field, ty) = (&l.field, l.ty());
            let span = l.decl.name.span();
            let after = self.layers[k + 1..].iter().map(|next| {
                let next = next.ty();
                quote!(<#next as ::staticnet::Layer<T>>::INIT_BEFORE)
            });
            let auto = quote!(::staticnet::InitBefore::resolve(&[#(#after),*]));
            let resolved = quote!(::staticnet::Init::resolve_auto(#init, #auto));
            let sized = widths.and_then(|widths| sized_affine(l, &ty, widths, &rng, &resolved));
            let layer = sized.unwrap_or_else(
                || quote_spanned!(span=> <#ty as ::staticnet::Layer<T>>::init(#rng, #resolved)),
            );
            let setter = l.info.and_then(|info| info.fraction.as_ref());
            let layer = match (setter, &l.fraction) {
                (Some(setter), Some(value)) => {
                    let method = Ident::new(setter.method, span);
                    quote_spanned!(span=> <#ty>::#method(#layer, #value))
                }
                _ => layer,
            };
            quote!(#field: #layer,)
        });
        let loss = self.loss.map(|loss| {
            let (field, ty) = (&loss.field, loss.ty());
            quote_spanned!(loss.decl.name.span()=> #field: <#ty as ::staticnet::LossLayer<T>>::new(),)
        });
        quote!(Self { #(#fields)* #loss #extra })
    }

    /// The forward pass through every layer but the loss: statements
    /// binding `h1 …`, and the last output.
    pub(super) fn forward_chain(&self) -> (TokenStream, Ident) {
        let mut statements = TokenStream::new();
        let mut input = local("x");
        for (k, layer) in self.layers.iter().enumerate() {
            let (field, span) = (&layer.field, layer.decl.name.span());
            let arg = through(self.fit_path(k), layer, "forward", quote!(#input));
            let output = local(&format!("h{}", k + 1));
            statements.extend(quote_spanned!(span=> let #output = ::staticnet::Layer::<T>::forward(&mut self.#field, #arg);));
            input = output;
        }
        (statements, input)
    }

    /// The backward pass from `d`, the gradient of the last layer's output,
    /// to the first layer; each layer's input is the output of the one
    /// before it. Ends with the input gradient, or updates the parameters.
    pub(super) fn backward_chain(&self, first: First<'_>) -> TokenStream {
        let (x, d) = (local("x"), local("d"));
        let mut body = TokenStream::new();
        for (k, layer) in self.layers.iter().enumerate().skip(1).rev() {
            let (field, span) = (&layer.field, layer.decl.name.span());
            let prev = self.layers[k - 1];
            let (prev_field, prev_span) = (&prev.field, prev.decl.name.span());
            let output =
                quote_spanned!(prev_span=> ::staticnet::Layer::<T>::output(&self.#prev_field));
            let input = through(self.fit_path(k), layer, "forward", output);
            let backward = quote_spanned!(span=> ::staticnet::Layer::<T>::backward(&mut self.#field, #input, #d));
            let backward = through(self.fit_path(k), layer, "backward", backward);
            body.extend(quote!(let #d = #backward;));
        }
        let layer = self.layers[0];
        let (field, span) = (&layer.field, layer.decl.name.span());
        let input = through(self.fit_path(0), layer, "forward", quote!(#x));
        match first {
            First::InputGradient => {
                let backward = quote_spanned!(span=> ::staticnet::Layer::<T>::backward(&mut self.#field, #input, #d));
                let backward = through(self.fit_path(0), layer, "backward", backward);
                body.extend(backward);
            }
            First::Params(update) => {
                body.extend(quote_spanned!(span=>
                    ::staticnet::Layer::<T>::backward_first(&mut self.#field, #input, #d, #update);
                ));
                for layer in self.layers.iter().skip(1) {
                    let (field, span) = (&layer.field, layer.decl.name.span());
                    body.extend(quote_spanned!(span=> ::staticnet::ParamUpdate::apply(#update, &mut self.#field);));
                }
            }
        }
        body
    }

    /// The loss layer's forward pass on the scores `scores`.
    pub(super) fn loss_forward(&self, loss: &Resolved<'_>, scores: &TokenStream) -> TokenStream {
        let (field, t) = (&loss.field, local("t"));
        quote_spanned!(loss.decl.name.span()=> ::staticnet::LossLayer::<T>::forward(&mut self.#field, #scores, #t))
    }

    /// Every layer's `set_training`.
    pub(super) fn set_training(&self) -> TokenStream {
        let training = local("training");
        let calls = self.layers.iter().map(|layer| {
            let (field, span) = (&layer.field, layer.decl.name.span());
            quote_spanned!(span=> ::staticnet::Layer::<T>::set_training(&mut self.#field, #training);)
        });
        quote!(#(#calls)*)
    }
}
