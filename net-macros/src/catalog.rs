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
    /// `Residual<Layer>`: `y = x + f(x)` around one layer that keeps the
    /// shape.
    Residual,
    /// A layer the macro does not know: the user's own, or a network
    /// declared without a loss layer. The compiler checks its shapes.
    User,
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
    /// The fraction a layer without sizes may take in angle brackets, as
    /// `Dropout<0.3>`.
    pub fraction: Option<Fraction>,
    /// Whether its type takes the width of flat samples (`Softmax<T, 10>`)
    /// rather than their shape (`Relu<T, Const<10>>`).
    pub takes_width: bool,
    /// Whether it needs its width compiled in even though its type takes a
    /// shape (`BatchNorm`'s statistics are sized by the type).
    pub fixed_width: bool,
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
    /// A value to show in messages: `0.5`.
    pub example: &'static str,
}

/// A layer without an `Init::Auto` hint, a fraction or weights.
const PLAIN: LayerInfo = LayerInfo {
    name: "",
    kind: Kind::ShapePreserving,
    field: "",
    fraction: None,
    takes_width: false,
    fixed_width: false,
    usage: "",
};

/// A layer of the user's own, which the macro does not know.
pub static USER: LayerInfo = LayerInfo {
    kind: Kind::User,
    ..PLAIN
};

/// A loss layer of the user's own: the last layer, named `…Loss`.
pub static USER_LOSS: LayerInfo = LayerInfo {
    kind: Kind::Loss,
    field: "loss",
    ..PLAIN
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
        usage: "`Affine<inputs, outputs>`",
        ..PLAIN
    },
    LayerInfo {
        name: "Conv2d",
        kind: Kind::Conv,
        field: "conv",
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
        usage: "`Relu`",
        ..PLAIN
    },
    LayerInfo {
        name: "Sigmoid",
        field: "sigmoid",
        usage: "`Sigmoid`",
        ..PLAIN
    },
    LayerInfo {
        name: "Tanh",
        field: "tanh",
        usage: "`Tanh`",
        ..PLAIN
    },
    LayerInfo {
        name: "LeakyRelu",
        field: "leakyrelu",
        fraction: Some(Fraction {
            what: "slope",
            meaning: "the slope of the negative side",
            method: "with_slope",
            example: "0.01",
        }),
        usage: "`LeakyRelu` (or `LeakyRelu<slope>`)",
        ..PLAIN
    },
    LayerInfo {
        name: "Softmax",
        field: "softmax",
        takes_width: true,
        usage: "`Softmax`",
        ..PLAIN
    },
    LayerInfo {
        name: "BatchNorm",
        field: "batchnorm",
        fixed_width: true,
        fraction: Some(Fraction {
            what: "epsilon",
            meaning: "added to the variance before its square root",
            method: "with_epsilon",
            example: "1e-5",
        }),
        usage: "`BatchNorm` (or `BatchNorm<epsilon>`)",
        ..PLAIN
    },
    LayerInfo {
        name: "Dropout",
        field: "dropout",
        fraction: Some(Fraction {
            what: "drop ratio",
            meaning: "the fraction of units dropped in training",
            method: "with_ratio",
            example: "0.5",
        }),
        usage: "`Dropout` (or `Dropout<ratio>`)",
        ..PLAIN
    },
    LayerInfo {
        name: "Residual",
        kind: Kind::Residual,
        field: "residual",
        usage: "`Residual<layer>`",
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

/// Whether the layer `name` holds other layers in its angle brackets.
pub fn holds_layers(name: &str) -> bool {
    lookup(name).is_some_and(|info| info.kind == Kind::Residual)
}

/// The known layers as a sentence: `` `Input<channels, height, width>`, `Affine<inputs, outputs>`, … ``.
pub fn known_list() -> String {
    let usages: Vec<&str> = LAYERS.iter().map(|l| l.usage).collect();
    usages.join(", ")
}

/// The message for a bare name the macro takes for a mistake rather than
/// for the user's own layer: a layer of the chapter that cannot be stacked,
/// or a known layer's name in other letter case (`ReLU`, `Conv2D`).
pub fn mistaken_name(name: &str) -> Option<String> {
    if let Some((_, why)) = NOT_STACKABLE.iter().find(|(n, _)| *n == name) {
        return Some(format!(
            "`{name}` cannot be stacked in a network: {why}; the layers a network can hold are {}",
            known_list()
        ));
    }
    let known = LAYERS
        .iter()
        .find(|l| l.name != name && l.name.eq_ignore_ascii_case(name))?;
    Some(format!(
        "unknown layer `{name}`: did you mean `{}`? (a layer of your own is written with its path, as `self::{name}`)",
        known.name
    ))
}

/// The field name of a layer of the user's, before its number: `my_layer_`
/// for `MyLayer`, `deep1_` for `Deep1` (so that the eleventh `L1` and the
/// first `L11` differ: `l1_11`, `l11_1`).
pub fn field_prefix(name: &str) -> String {
    let mut field = String::new();
    let mut previous_lower = false;
    for c in name.chars() {
        if c.is_uppercase() && previous_lower {
            field.push('_');
        }
        previous_lower = c.is_lowercase() || c.is_ascii_digit();
        field.extend(c.to_lowercase());
    }
    if field.ends_with(|c: char| c.is_ascii_digit()) {
        field.push('_');
    }
    field
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_names_in_other_case_are_mistakes() {
        assert!(mistaken_name("ReLU").is_some_and(|m| m.contains("`Relu`")));
        assert!(mistaken_name("Conv2D").is_some_and(|m| m.contains("`Conv2d`")));
        assert!(mistaken_name("MulLayer").is_some_and(|m| m.contains("cannot be stacked")));
        assert_eq!(mistaken_name("Tanh2"), None);
        assert_eq!(mistaken_name("Relu"), None);
    }

    #[test]
    fn fields_are_snake_case() {
        assert_eq!(field_prefix("Tanh"), "tanh");
        assert_eq!(field_prefix("TwoLayerBlock"), "two_layer_block");
        assert_eq!(field_prefix("MLP"), "mlp");
        assert_eq!(field_prefix("Conv3x3Block"), "conv3x3_block");
        assert_eq!(field_prefix("L1"), "l1_");
        assert_eq!(field_prefix("L11"), "l11_");
    }
}
