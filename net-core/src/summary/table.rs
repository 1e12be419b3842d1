//! The summary as text: the aligned table `Display` prints, and the
//! Markdown table of the rustdoc.

use core::fmt;

use super::{Description, Row, Summary};

/// `433,890`; `?` for a count not known.
pub fn count(n: Option<impl Into<u128>>) -> String {
    let Some(n) = n else {
        return "?".to_owned();
    };
    let digits = n.into().to_string();
    let mut out = String::new();
    for (k, c) in digits.chars().enumerate() {
        if k > 0 && (digits.len() - k) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `200 B`, `67.5 KiB`, `12.3 MiB`; `?` when not known.
pub fn bytes(n: Option<usize>) -> String {
    let Some(n) = n else {
        return "?".to_owned();
    };
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < units.len() {
        value /= 1024.0;
        unit += 1;
    }
    match unit {
        0 => format!("{n} B"),
        _ => format!("{value:.1} {}", units[unit]),
    }
}

/// The cells of a row: what its output column shows.
fn output_cell(row: &Row) -> String {
    match row.loss {
        true => "loss".to_owned(),
        false => row.description.output.to_string(),
    }
}

/// One line of the table, its cells as text.
struct Line {
    field: String,
    declared: String,
    output: String,
    params: String,
    macs: String,
    memory: String,
}

impl Summary {
    /// Each row, its layers and its skip after it, indented by `depth`.
    fn lines(&self, rows: &[Row], depth: usize, lines: &mut Vec<Line>) {
        let indent = "  ".repeat(depth);
        for row in rows {
            let d = &row.description;
            lines.push(Line {
                field: format!("{indent}{}", row.field),
                declared: row.declared.to_owned(),
                output: output_cell(row),
                params: count(d.params.map(|p| p as u64)),
                macs: count(d.macs),
                memory: bytes(d.activations.and_then(|a| a.checked_mul(self.scalar_bytes))),
            });
            self.lines(&d.children, depth + 1, lines);
            if d.skip {
                lines.push(skip_line(&indent, d, self.scalar_bytes));
            }
        }
    }
}

/// The line under a `Residual`'s layers: the sum `x + f(x)`.
fn skip_line(indent: &str, d: &Description, scalar_bytes: usize) -> Line {
    Line {
        field: format!("{indent}  + skip"),
        declared: "y = x + f(x)".to_owned(),
        output: d.output.to_string(),
        params: "0".to_owned(),
        macs: "0".to_owned(),
        memory: bytes(d.output.numel().and_then(|n| n.checked_mul(scalar_bytes))),
    }
}

/// The aligned table: a header, a line per layer (a block's layers
/// indented under it, a `Residual`'s skip after them), the totals, and the
/// memory of a training step and an inference call at the batch size of
/// [`Summary::at_batch`].
impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut lines = vec![Line {
            field: "layer".to_owned(),
            declared: "declared".to_owned(),
            output: "output".to_owned(),
            params: "params".to_owned(),
            macs: "MACs/sample".to_owned(),
            memory: "activations/sample".to_owned(),
        }];
        self.lines(&self.rows, 0, &mut lines);
        lines.push(Line {
            field: "total".to_owned(),
            declared: String::new(),
            output: String::new(),
            params: count(self.params().map(|p| p as u64)),
            macs: count(self.macs()),
            memory: bytes(self.activation_bytes()),
        });
        let width = |cell: fn(&Line) -> &String| {
            lines
                .iter()
                .map(|l| cell(l).chars().count())
                .max()
                .unwrap_or(0)
        };
        let widths = [
            width(|l| &l.field),
            width(|l| &l.declared),
            width(|l| &l.output),
            width(|l| &l.params),
            width(|l| &l.macs),
            width(|l| &l.memory),
        ];
        writeln!(f, "{}, {}, input {}", self.name, self.scalar, self.input)?;
        let rule = "─".repeat(widths.iter().sum::<usize>() + 2 * (widths.len() - 1));
        let last = lines.len() - 1;
        for (k, l) in lines.iter().enumerate() {
            if k == last {
                writeln!(f, "{rule}")?;
            }
            let line = format!(
                "{:<w0$}  {:<w1$}  {:<w2$}  {:>w3$}  {:>w4$}  {:>w5$}",
                l.field,
                l.declared,
                l.output,
                l.params,
                l.macs,
                l.memory,
                w0 = widths[0],
                w1 = widths[1],
                w2 = widths[2],
                w3 = widths[3],
                w4 = widths[4],
                w5 = widths[5],
            );
            writeln!(f, "{}", line.trim_end())?;
            if k == 0 {
                writeln!(f, "{rule}")?;
            }
        }
        let batch = self.batch;
        writeln!(
            f,
            "training step, batch {batch}: {} (parameters, their gradients, each layer's output and input gradient; \
             optimizer state not included: {} per state tensor)",
            bytes(self.training_bytes(batch)),
            bytes(self.optimizer_state_bytes(1)),
        )?;
        write!(
            f,
            "inference call, batch {batch}: at most {} (the frozen weights and each layer's output)",
            bytes(self.inference_bytes(batch)),
        )
    }
}

impl Summary {
    /// The table of the network's layers in Markdown, as the rustdoc of a
    /// declared network shows it: field, declaration, output shape,
    /// parameters and multiply-adds per sample, a block's layers rolled
    /// into its row, then the totals.
    pub fn markdown(&self) -> String {
        let mut out = String::from(
            "| layer | declared | output | params | MACs/sample |\n| --- | --- | --- | ---: | ---: |\n",
        );
        for row in &self.rows {
            let d = &row.description;
            out += &format!(
                "| `{}` | `{}` | {} | {} | {} |\n",
                row.field,
                row.declared,
                output_cell(row),
                count(d.params.map(|p| p as u64)),
                count(d.macs),
            );
        }
        out += &format!(
            "| total | | | {} | {} |\n",
            count(self.params().map(|p| p as u64)),
            count(self.macs())
        );
        out
    }
}
