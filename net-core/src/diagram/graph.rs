//! A computational graph as the chapter draws it (figures 5-16 and 5-17):
//! each node a circle with its operation, each edge an arrow with its
//! forward value above and, in red under it, the backward value — the
//! derivative of the output with respect to that value.
//!
//! ```
//! use net_core::diagram::ComputationalGraph;
//! // buy_apple: 2 apples at 100, a tax of 1.1.
//! let mut graph = ComputationalGraph::new();
//! let apple = graph.input("apple", 100.0, 2.2);
//! let num = graph.input("apple num", 2.0, 110.0);
//! let apple_price = graph.node("×", &[apple, num], 200.0, 1.1);
//! let tax = graph.input("tax", 1.1, 200.0);
//! let price = graph.node("×", &[apple_price, tax], 220.0, 1.0);
//! graph.output("price", price);
//! assert!(graph.to_svg().contains(">220<"));
//! ```

use super::svg::{Anchor, Svg, text_width};

/// A value of the graph: an input, or a node's output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Port(Source);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Source {
    Input(usize),
    Node(usize),
}

/// A value with its name (inputs only), its forward value and its
/// backward value.
#[derive(Clone, Debug)]
struct Value {
    name: String,
    forward: f64,
    backward: f64,
}

#[derive(Clone, Debug)]
struct Node {
    op: String,
    sources: Vec<Source>,
    value: Value,
}

/// A computational graph to draw: inputs, nodes, one output (see the
/// [module docs](crate::diagram)).
#[derive(Clone, Debug, Default)]
pub struct ComputationalGraph {
    inputs: Vec<Value>,
    nodes: Vec<Node>,
    output: Option<(String, usize)>,
}

const RADIUS: f64 = 20.0;
const COLUMN: f64 = 190.0;
const SLOT: f64 = 170.0;
const SPREAD: f64 = 48.0;
const TOP: f64 = 70.0;

impl ComputationalGraph {
    /// An empty graph.
    pub fn new() -> Self {
        Self::default()
    }

    /// An input named `name` of value `forward`, the output's derivative
    /// with respect to it being `backward`.
    pub fn input(&mut self, name: &str, forward: f64, backward: f64) -> Port {
        self.inputs.push(Value {
            name: name.to_owned(),
            forward,
            backward,
        });
        Port(Source::Input(self.inputs.len() - 1))
    }

    /// A node `op` (`×`, `+`) of the values `sources`, giving `forward`,
    /// the output's derivative with respect to it being `backward`.
    pub fn node(&mut self, op: &str, sources: &[Port], forward: f64, backward: f64) -> Port {
        self.nodes.push(Node {
            op: op.to_owned(),
            sources: sources.iter().map(|p| p.0).collect(),
            value: Value {
                name: String::new(),
                forward,
                backward,
            },
        });
        Port(Source::Node(self.nodes.len() - 1))
    }

    /// The graph's output, `port` named `name`. Only a node's output can
    /// be one; an input given here is left out.
    pub fn output(&mut self, name: &str, port: Port) {
        if let Source::Node(k) = port.0 {
            self.output = Some((name.to_owned(), k));
        }
    }

    /// Where each node is drawn: its column from the nodes it reads, its
    /// height the middle of theirs, or the next free slot.
    fn layout(&self) -> (Vec<[f64; 2]>, Vec<[f64; 2]>) {
        let margin = self
            .inputs
            .iter()
            .map(|v| text_width(&v.name))
            .fold(0.0, f64::max)
            + 24.0;
        let mut nodes: Vec<[f64; 2]> = Vec::new();
        let mut inputs = vec![[0.0, 0.0]; self.inputs.len()];
        let mut next_slot = TOP + SPREAD;
        for node in &self.nodes {
            let from_nodes: Vec<[f64; 2]> = node
                .sources
                .iter()
                .filter_map(|s| match s {
                    Source::Node(k) => nodes.get(*k).copied(),
                    Source::Input(_) => None,
                })
                .collect();
            let column = from_nodes.iter().map(|p| p[0]).fold(margin, f64::max) + COLUMN;
            let y = match from_nodes.len() {
                0 => {
                    next_slot += SLOT;
                    next_slot - SLOT
                }
                n => from_nodes.iter().map(|p| p[1]).sum::<f64>() / n as f64,
            };
            let own: Vec<usize> = node
                .sources
                .iter()
                .filter_map(|s| match s {
                    Source::Input(k) => Some(*k),
                    Source::Node(_) => None,
                })
                .collect();
            for (j, &k) in own.iter().enumerate() {
                let dy = match (own.len(), from_nodes.is_empty()) {
                    (1, false) => 2.0 * SPREAD,
                    (n, _) => SPREAD * (2.0 * j as f64 - (n as f64 - 1.0)),
                };
                inputs[k] = [column - COLUMN, y + dy];
            }
            nodes.push([column, y]);
        }
        (nodes, inputs)
    }

    /// The graph as an SVG document.
    pub fn to_svg(&self) -> String {
        let (nodes, inputs) = self.layout();
        let mut svg = Svg::new();
        for (value, &[x, y]) in self.inputs.iter().zip(&inputs) {
            svg.text([x - 6.0, y + 4.0], Anchor::End, "title", &value.name);
        }
        for (node, &to) in self.nodes.iter().zip(&nodes) {
            for source in &node.sources {
                let (from, value, is_input) = match *source {
                    Source::Input(k) => (inputs[k], &self.inputs[k], true),
                    Source::Node(k) => (nodes[k], &self.nodes[k].value, false),
                };
                let start = if is_input {
                    from
                } else {
                    shorten(to, from, RADIUS)
                };
                edge(&mut svg, start, shorten(start, to, RADIUS + 2.0), value);
            }
        }
        for (node, &at) in self.nodes.iter().zip(&nodes) {
            svg.circle(at, RADIUS, "node");
            svg.text([at[0], at[1] + 6.0], Anchor::Middle, "op", &node.op);
        }
        let mut width = nodes.iter().map(|p| p[0]).fold(0.0, f64::max) + RADIUS + 20.0;
        if let Some((name, k)) = &self.output {
            let [x, y] = nodes[*k];
            let end = [x + COLUMN - 40.0, y];
            edge(&mut svg, [x + RADIUS, y], end, &self.nodes[*k].value);
            svg.text([end[0] + 6.0, y + 4.0], Anchor::Start, "title", name);
            width = end[0] + text_width(name) + 20.0;
        }
        let height = nodes
            .iter()
            .chain(&inputs)
            .map(|p| p[1])
            .fold(0.0, f64::max)
            + 50.0;
        svg.finish(width, height)
    }
}

/// `to` moved `by` pixels towards `from`.
fn shorten(from: [f64; 2], to: [f64; 2], by: f64) -> [f64; 2] {
    let (dx, dy) = (to[0] - from[0], to[1] - from[1]);
    let length = (dx * dx + dy * dy).sqrt().max(1e-9);
    [to[0] - dx / length * by, to[1] - dy / length * by]
}

/// An arrow from `from` to `to` carrying `value`: forward above, backward
/// under, at its middle.
fn edge(svg: &mut Svg, from: [f64; 2], to: [f64; 2], value: &Value) {
    svg.polyline(&[from, to], "fwd", Some("fwd"));
    let middle = [(from[0] + to[0]) / 2.0, (from[1] + to[1]) / 2.0];
    let text = |x: f64| format!("{}", (x * 1e9).round() / 1e9);
    svg.text(
        [middle[0], middle[1] - 8.0],
        Anchor::Middle,
        "",
        &text(value.forward),
    );
    svg.text(
        [middle[0], middle[1] + 18.0],
        Anchor::Middle,
        "bwd",
        &text(value.backward),
    );
}
