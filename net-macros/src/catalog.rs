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
    /// For an activation, the `staticnet::Init` variant that `Init::Auto`
    /// means for the layer before it: `He` before ReLU.
    pub auto_init_before: Option<&'static str>,
    /// The fraction a layer without sizes may take in angle brackets, as
    /// `Dropout<0.3>`.
    pub fraction: Option<Fraction>,
    /// Whether it has weights, which the network numbers in order, as the
    /// book does: `W1`/`b1` for the first such layer, `W2`/`b2`, ….
    pub has_params: bool,
    /// How it is written in the list of known layers.
    pub usage: &'static str,
}

/// A fraction in `[0, 1)` written after a layer's name, set through a
/// builder method of the layer.
#[derive(Debug)]
pub struct Fraction {
    /// What it is, for messages: `drop ratio`.
    pub what: &'static str,
    /// What it means, for messages.
    pub meaning: &'static str,
    /// The layer's method that takes it: `with_ratio`.
    pub method: &'static str,
}

/// A layer without an `Init::Auto` hint, a fraction or weights.
const PLAIN: LayerInfo = LayerInfo {
    name: "",
    kind: Kind::ShapePreserving,
    field: "",
    auto_init_before: None,
    fraction: None,
    has_params: false,
    usage: "",
};

/// Every layer `network!` accepts.
pub const LAYERS: &[LayerInfo] = &[
    LayerInfo {
        name: "Input",
        kind: Kind::Input,
        field: "input",
        usage: "`Input<channels, height, width>`",
        ..PLAIN
    },
    LayerInfo {
        name: "Affine",
        kind: Kind::Dense,
        field: "affine",
        has_params: true,
        usage: "`Affine<inputs, outputs>`",
        ..PLAIN
    },
    LayerInfo {
        name: "Conv2d",
        kind: Kind::Conv,
        field: "conv",
        has_params: true,
        usage: "`Conv2d<filters, size, stride = 1, pad = 0>`",
        ..PLAIN
    },
    LayerInfo {
        name: "MaxPool2d",
        kind: Kind::Pool,
        field: "pool",
        usage: "`MaxPool2d<size, stride = 1, pad = 0>`",
        ..PLAIN
    },
    LayerInfo {
        name: "Flatten",
        kind: Kind::Flatten,
        field: "flatten",
        usage: "`Flatten`",
        ..PLAIN
    },
    LayerInfo {
        name: "Relu",
        field: "relu",
        auto_init_before: Some("He"),
        usage: "`Relu`",
        ..PLAIN
    },
    LayerInfo {
        name: "Sigmoid",
        field: "sigmoid",
        auto_init_before: Some("Xavier"),
        usage: "`Sigmoid`",
        ..PLAIN
    },
    LayerInfo {
        name: "BatchNorm",
        field: "batchnorm",
        usage: "`BatchNorm`",
        ..PLAIN
    },
    LayerInfo {
        name: "Dropout",
        field: "dropout",
        fraction: Some(Fraction {
            what: "drop ratio",
            meaning: "the fraction of units dropped in training",
            method: "with_ratio",
        }),
        usage: "`Dropout` (or `Dropout<ratio>`)",
        ..PLAIN
    },
    LayerInfo {
        name: "SoftmaxWithLoss",
        kind: Kind::Loss,
        field: "loss",
        usage: "`SoftmaxWithLoss`",
        ..PLAIN
    },
    LayerInfo {
        name: "IdentityWithSquaredLoss",
        kind: Kind::Loss,
        field: "loss",
        usage: "`IdentityWithSquaredLoss`",
        ..PLAIN
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
            // A prefix either way: `Soft` for `SoftmaxWithLoss`, or the
            // book's `BatchNormalization` for `BatchNorm`.
            let prefix = known.starts_with(&lower) || lower.starts_with(&known);
            let distance = if known == lower || prefix && lower.len().min(known.len()) >= 4 {
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
        assert_eq!(closest("BatchNormalization"), Some("BatchNorm"));
        assert_eq!(closest("DropOut"), Some("Dropout"));
        assert_eq!(closest("Conv2D"), Some("Conv2d"));
        assert_eq!(closest("MaxPooling"), None);
    }
}
