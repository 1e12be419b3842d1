//! The bodies of the visits over parameters and buffers: each layer's in
//! order, renamed by `__private::Names` (`W1`, `b1`, `gamma1`,
//! `block1.W1`, …).

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

use super::signatures::Visit;
use super::{Network, local};

impl Network<'_> {
    /// Each layer's visit of `visit`'s items, in order, its names first read
    /// through the shared visit of the same items and numbered by one
    /// `Names`; `act(k)` is what is done with an item `p` of the `k`-th
    /// layer once `p.name` is the network's.
    fn renamed_visits(&self, visit: Visit, act: impl Fn(usize) -> TokenStream) -> TokenStream {
        let (p, names, layer_names, each) =
            (local("p"), local("names"), local("layer"), local("each"));
        let (method, shared, item) = (visit.method(), visit.shared().method(), visit.item());
        let calls = self.layers.iter().enumerate().map(|(k, layer)| {
            let (field, span) = (&layer.field, layer.decl.name.span());
            let field_name = field.to_string();
            let reference = if visit.is_mut() {
                quote_spanned!(span=> &mut)
            } else {
                quote_spanned!(span=> &)
            };
            let act = act(k);
            // At the layer: a layer that is no layer is reported once, there.
            quote_spanned!(span=> {
                let mut #layer_names = #names.layer(#field_name, &|#each| {
                    ::staticnet::Layer::<T>::#shared(&self.#field, &mut |#p| #each(#p.name))
                });
                ::staticnet::Layer::<T>::#method(#reference self.#field, &mut |mut #p: ::staticnet::#item<'_, T>| {
                    #p.name = #layer_names.name(#p.name);
                    #act
                });
            })
        });
        quote! {
            let mut #names = ::staticnet::__private::Names::new();
            #(#calls)*
        }
    }

    /// The body of `visit`: each layer's items, renamed, handed to `f`.
    pub(super) fn visit(&self, visit: Visit) -> TokenStream {
        let (f, p) = (local("f"), local("p"));
        self.renamed_visits(visit, |_| quote!(#f(#p)))
    }

    /// The body of `Network::tensor_layers`: each layer as declared, with
    /// the names its parameters and its buffers get from the visits above
    /// (numbered apart, as each visit numbers them).
    pub(super) fn tensor_layers(&self) -> TokenStream {
        let (layers, p) = (local("layers"), local("p"));
        let listed = self.layers.iter().enumerate().map(|(position, layer)| {
            let (field, declared) = (layer.field.to_string(), layer.decl.display());
            quote!(::staticnet::LayerTensors { declared: #declared, field: #field, position: #position, tensors: ::std::vec::Vec::new() })
        });
        let pass = |visit: Visit, buffer: bool| {
            self.renamed_visits(visit, |k| {
                quote! {
                    #layers[#k].tensors.push(::staticnet::TensorSpec {
                        name: #p.name,
                        shape: #p.shape,
                        buffer: #buffer,
                    });
                }
            })
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
