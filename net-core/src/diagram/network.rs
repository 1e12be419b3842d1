//! A network as a chain of layers, drawn from its [`Summary`]: a box per
//! layer, forward left to right with each activation's shape above its
//! arrow, the gradient of the same shape flowing back under it; under
//! each `Affine`, the chapter's dimension matching of its three products;
//! a nested network as a dashed box around its layers, and a `Residual`'s
//! skip drawn over it to the sum after it. Long chains wrap onto more
//! lines.

use super::svg::{Anchor, CHAR, Svg, text_width};
use crate::summary::{Product, Row, Summary};

/// The widest a line of layers is drawn, in pixels, before it wraps.
const MAX_WIDTH: f64 = 1180.0;
const MARGIN: f64 = 16.0;
const BOX_HEIGHT: f64 = 44.0;
/// The top of the boxes, below the lane of skips and group titles.
const BOX_TOP: f64 = 52.0;
/// The height of one line of layers, with the products under the boxes.
const LINE_HEIGHT: f64 = 160.0;
const PLUS_RADIUS: f64 = 11.0;

/// What stands in the chain.
enum Item {
    /// The input's label.
    Input,
    /// A layer's box (the loss's too): its field, its declaration, its
    /// product.
    Step {
        title: String,
        declared: String,
        product: Option<Product>,
    },
    /// The sum of a `Residual`.
    Plus,
}

/// One item of the chain, and the shape of what it outputs: the label of
/// the arrow after it (`None` after the loss), and where it is drawn.
struct Placed {
    item: Item,
    output: Option<String>,
    x: f64,
    line: usize,
}

/// A group of consecutive items: a nested network's box, or a `Residual`.
struct Group {
    first: usize,
    last: usize,
    title: String,
    /// The index of its `Plus`, for a `Residual`.
    plus: Option<usize>,
}

/// A width as the product labels show it: the size, or `dyn`.
fn side(size: Option<usize>) -> String {
    size.map_or("dyn".to_owned(), |s| s.to_string())
}

/// The three products of an `Affine` with their sizes, as the chapter
/// matches them: `x·W`, then backward `dout·Wᵀ` and `xᵀ·dout`.
fn products(product: &Product) -> [String; 3] {
    let (i, o) = (side(product.inputs), side(product.outputs));
    [
        format!("x·W      (N×{i})·({i}×{o})"),
        format!("dout·Wᵀ  (N×{o})·({o}×{i})"),
        format!("xᵀ·dout  ({i}×N)·(N×{o})"),
    ]
}

impl Item {
    fn width(&self, box_width: f64) -> f64 {
        match self {
            Item::Input => text_width("input"),
            Item::Step { .. } => box_width,
            Item::Plus => 2.0 * PLUS_RADIUS,
        }
    }
}

/// The chain of items of `summary`, and its groups.
fn chain(summary: &Summary) -> (Vec<Placed>, Vec<Group>) {
    let mut items = vec![Placed {
        item: Item::Input,
        output: Some(summary.input().to_string()),
        x: 0.0,
        line: 0,
    }];
    let mut groups = Vec::new();
    for row in summary.rows() {
        push_row(row, &mut items, &mut groups);
    }
    (items, groups)
}

fn layer_item(row: &Row) -> Placed {
    let d = &row.description;
    Placed {
        item: Item::Step {
            title: row.field.to_owned(),
            declared: row.declared.to_owned(),
            product: d.product,
        },
        // After the loss, the arrow of `L` itself.
        output: (!row.loss).then(|| d.output.to_string()),
        x: 0.0,
        line: 0,
    }
}

fn push_row(row: &Row, items: &mut Vec<Placed>, groups: &mut Vec<Group>) {
    let d = &row.description;
    let first = items.len();
    match d.children.is_empty() {
        true => items.push(layer_item(row)),
        false => d
            .children
            .iter()
            .for_each(|child| items.push(layer_item(child))),
    }
    let last = items.len() - 1;
    let plus = d.skip.then(|| {
        items.push(Placed {
            item: Item::Plus,
            output: Some(d.output.to_string()),
            x: 0.0,
            line: 0,
        });
        items.len() - 1
    });
    if !d.children.is_empty() || d.skip {
        let title = format!("{}: {}", row.field, row.declared);
        groups.push(Group {
            first,
            last,
            title,
            plus,
        });
    }
}

/// The SVG of `summary`'s network (see the [module docs](crate::diagram)).
pub fn network_svg(summary: &Summary) -> String {
    let (mut items, groups) = chain(summary);
    let box_width = items
        .iter()
        .filter_map(|p| match &p.item {
            Item::Step {
                title,
                declared,
                product,
            } => {
                let lines = product.as_ref().map_or(0.0, |p| {
                    products(p)
                        .iter()
                        .map(|l| text_width(l))
                        .fold(0.0, f64::max)
                });
                Some(text_width(title).max(text_width(declared)).max(lines))
            }
            _ => None,
        })
        .fold(text_width("SoftmaxWithLoss"), f64::max)
        + 2.0 * CHAR;
    let gap = items
        .iter()
        .filter_map(|p| p.output.as_deref().map(text_width))
        .fold(text_width("loss"), f64::max)
        + 3.0 * CHAR;
    // Each group stays on one line: a unit is an item with the rest of
    // its group (and its sum) after it.
    let unit_end = |k: usize| {
        groups
            .iter()
            .filter(|g| g.first == k)
            .map(|g| g.plus.unwrap_or(g.last))
            .max()
            .unwrap_or(k)
    };
    let (mut x, mut line, mut k) = (MARGIN, 0, 0);
    while k < items.len() {
        let end = unit_end(k);
        let width: f64 = items[k..=end]
            .iter()
            .map(|p| p.item.width(box_width) + gap)
            .sum();
        if x > MARGIN && x + width > MAX_WIDTH {
            (x, line) = (MARGIN + gap, line + 1);
        }
        for p in &mut items[k..=end] {
            (p.x, p.line) = (x, line);
            x += p.item.width(box_width) + gap;
        }
        k = end + 1;
    }
    let lines = items.last().map_or(1, |p| p.line + 1);
    let width = items
        .iter()
        .map(|p| p.x + p.item.width(box_width) + gap + text_width("L") + MARGIN)
        .fold(0.0, f64::max);
    let mut svg = Svg::new();
    for group in &groups {
        draw_group(&mut svg, group, &items, box_width, gap);
    }
    for (k, p) in items.iter().enumerate() {
        draw_item(&mut svg, p, box_width);
        let next = items.get(k + 1);
        draw_arrows(&mut svg, p, next, box_width, gap, width);
    }
    svg.finish(width, lines as f64 * LINE_HEIGHT + MARGIN)
}

/// The middle of the boxes of line `line`.
fn mid(line: usize) -> f64 {
    MARGIN + line as f64 * LINE_HEIGHT + BOX_TOP + BOX_HEIGHT / 2.0
}

fn draw_item(svg: &mut Svg, p: &Placed, box_width: f64) {
    let (x, y) = (p.x, mid(p.line));
    match &p.item {
        Item::Input => svg.text([x, y + 4.0], Anchor::Start, "title", "input"),
        Item::Plus => {
            svg.circle([x + PLUS_RADIUS, y], PLUS_RADIUS, "node");
            svg.text([x + PLUS_RADIUS, y + 5.0], Anchor::Middle, "title", "+");
        }
        Item::Step {
            title,
            declared,
            product,
        } => {
            let top = y - BOX_HEIGHT / 2.0;
            svg.rect([x, top, box_width, BOX_HEIGHT], "layer");
            svg.text(
                [x + box_width / 2.0, top + 18.0],
                Anchor::Middle,
                "title",
                title,
            );
            svg.text(
                [x + box_width / 2.0, top + 35.0],
                Anchor::Middle,
                "",
                declared,
            );
            if let Some(product) = product {
                for (k, line) in products(product).iter().enumerate() {
                    let at = [x + 4.0, top + BOX_HEIGHT + 18.0 + 15.0 * k as f64];
                    svg.text(at, Anchor::Start, if k == 0 { "note" } else { "bwd" }, line);
                }
            }
        }
    }
}

/// The arrows after `p`: forward to the next item with the shape above,
/// the gradient back under it with the same shape; to the line's end and
/// from the next line's start when the chain wraps; `L` after the loss.
fn draw_arrows(
    svg: &mut Svg,
    p: &Placed,
    next: Option<&Placed>,
    box_width: f64,
    gap: f64,
    width: f64,
) {
    let start = p.x + p.item.width(box_width);
    let y = mid(p.line);
    let Some(next) = next else {
        pair(svg, [start, start + gap], y, "L", "1");
        svg.text([start + gap + 4.0, y + 4.0], Anchor::Start, "title", "L");
        return;
    };
    let label = p.output.as_deref().unwrap_or("");
    if next.line == p.line {
        pair(svg, [start, next.x], y, label, label);
        return;
    }
    let end = width - MARGIN;
    pair(svg, [start, end], y, label, label);
    let lane = MARGIN + (p.line + 1) as f64 * LINE_HEIGHT - 6.0;
    let back = [
        [end, y + 6.0],
        [end, lane],
        [MARGIN, lane],
        [MARGIN, mid(next.line)],
    ];
    svg.polyline(&back, "wrap", None);
    pair(svg, [MARGIN, next.x], mid(next.line), label, label);
}

/// A forward arrow from `x0` to `x1` above `y`, labeled `forward` over it,
/// and a gradient arrow back under it, labeled `backward` under it.
fn pair(svg: &mut Svg, [x0, x1]: [f64; 2], y: f64, forward: &str, backward: &str) {
    let (a, b) = (x0 + 2.0, x1 - 2.0);
    svg.polyline(&[[a, y - 5.0], [b, y - 5.0]], "fwd", Some("fwd"));
    svg.polyline(&[[b, y + 5.0], [a, y + 5.0]], "bwd", Some("bwd"));
    let middle = (x0 + x1) / 2.0;
    svg.text([middle, y - 10.0], Anchor::Middle, "", forward);
    svg.text([middle, y + 19.0], Anchor::Middle, "bwd", backward);
}

/// A group's dashed box and title, and a `Residual`'s skip from the arrow
/// before it over the box to its sum.
fn draw_group(svg: &mut Svg, group: &Group, items: &[Placed], box_width: f64, gap: f64) {
    let (first, last) = (&items[group.first], &items[group.last]);
    let y = mid(first.line);
    let top = y - BOX_HEIGHT / 2.0 - 20.0;
    let right = last.x + last.item.width(box_width) + 8.0;
    // Down past the products written under the boxes.
    let rect = [first.x - 8.0, top, right - first.x + 8.0, BOX_HEIGHT + 80.0];
    svg.rect(rect, "group");
    svg.text(
        [first.x - 4.0, top + 13.0],
        Anchor::Start,
        "note",
        &group.title,
    );
    if let Some(plus) = group.plus {
        let plus = &items[plus];
        let from = first.x - gap / 2.0;
        let to = plus.x + PLUS_RADIUS;
        let lane = top - 14.0;
        let path = [
            [from, y - 5.0],
            [from, lane],
            [to, lane],
            [to, y - PLUS_RADIUS],
        ];
        svg.polyline(&path, "skip", Some("fwd"));
        let label = "skip: y = x + f(x)";
        svg.text(
            [(from + to) / 2.0, lane - 5.0],
            Anchor::Middle,
            "note",
            label,
        );
    }
}
