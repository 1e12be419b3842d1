//! Widths chosen at run time (`Affine<784, dyn>`): the network's
//! `with_widths`, `widths` and `from_weights`, and how each `Affine` that
//! touches such a width is built.

use proc_macro2::TokenStream;
use quote::quote;
use syn::Ident;

use crate::ast::NetworkDecl;
use crate::catalog::Kind;
use crate::model::dims::Dims;
use crate::model::{Resolved, RuntimeBoundary};

/// `AffineLayer::try_with_widths(rng, init, inputs, outputs)?` for an
/// `Affine` with a side chosen at run time, the widths read from `widths`,
/// an error naming the network's width and the layer; `None` for every
/// other layer.
pub(super) fn sized_affine(
    layer: &Resolved<'_>,
    ty: &TokenStream,
    widths: &Ident,
    rng: &Ident,
    init: &TokenStream,
) -> Option<TokenStream> {
    let is_dense = layer.is(Kind::Dense);
    let (input, output) = (layer.input.as_ref()?, layer.output.as_ref()?);
    let runtime = |d: &Dims| matches!(d, Dims::Runtime(_));
    if !is_dense || !(runtime(input) || runtime(output)) {
        return None;
    }
    let size = |dims: &Dims| match dims {
        Dims::Runtime(k) => quote!(#widths[#k]),
        _ => {
            let width = dims.width_arg().expect("a flat width");
            quote!(#width)
        }
    };
    let (inputs, outputs) = (size(input), size(output));
    let sides = [input, output].into_iter().filter_map(|dims| match dims {
        Dims::Runtime(k) => Some(quote!((&Self::__RUNTIME_WIDTHS[#k], #widths[#k]))),
        _ => None,
    });
    let name = format!("`{}` ({})", layer.decl.display(), layer.field);
    Some(quote!(
        <#ty>::try_with_widths(#rng, #init, #inputs, #outputs)
            .map_err(|error| ::staticnet::__private::name_width_error(error, #name, &[#(#sides),*]))?
    ))
}

/// The inherent functions of a network with widths chosen at run time.
/// `build` is the struct's initializer, drawing from `rng` with `init` and
/// reading `widths`.
pub(super) fn runtime_impl(
    decl: &NetworkDecl,
    layers: &[Resolved<'_>],
    boundaries: &[RuntimeBoundary],
    build: &TokenStream,
    (rng, init, widths): (&Ident, &Ident, &Ident),
) -> TokenStream {
    let name = &decl.name;
    let where_clause = &decl.where_clause;
    let count = boundaries.len();
    let declared = boundaries.iter().map(|b| {
        let from = side(layers, b.from, 1);
        let to =
            b.to.map_or_else(|| side_of_nothing(layers, b.from), |to| side(layers, to, 0));
        let text = match b.to {
            Some(to) => format!(
                "the width between `{}` and `{}`",
                layers[b.from].decl.display(),
                layers[to].decl.display()
            ),
            None => format!("the outputs of `{}`", layers[b.from].decl.display()),
        };
        quote!(::staticnet::__private::RuntimeWidth { name: #text, from: #from, to: #to })
    });
    let listed: String = boundaries
        .iter()
        .enumerate()
        .map(|(k, b)| {
            let to = b.to.map_or(String::new(), |to| {
                format!(", which `{}` takes", layers[to].decl.display())
            });
            format!(
                "\n- `widths[{k}]`: what `{}` outputs{to}",
                layers[b.from].decl.display()
            )
        })
        .collect();
    let with_doc = format!(
        "The network with the widths it leaves to run time, its weights drawn \
         as `init` says.\n\nThe widths, in the order they are declared:{listed}\n\n\
         # Errors\n[`WidthError::Zero`](::staticnet::WidthError::Zero) for a width of 0; \
         [`WidthError::TooLarge`](::staticnet::WidthError::TooLarge) for a width whose \
         layer's weights would take more than `isize::MAX` bytes, the most one buffer \
         can hold (checked before anything is allocated: how much memory the machine \
         has cannot be known portably); \
         [`WidthError::OutOfMemory`](::staticnet::WidthError::OutOfMemory) when the \
         allocator refuses a layer's weights (the allocation is tried, so this is an \
         error, not an abort). Each names the width, the layer and the bytes."
    );
    let read = boundaries.iter().map(|b| {
        let field = &layers[b.from].field;
        quote!(self.#field.outputs())
    });
    quote! {
        impl<T: ::staticnet::Scalar> #name<T> #where_clause {
            const __RUNTIME_WIDTHS: [::staticnet::__private::RuntimeWidth; #count] = [#(#declared),*];

            #[doc = #with_doc]
            pub fn with_widths(
                #rng: &mut dyn ::staticnet::rand::RngCore,
                #init: ::staticnet::Init,
                #widths: [usize; #count],
            ) -> ::core::result::Result<Self, ::staticnet::WidthError> {
                ::staticnet::__private::check_widths(&Self::__RUNTIME_WIDTHS, &#widths)?;
                ::core::result::Result::Ok(#build)
            }

            /// The widths this network was built with, in the order
            /// [`with_widths`](Self::with_widths) takes them.
            pub fn widths(&self) -> [usize; #count] {
                [#(#read),*]
            }

            /// The network a weight file or a checkpoint holds: the widths
            /// it leaves to run time read from the file's tensors, then
            /// every parameter and buffer loaded as
            /// [`load_weights`](::staticnet::io::load_weights) loads them.
            ///
            /// # Errors
            /// Those of `load_weights`, and
            /// [`IoError::Widths`](::staticnet::io::IoError::Widths) when the
            /// tensors disagree on a width or do not hold it, or when a
            /// width the file claims is one `with_widths` refuses: 0, or
            /// too large to allocate (checked and tried before the file's
            /// values are read, so a header claiming a huge width is an
            /// error, not an abort).
            pub fn from_weights(
                path: impl ::core::convert::AsRef<::std::path::Path>,
            ) -> ::core::result::Result<Self, ::staticnet::io::IoError>
            where
                Self: ::staticnet::Network<T>,
            {
                let path = path.as_ref();
                let widths_error = |source| ::staticnet::io::IoError::Widths {
                    path: path.to_path_buf(),
                    source,
                };
                let shapes = ::staticnet::io::tensor_shapes(path)?;
                let found = ::staticnet::__private::widths_from_shapes(&Self::__RUNTIME_WIDTHS, &shapes)
                    .map_err(widths_error)?;
                // Every value is overwritten by the file.
                let mut rng = <::staticnet::rand::rngs::StdRng as ::staticnet::rand::SeedableRng>::seed_from_u64(0);
                let mut net = Self::with_widths(&mut rng, ::staticnet::Init::Auto, found).map_err(widths_error)?;
                ::staticnet::io::load_weights(&mut net, path)?;
                ::core::result::Result::Ok(net)
            }
        }
    }
}

/// The side of a width at layer `j`: its weight tensor's name and the
/// axis that is the width, when the macro can tell the name.
fn side(layers: &[Resolved<'_>], j: usize, axis: usize) -> TokenStream {
    let layer = format!("`{}` ({})", layers[j].decl.display(), layers[j].field);
    let is_dense = layers[j].is(Kind::Dense);
    let tensor = match weight_number(layers, j) {
        Some(n) if is_dense => {
            let name = format!("W{n}");
            quote!(::core::option::Option::Some(#name))
        }
        _ => quote!(::core::option::Option::None),
    };
    quote!(::staticnet::__private::WidthSide { layer: #layer, tensor: #tensor, axis: #axis })
}

/// No layer takes the width: a side that reads nothing.
fn side_of_nothing(layers: &[Resolved<'_>], from: usize) -> TokenStream {
    let layer = format!("the layer after `{}`", layers[from].decl.display());
    quote!(::staticnet::__private::WidthSide { layer: #layer, tensor: ::core::option::Option::None, axis: 0 })
}

/// The number the network gives the weights `W` of layer `j` (`W2`):
/// one more than the layers before it whose first parameter is `W`;
/// `None` when a layer before it is one the macro does not know.
fn weight_number(layers: &[Resolved<'_>], j: usize) -> Option<usize> {
    let mut number = 1;
    for layer in &layers[..j] {
        number += usize::from(has_weights(layer)?);
    }
    Some(number)
}

/// Whether a layer's first parameter is named `W`; `None` when only the
/// layer itself knows.
fn has_weights(layer: &Resolved<'_>) -> Option<bool> {
    match layer.info?.kind {
        Kind::Dense | Kind::Conv => Some(true),
        Kind::Residual => has_weights(layer.inner.as_ref()?),
        Kind::User => None,
        _ => Some(false),
    }
}
