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
