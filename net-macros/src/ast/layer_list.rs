//! The layer list, `<Layer, Layer<size, size>, …>`, parsed by hand over
//! token trees: a layer's sizes are closed by a `>` that is a lone
//! punctuation token, and the parser recovers from mistakes (a missing
//! comma, a missing `>`) so that every mistake gets its own error in one
//! compile.

use proc_macro2::{Delimiter, Spacing, Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::{Error, Ident};

use super::cursor::Cursor;
use super::{Args, LayerDecl};
use crate::catalog;
use crate::print::tokens_to_string;

/// What follows the network's name.
pub struct Parsed {
    /// The list's tokens, `<` to `>`.
    pub list: TokenStream,
    /// The layers.
    pub layers: Vec<LayerDecl>,
    /// `where T: Bound`, when written after the list.
    pub where_clause: TokenStream,
}

/// Parses everything after the network's name: the layer list, an
/// optional `where` clause and an optional `;`. Pushes an error for each
/// mistake it recovers from.
pub fn parse(rest: TokenStream, name: &Ident, errors: &mut Vec<Error>) -> Parsed {
    let mut parser = ListParser {
        cursor: Cursor::new(rest),
        errors: std::mem::take(errors),
    };
    let parsed = parser.parse_header_and_list(name);
    *errors = parser.errors;
    parsed
}

struct ListParser {
    cursor: Cursor,
    errors: Vec<Error>,
}

impl ListParser {
    /// Everything after the name: `<layers>` and an optional `;`.
    fn parse_header_and_list(&mut self, name: &Ident) -> Parsed {
        let example = format!("`struct {name}<Affine<784, 10>, SoftmaxWithLoss>`");
        let start = self.cursor.pos;
        let layers = match self.cursor.peek().cloned() {
            Some(TokenTree::Punct(p)) if p.as_char() == '<' => {
                self.cursor.bump();
                self.parse_layers(true)
            }
            Some(TokenTree::Group(group)) if group.delimiter() != Delimiter::None => {
                self.cursor.bump();
                self.errors.push(Error::new(
                    group.span(),
                    format!("a network's layers go in angle brackets after its name: {example}"),
                ));
                let mut inner = ListParser {
                    cursor: Cursor::new(group.stream()),
                    errors: Vec::new(),
                };
                let layers = inner.parse_layers(false);
                self.errors.append(&mut inner.errors);
                layers
            }
            Some(TokenTree::Ident(layer)) => {
                self.errors.push(Error::new(
                    layer.span(),
                    format!("expected `<` after `{name}`: a network lists its layers in angle brackets, {example}"),
                ));
                self.parse_layers(true)
            }
            _ => {
                let span = self.cursor.peek().map_or(name.span(), TokenTree::span);
                self.errors.push(Error::new(
                    span,
                    format!("expected `<` and the layers after `{name}`, as in {example}"),
                ));
                return Parsed {
                    list: name.to_token_stream(),
                    layers: Vec::new(),
                    where_clause: TokenStream::new(),
                };
            }
        };
        let list: TokenStream = self.cursor.tokens[start..self.cursor.pos]
            .iter()
            .cloned()
            .collect();
        let mut where_clause = TokenStream::new();
        if matches!(self.cursor.peek(), Some(TokenTree::Ident(w)) if w == "where") {
            while self.cursor.peek().is_some() && !self.cursor.peek_punct(';') {
                where_clause.extend(self.cursor.bump());
            }
        }
        if self.cursor.peek_punct(';') {
            self.cursor.bump();
        }
        let rest: TokenStream = self.cursor.tokens[self.cursor.pos..]
            .iter()
            .cloned()
            .collect();
        if !rest.is_empty() {
            self.errors.push(Error::new_spanned(
                rest,
                "unexpected tokens after the layer list: `network!` declares one network, `struct Name<Layer, …, LossLayer>`",
            ));
        }
        Parsed {
            list,
            layers,
            where_clause,
        }
    }

    /// Layers separated by commas, up to the closing `>` (or the end of the
    /// tokens when `closing` is false).
    fn parse_layers(&mut self, closing: bool) -> Vec<LayerDecl> {
        let mut layers = Vec::new();
        loop {
            match self.cursor.peek() {
                None => {
                    if closing {
                        let span = self.cursor.last_span().unwrap_or_else(Span::call_site);
                        let after = layers.last().map_or(String::new(), |l: &LayerDecl| {
                            format!(" after `{}`", l.display())
                        });
                        self.errors.push(Error::new(
                            span,
                            format!("expected `>`{after} to close the layer list"),
                        ));
                    }
                    break;
                }
                Some(TokenTree::Punct(p)) if p.as_char() == '>' && closing => {
                    self.cursor.bump();
                    break;
                }
                Some(TokenTree::Punct(p)) if p.as_char() == ',' => {
                    self.errors
                        .push(Error::new(p.span(), "expected a layer before this `,`"));
                    self.cursor.bump();
                    continue;
                }
                _ => {}
            }
            let (layer, ran_into_next) = self.parse_layer();
            let display = layer.as_ref().map(LayerDecl::display);
            layers.extend(layer);
            if ran_into_next {
                continue;
            }
            match self.cursor.peek().cloned() {
                Some(TokenTree::Punct(p)) if p.as_char() == ',' => {
                    self.cursor.bump();
                }
                Some(TokenTree::Punct(p)) if p.as_char() == '>' => {}
                None => {}
                Some(TokenTree::Ident(next)) => {
                    let after = display.map_or(String::new(), |d| format!(" after `{d}`"));
                    self.errors.push(Error::new(
                        next.span(),
                        format!("expected `,`{after}: layers are separated by commas"),
                    ));
                }
                Some(other) => {
                    let after = display.map_or(String::new(), |d| format!(" after `{d}`"));
                    self.errors.push(Error::new(
                        other.span(),
                        format!(
                            "expected `,` or `>`{after}, found `{}`",
                            tokens_to_string(&other.to_token_stream())
                        ),
                    ));
                    self.cursor.skip_to_separator();
                }
            }
        }
        layers
    }

    /// One layer. Also returns whether its sizes ran into the next layer's
    /// name (a missing `>`), in which case the comma before that name was
    /// already consumed.
    fn parse_layer(&mut self) -> (Option<LayerDecl>, bool) {
        let start = self.cursor.pos;
        let (path, name) = match self.parse_path() {
            Some(path_and_name) => path_and_name,
            None if self.cursor.peek().is_some() => {
                self.cursor.pos = start;
                let mut skipped = self.cursor.skip_to_separator();
                if skipped.is_empty() {
                    // A lone `>` where no list is closing: skip it, or
                    // nothing would move.
                    skipped.extend(self.cursor.bump());
                }
                self.errors.push(Error::new_spanned(
                    &skipped,
                    format!(
                        "expected a layer, such as `Affine<784, 50>`, `Relu` or `my::Tanh`, found `{}`",
                        tokens_to_string(&skipped)
                    ),
                ));
                return (None, false);
            }
            None => return (None, false),
        };
        let mut tokens = path.clone();
        tokens.extend(name.to_token_stream());
        let mut ran_into_next = false;
        let args = match self.cursor.peek().cloned() {
            Some(TokenTree::Punct(p)) if p.as_char() == '<' => {
                let start = self.cursor.pos;
                self.cursor.bump();
                let (sizes, ran) = self.parse_sizes(&name);
                ran_into_next = ran;
                let mut arg_tokens: TokenStream = self.cursor.tokens[start..self.cursor.pos]
                    .iter()
                    .cloned()
                    .collect();
                if ran {
                    // Leave the comma and the next layer out of this one's tokens.
                    arg_tokens = sizes.iter().fold(p.to_token_stream(), |mut acc, size| {
                        acc.extend(size.clone());
                        acc
                    });
                }
                Some(Args {
                    tokens: arg_tokens,
                    sizes,
                })
            }
            Some(TokenTree::Group(group)) if group.delimiter() == Delimiter::Parenthesis => {
                self.cursor.bump();
                self.errors.push(Error::new(
                    group.span(),
                    format!("a layer's sizes go in angle brackets: `{name}<…>`, not `{name}(…)`"),
                ));
                let sizes = split_commas(group.stream());
                Some(Args {
                    tokens: group.to_token_stream(),
                    sizes,
                })
            }
            _ => None,
        };
        if let Some(args) = &args {
            tokens.extend(args.tokens.clone());
        }
        let inner = match &args {
            Some(args) if path.is_empty() && catalog::holds_layers(&name.to_string()) => args
                .sizes
                .iter()
                .filter_map(|arg| self.parse_inner(arg))
                .collect(),
            _ => Vec::new(),
        };
        let layer = LayerDecl {
            path,
            name,
            args,
            tokens,
            inner,
        };
        (Some(layer), ran_into_next)
    }

    /// A type path, `Relu`, `my::Tanh` or `::crate_name::Layer`: the
    /// segments before the name, with their `::`, and the name. `None`,
    /// having moved, when the tokens are no path.
    fn parse_path(&mut self) -> Option<(TokenStream, Ident)> {
        let mut path = TokenStream::new();
        loop {
            if self.peek_colons() {
                path.extend(self.cursor.bump());
                path.extend(self.cursor.bump());
            }
            let Some(TokenTree::Ident(segment)) = self.cursor.peek().cloned() else {
                return None;
            };
            self.cursor.bump();
            if !self.peek_colons() {
                return Some((path, segment));
            }
            path.extend(Some(TokenTree::Ident(segment)));
        }
    }

    /// Whether `::` comes next.
    fn peek_colons(&self) -> bool {
        let tokens = &self.cursor.tokens[self.cursor.pos..];
        matches!(tokens, [TokenTree::Punct(a), TokenTree::Punct(b), ..]
            if a.as_char() == ':' && a.spacing() == Spacing::Joint && b.as_char() == ':')
    }

    /// A layer written inside another's angle brackets.
    fn parse_inner(&mut self, tokens: &TokenStream) -> Option<LayerDecl> {
        let mut inner = ListParser {
            cursor: Cursor::new(tokens.clone()),
            errors: Vec::new(),
        };
        let (layer, _) = inner.parse_layer();
        if let Some(extra) = inner.cursor.peek() {
            self.errors.push(Error::new(
                extra.span(),
                format!(
                    "expected one layer, such as `Affine<50, 50>`, found `{}`",
                    tokens_to_string(tokens)
                ),
            ));
            return None;
        }
        self.errors.append(&mut inner.errors);
        layer
    }

    /// The sizes after `<`, through the matching `>`. Returns whether they
    /// ran into the next layer's name, which means the `>` is missing.
    fn parse_sizes(&mut self, layer: &Ident) -> (Vec<TokenStream>, bool) {
        let mut sizes = Vec::new();
        let mut current = TokenStream::new();
        let mut depth = 0usize;
        loop {
            let Some(token) = self.cursor.peek().cloned() else {
                let span = self.cursor.last_span().unwrap_or_else(|| layer.span());
                self.errors.push(Error::new(
                    span,
                    format!("expected `>` to close the sizes of `{layer}`"),
                ));
                sizes.extend((!current.is_empty()).then_some(current));
                return (sizes, false);
            };
            if let TokenTree::Punct(p) = &token {
                match p.as_char() {
                    '>' if depth == 0 => {
                        self.cursor.bump();
                        sizes.extend((!current.is_empty()).then_some(current));
                        return (sizes, false);
                    }
                    ',' if depth == 0 => {
                        self.cursor.bump();
                        if current.is_empty() {
                            self.errors
                                .push(Error::new(p.span(), "expected a size before this `,`"));
                        }
                        sizes.extend((!current.is_empty()).then(|| std::mem::take(&mut current)));
                        let holds_layers = catalog::holds_layers(&layer.to_string());
                        if let Some(TokenTree::Ident(next)) = self.cursor.peek() {
                            if !holds_layers && catalog::is_layer_name(&next.to_string()) {
                                let written = sizes
                                    .iter()
                                    .map(tokens_to_string)
                                    .collect::<Vec<_>>()
                                    .join(", ");
                                self.errors.push(Error::new(
                                    p.span(),
                                    format!("expected `>` to close `{layer}<{written}` before the next layer, `{next}`"),
                                ));
                                return (sizes, true);
                            }
                        }
                        continue;
                    }
                    '<' => depth += 1,
                    '>' => depth -= 1,
                    _ => {}
                }
            }
            current.extend(self.cursor.bump());
        }
    }
}

/// Splits a stream at top-level commas, dropping empty pieces.
fn split_commas(stream: TokenStream) -> Vec<TokenStream> {
    let mut pieces = vec![TokenStream::new()];
    for token in stream {
        match &token {
            TokenTree::Punct(p) if p.as_char() == ',' => pieces.push(TokenStream::new()),
            _ => pieces.last_mut().expect("never empty").extend(Some(token)),
        }
    }
    pieces.retain(|p| !p.is_empty());
    pieces
}
