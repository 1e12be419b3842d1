//! Printing tokens as the user wrote them, in normal Rust spacing, for
//! error messages: `Affine<784, 50>`, `{ 28 * 28 }`, `sizes::HIDDEN`.

use proc_macro2::{Delimiter, TokenStream, TokenTree};

/// What was printed last, which decides the space before the next token.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Last {
    Start,
    /// An identifier or a literal.
    Word,
    /// A binary operator, followed by a space.
    Operator,
    /// `,` or `;`, followed by a space.
    Comma,
    /// `::`, `.`, a unary operator, `<`, `>`: nothing follows them.
    Tight,
    /// A closing delimiter.
    Close,
}

/// The tokens in normal Rust spacing.
pub fn tokens_to_string(tokens: &TokenStream) -> String {
    let mut out = String::new();
    write_stream(tokens.clone(), &mut out);
    out
}

fn write_stream(stream: TokenStream, out: &mut String) {
    let mut last = Last::Start;
    for token in stream {
        last = match token {
            TokenTree::Ident(_) | TokenTree::Literal(_) => {
                if matches!(
                    last,
                    Last::Word | Last::Operator | Last::Comma | Last::Close
                ) {
                    out.push(' ');
                }
                out.push_str(&token.to_string());
                Last::Word
            }
            TokenTree::Punct(p) => match p.as_char() {
                c @ (',' | ';') => {
                    out.push(c);
                    Last::Comma
                }
                c @ (':' | '.' | '<' | '>' | '#' | '\'') => {
                    out.push(c);
                    Last::Tight
                }
                '!' if last == Last::Word => {
                    out.push('!');
                    Last::Tight
                }
                c if matches!(
                    last,
                    Last::Start | Last::Operator | Last::Comma | Last::Tight
                ) =>
                {
                    // A unary operator: `-3`, `!x`, `&x`.
                    if matches!(last, Last::Operator | Last::Comma) {
                        out.push(' ');
                    }
                    out.push(c);
                    Last::Tight
                }
                c => {
                    out.push(' ');
                    out.push(c);
                    if p.spacing() == proc_macro2::Spacing::Joint {
                        Last::Tight
                    } else {
                        Last::Operator
                    }
                }
            },
            TokenTree::Group(group) => {
                let (open, close) = match group.delimiter() {
                    Delimiter::Parenthesis => ("(", ")"),
                    Delimiter::Bracket => ("[", "]"),
                    Delimiter::Brace => ("{", "}"),
                    Delimiter::None => ("", ""),
                };
                let spaced = group.delimiter() == Delimiter::Brace;
                if matches!(last, Last::Operator | Last::Comma | Last::Close)
                    || spaced && last == Last::Word
                {
                    out.push(' ');
                }
                out.push_str(open);
                let mut inner = String::new();
                write_stream(group.stream(), &mut inner);
                if spaced && !inner.is_empty() {
                    out.push(' ');
                    out.push_str(&inner);
                    out.push(' ');
                } else {
                    out.push_str(&inner);
                }
                out.push_str(close);
                Last::Close
            }
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(source: &str) -> String {
        tokens_to_string(&source.parse().unwrap())
    }

    #[test]
    fn prints_as_written() {
        assert_eq!(show("Affine < 784 , 50 >"), "Affine<784, 50>");
        assert_eq!(show("{28*28}"), "{ 28 * 28 }");
        assert_eq!(show("sizes :: HIDDEN"), "sizes::HIDDEN");
        assert_eq!(show("- 3"), "-3");
        assert_eq!(show("2 * (HIDDEN + 1)"), "2 * (HIDDEN + 1)");
        assert_eq!(show("f(3) * 2"), "f(3) * 2");
        assert_eq!(show("7.5"), "7.5");
        assert_eq!(show("N * -2"), "N * -2");
    }
}
