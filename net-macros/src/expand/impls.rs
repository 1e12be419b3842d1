//! The trait impls of a valid network: `Network<T>` for a network with a
//! loss layer, with its inherent `init`/`new` for the default scalar;
//! `Layer<T>` for one without, so that it stands as a layer of others.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

use super::checks::through;
use super::passes::First;
use super::runtime::runtime_impl;
use super::signatures::{LayerMethod, NetworkMethod, layer_methods, network_methods};
use super::{Network, local, where_and};
use crate::model::Resolved;
use crate::model::dims::Dims;

impl Network<'_> {
    /// `impl Network<T>`: the layers, then the loss.
    pub(super) fn network_impl(&self, loss: &Resolved<'_>, first_in: &TokenStream) -> TokenStream {
        let name = &self.decl.name;
        let width = loss
            .input
            .as_ref()
            .and_then(Dims::width_arg)
            .expect("valid");
        let (t, rng, init, update, d) = (
            local("t"),
            local("rng"),
            local("init"),
            local("update"),
            local("d"),
        );
        let (forward, last) = self.forward_chain();
        let scores = through(self.loss_path(loss), loss, "forward", quote!(#last));
        let methods = network_methods(|method| match method {
            NetworkMethod::Init => self.init_body(),
            NetworkMethod::Forward => quote!(#forward #scores),
            NetworkMethod::ForwardLoss => {
                let loss_forward = self.loss_forward(loss, &scores);
                quote!(#forward #loss_forward)
            }
            NetworkMethod::Scores => {
                let last = self.layers.last().expect("a valid network has a layer");
                let field = &last.field;
                let output = quote_spanned!(last.decl.name.span()=>
                    ::staticnet::Layer::<T>::output(&self.#field)
                );
                through(self.loss_path(loss), loss, "forward", output)
            }
            NetworkMethod::Backward => {
                let loss_field = &loss.field;
                let loss_backward = quote_spanned!(loss.decl.name.span()=>
                    ::staticnet::LossLayer::<T>::backward(&mut self.#loss_field, #t)
                );
                let loss_backward = through(self.loss_path(loss), loss, "backward", loss_backward);
                let backward = self.backward_chain(First::Params(&update));
                quote!(let #d = #loss_backward; #backward)
            }
            NetworkMethod::SetTraining => self.set_training(),
            NetworkMethod::Visit(visit) => self.visit(visit),
        });
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
        let default_scalar = self.default_scalar();
        let tensor_layers = self.tensor_layers();
        quote! {
            impl<T: ::staticnet::Scalar> ::staticnet::Network<T> for #name<T> #where_clause {
                type In = #first_in;
                type Out = ::staticnet::Const<#width>;

                #methods
                #tensor_layers
            }

            #default_scalar
            #runtime
        }
    }

    /// The body of `Network::init`; for a network with widths chosen at run
    /// time, a panic that says how it is built instead.
    fn init_body(&self) -> TokenStream {
        if self.runtime.is_empty() {
            return self.init(None, None);
        }
        let name = &self.decl.name;
        let (rng, init) = (local("rng"), local("init"));
        let message = format!(
            "`{name}` leaves widths to run time: build it with `{name}::with_widths(…)` or `{name}::from_weights(…)`"
        );
        quote! {
            let _ = (#rng, #init);
            ::core::panic!(#message)
        }
    }

    /// `Net::init(…)` with no scalar named builds the `f32` network, the
    /// struct's default: an inherent function of `Net<f32>` is found before
    /// the trait's, and fixes `T`. (Not with a `where` clause, which `f32`
    /// might not meet.) A network with widths chosen at run time has `new`
    /// and `init` only to say, when they are called, how it is built
    /// instead.
    fn default_scalar(&self) -> Option<TokenStream> {
        if !self.decl.where_clause.is_empty() {
            return None;
        }
        let name = &self.decl.name;
        let (rng, init) = (local("rng"), local("init"));
        let leaves_widths = !self.runtime.is_empty();
        let new_bound =
            leaves_widths.then(|| quote!(where Self: ::staticnet::__private::FixedWidths<R>));
        let init_signature = if leaves_widths {
            quote!(<R: ::staticnet::rand::RngCore>(#rng: &mut R, #init: ::staticnet::Init) -> Self #new_bound)
        } else {
            quote!((#rng: &mut dyn ::staticnet::rand::RngCore, #init: ::staticnet::Init) -> Self)
        };
        Some(quote! {
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
        })
    }

    /// `impl Layer<T>`, for a network without a loss layer: the same
    /// chains, so that it can stand as one layer in another network.
    pub(super) fn layer_impl(&self, first_in: &TokenStream) -> TokenStream {
        let name = &self.decl.name;
        let last = *self.layers.last().expect("a valid network has a layer");
        let (last_ty, first_ty) = (last.ty(), self.layers[0].ty());
        let out = quote_spanned!(last.decl.name.span()=> <#last_ty as ::staticnet::Layer<T>>::Out);
        let (dout, update, d) = (local("dout"), local("update"), local("d"));
        let methods = layer_methods(|method| match method {
            LayerMethod::Init => {
                self.init(Some(quote!(__input: ::core::marker::PhantomData,)), None)
            }
            LayerMethod::SetTraining => self.set_training(),
            LayerMethod::Forward => {
                let (forward, output) = self.forward_chain();
                quote!(#forward #output)
            }
            LayerMethod::Output => {
                let field = &last.field;
                quote_spanned!(last.decl.name.span()=> ::staticnet::Layer::<T>::output(&self.#field))
            }
            LayerMethod::Backward => {
                let backward = self.backward_chain(First::InputGradient);
                quote!(let #d = #dout; #backward)
            }
            LayerMethod::BackwardFirst => {
                let backward = self.backward_chain(First::Params(&update));
                quote!(let #d = #dout; #backward)
            }
            LayerMethod::Visit(visit) => self.visit(visit),
        });
        let where_clause = &self.decl.where_clause;
        let describe = self.describe_methods();
        quote! {
            impl<T: ::staticnet::Scalar, S> ::staticnet::Layer<T> for #name<T, S> #where_clause {
                type In = #first_in;
                type Out = #out;
                const INIT_BEFORE: ::staticnet::InitBefore = <#first_ty as ::staticnet::Layer<T>>::INIT_BEFORE;

                #methods
                #describe
            }
        }
    }

    /// For a network without a loss layer, `new` as `Network::new`, bound
    /// by `Self: Network<T>`: calling it, the first thing a program does
    /// with a network, fails with `Network`'s message, that it has no loss
    /// layer, instead of a list of unrelated traits with a `new`.
    pub(super) fn untrainable(&self) -> TokenStream {
        let name = &self.decl.name;
        let where_clause = &self.decl.where_clause;
        let bound = where_and(self.decl);
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
}
