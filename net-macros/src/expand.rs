//! Code generation: the struct, its `Network` impl, and — after errors — a
//! fallback item so that later uses of the type add no errors of their own.

use std::collections::HashSet;

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{quote, quote_spanned};
use syn::Ident;

use crate::catalog::Kind;
use crate::dims::Dims;
use crate::items::{fallback, field_doc, layer_names, layer_type, struct_header};
use crate::parse::NetworkDecl;
use crate::validate::{Resolved, validate};

/// The whole expansion of one `network!`.
pub fn expand(decl: &NetworkDecl) -> TokenStream {
    let checked = validate(decl);
    match checked.error {
        None => Network::new(decl, &checked.layers).expand(),
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
    loss: &'a Resolved<'a>,
}

/// A name the user's code cannot see or shadow.
fn local(name: &str) -> Ident {
    Ident::new(name, Span::mixed_site())
}

impl<'a> Network<'a> {
    fn new(decl: &'a NetworkDecl, resolved: &'a [Resolved<'a>]) -> Self {
        let (loss, layers) = resolved
            .split_last()
            .expect("a valid network has a loss layer");
        let is_input = |l: &&Resolved<'_>| l.info.is_some_and(|i| i.kind == Kind::Input);
        Network {
            decl,
            input: layers.iter().find(is_input),
            layers: layers.iter().filter(|l| !is_input(l)).collect(),
            loss,
        }
    }

    fn expand(&self) -> TokenStream {
        let decl = self.decl;
        let name = &decl.name;
        let fields = self.all().map(|l| {
            let (field, ty, doc) = (&l.field, layer_type(l), field_doc(l));
            quote!(#[doc = #doc] pub #field: #ty,)
        });
        let header = struct_header(decl, &self.all().collect::<Vec<_>>());
        let first_in = self
            .input
            .map_or(&self.layers[0].input, |input| &input.output)
            .as_ref()
            .expect("valid")
            .shape_type();
        let out = self
            .loss
            .input
            .as_ref()
            .and_then(Dims::flat)
            .expect("valid");
        let out = &out.arg;
        let lr = local("lr");
        let (init, predict, forward_loss, loss_and_accuracy, forward_backward, sgd_train_step) = (
            self.init(),
            self.predict(),
            self.forward_loss(),
            self.loss_and_accuracy(),
            self.forward_backward(),
            self.sgd_train_step(&lr),
        );
        let (visit, visit_mut) = (self.visit(false), self.visit(true));
        let (set_training, training) = (self.set_training(), local("training"));
        let names = layer_names(decl);
        let nonzero = self.nonzero_checks();
        let windows = self.window_checks();
        let (x, t, f, rng, init_arg) = (
            local("x"),
            local("t"),
            local("f"),
            local("rng"),
            local("init"),
        );
        quote! {
            #header {
                #(#fields)*
            }

            #names
            #nonzero
            #windows

            impl<T: ::staticnet::Scalar> ::staticnet::Network<T> for #name<T> {
                type In = #first_in;
                type Out = ::staticnet::Const<#out>;

                fn init(#rng: &mut dyn ::staticnet::rand::RngCore, #init_arg: ::staticnet::Init) -> Self {
                    #init
                }

                fn predict(&mut self, #x: &::staticnet::Batch<T, Self::In>) -> &::staticnet::Batch<T, Self::Out> {
                    #predict
                }

                fn forward_loss(&mut self, #x: &::staticnet::Batch<T, Self::In>, #t: ::staticnet::Targets<'_, T, Self::Out>) -> T {
                    #forward_loss
                }

                fn loss_and_accuracy<'t>(&mut self, #x: &::staticnet::Batch<T, Self::In>, #t: impl ::core::convert::Into<::staticnet::Targets<'t, T, Self::Out>>) -> (T, f64) {
                    #loss_and_accuracy
                }

                fn forward_backward(&mut self, #x: &::staticnet::Batch<T, Self::In>, #t: ::staticnet::Targets<'_, T, Self::Out>) -> T {
                    #forward_backward
                }

                fn sgd_train_step(&mut self, #x: &::staticnet::Batch<T, Self::In>, #t: ::staticnet::Targets<'_, T, Self::Out>, #lr: T) -> T {
                    #sgd_train_step
                }

                fn set_training(&mut self, #training: bool) {
                    #set_training
                }

                fn visit_params(&self, #f: &mut dyn FnMut(::staticnet::ParamRef<'_, T>)) {
                    #visit
                }

                fn visit_params_mut(&mut self, #f: &mut dyn FnMut(::staticnet::ParamMut<'_, T>)) {
                    #visit_mut
                }
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
                "`{}` does not fit its input, {}: the {what} must be at most as large as the padded input, and the stride must divide the pixels it moves over (H + 2·pad − size, and the same for W)",
                layer.decl.display(),
                input.text
            )
            .replace('{', "{{")
            .replace('}', "}}");
            let (ty, size, stride, pad) = (
                &input.ty,
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
        self.layers.iter().copied().chain(Some(self.loss))
    }

    /// Each layer drawn with `init` resolved for the activation after it
    /// (see `auto_init`), and given its fraction when one is written
    /// (`Dropout<0.3>`).
    fn init(&self) -> TokenStream {
        let (rng, init) = (local("rng"), local("init"));
        let fields = self.layers.iter().enumerate().map(|(k, l)| {
            let (field, ty) = (&l.field, layer_type(l));
            let span = l.decl.name.span();
            let auto = Ident::new(self.auto_init(k), span);
            let layer = quote_spanned!(span=> <#ty as ::staticnet::Layer<T>>::init(#rng, ::staticnet::Init::resolve_auto(#init, ::staticnet::Init::#auto)));
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
        let (field, ty) = (&self.loss.field, layer_type(self.loss));
        let loss = quote_spanned!(self.loss.decl.name.span()=> #field: <#ty as ::staticnet::LossLayer<T>>::new());
        quote!(Self { #(#fields)* #loss })
    }

    /// The `Init` variant `Init::Auto` means for layer `k`: the choice of
    /// the first activation among the layers that follow, looking past
    /// layers that keep the shape (dropout, batch normalization); Xavier
    /// when a layer of another kind, or the loss, comes first.
    fn auto_init(&self, k: usize) -> &'static str {
        for layer in &self.layers[k + 1..] {
            let Some(info) = layer.info else { break };
            if let Some(init) = info.auto_init_before {
                return init;
            }
            if info.kind != Kind::ShapePreserving {
                break;
            }
        }
        "Xavier"
    }

    /// The input of layer `k`, fitted to its type when only the compiler
    /// can check that it matches the layer before.
    fn fit_forward(&self, k: usize, value: TokenStream) -> TokenStream {
        match self.fit_path(k) {
            Some(path) => quote!(#path::forward(#value)),
            None => value,
        }
    }

    /// The gradient of layer `k`'s input, fitted back to the output type of
    /// the layer before.
    fn fit_backward(&self, k: usize, value: TokenStream) -> TokenStream {
        match self.fit_path(k) {
            Some(path) => quote!(#path::backward(#value)),
            None => value,
        }
    }

    /// `<<Prev as Layer<T>>::Out as ShapeFits<<Next as Layer<T>>::In, Prev, Next>>`,
    /// with the obligation spanned over the user's tokens of layer `k`, so
    /// that a mismatch is reported there, naming both layers.
    fn fit_path(&self, k: usize) -> Option<TokenStream> {
        let next = self.layers[k];
        if !next.check {
            return None;
        }
        let (prev_ty, next_ty) = (layer_type(self.layers[k - 1]), layer_type(next));
        let mut tokens = next.decl.tokens.clone().into_iter();
        let start = tokens.next().map_or_else(Span::call_site, |t| t.span());
        let end = tokens.last().map_or(start, |t| t.span());
        let self_ty = respan(quote!(<#prev_ty as ::staticnet::Layer<T>>), start);
        let out = Ident::new("Out", end);
        Some(quote! {
            <#self_ty::#out as ::staticnet::__private::ShapeFits<
                <#next_ty as ::staticnet::Layer<T>>::In, #prev_ty, #next_ty>>
        })
    }

    /// The forward pass through every layer but the loss: statements
    /// binding `h1 …`, and the name of the last output.
    fn forward_chain(&self) -> (TokenStream, Ident) {
        let mut statements = TokenStream::new();
        let mut input = local("x");
        for (k, layer) in self.layers.iter().enumerate() {
            let (field, span) = (&layer.field, layer.decl.name.span());
            let arg = if k == 0 {
                quote!(#input)
            } else {
                self.fit_forward(k, quote!(#input))
            };
            let output = local(&format!("h{}", k + 1));
            statements.extend(quote_spanned!(span=> let #output = ::staticnet::Layer::<T>::forward(&mut self.#field, #arg);));
            input = output;
        }
        (statements, input)
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

    fn predict(&self) -> TokenStream {
        let (statements, last) = self.forward_chain();
        quote!(::staticnet::Network::<T>::set_training(self, false); #statements #last)
    }

    /// The loss layer's forward pass on the scores `scores`.
    fn loss_of(&self, scores: &Ident) -> TokenStream {
        let (field, t) = (&self.loss.field, local("t"));
        quote_spanned!(self.loss.decl.name.span()=> ::staticnet::LossLayer::<T>::forward(&mut self.#field, #scores, #t))
    }

    fn forward_loss(&self) -> TokenStream {
        let (statements, last) = self.forward_chain();
        let loss = self.loss_of(&last);
        quote!(#statements #loss)
    }

    /// One forward pass in inference mode; the accuracy from the scores,
    /// then the loss.
    fn loss_and_accuracy(&self) -> TokenStream {
        let (statements, last) = self.forward_chain();
        let loss = self.loss_of(&last);
        let (t, accuracy) = (local("t"), local("accuracy"));
        quote! {
            ::staticnet::Network::<T>::set_training(self, false);
            let #t = ::core::convert::Into::into(#t);
            #statements
            let #accuracy = ::staticnet::__private::accuracy_of(#last, #t);
            (#loss, #accuracy)
        }
    }

    /// Forward keeping every layer's input, the loss, then backward in
    /// reverse; the first layer computes only its parameters' gradients.
    fn forward_backward(&self) -> TokenStream {
        self.backward_pass(None)
    }

    /// [`forward_backward`](Self::forward_backward) with the SGD update at
    /// rate `lr`: none after a loss that is not finite; the first layer's
    /// fused into its backward pass, every other layer's after the pass.
    fn sgd_train_step(&self, lr: &Ident) -> TokenStream {
        self.backward_pass(Some(lr))
    }

    /// The body of [`forward_backward`](Self::forward_backward), or of
    /// [`sgd_train_step`](Self::sgd_train_step) with `sgd`'s rate.
    fn backward_pass(&self, sgd: Option<&Ident>) -> TokenStream {
        let inputs: Vec<Ident> = (0..=self.layers.len())
            .map(|k| local(&format!("in{k}")))
            .collect();
        let (x, t, d, loss) = (local("x"), local("t"), local("d"), local("loss"));
        let first = &inputs[0];
        let mut body = quote!(
            ::staticnet::Network::<T>::set_training(self, true);
            let #first = #x;
        );
        for (k, layer) in self.layers.iter().enumerate() {
            let (field, span, input, output) = (
                &layer.field,
                layer.decl.name.span(),
                &inputs[k],
                &inputs[k + 1],
            );
            let forward =
                quote_spanned!(span=> ::staticnet::Layer::<T>::forward(&mut self.#field, #input));
            let forward = if k + 1 < self.layers.len() {
                self.fit_forward(k + 1, forward)
            } else {
                forward
            };
            body.extend(quote!(let #output = #forward;));
        }
        let field = &self.loss.field;
        let forward_loss = self.loss_of(&inputs[self.layers.len()]);
        body.extend(quote_spanned!(self.loss.decl.name.span()=>
            let #loss = #forward_loss;
        ));
        if sgd.is_some() {
            body.extend(quote!(if !#loss.is_finite() {
                return #loss;
            }));
        }
        body.extend(quote_spanned!(self.loss.decl.name.span()=>
            let #d = ::staticnet::LossLayer::<T>::backward(&mut self.#field, #t);
        ));
        for (k, layer) in self.layers.iter().enumerate().skip(1).rev() {
            let (field, span, input) = (&layer.field, layer.decl.name.span(), &inputs[k]);
            let backward = quote_spanned!(span=> ::staticnet::Layer::<T>::backward(&mut self.#field, #input, #d));
            let backward = self.fit_backward(k, backward);
            body.extend(quote!(let #d = #backward;));
        }
        let first = self.layers[0];
        let (field, input) = (&first.field, &inputs[0]);
        body.extend(match sgd {
            None => quote_spanned!(first.decl.name.span()=>
                ::staticnet::Layer::<T>::backward_params(&mut self.#field, #input, #d);
            ),
            Some(lr) => quote_spanned!(first.decl.name.span()=>
                ::staticnet::Layer::<T>::backward_params_sgd(&mut self.#field, #input, #d, #lr);
            ),
        });
        if let Some(lr) = sgd {
            let p = local("p");
            for layer in self.layers.iter().skip(1) {
                let field = &layer.field;
                body.extend(quote!(
                    ::staticnet::Layer::<T>::visit_params_mut(&mut self.#field, &mut |#p| {
                        ::staticnet::__private::sgd_update(#p, #lr)
                    });
                ));
            }
        }
        quote!(#body #loss)
    }

    /// Each layer's parameters in order, named `W1`, `b1`, … by the layer's
    /// number among the layers with parameters, as the book's
    /// SimpleConvNet names them (`W1` of the convolution, `W2`, `W3` of the
    /// two `Affine`s).
    fn visit(&self, mutable: bool) -> TokenStream {
        let (f, p) = (local("f"), local("p"));
        let calls = self.layers.iter().map(|layer| {
            let (field, span) = (&layer.field, layer.decl.name.span());
            let ordinal = proc_macro2::Literal::usize_unsuffixed(layer.param_index);
            if mutable {
                quote_spanned!(span=> ::staticnet::Layer::<T>::visit_params_mut(&mut self.#field, &mut |mut #p: ::staticnet::ParamMut<'_, T>| {
                    #p.name.index = #ordinal;
                    #f(#p)
                });)
            } else {
                quote_spanned!(span=> ::staticnet::Layer::<T>::visit_params(&self.#field, &mut |mut #p: ::staticnet::ParamRef<'_, T>| {
                    #p.name.index = #ordinal;
                    #f(#p)
                });)
            }
        });
        quote!(#(#calls)*)
    }
}

/// Gives every token `span`.
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut token| {
            if let TokenTree::Group(group) = &token {
                let mut inner =
                    proc_macro2::Group::new(group.delimiter(), respan(group.stream(), span));
                inner.set_span(span);
                token = TokenTree::Group(inner);
            } else {
                token.set_span(span);
            }
            token
        })
        .collect()
}
