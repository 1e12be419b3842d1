//! Code generation: the struct, its `Network` impl (or, for a network
//! without a loss layer, its `Layer` impl), and — after errors — a fallback
//! item so that later uses of the type add no errors of their own.

use std::collections::HashSet;

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::Ident;

use crate::ast::NetworkDecl;
use crate::catalog::Kind;
use crate::items::{fallback, field_doc, layer_names, struct_header};
use crate::model::dims::{Dims, concrete};
use crate::model::{Resolved, RuntimeBoundary};
use crate::runtime::{runtime_impl, sized_affine};
use crate::validate::validate;

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

/// A name the user's code cannot see or shadow.
fn local(name: &str) -> Ident {
    Ident::new(name, Span::mixed_site())
}

/// What the first layer's backward pass computes.
enum First<'i> {
    /// The input gradient too, as a layer's `backward` returns it.
    InputGradient,
    /// Only the parameters' gradients, or their update: the network's own
    /// first layer, whose input gradient nobody reads.
    Params(&'i Ident),
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
        let (header, input_field, body) = match self.loss {
            Some(loss) => (
                struct_header(decl, &self.all().collect::<Vec<_>>(), None),
                None,
                self.network_impl(loss, &first_in),
            ),
            None => (
                struct_header(decl, &self.all().collect::<Vec<_>>(), Some(&first_in)),
                Some(quote!(__input: ::core::marker::PhantomData<fn() -> S>,)),
                self.layer_impl(&first_in),
            ),
        };
        let names = layer_names(decl, self.loss.is_none());
        let untrainable = self.loss.is_none().then(|| self.untrainable());
        let nonzero = self.nonzero_checks();
        let windows = self.window_checks();
        let checks = self.check_traits();
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
        }
    }

    /// For a network without a loss layer, `new` as `Network::new`, bound
    /// by `Self: Network<T>`: calling it, the first thing a program does
    /// with a network, fails with `Network`'s message, that it has no loss
    /// layer, instead of a list of unrelated traits with a `new`.
    fn untrainable(&self) -> TokenStream {
        let name = &self.decl.name;
        let where_clause = &self.decl.where_clause;
        let bound = if where_clause.is_empty() {
            quote!(where)
        } else {
            quote!(#where_clause,)
        };
        let rng = local("rng");
        quote! {
            impl<T: ::staticnet::Scalar, S> #name<T, S> #where_clause {
                /// Only networks with a loss layer are built with `new`:
                /// this one is a layer, built with
                /// [`Layer::init`](::staticnet::Layer::init).
                #[allow(dead_code)]
                pub fn new<R: ::staticnet::rand::RngCore>(#rng: &mut R) -> Self
                #bound
                    Self: ::staticnet::Network<T>,
                {
                    <Self as ::staticnet::Network<T>>::new(#rng)
                }
            }
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

    /// `impl Network<T>`: the layers, then the loss.
    fn network_impl(&self, loss: &Resolved<'_>, first_in: &TokenStream) -> TokenStream {
        let name = &self.decl.name;
        let width = loss
            .input
            .as_ref()
            .and_then(Dims::width_arg)
            .expect("valid");
        let (x, t, rng, init, training, update) = (
            local("x"),
            local("t"),
            local("rng"),
            local("init"),
            local("training"),
            local("update"),
        );
        let (forward, last) = self.forward_chain();
        let scores = through(self.loss_path(loss), loss, "forward", quote!(#last));
        let loss_forward = self.loss_forward(loss, &scores);
        let last_layer = self.layers.last().expect("a valid network has a layer");
        let (last_field, last_span) = (&last_layer.field, last_layer.decl.name.span());
        let last_output =
            quote_spanned!(last_span=> ::staticnet::Layer::<T>::output(&self.#last_field));
        let last_scores = through(self.loss_path(loss), loss, "forward", last_output);
        let backward = self.backward_chain(First::Params(&update));
        let loss_field = &loss.field;
        let loss_backward = quote_spanned!(loss.decl.name.span()=>
            ::staticnet::LossLayer::<T>::backward(&mut self.#loss_field, #t)
        );
        let loss_backward = through(self.loss_path(loss), loss, "backward", loss_backward);
        let d = local("d");
        let init_body = if self.runtime.is_empty() {
            self.init(None, None)
        } else {
            let message = format!(
                "`{name}` leaves widths to run time: build it with `{name}::with_widths(…)` or `{name}::from_weights(…)`"
            );
            quote!({
                let _ = (#rng, #init);
                ::core::panic!(#message)
            })
        };
        let set_training = self.set_training();
        let visits = self.visits();
        let where_clause = &self.decl.where_clause;
        let runtime = (!self.runtime.is_empty()).then(|| {
            let widths = local("widths");
            let build = self.init(None, Some(&widths));
            runtime_impl(
                self.decl,
                self.declared,
                self.runtime,
                &build,
                (&rng, &init, &widths),
            )
        });
        // `Net::init(…)` with no scalar named builds the `f32` network, the
        // struct's default: an inherent function of `Net<f32>` is found
        // before the trait's, and fixes `T`. (Not with a `where` clause,
        // which `f32` might not meet.)
        // A network with widths chosen at run time has `new` and `init`
        // only to say, when they are called, how it is built instead.
        let leaves_widths = !self.runtime.is_empty();
        let new_bound =
            leaves_widths.then(|| quote!(where Self: ::staticnet::__private::FixedWidths<R>));
        let init_signature = if leaves_widths {
            quote!(<R: ::staticnet::rand::RngCore>(#rng: &mut R, #init: ::staticnet::Init) -> Self #new_bound)
        } else {
            quote!((#rng: &mut dyn ::staticnet::rand::RngCore, #init: ::staticnet::Init) -> Self)
        };
        let default_scalar = where_clause.is_empty().then(|| {
            quote! {
                impl #name<f32> {
                    /// The network with `f32` scalars, drawn as `init` says:
                    /// [`Network::init`](::staticnet::Network::init) with the
                    /// default scalar.
                    pub fn init #init_signature {
                        <Self as ::staticnet::Network<f32>>::init(#rng, #init)
                    }

                    /// The network with `f32` scalars and the book's
                    /// initialization: [`Network::new`](::staticnet::Network::new)
                    /// with the default scalar.
                    pub fn new<R: ::staticnet::rand::RngCore>(#rng: &mut R) -> Self #new_bound {
                        <Self as ::staticnet::Network<f32>>::new(#rng)
                    }
                }
            }
        });
        quote! {
            impl<T: ::staticnet::Scalar> ::staticnet::Network<T> for #name<T> #where_clause {
                type In = #first_in;
                type Out = ::staticnet::Const<#width>;

                fn init(#rng: &mut dyn ::staticnet::rand::RngCore, #init: ::staticnet::Init) -> Self {
                    #init_body
                }

                fn forward(&mut self, #x: &::staticnet::Batch<T, Self::In>) -> &::staticnet::Batch<T, Self::Out> {
                    #forward
                    #scores
                }

                fn forward_loss(&mut self, #x: &::staticnet::Batch<T, Self::In>, #t: ::staticnet::Targets<'_, T, Self::Out>) -> T {
                    #forward
                    #loss_forward
                }

                fn scores(&self) -> &::staticnet::Batch<T, Self::Out> {
                    #last_scores
                }

                fn backward(&mut self, #x: &::staticnet::Batch<T, Self::In>, #t: ::staticnet::Targets<'_, T, Self::Out>, #update: ::staticnet::ParamUpdate<T>) {
                    let #d = #loss_backward;
                    #backward
                }

                fn set_training(&mut self, #training: bool) {
                    #set_training
                }

                #visits
            }

            #default_scalar
            #runtime
        }
    }

    /// `impl Layer<T>`, for a network without a loss layer: the same
    /// chains, so that it can stand as one layer in another network.
    fn layer_impl(&self, first_in: &TokenStream) -> TokenStream {
        let name = &self.decl.name;
        let last = *self.layers.last().expect("a valid network has a layer");
        let last_field = &last.field;
        let last_output = quote_spanned!(last.decl.name.span()=> ::staticnet::Layer::<T>::output(&self.#last_field));
        let last_ty = last.ty();
        let first_ty = self.layers[0].ty();
        let out = quote_spanned!(last.decl.name.span()=> <#last_ty as ::staticnet::Layer<T>>::Out);
        let (x, dout, rng, init, training, update, d) = (
            local("x"),
            local("dout"),
            local("rng"),
            local("init"),
            local("training"),
            local("update"),
            local("d"),
        );
        let (forward, output) = self.forward_chain();
        let init_body = self.init(Some(quote!(__input: ::core::marker::PhantomData,)), None);
        let set_training = self.set_training();
        let backward = self.backward_chain(First::InputGradient);
        let backward_first = self.backward_chain(First::Params(&update));
        let visits = self.visits();
        let where_clause = &self.decl.where_clause;
        quote! {
            impl<T: ::staticnet::Scalar, S> ::staticnet::Layer<T> for #name<T, S> #where_clause {
                type In = #first_in;
                type Out = #out;
                const INIT_BEFORE: ::staticnet::InitBefore = <#first_ty as ::staticnet::Layer<T>>::INIT_BEFORE;

                fn init(#rng: &mut dyn ::staticnet::rand::RngCore, #init: ::staticnet::Init) -> Self {
                    #init_body
                }

                fn set_training(&mut self, #training: bool) {
                    #set_training
                }

                fn forward(&mut self, #x: &::staticnet::Batch<T, Self::In>) -> &::staticnet::Batch<T, Self::Out> {
                    #forward
                    #output
                }

                fn output(&self) -> &::staticnet::Batch<T, Self::Out> {
                    #last_output
                }

                fn backward(&mut self, #x: &::staticnet::Batch<T, Self::In>, #dout: &::staticnet::Batch<T, Self::Out>) -> &::staticnet::Batch<T, Self::In> {
                    let #d = #dout;
                    #backward
                }

                fn backward_first(&mut self, #x: &::staticnet::Batch<T, Self::In>, #dout: &::staticnet::Batch<T, Self::Out>, #update: ::staticnet::ParamUpdate<T>) {
                    let #d = #dout;
                    #backward_first
                }

                #visits
            }
        }
    }

    /// A size written as a named constant may still be 0: one const
    /// assertion per distinct such size, at its first use.
    fn nonzero_checks(&self) -> TokenStream {
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
                let message = format!(
                    "`{}` has 0 {what}: `{}` is 0, but every layer needs at least one input and one output",
                    layer.decl.display(),
                    size.text
                )
                .replace('{', "{{")
                .replace('}', "}}");
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
    fn window_checks(&self) -> TokenStream {
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
            let message = format!(
                "`{}` does not fit its input, {}: the {what} must be at most as large as the padded input",
                layer.decl.display(),
                input.text
            )
            .replace('{', "{{")
            .replace('}', "}}");
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

    /// Every layer, the loss last.
    fn all(&self) -> impl Iterator<Item = &'a Resolved<'a>> + '_ {
        self.layers.iter().copied().chain(self.loss)
    }

    /// `Self { field: layer, … }`: each layer drawn with `init` resolved
    /// for the layers after it (`Layer::INIT_BEFORE`: He before a ReLU,
    /// looking past dropout), and given its fraction when one is written
    /// (`Dropout<0.3>`); then `extra`. With `widths`, an `Affine` with a
    /// width chosen at run time reads it from there.
    fn init(&self, extra: Option<TokenStream>, widths: Option<&Ident>) -> TokenStream {
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

    /// The check of layer `k`'s input against what comes before it: the
    /// layer before, or the network's `Input<…>`.
    fn fit_path(&self, k: usize) -> Option<TokenStream> {
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
    fn check_traits(&self) -> TokenStream {
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
    fn loss_path(&self, loss: &Resolved<'_>) -> Option<TokenStream> {
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

    /// The forward pass through every layer but the loss: statements
    /// binding `h1 …`, and the last output.
    fn forward_chain(&self) -> (TokenStream, Ident) {
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
    fn backward_chain(&self, first: First<'_>) -> TokenStream {
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
    fn loss_forward(&self, loss: &Resolved<'_>, scores: &TokenStream) -> TokenStream {
        let (field, t) = (&loss.field, local("t"));
        quote_spanned!(loss.decl.name.span()=> ::staticnet::LossLayer::<T>::forward(&mut self.#field, #scores, #t))
    }

    /// Every layer's `set_training`.
    fn set_training(&self) -> TokenStream {
        let training = local("training");
        let calls = self.layers.iter().map(|layer| {
            let (field, span) = (&layer.field, layer.decl.name.span());
            quote_spanned!(span=> ::staticnet::Layer::<T>::set_training(&mut self.#field, #training);)
        });
        quote!(#(#calls)*)
    }

    /// `visit_params`, `visit_params_mut`, `visit_buffers` and
    /// `visit_buffers_mut`: each layer's in order, renamed by
    /// `__private::Names` (`W1`, `b1`, `gamma1`, `block1.W1`, …).
    fn visits(&self) -> TokenStream {
        // Each visit, and the read-only visit that gives a layer's names
        // first.
        let kinds = [
            (
                "visit_params",
                "visit_params",
                quote!(&self),
                quote!(ParamRef),
            ),
            (
                "visit_params_mut",
                "visit_params",
                quote!(&mut self),
                quote!(ParamMut),
            ),
            (
                "visit_buffers",
                "visit_buffers",
                quote!(&self),
                quote!(BufferRef),
            ),
            (
                "visit_buffers_mut",
                "visit_buffers",
                quote!(&mut self),
                quote!(BufferMut),
            ),
        ];
        let (f, p, names, layer_names, each) = (
            local("f"),
            local("p"),
            local("names"),
            local("layer"),
            local("each"),
        );
        let methods = kinds.into_iter().map(|(method, read, receiver, item)| {
            let method = Ident::new(method, Span::call_site());
            let read = Ident::new(read, Span::call_site());
            let mutable = receiver.to_string().contains("mut");
            let calls = self.layers.iter().map(|layer| {
                let (field, span) = (&layer.field, layer.decl.name.span());
                let field_name = field.to_string();
                let reference = if mutable {
                    quote_spanned!(span=> &mut)
                } else {
                    quote_spanned!(span=> &)
                };
                quote_spanned!(span=> {
                    let mut #layer_names = #names.layer(#field_name, &|#each| {
                        ::staticnet::Layer::<T>::#read(&self.#field, &mut |#p| #each(#p.name))
                    });
                    ::staticnet::Layer::<T>::#method(#reference self.#field, &mut |mut #p: ::staticnet::#item<'_, T>| {
                        #p.name = #layer_names.name(#p.name);
                        #f(#p)
                    });
                })
            });
            quote! {
                fn #method(#receiver, #f: &mut dyn FnMut(::staticnet::#item<'_, T>)) {
                    let mut #names = ::staticnet::__private::Names::new();
                    #(#calls)*
                }
            }
        });
        quote!(#(#methods)*)
    }
}

/// `value` through the check `path` of `layer`'s input: `forward`, what
/// comes before as `layer`'s input; `backward`, the gradient of that input
/// as one of what comes before. As it is when only the macro checked.
fn through(
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
    let escape = |text: String| text.replace('{', "{{").replace('}', "}}");
    let (prev, next) = (escape(prev.decl.display()), escape(next.decl.display()));
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
