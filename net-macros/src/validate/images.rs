//! The image layers: `Input<channels, height, width>`, `Conv2d<filters,
//! size, stride, pad>`, `MaxPool2d<size, stride, pad>` and `Flatten`.
//!
//! When every size is a number, the macro computes each output shape,
//! `⌊(H + 2·pad − size)/stride⌋ + 1`, and reports a window that does not fit
//! at the layer as written. With named constants it cannot, and `expand`
//! emits a const assertion at the layer instead.

use proc_macro2::{Spacing, TokenStream, TokenTree};
use quote::quote;

use super::{Carried, Validator, is_kind};
use crate::ast::LayerDecl;
use crate::catalog::Kind;
use crate::model::dims::{Dims, ImageDims, computed, numel, typenum};
use crate::model::{Resolved, WindowArgs};
use crate::size::{Size, parse_size};

/// The argument names of each window layer, positional order, and how many
/// must be given.
fn parameters(kind: Kind) -> (&'static [&'static str], usize) {
    match kind {
        Kind::Conv => (&["filters", "size", "stride", "pad"], 2),
        _ => (&["size", "stride", "pad"], 1),
    }
}

impl<'a> Validator<'a> {
    /// `Input<channels, height, width>` or `Input<width>`: first, with every
    /// size at least 1.
    pub(super) fn resolve_input(&mut self, i: usize, resolved: &mut Resolved<'a>) {
        let layer = resolved.decl;
        if i != 0 {
            self.error(
                &layer.tokens,
                format!(
                    "`{}` must be the first layer: it states the shape of the network's samples",
                    layer.display()
                ),
            );
            return;
        }
        let usage = "write `Input<channels, height, width>` for images, as in `Input<1, 28, 28>`, or `Input<width>` for flat vectors";
        let Some(args) = &layer.args else {
            self.error(
                &layer.tokens,
                format!("`Input` needs the shape of one sample: {usage}"),
            );
            return;
        };
        let mut sizes = Vec::new();
        for tokens in &args.sizes {
            match parse_size(tokens) {
                Ok(size) if size.value == Some(0) => self.error(
                    tokens,
                    format!(
                        "`{}` has a size of 0: every size of a sample must be at least 1",
                        layer.display()
                    ),
                ),
                Ok(size) => sizes.push(size),
                Err(e) => self.errors.push(e),
            }
        }
        if sizes.len() != args.sizes.len() {
            return;
        }
        resolved.output = match <[Size; 3]>::try_from(sizes) {
            Ok(sizes) => {
                let [c, h, w] = sizes.each_ref().map(typenum);
                Some(image(quote!(::staticnet::Chw<#c, #h, #w>), &sizes, || {
                    format!("the images of `{}`", layer.display())
                }))
            }
            Err(sizes) if sizes.len() == 1 => sizes.into_iter().next().map(Dims::Flat),
            Err(sizes) => {
                self.error(
                    &args.tokens,
                    format!(
                        "`Input` takes one size or three, but {} were given: {usage}",
                        sizes.len()
                    ),
                );
                None
            }
        };
    }

    /// `Conv2d` and `MaxPool2d`: an image in, an image out.
    pub(super) fn resolve_window(
        &mut self,
        i: usize,
        resolved: &mut Resolved<'a>,
        carried: &Carried,
    ) {
        let layer = resolved.decl;
        let kind = resolved.info.map(|info| info.kind).unwrap_or(Kind::Pool);
        let Some(args) = self.window_args(layer, kind) else {
            return;
        };
        resolved.window = Some(args.clone());
        let Some(input) = self.image_input(i, layer, carried) else {
            return;
        };
        if let Some(sizes) = input.sizes {
            if !self.window_fits(layer, &args, sizes) {
                return;
            }
        }
        let (size, stride, pad) = (
            typenum(&args.size),
            typenum(&args.stride),
            typenum(&args.pad),
        );
        let in_ty = &input.ty;
        let (ty, channels) = match &args.filters {
            Some(filters) => {
                let count = typenum(filters);
                (
                    quote!(::staticnet::WindowOut<#in_ty, #count, #size, #size, #stride, #pad>),
                    filters.value,
                )
            }
            None => (
                quote!(::staticnet::PoolOut<#in_ty, #size, #size, #stride, #pad>),
                input.sizes.map(|[c, _, _]| c),
            ),
        };
        let sizes = match (input.sizes, channels, args.all_known()) {
            (Some([_, h, w]), Some(c), true) => {
                let out = |side: u64| side_out(side, &args).unwrap_or(0);
                Some([c, out(h), out(w)])
            }
            _ => None,
        };
        let text = sizes.map_or_else(
            || format!("the output of `{}`", layer.display()),
            |[c, h, w]| format!("{c}×{h}×{w}"),
        );
        resolved.input = Some(Dims::Image(input));
        resolved.output = Some(Dims::Image(ImageDims { ty, sizes, text }));
    }

    /// `Flatten`: an image in, a vector of all its values out.
    pub(super) fn resolve_flatten(
        &mut self,
        i: usize,
        resolved: &mut Resolved<'a>,
        carried: &Carried,
    ) {
        let layer = resolved.decl;
        if let Some(args) = &layer.args {
            self.error(
                &args.tokens,
                "`Flatten` takes no sizes: it flattens the images the layer before it outputs; write `Flatten`".to_owned(),
            );
            return;
        }
        let Some(input) = self.image_input(i, layer, carried) else {
            return;
        };
        let width = match input.sizes {
            Some([c, h, w]) => computed(c * h * w),
            None => Size {
                text: format!("the number of values of {}", input.text),
                value: None,
                arg: numel(&input.ty),
            },
        };
        resolved.input = Some(Dims::Image(input));
        resolved.output = Some(Dims::Flat(width));
    }

    /// For a `Flatten` at `i` over images of known size, where its width
    /// comes from: `` 30×12×12 from `MaxPool2d<2, stride = 2>` ``.
    pub(super) fn flatten_origin(&self, i: usize, carried: &Carried) -> Option<String> {
        if !is_kind(&self.decl.layers[i], Kind::Flatten) {
            return None;
        }
        let flow = carried.as_ref()?;
        match &flow.dims {
            Dims::Image(image) if image.sizes.is_some() => Some(format!(
                "{} from `{}`",
                image.text,
                self.decl.layers[flow.source].display()
            )),
            _ => None,
        }
    }

    /// The images the layers before `i` give it, or an error.
    fn image_input(&mut self, i: usize, layer: &LayerDecl, carried: &Carried) -> Option<ImageDims> {
        let display = layer.display();
        match carried {
            Some(flow) => match &flow.dims {
                Dims::Image(image) => Some(image.clone()),
                // The compiler checks that it is an image.
                Dims::Opaque(opaque) => Some(ImageDims {
                    ty: opaque.ty.clone(),
                    sizes: None,
                    text: opaque.text.clone(),
                }),
                dims @ (Dims::Flat(_) | Dims::Runtime(_)) => {
                    let previous = self.decl.layers[i - 1].display();
                    self.error(
                        &layer.tokens,
                        format!("`{display}` takes images, but the layer before it, `{previous}`, outputs a flat vector of {}", dims.describe()),
                    );
                    None
                }
            },
            None if i == 0 => {
                self.error(
                    &layer.tokens,
                    format!("`{display}` needs the shape of its input images: start the network with `Input<channels, height, width>`, such as `Input<1, 28, 28>`"),
                );
                None
            }
            // The layer before has an error of its own.
            None => None,
        }
    }

    /// The sizes of a window layer: positional, then `name = size`; stride
    /// 1 and padding 0 unless given.
    fn window_args(&mut self, layer: &LayerDecl, kind: Kind) -> Option<WindowArgs> {
        let (names, required) = parameters(kind);
        let name = layer.name.to_string();
        let usage = format!("`{name}<{}>`", names.join(", "));
        let mut given: Vec<Option<Size>> = vec![None; names.len()];
        let mut ok = true;
        let sizes = layer.args.as_ref().map_or(&[][..], |a| &a.sizes[..]);
        let mut named_seen = false;
        for (position, tokens) in sizes.iter().enumerate() {
            let (slot, value) = match split_named(tokens) {
                Some((key, value)) => {
                    named_seen = true;
                    match names.iter().position(|n| *n == key) {
                        Some(slot) => (slot, value),
                        None => {
                            self.error(
                                tokens,
                                format!(
                                    "`{name}` has no size named `{key}`: its sizes are {usage}"
                                ),
                            );
                            ok = false;
                            continue;
                        }
                    }
                }
                None if named_seen => {
                    self.error(
                        tokens,
                        format!("a size without a name cannot follow a named one: {usage}"),
                    );
                    ok = false;
                    continue;
                }
                None if position >= names.len() => {
                    self.error(
                        tokens,
                        format!("`{name}` takes at most {} sizes, {usage}", names.len()),
                    );
                    ok = false;
                    continue;
                }
                None => (position, tokens.clone()),
            };
            if given[slot].is_some() {
                self.error(tokens, format!("`{}` is given twice", names[slot]));
                ok = false;
                continue;
            }
            match parse_size(&value) {
                Ok(size) if size.value == Some(0) && names[slot] != "pad" => {
                    self.error(
                        &value,
                        format!(
                            "`{}` has {} 0: it must be at least 1",
                            layer.display(),
                            names[slot]
                        ),
                    );
                    ok = false;
                }
                Ok(size) => given[slot] = Some(size),
                Err(e) => {
                    self.errors.push(e);
                    ok = false;
                }
            }
        }
        let missing: Vec<&str> = names[..required]
            .iter()
            .zip(&given)
            .filter(|(_, g)| g.is_none())
            .map(|(n, _)| *n)
            .collect();
        if ok && !missing.is_empty() {
            let example = if kind == Kind::Conv {
                "`Conv2d<30, 5>`"
            } else {
                "`MaxPool2d<2, stride = 2>`"
            };
            self.error(
                &layer.tokens,
                format!(
                    "`{name}` needs its {}: write {usage}, such as {example}",
                    missing.join(" and ")
                ),
            );
            return None;
        }
        if !ok {
            return None;
        }
        let mut given = given.into_iter();
        let filters = if kind == Kind::Conv {
            given.next().flatten()
        } else {
            None
        };
        let size = given.next().flatten()?;
        let stride = given.next().flatten().unwrap_or_else(|| computed(1));
        let pad = given.next().flatten().unwrap_or_else(|| computed(0));
        Some(WindowArgs {
            filters,
            size,
            stride,
            pad,
        })
    }

    /// Checks the geometry when every size is a number; reports a window
    /// larger than its padded input. (A stride that does not divide the
    /// room leaves the last pixels unvisited, as in the book and PyTorch.)
    fn window_fits(&mut self, layer: &LayerDecl, args: &WindowArgs, sizes: [u64; 3]) -> bool {
        let (Some(size), Some(pad)) = (args.size.value, args.pad.value) else {
            return true;
        };
        let what = if args.filters.is_some() {
            "filter"
        } else {
            "window"
        };
        let [_, h, w] = sizes;
        if size <= h.min(w) + 2 * pad {
            return true;
        }
        let padding = if pad == 0 {
            String::new()
        } else {
            format!(", {}×{} with the padding", h + 2 * pad, w + 2 * pad)
        };
        self.error(
            &layer.tokens,
            format!(
                "`{}`: its {size}×{size} {what} is larger than its input of {h}×{w} pixels{padding}",
                layer.display(),
            ),
        );
        false
    }
}

/// `⌊(side + 2·pad − size)/stride⌋ + 1`, as the book and PyTorch count it,
/// when every size is known and fits.
fn side_out(side: u64, args: &WindowArgs) -> Option<u64> {
    let (size, stride, pad) = (args.size.value?, args.stride.value?, args.pad.value?);
    let room = (side + 2 * pad).checked_sub(size)?;
    Some(room / stride.max(1) + 1)
}

/// An image shape from its type and its three sizes.
fn image(ty: TokenStream, sizes: &[Size; 3], unknown: impl FnOnce() -> String) -> Dims {
    let values = match sizes.each_ref().map(|s| s.value) {
        [Some(c), Some(h), Some(w)] => Some([c, h, w]),
        _ => None,
    };
    let text = values.map_or_else(unknown, |[c, h, w]| format!("{c}×{h}×{w}"));
    Dims::Image(ImageDims {
        ty,
        sizes: values,
        text,
    })
}

/// `name = size` as `("name", size)`.
fn split_named(tokens: &TokenStream) -> Option<(String, TokenStream)> {
    let mut iter = tokens.clone().into_iter();
    let (Some(TokenTree::Ident(name)), Some(TokenTree::Punct(eq))) = (iter.next(), iter.next())
    else {
        return None;
    };
    if eq.as_char() != '=' || eq.spacing() != Spacing::Alone {
        return None;
    }
    Some((name.to_string(), iter.collect()))
}
