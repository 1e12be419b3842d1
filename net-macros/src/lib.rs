//! The `network!` macro of staticnet.
use proc_macro::TokenStream;

/// Declares a network.
#[proc_macro]
pub fn network(input: TokenStream) -> TokenStream {
    let _ = input;
    TokenStream::new()
}
