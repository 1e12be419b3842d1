//! A small SVG writer: the shapes the diagrams draw, in one monospace font
//! so that text widths are known without measuring.

use std::fmt::Write;

/// The font size of every label, in pixels.
pub const FONT: f64 = 12.0;
/// The width of one character of the monospace font at [`FONT`]: about
/// 0.6 em for the common monospace faces.
pub const CHAR: f64 = 7.4;

/// The width of `text` in pixels.
pub fn text_width(text: &str) -> f64 {
    text.chars().count() as f64 * CHAR
}

/// How a text is placed on its point.
#[derive(Clone, Copy)]
pub enum Anchor {
    Start,
    Middle,
    End,
}

/// An SVG document being drawn: elements in the order written, later ones
/// on top.
pub struct Svg {
    body: String,
}

impl Svg {
    pub fn new() -> Self {
        Svg {
            body: String::new(),
        }
    }

    /// A rectangle with rounded corners, of class `class`.
    pub fn rect(&mut self, [x, y, w, h]: [f64; 4], class: &str) {
        let _ = writeln!(
            self.body,
            r#"<rect class="{class}" x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{h:.1}" rx="4"/>"#
        );
    }

    /// A circle of class `class`.
    pub fn circle(&mut self, [cx, cy]: [f64; 2], r: f64, class: &str) {
        let _ = writeln!(
            self.body,
            r#"<circle class="{class}" cx="{cx:.1}" cy="{cy:.1}" r="{r:.1}"/>"#
        );
    }

    /// A line through `points`, of class `class`, with an arrowhead at the
    /// end when `arrow` names one of the document's markers (`fwd`, `bwd`).
    pub fn polyline(&mut self, points: &[[f64; 2]], class: &str, arrow: Option<&str>) {
        let points: Vec<String> = points
            .iter()
            .map(|[x, y]| format!("{x:.1},{y:.1}"))
            .collect();
        let marker = arrow.map_or(String::new(), |m| format!(r#" marker-end="url(#{m})""#));
        let _ = writeln!(
            self.body,
            r#"<polyline class="{class}" points="{}"{marker}/>"#,
            points.join(" ")
        );
    }

    /// `text` at `[x, y]` (its baseline), of class `class`.
    pub fn text(&mut self, [x, y]: [f64; 2], anchor: Anchor, class: &str, text: &str) {
        let anchor = match anchor {
            Anchor::Start => "start",
            Anchor::Middle => "middle",
            Anchor::End => "end",
        };
        let _ = writeln!(
            self.body,
            r#"<text class="{class}" x="{x:.1}" y="{y:.1}" text-anchor="{anchor}">{}</text>"#,
            escape(text)
        );
    }

    /// The document, `width` × `height` pixels on a white background.
    pub fn finish(self, width: f64, height: f64) -> String {
        format!(
            r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}">
<defs>
<marker id="fwd" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#222"/></marker>
<marker id="bwd" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#c0392b"/></marker>
</defs>
<style>
text {{ font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: {FONT}px; fill: #222; }}
text.title {{ font-weight: bold; }}
text.bwd {{ fill: #c0392b; }}
text.note {{ fill: #555; }}
text.op {{ font-size: 18px; }}
rect.layer {{ fill: #f4f7fb; stroke: #34495e; stroke-width: 1.2; }}
rect.group {{ fill: none; stroke: #7f8c8d; stroke-width: 1; stroke-dasharray: 5 3; }}
circle.node {{ fill: #fdf6e3; stroke: #34495e; stroke-width: 1.2; }}
polyline.fwd {{ fill: none; stroke: #222; stroke-width: 1.2; }}
polyline.bwd {{ fill: none; stroke: #c0392b; stroke-width: 1.2; }}
polyline.wrap {{ fill: none; stroke: #95a5a6; stroke-width: 1; stroke-dasharray: 4 3; }}
polyline.skip {{ fill: none; stroke: #2471a3; stroke-width: 1.4; }}
</style>
<rect x="0" y="0" width="{width:.0}" height="{height:.0}" fill="#fff"/>
{}</svg>
"##,
            self.body
        )
    }
}

/// `text` with `&`, `<` and `>` escaped, for an element's content.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
