//! `GET /diagram.svg`: the network's diagram. A stand-in until the
//! library draws one (`staticnet::diagram`, being written): this body will
//! be replaced by that call, so it stays this small — a plain SVG listing
//! the layers that hold tensors, as the declaration names them, with their
//! shapes.

use staticnet::prelude::*;

/// The diagram of `net`, as an SVG document.
pub fn svg<N>(net: &N) -> String
where
    N: Network<f32>,
    N::In: FixedShape,
    N::Out: FixedShape,
{
    // `serve::two_layer_nets::TwoLayerNet<f32>` → `TwoLayerNet<f32>`.
    let path = std::any::type_name::<N>();
    let name = path.split('<').next().unwrap_or(path).rsplit("::").next();
    let mut lines = vec![format!(
        "{}: {} inputs → {} scores",
        name.unwrap_or(path),
        N::In::NUMEL,
        N::Out::NUMEL
    )];
    for layer in net.tensor_layers() {
        let tensors: Vec<String> = layer
            .tensors
            .iter()
            .map(|t| format!("{} {}", t.name, t.shape))
            .collect();
        lines.push(format!(
            "{}: {}  {}",
            layer.field,
            layer.declared,
            tensors.join(", ")
        ));
    }
    let height = 24 * lines.len() + 12;
    let text: String = lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            format!(
                "<text x=\"8\" y=\"{}\">{}</text>",
                24 * i + 24,
                escape(line)
            )
        })
        .collect();
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"560\" height=\"{height}\" \
         font-family=\"monospace\" font-size=\"14\" fill=\"#8a90a0\">{text}</svg>"
    )
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
