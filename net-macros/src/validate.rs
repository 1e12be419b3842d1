//! Checking a parsed network: every mistake found in one pass, each
//! reported at the tokens the user wrote, all combined into one error.

use std::collections::HashMap;

use proc_macro2::{Ident, TokenStream};
use syn::{Error, Expr, ExprLit, ExprUnary, Lit, UnOp};

use crate::catalog::{self, Fraction, Kind, LayerInfo};
use crate::dims::Dims;
use crate::parse::{LayerDecl, NetworkDecl};
use crate::print::tokens_to_string;
use crate::size::{Size, parse_size};

mod images;

pub use images::WindowArgs;

/// A layer with its kind, field and widths worked out.
pub struct Resolved<'a> {
    /// The layer as written.
    pub decl: &'a LayerDecl,
    /// What it is; `None` for an unknown name.
    pub info: Option<&'static LayerInfo>,
    /// Its field in the generated struct: `affine1`, `relu2`, `loss`.
    pub field: Ident,
    /// The number of its parameters (`W1` and `b1` for 1): its place among
    /// the layers that have parameters, from 1, as the book numbers them.
    pub param_index: usize,
    /// The shape it takes, when known.
    pub input: Option<Dims>,
    /// The shape it gives, when known (a loss layer gives none).
    pub output: Option<Dims>,
    /// The filter or window of a `Conv2d` or `MaxPool2d`.
    pub window: Option<WindowArgs>,
    /// Whether only the compiler can check its input against the output
    /// of the layer before it (named constants).
    pub check: bool,
    /// The fraction written in its angle brackets, such as the `0.3` of
    /// `Dropout<0.3>`, once checked.
    pub fraction: Option<TokenStream>,
}

/// The outcome of validation: the layers as far as they could be worked
/// out, and every error found.
pub struct Checked<'a> {
    /// The layers, in order.
    pub layers: Vec<Resolved<'a>>,
    /// All errors, combined; `None` when the network is valid.
    pub error: Option<Error>,
}

/// Checks the whole network, collecting every error.
pub fn validate(decl: &NetworkDecl) -> Checked<'_> {
    let mut v = Validator {
        decl,
        errors: decl.errors.clone(),
        counts: HashMap::new(),
        params: 0,
    };
    let layers = v.resolve_all();
    let error = v.errors.into_iter().reduce(|mut all, e| {
        all.combine(e);
        all
    });
    Checked { layers, error }
}

struct Validator<'a> {
    decl: &'a NetworkDecl,
    errors: Vec<Error>,
    counts: HashMap<&'static str, usize>,
    /// The layers with parameters so far.
    params: usize,
}

/// The output of the layers before: its shape, which layer set it, and,
/// for a flattened image, where its width comes from (`30×12×12 from
/// `MaxPool2d<2, stride = 2>``).
#[derive(Clone)]
struct Flow {
    dims: Dims,
    source: usize,
    origin: Option<String>,
}

type Carried = Option<Flow>;

impl<'a> Validator<'a> {
    fn error(&mut self, tokens: &TokenStream, message: String) {
        self.errors.push(Error::new_spanned(tokens, message));
    }

    fn resolve_all(&mut self) -> Vec<Resolved<'a>> {
        let decl = self.decl;
        let name = &decl.name;
        if decl.layers.is_empty() && decl.errors.is_empty() {
            self.error(
                &decl.list,
                format!("`{name}` has no layers: a network needs at least one layer and a loss layer, as in `struct {name}<Affine<784, 10>, SoftmaxWithLoss>`"),
            );
        }
        let mut carried: Carried = None;
        let mut layers = Vec::with_capacity(decl.layers.len());
        for (i, layer) in decl.layers.iter().enumerate() {
            let resolved = self.resolve(i, layer, &carried);
            carried = match (&resolved.info, &resolved.output) {
                (Some(info), _) if matches!(info.kind, Kind::ShapePreserving | Kind::Loss) => {
                    carried
                }
                (_, Some(out)) => Some(Flow {
                    dims: out.clone(),
                    source: i,
                    origin: self.flatten_origin(i, &carried),
                }),
                _ => None,
            };
            layers.push(resolved);
        }
        let has_loss = layers
            .iter()
            .any(|l| l.info.is_some_and(|i| i.kind == Kind::Loss));
        if let Some(last) = layers.last().filter(|l| l.info.is_some() && !has_loss) {
            self.error(
                &last.decl.tokens,
                format!(
                    "the last layer must be a loss layer, {}, but `{}` is not one: add a loss layer after it, as in `{}, SoftmaxWithLoss`",
                    catalog::loss_list(),
                    last.decl.display(),
                    last.decl.display()
                ),
            );
        }
        layers
    }

    fn resolve(&mut self, i: usize, layer: &'a LayerDecl, carried: &Carried) -> Resolved<'a> {
        let name = layer.name.to_string();
        let info = catalog::lookup(&name);
        let ordinal = info.map_or(0, |info| {
            let count = self.counts.entry(info.field).or_default();
            *count += 1;
            *count
        });
        if info.is_some_and(|info| info.has_params) {
            self.params += 1;
        }
        let field = match info {
            Some(info) if info.kind == Kind::Loss => Ident::new("loss", layer.name.span()),
            Some(info) => Ident::new(&format!("{}{ordinal}", info.field), layer.name.span()),
            None => Ident::new("unknown", layer.name.span()),
        };
        let mut resolved = Resolved {
            decl: layer,
            info,
            field,
            param_index: self.params,
            input: None,
            output: None,
            window: None,
            check: false,
            fraction: None,
        };
        let Some(info) = info else {
            self.errors.push(Error::new(
                layer.name.span(),
                catalog::unknown_message(&name),
            ));
            return resolved;
        };
        let width_note = carried.as_ref().map_or(String::new(), |flow| {
            format!(", which is {} here", flow.dims.describe())
        });
        match info.kind {
            Kind::Dense => self.resolve_dense(i, &mut resolved, carried),
            Kind::Input => self.resolve_input(i, &mut resolved),
            Kind::Conv | Kind::Pool => self.resolve_window(i, &mut resolved, carried),
            Kind::Flatten => self.resolve_flatten(i, &mut resolved, carried),
            Kind::ShapePreserving => {
                if i == 0 {
                    self.error(
                        &layer.tokens,
                        format!("`{}` cannot be the first layer: it keeps the width of the layer before it, and there is none; start with `Affine<inputs, outputs>`", layer.display()),
                    );
                } else if let Some(args) = &layer.args {
                    match &info.fraction {
                        Some(fraction) => {
                            resolved.fraction = self.resolve_fraction(layer, fraction);
                        }
                        None => self.error(
                            &args.tokens,
                            format!("`{name}` takes no sizes: it keeps the width of the layer before it{width_note}; write `{name}`"),
                        ),
                    }
                }
                resolved.input = carried.as_ref().map(|flow| flow.dims.clone());
                resolved.output = resolved.input.clone();
            }
            Kind::Loss => {
                if let Some(next) = self.decl.layers.get(i + 1) {
                    self.error(
                        &layer.tokens,
                        format!("`{name}` is a loss layer, so it must be the last layer, but `{}` follows it", next.display()),
                    );
                } else if self.decl.layers[..i]
                    .iter()
                    .all(|l| is_kind(l, Kind::Input))
                {
                    self.error(
                        &layer.tokens,
                        format!("a network needs at least one layer before its loss layer, as in `struct {}<Affine<784, 10>, {name}>`", self.decl.name),
                    );
                } else if let Some(args) = &layer.args {
                    self.error(
                        &args.tokens,
                        format!("`{name}` takes no sizes: it takes its width from the layer before it{width_note}; write `{name}`"),
                    );
                }
                let scores = self.flat_input(i, layer, carried, "scores");
                resolved.input = scores.map(|width| Dims::Flat(width.clone()));
            }
        }
        resolved
    }

    /// `Dropout<0.3>`: one fraction, a number in `[0, 1)` written as a
    /// decimal literal. Returns its tokens when it is one.
    fn resolve_fraction(&mut self, layer: &LayerDecl, fraction: &Fraction) -> Option<TokenStream> {
        let name = &layer.name;
        let what = fraction.what;
        let args = layer.args.as_ref()?;
        let [tokens] = args.sizes.as_slice() else {
            let given = match args.sizes.len() {
                0 => "none was".to_owned(),
                n => format!("{n} were"),
            };
            self.error(
                &args.tokens,
                format!("`{name}` takes one {what}, as in `{name}<0.5>`, but {given} given"),
            );
            return None;
        };
        let text = tokens_to_string(tokens);
        let value = match syn::parse2::<Expr>(tokens.clone()) {
            Ok(Expr::Lit(ExprLit {
                lit: Lit::Float(float),
                ..
            })) if matches!(float.suffix(), "" | "f64") => float.base10_parse::<f64>().ok(),
            Ok(Expr::Lit(ExprLit {
                lit: Lit::Int(_), ..
            })) => {
                self.error(
                    tokens,
                    format!("`{text}` is not a fraction: the {what} of `{name}` is {}, a number from 0 up to 1, such as `{name}<0.5>`", fraction.meaning),
                );
                return None;
            }
            Ok(Expr::Unary(ExprUnary {
                op: UnOp::Neg(_),
                expr,
                ..
            })) if matches!(*expr, Expr::Lit(_)) => Some(-1.0),
            _ => None,
        };
        let Some(value) = value else {
            self.error(
                tokens,
                format!("the {what} of `{name}` must be written as a decimal number, such as `{name}<0.5>`, not `{text}`"),
            );
            return None;
        };
        if !(0.0..1.0).contains(&value) {
            self.error(
                tokens,
                format!("the {what} of `{name}` is {}, so it must be at least 0 and below 1, but it is `{text}`", fraction.meaning),
            );
            return None;
        }
        Some(tokens.clone())
    }

    /// `Affine<inputs, outputs>`: two sizes, each at least 1, the first
    /// matching the width of the layer before.
    fn resolve_dense(&mut self, i: usize, resolved: &mut Resolved<'a>, carried: &Carried) {
        let layer = resolved.decl;
        let name = layer.name.to_string();
        let sizes = match &layer.args {
            None => {
                let hint = carried
                    .as_ref()
                    .and_then(|flow| flow.dims.flat())
                    .map_or("inputs".to_owned(), |w| w.text.clone());
                self.error(
                    &layer.tokens,
                    format!("`{name}` needs its sizes: write `{name}<inputs, outputs>`, here `{name}<{hint}, outputs>`"),
                );
                return;
            }
            Some(args) if args.sizes.len() != 2 => {
                let given = match args.sizes.len() {
                    0 => "none were".to_owned(),
                    1 => "1 was".to_owned(),
                    n => format!("{n} were"),
                };
                self.error(
                    &args.tokens,
                    format!(
                        "`{name}` takes two sizes, `{name}<inputs, outputs>`, but {given} given"
                    ),
                );
                return;
            }
            Some(args) => &args.sizes,
        };
        let mut parsed = [None, None];
        for (slot, (tokens, what)) in parsed
            .iter_mut()
            .zip(sizes.iter().zip(["inputs", "outputs"]))
        {
            match parse_size(tokens) {
                Ok(size) if size.value == Some(0) => self.error(
                    tokens,
                    format!(
                        "`{}` has 0 {what}: every layer needs at least one input and one output",
                        layer.display()
                    ),
                ),
                Ok(size) => *slot = Some(size),
                Err(e) => self.errors.push(e),
            }
        }
        let [input, output] = parsed;
        let before = self.flat_input(i, layer, carried, "inputs");
        if let (Some(input), Some(before), Some(flow)) = (&input, before, carried) {
            match input.same_as(before) {
                Some(true) => {}
                Some(false) => {
                    let previous = &self.decl.layers[i - 1];
                    let origin = match &flow.origin {
                        Some(origin) => format!(" ({origin})"),
                        None if flow.source == i - 1 => String::new(),
                        None => format!(
                            " (the width of `{}`)",
                            self.decl.layers[flow.source].display()
                        ),
                    };
                    self.error(
                        &layer.tokens,
                        format!(
                            "`{}` expects {} inputs, but the layer before it, `{}`, outputs {}{origin}",
                            layer.display(),
                            input.describe(),
                            previous.display(),
                            before.describe()
                        ),
                    );
                }
                None => resolved.check = true,
            }
        }
        resolved.input = input.map(Dims::Flat);
        resolved.output = output.map(Dims::Flat);
    }

    /// The width of the flat vector the layers before `i` give it, or an
    /// error when they give images.
    fn flat_input<'c>(
        &mut self,
        i: usize,
        layer: &LayerDecl,
        carried: &'c Carried,
        what: &str,
    ) -> Option<&'c Size> {
        let flow = carried.as_ref()?;
        if let Dims::Image(image) = &flow.dims {
            let previous = self.decl.layers[i - 1].display();
            self.error(
                &layer.tokens,
                format!(
                    "`{}` takes a flat vector of {what}, but the layer before it, `{previous}`, outputs images of {}: add `Flatten` before it",
                    layer.display(),
                    image.text
                ),
            );
        }
        flow.dims.flat()
    }
}

/// Whether `layer` is a known layer of this kind.
fn is_kind(layer: &LayerDecl, kind: Kind) -> bool {
    catalog::lookup(&layer.name.to_string()).is_some_and(|info| info.kind == kind)
}

#[cfg(test)]
mod tests;
