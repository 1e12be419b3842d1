//! The bodies of the visits over parameters and buffers: each layer's in
//! order, renamed by `__private::Names` (`W1`, `b1`, `gamma1`,
//! `block1.W1`, …).

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

use super::signatures::Visit;
use super::{Network, local};

impl Network<'_> {
    /// The body of `visit`: each layer's visit, its names first read
    /// through the shared visit of the same items.
    pub(super) fn visit(&self, visit: Visit) -> TokenStream {
        let (f, p, names, layer_names, each) = (
            local("f"),
            local("p"),
            local("names"),
            local("layer"),
            local("each"),
        );
        let (method, shared, item) = (visit.method(), visit.shared().method(), visit.item());
        let calls = self.layers.iter().map(|layer| {
            let (field, span) = (&layer.field, layer.decl.name.span());
            let field_name = field.to_string();
            let reference = if visit.is_mut() {
                quote_spanned!(span=> &mut)
            } else {
                quote_spanned!(span=> &)
            };
            quote_spanned!(span=> {
                let mut #layer_names = #names.layer(#field_name, &|#each| {
                    ::staticnet::Layer::<T>::#shared(&self.#field, &mut |#p| #each(#p.name))
                });
                ::staticnet::Layer::<T>::#method(#reference self.#field, &mut |mut #p: ::staticnet::#item<'_, T>| {
                    #p.name = #layer_names.name(#p.name);
                    #f(#p)
                });
            })
        });
        quote! {
            let mut #names = ::staticnet::__private::Names::new();
            #(#calls)*
        }
    }
}

impl Network<'_> {
    /// The body of `Network::tensor_layers`: each layer as declared, with
    /// the names its parameters and its buffers get from the visits above
    /// (numbered apart, as each visit numbers them).
    pub(super) fn tensor_layers(&self) -> TokenStream {
        let (layers, names, layer_names, each, p) = (
            local("layers"),
            local("names"),
            local("layer"),
            local("each"),
            local("p"),
        );
        let listed = self.layers.iter().enumerate().map(|(position, layer)| {
            let (field, declared) = (layer.field.to_string(), layer.decl.display());
            quote!(::staticnet::LayerTensors { declared: #declared, field: #field, position: #position, tensors: ::std::vec::Vec::new() })
        });
        let pass = |visit: Visit, buffer: bool| {
            let (method, item) = (visit.method(), visit.item());
            let calls = self.layers.iter().enumerate().map(|(k, layer)| {
                let (field, field_name) = (&layer.field, layer.field.to_string());
                // At the layer, as the visits are: a layer that is no
                // layer is reported once, there.
                let span = layer.decl.name.span();
                quote_spanned! {span=>
                    let mut #layer_names = #names.layer(#field_name, &|#each| {
                        ::staticnet::Layer::<T>::#method(&self.#field, &mut |#p| #each(#p.name))
                    });
                    ::staticnet::Layer::<T>::#method(&self.#field, &mut |#p: ::staticnet::#item<'_, T>| {
                        #layers[#k].tensors.push(::staticnet::TensorSpec {
                            name: #layer_names.name(#p.name),
                            shape: #p.shape,
                            buffer: #buffer,
                        });
                    });
                }
            });
            quote! {
                let mut #names = ::staticnet::__private::Names::new();
                #(#calls)*
            }
        };
        let (params, buffers) = (pass(Visit::Params, false), pass(Visit::Buffers, true));
        quote! {
            fn tensor_layers(&self) -> ::std::vec::Vec<::staticnet::LayerTensors> {
                let mut #layers = ::std::vec![#(#listed),*];
                { #params }
                { #buffers }
                #layers.retain(|l| !l.tensors.is_empty());
                #layers
            }
        }
    }
}
