//! A network of a valid declaration with a loss layer, read from a file:
//! `from_weights` for one whose widths are all compiled in (a network with
//! widths chosen at run time reads them from the file, in [`runtime`]),
//! and `load_frozen`, its inference form straight from the file.
//!
//! [`runtime`]: super::runtime

use proc_macro2::TokenStream;
use quote::quote;

use super::Network;

impl Network<'_> {
    pub(super) fn load_impl(&self) -> TokenStream {
        let name = &self.decl.name;
        let where_clause = &self.decl.where_clause;
        let from_weights = self.runtime.is_empty().then(|| {
            quote! {
                /// The network a weight file or a checkpoint holds, every
                /// parameter and buffer loaded as
                /// [`load_weights`](::staticnet::io::load_weights) loads
                /// them: to go on training, or to freeze.
                ///
                /// # Errors
                /// Those of `load_weights`.
                pub fn from_weights(
                    path: impl ::core::convert::AsRef<::std::path::Path>,
                ) -> ::core::result::Result<Self, ::staticnet::io::IoError>
                where
                    Self: ::staticnet::Network<T>,
                {
                    // Every value is overwritten by the file.
                    let mut rng = <::staticnet::rand::rngs::StdRng as ::staticnet::rand::SeedableRng>::seed_from_u64(0);
                    let mut net = <Self as ::staticnet::Network<T>>::init(&mut rng, ::staticnet::Init::Auto);
                    ::staticnet::io::load_weights(&mut net, path)?;
                    ::core::result::Result::Ok(net)
                }
            }
        });
        quote! {
            impl<T: ::staticnet::Scalar> #name<T> #where_clause {
                #from_weights

                /// The inference form of the network a weight file or a
                /// checkpoint holds, in one call: the file's shapes checked
                /// against the declaration (and its widths read, where the
                /// declaration leaves them to run time) as
                /// [`from_weights`](Self::from_weights) does, then
                /// [`freeze`](::staticnet::FreezeNetwork::freeze). The
                /// training layers the values pass through are dropped
                /// before it returns.
                ///
                /// # Errors
                /// Those of `from_weights`, with the file's path.
                pub fn load_frozen(
                    path: impl ::core::convert::AsRef<::std::path::Path>,
                ) -> ::core::result::Result<<Self as ::staticnet::FreezeNetwork<T>>::Frozen, ::staticnet::io::IoError>
                where
                    Self: ::staticnet::FreezeNetwork<T>,
                {
                    let net = Self::from_weights(path)?;
                    ::core::result::Result::Ok(::staticnet::FreezeNetwork::freeze(&net))
                }
            }
        }
    }
}
