//! The layers `network!` knows: how each is written, what it expands to,
//! and how its width is found.

/// How a layer's width is found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Takes `<inputs, outputs>`; the network checks `inputs` against the
    /// layer before.
    Dense,
    /// Keeps the width of the layer before it; takes no sizes.
    ShapePreserving,
    /// The last layer: turns scores into a loss; takes the width of the
    /// layer before it.
    Loss,
    /// `Input<channels, height, width>` (or `Input<width>`): no layer, only
    /// the shape of the samples; first if written.
    Input,
    /// `Conv2d<filters, size, stride, pad>`: takes an image, gives one.
    Conv,
    /// `MaxPool2d<size, stride, pad>`: takes an image, gives one with the
    /// same channels.
    Pool,
    /// Takes an image, gives a flat vector of its values.
    Flatten,
}

/// One layer the macro knows.
#[derive(Debug)]
pub struct LayerInfo {
    /// The name users write, also the type's name in `staticnet`.
    pub name: &'static str,
    /// How its width is found.
    pub kind: Kind,
    /// The prefix of its field name (`affine` for `affine1`, …).
    pub field: &'static str,
    /// Whether it has parameters, which the network numbers in order, as
    /// the book does: `W1`/`b1` for the first such layer, `W2`/`b2`, ….
    pub has_params: bool,
    /// How it is written in the list of known layers.
    pub usage: &'static str,
}

/// Every layer `network!` accepts.
pub const LAYERS: &[LayerInfo] = &[
    LayerInfo {
        name: "Input",
        kind: Kind::Input,
        field: "input",
        has_params: false,
        usage: "`Input<channels, height, width>`",
    },
    LayerInfo {
        name: "Affine",
        kind: Kind::Dense,
        field: "affine",
        has_params: true,
        usage: "`Affine<inputs, outputs>`",
    },
    LayerInfo {
        name: "Conv2d",
        kind: Kind::Conv,
        field: "conv",
        has_params: true,
        usage: "`Conv2d<filters, size, stride = 1, pad = 0>`",
    },
    LayerInfo {
        name: "MaxPool2d",
        kind: Kind::Pool,
        field: "pool",
        has_params: false,
        usage: "`MaxPool2d<size, stride = 1, pad = 0>`",
    },
    LayerInfo {
        name: "Flatten",
        kind: Kind::Flatten,
        field: "flatten",
        has_params: false,
        usage: "`Flatten`",
    },
    LayerInfo {
        name: "Relu",
        kind: Kind::ShapePreserving,
        field: "relu",
        has_params: false,
        usage: "`Relu`",
    },
    LayerInfo {
        name: "Sigmoid",
        kind: Kind::ShapePreserving,
        field: "sigmoid",
        has_params: false,
        usage: "`Sigmoid`",
    },
    LayerInfo {
        name: "SoftmaxWithLoss",
        kind: Kind::Loss,
        field: "loss",
        has_params: false,
        usage: "`SoftmaxWithLoss`",
    },
    LayerInfo {
        name: "IdentityWithSquaredLoss",
        kind: Kind::Loss,
        field: "loss",
        has_params: false,
        usage: "`IdentityWithSquaredLoss`",
    },
];

/// Layers of the chapter that exist but cannot be stacked, with the reason.
const NOT_STACKABLE: &[(&str, &str)] = &[
    (
        "MulLayer",
        "it multiplies two inputs, and a network passes one batch from layer to layer",
    ),
    (
        "AddLayer",
        "it adds two inputs, and a network passes one batch from layer to layer",
    ),
];

/// The layer named `name`.
pub fn lookup(name: &str) -> Option<&'static LayerInfo> {
    LAYERS.iter().find(|l| l.name == name)
}

/// Whether `name` is a layer that can be written in a network.
pub fn is_layer_name(name: &str) -> bool {
    lookup(name).is_some()
}

/// The known layers as a sentence: `` `Input<channels, height, width>`, `Affine<inputs, outputs>`, … ``.
pub fn known_list() -> String {
    let usages: Vec<&str> = LAYERS.iter().map(|l| l.usage).collect();
    usages.join(", ")
}

/// The loss layers as a phrase: `` `SoftmaxWithLoss` or `IdentityWithSquaredLoss` ``.
pub fn loss_list() -> String {
    let names: Vec<String> = LAYERS
        .iter()
        .filter(|l| l.kind == Kind::Loss)
        .map(|l| format!("`{}`", l.name))
        .collect();
    names.join(" or ")
}

/// The message for a name that is not a known layer.
pub fn unknown_message(name: &str) -> String {
    if let Some((_, why)) = NOT_STACKABLE.iter().find(|(n, _)| *n == name) {
        return format!(
            "`{name}` cannot be stacked in a network: {why}; the layers a network can hold are {}",
            known_list()
        );
    }
    let mut message = format!(
        "unknown layer `{name}`; the known layers are {}",
        known_list()
    );
    if let Some(guess) = closest(name) {
        message.push_str(&format!("; did you mean `{guess}`?"));
    }
    message
}

/// The known layer whose name is closest to `name`, if one is close.
fn closest(name: &str) -> Option<&'static str> {
    let lower = name.to_lowercase();
    LAYERS
        .iter()
        .map(|l| {
            let known = l.name.to_lowercase();
            let distance = if known == lower || known.starts_with(&lower) && lower.len() >= 4 {
                0
            } else {
                edit_distance(&lower, &known)
            };
            (distance, l.name)
        })
        .filter(|&(d, _)| d <= 2)
        .min_by_key(|&(d, _)| d)
        .map(|(_, n)| n)
}

/// Levenshtein distance.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let next = (row[j + 1] + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != cb));
            diagonal = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_misses_get_a_suggestion() {
        assert_eq!(closest("ReLU"), Some("Relu"));
        assert_eq!(closest("Softmax"), Some("SoftmaxWithLoss"));
        assert_eq!(closest("Afine"), Some("Affine"));
        assert_eq!(closest("Conv2D"), Some("Conv2d"));
        assert_eq!(closest("MaxPooling"), None);
    }
}
