//! A layer's size: parsed as an expression, computed when it is literal
//! arithmetic, and emitted as a const generic argument.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::{BinOp, Error, Expr, Lit, LitInt, UnOp};

use crate::print::tokens_to_string;

/// A size as written, with its value when the macro can compute it.
#[derive(Clone)]
pub struct Size {
    /// The tokens as written, for messages.
    pub text: String,
    /// The value, when the size is literal arithmetic; `None` for named
    /// constants, which the compiler checks instead.
    pub value: Option<u64>,
    /// The const generic argument to emit.
    pub arg: TokenStream,
}

impl Size {
    /// The size for a message: `50`, or `` `{ 25 * 2 }` (= 50) ``, or `` `HIDDEN` ``.
    pub fn describe(&self) -> String {
        match self.value {
            Some(v) if v.to_string() == self.text => self.text.clone(),
            Some(v) => format!("`{}` (= {v})", self.text),
            None => format!("`{}`", self.text),
        }
    }

    /// Whether the two sizes are certainly equal, certainly different, or
    /// only the compiler can tell (`None`).
    pub fn same_as(&self, other: &Size) -> Option<bool> {
        match (self.value, other.value) {
            (Some(a), Some(b)) => Some(a == b),
            _ if self.text == other.text => Some(true),
            _ => None,
        }
    }
}

const EXPECTED: &str = "expected a size: a whole number, a constant such as `HIDDEN`, or a const expression such as `{ 28 * 28 }`";

/// Parses and, where it can, computes one size.
pub fn parse_size(tokens: &TokenStream) -> Result<Size, Error> {
    let text = tokens_to_string(tokens);
    let expr: Expr = syn::parse2(tokens.clone())
        .map_err(|_| Error::new_spanned(tokens, format!("{EXPECTED}, found `{text}`")))?;
    let value = eval(&expr)?;
    let arg = match (&expr, value) {
        (Expr::Lit(_), _) => tokens.clone(),
        (_, Some(v)) => {
            let span = tokens
                .clone()
                .into_iter()
                .next()
                .map_or_else(proc_macro2::Span::call_site, |t| t.span());
            LitInt::new(&v.to_string(), span).into_token_stream()
        }
        (Expr::Path(p), None) if p.qself.is_none() && p.path.get_ident().is_some() => {
            tokens.clone()
        }
        (Expr::Block(_), None) => tokens.clone(),
        (_, None) => quote!({ #tokens }),
    };
    Ok(Size { text, value, arg })
}

/// The value of literal arithmetic; `None` when the expression names
/// anything, for the compiler to evaluate.
fn eval(expr: &Expr) -> Result<Option<u64>, Error> {
    match expr {
        Expr::Lit(lit) => match &lit.lit {
            Lit::Int(int) => {
                if !matches!(int.suffix(), "" | "usize") {
                    return Err(Error::new_spanned(
                        int,
                        format!(
                            "sizes are `usize`, but `{int}` is a `{}`: write `{}`",
                            int.suffix(),
                            int.base10_digits()
                        ),
                    ));
                }
                int.base10_parse::<u64>().map(Some)
            }
            Lit::Float(float) => Err(Error::new_spanned(
                float,
                format!(
                    "`{float}` is not a whole number: a size counts a layer's inputs or outputs"
                ),
            )),
            other => Err(Error::new_spanned(
                other,
                format!(
                    "{EXPECTED}, found `{}`",
                    tokens_to_string(&other.to_token_stream())
                ),
            )),
        },
        Expr::Unary(unary) if matches!(unary.op, UnOp::Neg(_)) => match eval(&unary.expr)? {
            Some(_) => Err(negative(expr)),
            None => Ok(None),
        },
        Expr::Binary(binary) => {
            let (Some(a), Some(b)) = (eval(&binary.left)?, eval(&binary.right)?) else {
                return Ok(None);
            };
            let value = match binary.op {
                BinOp::Add(_) => a.checked_add(b),
                BinOp::Sub(_) => Some(a.checked_sub(b).ok_or_else(|| negative(expr))?),
                BinOp::Mul(_) => a.checked_mul(b),
                BinOp::Div(_) | BinOp::Rem(_) if b == 0 => {
                    return Err(Error::new_spanned(
                        expr,
                        format!(
                            "`{}` divides by zero",
                            tokens_to_string(&expr.to_token_stream())
                        ),
                    ));
                }
                BinOp::Div(_) => Some(a / b),
                BinOp::Rem(_) => Some(a % b),
                _ => return Ok(None),
            };
            value.map(Some).ok_or_else(|| {
                Error::new_spanned(
                    expr,
                    format!(
                        "`{}` is too large for a size",
                        tokens_to_string(&expr.to_token_stream())
                    ),
                )
            })
        }
        Expr::Paren(paren) => eval(&paren.expr),
        Expr::Group(group) => eval(&group.expr),
        Expr::Block(block) => match block.block.stmts.as_slice() {
            [syn::Stmt::Expr(inner, None)] if block.label.is_none() => eval(inner),
            [] => Err(Error::new_spanned(
                block,
                format!("{EXPECTED}, found `{{}}`"),
            )),
            _ => Ok(None),
        },
        _ => Ok(None),
    }
}

fn negative(expr: &Expr) -> Error {
    Error::new_spanned(
        expr,
        format!(
            "a size cannot be negative, but `{}` is: a size counts a layer's inputs or outputs",
            tokens_to_string(&expr.to_token_stream())
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(source: &str) -> Result<Option<u64>, String> {
        parse_size(&source.parse().unwrap())
            .map(|s| s.value)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn computes_literal_arithmetic() {
        assert_eq!(value("784"), Ok(Some(784)));
        assert_eq!(value("784usize"), Ok(Some(784)));
        assert_eq!(value("28 * 28"), Ok(Some(784)));
        assert_eq!(value("{ 28 * 28 }"), Ok(Some(784)));
        assert_eq!(value("(100 - 1) / 3 + 7 % 4"), Ok(Some(36)));
        assert_eq!(value("HIDDEN"), Ok(None));
        assert_eq!(value("sizes::HIDDEN * 2"), Ok(None));
    }

    #[test]
    fn rejects_what_cannot_be_a_size() {
        assert!(value("7.5").unwrap_err().contains("not a whole number"));
        assert!(value("-3").unwrap_err().contains("cannot be negative"));
        assert!(value("10 - 20").unwrap_err().contains("cannot be negative"));
        assert!(value("7 / 0").unwrap_err().contains("divides by zero"));
        assert!(value("784u32").unwrap_err().contains("sizes are `usize`"));
        assert!(value("\"ten\"").unwrap_err().contains("expected a size"));
        assert!(value("+").unwrap_err().contains("expected a size"));
    }

    #[test]
    fn emits_arguments_a_const_generic_accepts() {
        let arg = |s: &str| parse_size(&s.parse().unwrap()).unwrap().arg.to_string();
        assert_eq!(arg("784"), "784");
        assert_eq!(arg("28 * 28"), "784");
        assert_eq!(arg("HIDDEN"), "HIDDEN");
        assert_eq!(arg("sizes::HIDDEN"), "{ sizes :: HIDDEN }");
        assert_eq!(arg("{ N * 2 }"), "{ N * 2 }");
    }
}
