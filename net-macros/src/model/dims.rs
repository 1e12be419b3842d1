//! What flows from one layer to the next: a flat vector of some width, or
//! an image of channels × height × width, and the types they become.

use proc_macro2::{Group, TokenStream, TokenTree};
use quote::quote;

use crate::size::Size;

/// The shape of the samples between two layers.
#[derive(Clone)]
pub enum Dims {
    /// A flat vector: `Const<width>`.
    Flat(Size),
    /// An image: `Chw<C, H, W>` or the output type of a window layer.
    Image(ImageDims),
    /// What a layer the macro does not know outputs: only the compiler
    /// knows the shape.
    Opaque(OpaqueDims),
    /// A flat vector whose width is chosen at run time (`dyn`): `Dyn`,
    /// the `index`-th such width of the network.
    Runtime(usize),
}

/// The output shape of a layer the macro does not know.
#[derive(Clone)]
pub struct OpaqueDims {
    /// `<Layer as ::staticnet::Layer<T>>::Out`.
    pub ty: TokenStream,
    /// The shape for messages: `` the output of `my::Linear<784, 50>` ``.
    pub text: String,
}

/// An image shape, as the macro knows it.
#[derive(Clone)]
pub struct ImageDims {
    /// The shape's type, without the scalar type `T`: `Chw<…>`,
    /// `WindowOut<…>` or `PoolOut<…>`.
    pub ty: TokenStream,
    /// `[channels, height, width]`, when every size up to here is a number.
    pub sizes: Option<[u64; 3]>,
    /// The shape for messages: `30×12×12`, or `` the output of `Conv2d<N, 5>` ``.
    pub text: String,
}

impl Dims {
    /// The shape's type: `::staticnet::Const<width>`, or the image's type.
    pub fn shape_type(&self) -> TokenStream {
        match self {
            Dims::Flat(width) => {
                let arg = &width.arg;
                quote!(::staticnet::Const<#arg>)
            }
            Dims::Image(image) => image.ty.clone(),
            Dims::Opaque(opaque) => opaque.ty.clone(),
            Dims::Runtime(_) => quote!(::staticnet::Dyn),
        }
    }

    /// The type of a flat vector's width, as `AffineLayer` takes it:
    /// `Const<width>`, or `Dyn`.
    pub fn width_type(&self) -> Option<TokenStream> {
        match self {
            Dims::Runtime(_) => Some(quote!(::staticnet::Dyn)),
            _ => {
                let width = self.width_arg()?;
                Some(quote!(::staticnet::Const<#width>))
            }
        }
    }

    /// The width of a flat vector.
    pub fn flat(&self) -> Option<&Size> {
        match self {
            Dims::Flat(width) => Some(width),
            Dims::Image(_) | Dims::Opaque(_) | Dims::Runtime(_) => None,
        }
    }

    /// The shape for messages: `50`, `` `HIDDEN` ``, `30×12×12`.
    pub fn describe(&self) -> String {
        match self {
            Dims::Flat(width) => width.describe(),
            Dims::Image(image) => image.text.clone(),
            Dims::Opaque(opaque) => opaque.text.clone(),
            Dims::Runtime(_) => "a width chosen at run time".to_owned(),
        }
    }

    /// The width of a flat shape as a const generic argument: the size as
    /// written, or, for a shape only the compiler knows, its `NUMEL`.
    pub fn width_arg(&self) -> Option<TokenStream> {
        match self {
            Dims::Flat(width) => Some(width.arg.clone()),
            Dims::Image(_) | Dims::Runtime(_) => None,
            Dims::Opaque(opaque) => Some(numel(&opaque.ty)),
        }
    }
}

/// `{ <Shape as ::staticnet::FixedShape>::NUMEL }`, a const argument: with the
/// network's scalar `T` as `f32`, since a const argument may not depend on
/// a type parameter (and no shape depends on the scalar).
pub fn numel(shape: &TokenStream) -> TokenStream {
    let shape = concrete(shape);
    quote!({ <#shape as ::staticnet::FixedShape>::NUMEL })
}

/// `tokens` with the network's scalar type parameter `T` as `f32`, for
/// const items and const arguments, which cannot name `T`.
pub fn concrete(tokens: &TokenStream) -> TokenStream {
    tokens
        .clone()
        .into_iter()
        .map(|token| match token {
            TokenTree::Ident(ident) if ident == "T" => {
                TokenTree::Ident(proc_macro2::Ident::new("f32", ident.span()))
            }
            TokenTree::Group(group) => {
                let mut inner = Group::new(group.delimiter(), concrete(&group.stream()));
                inner.set_span(group.span());
                TokenTree::Group(inner)
            }
            other => other,
        })
        .collect()
}

/// The typenum type of a size: a number becomes typenum's binary form
/// (`UInt<UInt<UTerm, B1>, B0>` for 2), which exists for every number; a
/// named constant goes through `typenum::U<N>`, which covers 0 to 1024 and
/// the powers of two.
pub fn typenum(size: &Size) -> TokenStream {
    match size.value {
        Some(value) => binary(value),
        None => {
            let arg = &size.arg;
            quote!(::staticnet::typenum::U<#arg>)
        }
    }
}

fn binary(value: u64) -> TokenStream {
    if value == 0 {
        return quote!(::staticnet::typenum::UTerm);
    }
    let high = binary(value >> 1);
    let bit = if value & 1 == 1 {
        quote!(::staticnet::typenum::B1)
    } else {
        quote!(::staticnet::typenum::B0)
    };
    quote!(::staticnet::typenum::UInt<#high, #bit>)
}

/// A size with a known value, for sizes the macro computes.
pub fn computed(value: u64) -> Size {
    Size {
        text: value.to_string(),
        value: Some(value),
        arg: proc_macro2::TokenTree::from(proc_macro2::Literal::u64_unsuffixed(value)).into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_become_typenum_binaries() {
        let show = |v| {
            binary(v)
                .to_string()
                .replace(":: staticnet :: typenum :: ", "")
        };
        assert_eq!(show(0), "UTerm");
        assert_eq!(show(1), "UInt < UTerm , B1 >");
        assert_eq!(show(6), "UInt < UInt < UInt < UTerm , B1 > , B1 > , B0 >");
    }
}
