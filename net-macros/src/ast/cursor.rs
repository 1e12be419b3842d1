//! A position in a flat list of token trees, for the hand-written
//! layer-list parser.

use proc_macro2::{Span, TokenStream, TokenTree};

/// A position in a flat list of token trees.
pub struct Cursor {
    /// The tokens.
    pub tokens: Vec<TokenTree>,
    /// The index of the next token.
    pub pos: usize,
}

impl Cursor {
    /// A cursor at the first of `stream`'s tokens.
    pub fn new(stream: TokenStream) -> Self {
        Cursor {
            tokens: stream.into_iter().collect(),
            pos: 0,
        }
    }

    /// The next token.
    pub fn peek(&self) -> Option<&TokenTree> {
        self.tokens.get(self.pos)
    }

    /// Whether the next token is the punctuation `ch`.
    pub fn peek_punct(&self, ch: char) -> bool {
        matches!(self.peek(), Some(TokenTree::Punct(p)) if p.as_char() == ch)
    }

    /// Takes the next token.
    pub fn bump(&mut self) -> Option<TokenTree> {
        let token = self.tokens.get(self.pos).cloned();
        self.pos += usize::from(token.is_some());
        token
    }

    /// The span of the last token, or of the one before `pos`.
    pub fn last_span(&self) -> Option<Span> {
        self.tokens
            .get(
                self.pos
                    .saturating_sub(1)
                    .min(self.tokens.len().saturating_sub(1)),
            )
            .map(TokenTree::span)
    }

    /// Skips to the next `,` or `>` outside angle brackets, returning what
    /// was skipped.
    pub fn skip_to_separator(&mut self) -> TokenStream {
        let mut depth = 0usize;
        let mut skipped = TokenStream::new();
        while let Some(token) = self.peek() {
            if let TokenTree::Punct(p) = token {
                match p.as_char() {
                    ',' | '>' if depth == 0 => break,
                    '<' => depth += 1,
                    '>' => depth -= 1,
                    _ => {}
                }
            }
            skipped.extend(self.bump());
        }
        skipped
    }
}
