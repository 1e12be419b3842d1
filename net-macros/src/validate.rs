//! Checking a parsed network: every mistake found in one pass, each
//! reported at the tokens the user wrote, all combined into one error.

use std::collections::HashMap;

use proc_macro2::{Ident, TokenStream};
use quote::quote;
use syn::{Error, Expr, ExprLit, ExprUnary, Lit, UnOp};

use crate::ast::{LayerDecl, NetworkDecl};
use crate::catalog::{self, Fraction, Kind};
use crate::model::dims::{Dims, OpaqueDims};
use crate::model::{Checked, Resolved, RuntimeBoundary};
use crate::print::tokens_to_string;
use crate::size::{Size, parse_size};

mod images;

/// What the layers after a layer whose outputs are `dyn` make of its width.
enum NextWidth {
    /// A layer that takes a compiled-in width: the `dyn` is that width.
    Fixed(Size),
    /// The loss layer, which needs its width compiled in.
    Loss(usize),
    /// No layer: the network ends (it is a layer of another network).
    End,
    /// A layer that takes a width chosen at run time.
    Open,
}

/// Checks the whole network, collecting every error.
pub fn validate(decl: &NetworkDecl) -> Checked<'_> {
    let mut v = Validator {
        decl,
        errors: decl.errors.clone(),
        counts: HashMap::new(),
        runtime: Vec::new(),
    };
    let layers = v.resolve_all();
    let error = v.errors.into_iter().reduce(|mut all, e| {
        all.combine(e);
        all
    });
    Checked {
        layers,
        runtime: v.runtime,
        error,
    }
}

struct Validator<'a> {
    decl: &'a NetworkDecl,
    errors: Vec<Error>,
    /// How many layers so far have each field name prefix.
    counts: HashMap<String, usize>,
    /// The widths left to run time so far.
    runtime: Vec<RuntimeBoundary>,
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
            let mut resolved = self.resolve(i, layer, &carried);
            // After a layer of one's own that takes a width chosen at run
            // time, only the compiler can tell that it gives that width.
            let after_user = i > 0
                && layers.last().is_some_and(|prev: &Resolved<'_>| {
                    prev.is(Kind::User) && matches!(prev.input, Some(Dims::Runtime(_)))
                });
            resolved.check |= after_user;
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
        let has_loss = layers.last().is_some_and(|l| l.is(Kind::Loss));
        if let (Some(boundary), false) = (self.runtime.first(), has_loss) {
            let layer = &decl.layers[boundary.from];
            self.error(
                &layer.tokens,
                format!("`{name}` has no loss layer, so it is a layer of other networks, whose widths must be compiled in; `{}` leaves one to run time", layer.display()),
            );
        }
        layers
    }

    fn resolve(&mut self, i: usize, layer: &'a LayerDecl, carried: &Carried) -> Resolved<'a> {
        let name = layer.name.to_string();
        let known = layer.is_bare().then(|| catalog::lookup(&name)).flatten();
        let mistake = (known.is_none() && layer.is_bare())
            .then(|| catalog::mistaken_name(&name))
            .flatten();
        let info = match (known, &mistake) {
            (Some(info), _) => Some(info),
            (None, Some(_)) => None,
            (None, None) if i + 1 == self.decl.layers.len() && name.ends_with("Loss") => {
                Some(&catalog::USER_LOSS)
            }
            (None, None) => Some(&catalog::USER),
        };
        let prefix = match info {
            Some(info) if info.kind == Kind::User => catalog::field_prefix(&name),
            Some(info) => info.field.to_owned(),
            None => "unknown".to_owned(),
        };
        let ordinal = {
            let count = self.counts.entry(prefix.clone()).or_default();
            *count += 1;
            *count
        };
        let field = match info {
            Some(info) if info.kind == Kind::Loss => Ident::new("loss", layer.name.span()),
            _ => Ident::new(&format!("{prefix}{ordinal}"), layer.name.span()),
        };
        let mut resolved = Resolved {
            decl: layer,
            info,
            field,
            input: None,
            output: None,
            window: None,
            check: false,
            fraction: None,
            inner: None,
        };
        let Some(info) = info else {
            let message = mistake.unwrap_or_default();
            self.errors.push(Error::new(layer.name.span(), message));
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
            Kind::User => self.resolve_user(i, &mut resolved, carried),
            Kind::Residual => self.resolve_residual(i, &mut resolved, carried),
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
                if let Some(
                    flow @ Flow {
                        dims: Dims::Runtime(_),
                        ..
                    },
                ) = carried
                {
                    if info.takes_width || info.fixed_width {
                        self.error(
                            &layer.tokens,
                            format!("`{name}` needs a width known at compile time, but `{}` leaves it to run time: write the width there", self.decl.layers[flow.source].display()),
                        );
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
                if let Some(Flow {
                    dims: dims @ Dims::Opaque(_),
                    ..
                }) = carried
                {
                    resolved.input = Some(dims.clone());
                    resolved.check = true;
                }
            }
        }
        resolved
    }

    /// `Dropout<0.3>`: one fraction, a number in `[0, 1)` written as a
    /// decimal literal. Returns its tokens when it is one.
    fn resolve_fraction(&mut self, layer: &LayerDecl, fraction: &Fraction) -> Option<TokenStream> {
        let name = &layer.name;
        let (what, example) = (fraction.what, fraction.example);
        let args = layer.args.as_ref()?;
        let [tokens] = args.sizes.as_slice() else {
            let given = match args.sizes.len() {
                0 => "none was".to_owned(),
                n => format!("{n} were"),
            };
            self.error(
                &args.tokens,
                format!("`{name}` takes one {what}, as in `{name}<{example}>`, but {given} given"),
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
                    format!("`{text}` is not a fraction: the {what} of `{name}` is {}, a number from 0 up to 1, such as `{name}<{example}>` (it keeps the width of the layer before it, so it takes no size)", fraction.meaning),
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
                format!("the {what} of `{name}` must be written as a decimal number, such as `{name}<{example}>`, not `{text}`"),
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
        let mut open = [false, false];
        for ((slot, open), (tokens, what)) in parsed
            .iter_mut()
            .zip(&mut open)
            .zip(sizes.iter().zip(["inputs", "outputs"]))
        {
            if tokens_to_string(tokens) == "dyn" {
                *open = true;
                continue;
            }
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
        if carried
            .as_ref()
            .is_some_and(|flow| matches!(flow.dims, Dims::Opaque(_)))
        {
            resolved.check = true;
        }
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
        resolved.input = match (input, open[0], carried) {
            (Some(input), _, _) => Some(Dims::Flat(input)),
            // `dyn` takes what comes: a compiled-in width stays one.
            (None, true, Some(flow)) => {
                if let Dims::Runtime(k) = flow.dims {
                    self.runtime[k].to.get_or_insert(i);
                }
                Some(flow.dims.clone())
            }
            (None, true, None) if i == 0 => {
                self.error(
                    &sizes[0],
                    format!("`{}` is the first layer, so its inputs are the samples, whose width must be written, as in `{name}<784, …>`", layer.display()),
                );
                None
            }
            (None, _, _) => None,
        };
        resolved.output = match (output, open[1]) {
            (Some(output), _) => Some(Dims::Flat(output)),
            (None, true) => self.open_output(i, &sizes[1]),
            (None, false) => None,
        };
    }

    /// The outputs of layer `i`, written `dyn`: the width the next layer
    /// that takes one has compiled in, or else a width chosen at run time.
    fn open_output(&mut self, i: usize, tokens: &TokenStream) -> Option<Dims> {
        let layer = &self.decl.layers[i];
        match self.next_width(i) {
            NextWidth::Fixed(size) => Some(Dims::Flat(size)),
            NextWidth::Loss(j) => {
                self.error(
                    tokens,
                    format!("`{}` gives the scores of the loss layer `{}`, which needs its width compiled in: write it, as in `{}<…, 10>`", layer.display(), self.decl.layers[j].display(), layer.name),
                );
                None
            }
            NextWidth::End => {
                self.error(
                    tokens,
                    format!("`{}` ends a network without a loss layer, whose output width must be compiled in: write it", layer.display()),
                );
                None
            }
            NextWidth::Open => {
                self.runtime.push(RuntimeBoundary { from: i, to: None });
                Some(Dims::Runtime(self.runtime.len() - 1))
            }
        }
    }

    /// What the layers after `i`, past those that keep the width, make of
    /// a width `i` leaves open.
    fn next_width(&self, i: usize) -> NextWidth {
        let last = self.decl.layers.len() - 1;
        for (j, next) in self.decl.layers.iter().enumerate().skip(i + 1) {
            let info = next
                .is_bare()
                .then(|| catalog::lookup(&next.name.to_string()))
                .flatten();
            let Some(info) = info else {
                let user_loss = j == last && next.name.to_string().ends_with("Loss");
                return if user_loss {
                    NextWidth::Loss(j)
                } else {
                    NextWidth::Open
                };
            };
            match info.kind {
                Kind::ShapePreserving => continue,
                Kind::Loss => return NextWidth::Loss(j),
                Kind::Dense => {
                    let first = next.args.as_ref().and_then(|args| args.sizes.first());
                    return match first {
                        Some(tokens) if tokens_to_string(tokens) != "dyn" => {
                            parse_size(tokens).map_or(NextWidth::Open, NextWidth::Fixed)
                        }
                        _ => NextWidth::Open,
                    };
                }
                _ => return NextWidth::Open,
            }
        }
        NextWidth::End
    }

    /// A layer the macro does not know: its type gets the network's scalar
    /// first, then the sizes as written, or, when none are written, the
    /// shape of the layer before; the compiler checks that shape against
    /// the layer's input.
    fn resolve_user(&mut self, i: usize, resolved: &mut Resolved<'a>, carried: &Carried) {
        let layer = resolved.decl;
        let placeholder = layer
            .args
            .as_ref()
            .is_some_and(|args| args.sizes.iter().any(|size| tokens_to_string(size) == "_"));
        if placeholder && carried.is_none() && i == 0 {
            self.error(
                &layer.tokens,
                format!("`_` in `{}` stands for the shape of the layer before it, and there is none: start with `Input<…>` or a layer with sizes", layer.display()),
            );
            return;
        }
        resolved.input = carried.as_ref().map(|flow| flow.dims.clone());
        resolved.check = i > 0;
        // Given a width chosen at run time, a layer written without sizes
        // passes it on, as the built-in activations do; the next layer's
        // check holds only if its output is that width.
        if let (Some(Dims::Runtime(k)), None) = (&resolved.input, &layer.args) {
            resolved.output = Some(Dims::Runtime(*k));
            return;
        }
        if let Some(Dims::Runtime(k)) = resolved.input {
            self.runtime[k].to.get_or_insert(i);
        }
        let ty = resolved.ty();
        resolved.output = Some(Dims::Opaque(OpaqueDims {
            ty: quote!(<#ty as ::staticnet::Layer<T>>::Out),
            text: format!("the output of `{}`", layer.display()),
        }));
    }

    /// `Residual<Layer>`: the one layer inside, resolved as if it stood
    /// here, which must give the shape it takes.
    fn resolve_residual(&mut self, i: usize, resolved: &mut Resolved<'a>, carried: &Carried) {
        let layer = resolved.decl;
        let [inner] = layer.inner.as_slice() else {
            let wrap = "`Residual` wraps one layer, as in `Residual<Affine<50, 50>>`; for several, declare them as a network without a loss layer, `network! { struct Block<Affine<50, 50>, Relu, Affine<50, 50>> }`, and write `Residual<Block>`";
            let tokens = layer
                .args
                .as_ref()
                .map_or(&layer.tokens, |args| &args.tokens);
            self.error(tokens, wrap.to_owned());
            return;
        };
        if let Some(
            flow @ Flow {
                dims: Dims::Runtime(_),
                ..
            },
        ) = carried
        {
            self.error(
                &layer.tokens,
                format!("`{}` needs a width known at compile time, but `{}` leaves it to run time: write the width there", layer.display(), self.decl.layers[flow.source].display()),
            );
            return;
        }
        let counts = self.counts.clone();
        let inner = self.resolve(i, inner, carried);
        self.counts = counts;
        let Some(info) = inner.info else { return };
        if matches!(info.kind, Kind::Loss | Kind::Input | Kind::Residual) {
            self.error(
                &inner.decl.tokens,
                format!("`{}` cannot be inside `Residual`: it wraps a layer that keeps the shape of its input, such as `Affine<50, 50>`", inner.decl.display()),
            );
            return;
        }
        let (input, output) = (&inner.input, &inner.output);
        if let (Some(Dims::Flat(a)), Some(Dims::Flat(b))) = (input, output) {
            if a.same_as(b) == Some(false) {
                self.error(
                    &inner.decl.tokens,
                    format!(
                        "`{}` adds its input to the output of `{}`, so that layer must keep the shape, but it takes {} and outputs {}",
                        layer.display(),
                        inner.decl.display(),
                        a.describe(),
                        b.describe()
                    ),
                );
            }
        }
        resolved.input = inner.input.clone();
        resolved.output = inner.input.clone();
        resolved.check = inner.check;
        resolved.inner = Some(Box::new(inner));
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
