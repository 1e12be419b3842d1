//! The checks the compiler makes for the macro: that each layer takes what
//! the layer before it outputs (one trait per pair, whose message names
//! both layers as written), and, for sizes written as named constants, that
//! they are not 0 and that windows fit.

use std::collections::HashSet;

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::Ident;

use super::Network;
use crate::catalog::Kind;
use crate::model::Resolved;
use crate::model::dims::{Dims, concrete};

impl Network<'_> {
    /// A size written as a named constant may still be 0: one const
    /// assertion per distinct such size, at its first use.
    pub(super) fn nonzero_checks(&self) -> TokenStream {
        let mut seen = HashSet::new();
        let mut checks = TokenStream::new();
        for layer in &self.layers {
            if layer.info.is_some_and(|i| i.kind != Kind::Dense) {
                continue;
            }
            let sizes = [(&layer.input, "inputs"), (&layer.output, "outputs")];
            for (size, what) in sizes {
                let size = size.as_ref().and_then(Dims::flat);
                let Some(size) = size.filter(|s| s.value.is_none()) else {
                    continue;
                };
                if !seen.insert(&size.text) {
                    continue;
                }
                let message = literal_braces(&format!(
                    "`{}` has 0 {what}: `{}` is 0, but every layer needs at least one input and one output",
                    layer.decl.display(),
                    size.text
                ));
                let arg = &size.arg;
                let span = arg
                    .clone()
                    .into_iter()
                    .next()
                    .map_or_else(Span::call_site, |t| t.span());
                checks.extend(
                    quote_spanned!(span=> const _: () = ::core::assert!((#arg) != 0, #message);),
                );
            }
        }
        checks
    }

    /// A window whose sizes or input are named constants may not fit: one
    /// const assertion per such `Conv2d` or `MaxPool2d`, at the layer.
    pub(super) fn window_checks(&self) -> TokenStream {
        let mut checks = TokenStream::new();
        for layer in &self.layers {
            let (Some(window), Some(Dims::Image(input))) = (&layer.window, &layer.input) else {
                continue;
            };
            if window.all_known() && input.sizes.is_some() {
                continue; // checked by the macro
            }
            let what = if window.filters.is_some() {
                "filter"
            } else {
                "window"
            };
            let message = literal_braces(&format!(
                "`{}` does not fit its input, {}: the {what} must be at most as large as the padded input",
                layer.decl.display(),
                input.text
            ));
            let (ty, size, stride, pad) = (
                &concrete(&input.ty),
                &window.size.arg,
                &window.stride.arg,
                &window.pad.arg,
            );
            let filters = window.filters.as_ref().map(|f| {
                let f = &f.arg;
                quote!((#f) != 0 &&)
            });
            let span = layer.decl.name.span();
            checks.extend(quote_spanned!(span=>
                const _: () = ::core::assert!(
                    #filters ::staticnet::__private::window_fits::<#ty>(#size, #stride, #pad),
                    #message
                );
            ));
        }
        checks
    }

    /// The check of layer `k`'s input against what comes before it: the
    /// layer before, or the network's `Input<…>`.
    pub(super) fn fit_path(&self, k: usize) -> Option<TokenStream> {
        let next = self.layers[k];
        if !next.check {
            return None;
        }
        let next_ty = next.ty();
        let expected =
            quote_spanned!(next.decl.name.span()=> <#next_ty as ::staticnet::Layer<T>>::In);
        let check = self.check_trait(&k.to_string());
        match k {
            0 => {
                let input = self.input?.output.as_ref()?.shape_type();
                Some(shape_fits(next, &input, None, &expected, &check))
            }
            _ => {
                let prev_ty = self.layers[k - 1].ty();
                let prev_out = quote!(<#prev_ty as ::staticnet::Layer<T>>);
                Some(shape_fits(next, &prev_out, Some("Out"), &expected, &check))
            }
        }
    }

    /// The name of the trait that checks the input of layer `which` (its
    /// index, or `Loss`) against what comes before it.
    fn check_trait(&self, which: &str) -> Ident {
        format_ident!("__{}Fits{}", self.decl.name, which)
    }

    /// One trait per check the compiler makes, whose message names the two
    /// layers as they were written: `` `Affine<4000, 10>` cannot follow
    /// `Flatten`: it expects … inputs, but `Flatten` outputs … ``. Its only
    /// impl is the diagonal, so it holds exactly when the shapes agree.
    pub(super) fn check_traits(&self) -> TokenStream {
        let mut traits = TokenStream::new();
        for (k, layer) in self.layers.iter().enumerate() {
            let prev = match k {
                0 => self.input.filter(|_| layer.check),
                _ => Some(self.layers[k - 1]),
            };
            if let (true, Some(prev)) = (layer.check, prev) {
                traits.extend(check_trait_item(
                    &self.check_trait(&k.to_string()),
                    prev,
                    layer,
                ));
            }
        }
        if let (Some(loss), Some(last)) = (self.loss.filter(|l| l.check), self.layers.last()) {
            traits.extend(check_trait_item(&self.check_trait("Loss"), last, loss));
        }
        traits
    }

    /// The check of the loss layer's input against the last layer's output.
    pub(super) fn loss_path(&self, loss: &Resolved<'_>) -> Option<TokenStream> {
        if !loss.check {
            return None;
        }
        let (prev_ty, loss_ty) = (self.layers.last()?.ty(), loss.ty());
        let prev_out = quote!(<#prev_ty as ::staticnet::Layer<T>>);
        let expected =
            quote_spanned!(loss.decl.name.span()=> <#loss_ty as ::staticnet::LossLayer<T>>::In);
        let check = self.check_trait("Loss");
        Some(shape_fits(loss, &prev_out, Some("Out"), &expected, &check))
    }
}

/// `value` through the check `path` of `layer`'s input: `forward`, what
/// comes before as `layer`'s input; `backward`, the gradient of that input
/// as one of what comes before. As it is when only the macro checked.
pub(super) fn through(
    path: Option<TokenStream>,
    layer: &Resolved<'_>,
    pass: &str,
    value: TokenStream,
) -> TokenStream {
    let span = layer.decl.name.span();
    match path {
        Some(path) => {
            let pass = Ident::new(pass, span);
            quote_spanned!(span=> #path::#pass(#value))
        }
        None => value,
    }
}

/// `<<Prev as Layer<T>>::Out as Check<Expected>>`: the proof that what
/// comes before `next` is its input, spanned over `next`'s tokens so that
/// a mismatch is reported there. `prev` is `<Prev as Layer<T>>` with its
/// associated type `out`, or an input shape itself.
fn shape_fits(
    next: &Resolved<'_>,
    prev: &TokenStream,
    out: Option<&str>,
    expected: &TokenStream,
    check: &Ident,
) -> TokenStream {
    let mut tokens = next.decl.tokens.clone().into_iter();
    let start = tokens.next().map_or_else(Span::call_site, |t| t.span());
    let end = tokens.last().map_or(start, |t| t.span());
    // Only the first token takes `next`'s span, and `Out` its last: the
    // obligation then covers `next`, while the type before keeps its own
    // spans, so that a name the compiler cannot find is reported once, where
    // it was written.
    let mut prev = prev.clone().into_iter();
    let first = prev.next().map(|mut token| {
        token.set_span(start);
        token
    });
    let self_ty: TokenStream = first.into_iter().chain(prev).collect();
    let self_ty = match out {
        Some(out) => {
            let out = Ident::new(out, end);
            quote!(#self_ty::#out)
        }
        None => self_ty,
    };
    quote_spanned! {start=>
        <#self_ty as #check<#expected>>
    }
}

/// The trait `name`, which holds when what `prev` outputs is what `next`
/// takes; see `Network::check_traits`.
fn check_trait_item(name: &Ident, prev: &Resolved<'_>, next: &Resolved<'_>) -> TokenStream {
    let (prev, next) = (
        literal_braces(&prev.decl.display()),
        literal_braces(&next.decl.display()),
    );
    let message = format!(
        "`{next}` cannot follow `{prev}`: it expects `{{Expected}}` inputs, but `{prev}` outputs `{{Self}}`"
    );
    let label = format!("this layer's input differs from what `{prev}` outputs");
    let note = "the sizes of adjacent layers must agree: each layer takes what the layer before it outputs (`Const<N>` is a flat vector of N values, `Chw<C, H, W>` an image); an `Affine<I, O>` takes as its `I` the `O` of the layer before it, or the number of values a `Flatten` before it outputs";
    quote! {
        #[doc(hidden)]
        #[allow(non_camel_case_types)]
        #[diagnostic::on_unimplemented(message = #message, label = #label, note = #note)]
        trait #name<Expected> {
            fn forward<T: ::staticnet::Scalar>(x: &::staticnet::Batch<T, Self>) -> &::staticnet::Batch<T, Expected>
            where
                Self: ::staticnet::Shape,
                Expected: ::staticnet::Shape;

            fn backward<T: ::staticnet::Scalar>(d: &::staticnet::Batch<T, Expected>) -> &::staticnet::Batch<T, Self>
            where
                Self: ::staticnet::Shape,
                Expected: ::staticnet::Shape;
        }

        impl<S: ::staticnet::Shape> #name<S> for S {
            #[inline(always)]
            fn forward<T: ::staticnet::Scalar>(x: &::staticnet::Batch<T, S>) -> &::staticnet::Batch<T, S> {
                x
            }

            #[inline(always)]
            fn backward<T: ::staticnet::Scalar>(d: &::staticnet::Batch<T, S>) -> &::staticnet::Batch<T, S> {
                d
            }
        }
    }
}

/// `text` as the literal part of a format string (`on_unimplemented`'s
/// message, `assert!`'s): a layer written `Affine<{ N }, 10>` keeps its
/// braces instead of naming a format argument.
fn literal_braces(text: &str) -> String {
    text.replace('{', "{{").replace('}', "}}")
}
