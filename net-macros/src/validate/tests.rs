//! Unit tests of the validator: token streams in, collected messages out.

use super::*;
use crate::model::dims::Dims;

/// The messages of every error for `source`, in order.
fn messages(source: &str) -> Vec<String> {
    let decl: NetworkDecl = match syn::parse_str(source) {
        Ok(decl) => decl,
        Err(e) => return e.into_iter().map(|e| e.to_string()).collect(),
    };
    validate(&decl).error.map_or(Vec::new(), |e| {
        e.into_iter().map(|e| e.to_string()).collect()
    })
}

#[test]
fn a_valid_network_has_no_errors() {
    assert!(
        messages("pub struct Net<Affine<784, 50>, Relu, Affine<50, 10>, SoftmaxWithLoss>")
            .is_empty()
    );
    assert!(
        messages(
            "struct Net<Affine<784, HIDDEN>, Sigmoid, Affine<HIDDEN, 10>, IdentityWithSquaredLoss,>"
        )
        .is_empty()
    );
    assert!(
        messages("struct Net<Affine<{ 28 * 28 }, 50>, Relu, Affine<50, 10>, SoftmaxWithLoss>;")
            .is_empty()
    );
    assert!(
        messages(
            "struct Net<Affine<784, 50>, BatchNorm, Relu, Dropout<0.3>, Affine<50, 10>, Dropout, SoftmaxWithLoss>"
        )
        .is_empty()
    );
}

#[test]
fn dropout_and_batch_norm_take_one_fraction() {
    let net = |layer: &str| {
        messages(&format!(
            "struct Net<Affine<784, 50>, {layer}, Affine<50, 10>, SoftmaxWithLoss>"
        ))
    };
    assert_eq!(net("Dropout<0.0>"), Vec::<String>::new());
    assert_eq!(
        net("Dropout<1.0>"),
        [
            "the drop ratio of `Dropout` is the fraction of units dropped in training, so it must be at least 0 and below 1, but it is `1.0`"
        ]
    );
    assert_eq!(
        net("Dropout<-0.5>"),
        [
            "the drop ratio of `Dropout` is the fraction of units dropped in training, so it must be at least 0 and below 1, but it is `-0.5`"
        ]
    );
    assert_eq!(
        net("Dropout<50>"),
        [
            "`50` is not a fraction: the drop ratio of `Dropout` is the fraction of units dropped in training, a number from 0 up to 1, such as `Dropout<0.5>` (it keeps the width of the layer before it, so it takes no size)"
        ]
    );
    assert_eq!(
        net("Dropout<RATIO>"),
        [
            "the drop ratio of `Dropout` must be written as a decimal number, such as `Dropout<0.5>`, not `RATIO`"
        ]
    );
    assert_eq!(
        net("Dropout<0.5f32>"),
        [
            "the drop ratio of `Dropout` must be written as a decimal number, such as `Dropout<0.5>`, not `0.5f32`"
        ]
    );
    assert_eq!(
        net("Dropout<0.5, 0.2>"),
        ["`Dropout` takes one drop ratio, as in `Dropout<0.5>`, but 2 were given"]
    );
    assert_eq!(
        net("BatchNorm<50>"),
        [
            "`50` is not a fraction: the epsilon of `BatchNorm` is added to the variance before its square root, a number from 0 up to 1, such as `BatchNorm<1e-5>` (it keeps the width of the layer before it, so it takes no size)"
        ]
    );
    assert_eq!(net("BatchNorm<1e-5>"), Vec::<String>::new());
}

#[test]
fn every_mismatch_is_reported_once_naming_both_layers() {
    let got = messages(
        "struct Net<Affine<784, 50>, Affine<60, 10>, Relu, Affine<20, 5>, SoftmaxWithLoss>",
    );
    assert_eq!(
        got,
        [
            "`Affine<60, 10>` expects 60 inputs, but the layer before it, `Affine<784, 50>`, outputs 50",
            "`Affine<20, 5>` expects 20 inputs, but the layer before it, `Relu`, outputs 10 (the width of `Affine<60, 10>`)",
        ]
    );
}

#[test]
fn sizes_are_quoted_as_written() {
    let got = messages("struct Net<Affine<784, { 25 * 2 }>, Affine<60, 10>, SoftmaxWithLoss>");
    assert_eq!(
        got,
        [
            "`Affine<60, 10>` expects 60 inputs, but the layer before it, `Affine<784, { 25 * 2 }>`, outputs `{ 25 * 2 }` (= 50)"
        ]
    );
}

#[test]
fn named_constants_are_left_to_the_compiler() {
    let decl: NetworkDecl = syn::parse_str(
        "struct Net<Affine<784, HIDDEN>, Relu, Affine<60, 10>, Affine<10, 10>, SoftmaxWithLoss>",
    )
    .unwrap();
    let checked = validate(&decl);
    assert!(checked.error.is_none());
    let checks: Vec<bool> = checked.layers.iter().map(|l| l.check).collect();
    assert_eq!(checks, [false, false, true, false, false]);
    let fields: Vec<String> = checked.layers.iter().map(|l| l.field.to_string()).collect();
    assert_eq!(fields, ["affine1", "relu1", "affine2", "affine3", "loss"]);
}

#[test]
fn layer_order_mistakes() {
    assert_eq!(
        messages("struct Net<Affine<784, 50>, SoftmaxWithLoss, Affine<50, 10>>"),
        [
            "`SoftmaxWithLoss` is a loss layer, so it must be the last layer, but `Affine<50, 10>` follows it"
        ]
    );
    // Without a loss layer, a network is a layer of other networks.
    assert!(messages("struct Block<Affine<784, 50>, Relu, Affine<50, 10>>").is_empty());
    assert_eq!(
        messages("struct Net<Relu, Affine<784, 10>, SoftmaxWithLoss>"),
        [
            "`Relu` cannot be the first layer: it keeps the width of the layer before it, and there is none; start with `Affine<inputs, outputs>`"
        ]
    );
    assert_eq!(
        messages("struct Net<SoftmaxWithLoss>"),
        [
            "a network needs at least one layer before its loss layer, as in `struct Net<Affine<784, 10>, SoftmaxWithLoss>`"
        ]
    );
    assert_eq!(
        messages("struct Net<>"),
        [
            "`Net` has no layers: a network needs at least one layer and a loss layer, as in `struct Net<Affine<784, 10>, SoftmaxWithLoss>`"
        ]
    );
}

#[test]
fn size_mistakes() {
    assert_eq!(
        messages("struct Net<Affine<784>, SoftmaxWithLoss>"),
        ["`Affine` takes two sizes, `Affine<inputs, outputs>`, but 1 was given"]
    );
    assert_eq!(
        messages("struct Net<Affine<784, 50>, Affine, SoftmaxWithLoss>"),
        ["`Affine` needs its sizes: write `Affine<inputs, outputs>`, here `Affine<50, outputs>`"]
    );
    assert_eq!(
        messages("struct Net<Affine<0, 10>, SoftmaxWithLoss>"),
        ["`Affine<0, 10>` has 0 inputs: every layer needs at least one input and one output"]
    );
    assert_eq!(
        messages("struct Net<Affine<784, 50>, Relu<50>, Affine<50, 10>, SoftmaxWithLoss<10>>"),
        [
            "`Relu` takes no sizes: it keeps the width of the layer before it, which is 50 here; write `Relu`",
            "`SoftmaxWithLoss` takes no sizes: it takes its width from the layer before it, which is 10 here; write `SoftmaxWithLoss`",
        ]
    );
    assert_eq!(
        messages("struct Net<Affine<7.5, 10>, Affine<10, -3>, SoftmaxWithLoss>"),
        [
            "`7.5` is not a whole number: a size counts a layer's inputs or outputs",
            "a size cannot be negative, but `-3` is: a size counts a layer's inputs or outputs",
        ]
    );
}

#[test]
fn unknown_names_are_the_users_layers_unless_clearly_mistaken() {
    assert!(
        messages("struct Net<Affine<784, 50>, Tanh2, my::Linear<50, 10>, SoftmaxWithLoss>")
            .is_empty()
    );
    assert_eq!(
        messages("struct Net<Affine<784, 50>, ReLU, Affine<50, 10>, SoftmaxWithLoss>"),
        [
            "unknown layer `ReLU`: did you mean `Relu`? (a layer of your own is written with its path, as `self::ReLU`)"
        ]
    );
    let got = messages("struct Net<Affine<784, 50>, MulLayer, SoftmaxWithLoss>");
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(got[0].starts_with("`MulLayer` cannot be stacked in a network"));
}

#[test]
fn residual_wraps_one_layer_that_keeps_the_shape() {
    assert!(
        messages(
            "struct Net<Affine<784, 50>, Residual<Affine<50, 50>>, Affine<50, 10>, SoftmaxWithLoss>"
        )
        .is_empty()
    );
    assert!(
        messages("struct Net<Affine<784, 50>, Residual<Block>, Affine<50, 10>, SoftmaxWithLoss>")
            .is_empty()
    );
    assert_eq!(
        messages(
            "struct Net<Affine<784, 50>, Residual<Affine<50, 60>>, Affine<50, 10>, SoftmaxWithLoss>"
        ),
        [
            "`Residual<Affine<50, 60>>` adds its input to the output of `Affine<50, 60>`, so that layer must keep the shape, but it takes 50 and outputs 60"
        ]
    );
    let got =
        messages("struct Net<Affine<784, 50>, Residual<Affine<50, 50>, Relu>, SoftmaxWithLoss>");
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(got[0].starts_with("`Residual` wraps one layer"), "{got:?}");
}

#[test]
fn syntax_mistakes_are_recovered_from() {
    assert_eq!(
        messages("struct Net<Affine<784, 50> Relu, Affine<50, 10>, SoftmaxWithLoss>"),
        ["expected `,` after `Affine<784, 50>`: layers are separated by commas"]
    );
    assert_eq!(
        messages("struct Net<Affine<784, 50, Relu, Affine<50, 10>, SoftmaxWithLoss>"),
        ["expected `>` to close `Affine<784, 50` before the next layer, `Relu`"]
    );
    assert_eq!(
        messages("pub Net<Affine<784, 10>, SoftmaxWithLoss>"),
        ["expected `struct` before the network's name: write `struct Net<…>`"]
    );
    assert_eq!(
        messages("struct Net<Affine<784, 10>, SoftmaxWithLoss"),
        ["expected `>` after `SoftmaxWithLoss` to close the layer list"]
    );
    assert_eq!(
        messages("struct Net(Affine<784, 10>, SoftmaxWithLoss)"),
        [
            "a network's layers go in angle brackets after its name: `struct Net<Affine<784, 10>, SoftmaxWithLoss>`"
        ]
    );
    assert_eq!(
        messages("struct Net<Affine<784, 10>, SoftmaxWithLoss> extra").len(),
        1
    );
}

#[test]
fn mistakes_are_all_reported_together() {
    let got = messages(
        "struct Net<Affine<784, 50>, Relu<50>, Affine<60, 10>, Conv2D, Affine<10, 0>, SoftmaxWithLoss>",
    );
    assert_eq!(got.len(), 4, "{got:?}");
}

#[test]
fn malformed_input_is_reported_without_panicking() {
    let cases = [
        "struct Net(>)",
        "struct Net<>>",
        "struct Net<<>",
        "struct Net<Affine<<>>, X>",
        "struct Net<,>",
        "struct Net<Affine<1, 2>> >",
        "struct Net<Affine<1, 2>, Relu Relu Relu, SoftmaxWithLoss>",
        "struct Net<1, 2>",
        "struct Net<Affine<1,, 2>, SoftmaxWithLoss>",
        "struct Net<Affine(1, 2), SoftmaxWithLoss>",
        "struct Net<Affine 1, 2>",
        "struct Net<Affine<1, 2 SoftmaxWithLoss>",
        "struct Net<Affine<{}, 2>, SoftmaxWithLoss>",
        "struct Net<Affine<1, 2>, SoftmaxWithLoss>; struct Other<>",
        "struct Net",
        "struct Net;",
        "struct Net { affine: Affine<1, 2> }",
        "struct Net<Affine<18446744073709551616, 2>, SoftmaxWithLoss>",
        "struct Net<Affine<99999999999 * 99999999999, 2>, SoftmaxWithLoss>",
    ];
    for case in cases {
        let got = messages(case);
        assert!(!got.is_empty(), "no error for {case}");
    }
}

const SIMPLE_CONV_NET: &str = "struct SimpleConvNet<Input<1, 28, 28>, Conv2d<30, 5>, Relu, MaxPool2d<2, stride = 2>, Flatten, Affine<4320, 100>, Relu, Affine<100, 10>, SoftmaxWithLoss>";

#[test]
fn the_books_conv_net_is_valid_and_numbered_as_in_the_book() {
    let decl: NetworkDecl = syn::parse_str(SIMPLE_CONV_NET).unwrap();
    let checked = validate(&decl);
    assert!(checked.error.is_none());
    let shapes: Vec<String> = checked
        .layers
        .iter()
        .map(|l| l.output.as_ref().map_or("-".to_owned(), Dims::describe))
        .collect();
    assert_eq!(
        shapes,
        [
            "1×28×28",
            "30×24×24",
            "30×24×24",
            "30×12×12",
            "4320",
            "100",
            "100",
            "10",
            "-"
        ]
    );
    let fields: Vec<String> = checked.layers.iter().map(|l| l.field.to_string()).collect();
    assert_eq!(
        fields,
        [
            "input1", "conv1", "relu1", "pool1", "flatten1", "affine1", "relu2", "affine2", "loss"
        ]
    );
}

#[test]
fn window_sizes_can_be_positional_or_named() {
    for net in [
        "struct Net<Input<3, 7, 7>, Conv2d<4, 3, 2, 1>, MaxPool2d<2, 2>, Flatten, Affine<16, 2>, SoftmaxWithLoss>",
        "struct Net<Input<3, 7, 7>, Conv2d<4, 3, pad = 1, stride = 2>, MaxPool2d<2, stride = 2>, Flatten, Affine<16, 2>, SoftmaxWithLoss>",
    ] {
        assert_eq!(messages(net), Vec::<String>::new(), "{net}");
    }
}

#[test]
fn image_mistakes_are_reported_at_the_layer() {
    let with = |layers: &str| messages(&format!("struct Net<{layers}, SoftmaxWithLoss>"));
    assert_eq!(
        with(
            "Input<1, 28, 28>, Conv2d<30, 5>, Relu, MaxPool2d<2, stride = 2>, Flatten, Affine<4000, 10>"
        ),
        [
            "`Affine<4000, 10>` expects 4000 inputs, but the layer before it, `Flatten`, outputs 4320 (30×12×12 from `MaxPool2d<2, stride = 2>`)"
        ]
    );
    assert_eq!(
        with("Input<1, 28, 28>, Conv2d<30, 29>, Flatten, Affine<30, 10>"),
        ["`Conv2d<30, 29>`: its 29×29 filter is larger than its input of 28×28 pixels"]
    );
    // The book's floors: ⌊(28 − 5)/2⌋ + 1 = 12, ⌊(7 − 2)/2⌋ + 1 = 3.
    assert_eq!(
        with("Input<1, 28, 28>, Conv2d<30, 5, stride = 2>, Flatten, Affine<30, 10>"),
        [
            "`Affine<30, 10>` expects 30 inputs, but the layer before it, `Flatten`, outputs 4320 (30×12×12 from `Conv2d<30, 5, stride = 2>`)"
        ]
    );
    assert_eq!(
        with("Input<64, 7, 7>, MaxPool2d<2, stride = 2>, Flatten, Affine<1024, 10>"),
        [
            "`Affine<1024, 10>` expects 1024 inputs, but the layer before it, `Flatten`, outputs 576 (64×3×3 from `MaxPool2d<2, stride = 2>`)"
        ]
    );
    assert_eq!(
        with("Input<1, 4, 4>, MaxPool2d<7, pad = 1>, Flatten, Affine<1, 10>"),
        [
            "`MaxPool2d<7, pad = 1>`: its 7×7 window is larger than its input of 4×4 pixels, 6×6 with the padding"
        ]
    );
    assert_eq!(
        with("Conv2d<30, 5>, Flatten, Affine<17280, 10>"),
        [
            "`Conv2d<30, 5>` needs the shape of its input images: start the network with `Input<channels, height, width>`, such as `Input<1, 28, 28>`"
        ]
    );
    assert_eq!(
        with("Input<1, 8, 8>, Flatten, Conv2d<2, 3>, Flatten, Affine<72, 10>"),
        [
            "`Conv2d<2, 3>` takes images, but the layer before it, `Flatten`, outputs a flat vector of 64"
        ]
    );
    assert_eq!(
        with("Input<1, 8, 8>, Conv2d<2, 3>, Affine<72, 10>"),
        [
            "`Affine<72, 10>` takes a flat vector of inputs, but the layer before it, `Conv2d<2, 3>`, outputs images of 2×6×6: add `Flatten` before it"
        ]
    );
    assert_eq!(
        with("Input<1, 8, 8>, Conv2d<2, 3, strides = 2>, Flatten, Affine<72, 10>"),
        [
            "`Conv2d` has no size named `strides`: its sizes are `Conv2d<filters, size, stride, pad>`"
        ]
    );
    assert_eq!(
        with("Input<1, 8, 8>, Conv2d<2>, Flatten, Affine<72, 10>"),
        [
            "`Conv2d` needs its size: write `Conv2d<filters, size, stride, pad>`, such as `Conv2d<30, 5>`"
        ]
    );
    assert_eq!(
        with("Input<1, 8, 8>, Conv2d<2, 3, stride = 0>, Flatten, Affine<72, 10>"),
        ["`Conv2d<2, 3, stride = 0>` has stride 0: it must be at least 1"]
    );
    assert_eq!(
        with("Input<1, 8>, Flatten, Affine<8, 10>"),
        [
            "`Input` takes one size or three, but 2 were given: write `Input<channels, height, width>` for images, as in `Input<1, 28, 28>`, or `Input<width>` for flat vectors"
        ]
    );
    assert_eq!(
        with("Affine<784, 10>, Input<1, 28, 28>"),
        [
            "`Input<1, 28, 28>` must be the first layer: it states the shape of the network's samples"
        ]
    );
    assert_eq!(
        with("Input<1, 8, 8>, Conv2d<2, 3>"),
        [
            "`SoftmaxWithLoss` takes a flat vector of scores, but the layer before it, `Conv2d<2, 3>`, outputs images of 2×6×6: add `Flatten` before it"
        ]
    );
}

#[test]
fn named_image_sizes_are_left_to_the_compiler() {
    let decl: NetworkDecl = syn::parse_str(
        "struct Net<Input<1, SIDE, SIDE>, Conv2d<FILTERS, 5>, Flatten, Affine<4000, 10>, SoftmaxWithLoss>",
    )
    .unwrap();
    let checked = validate(&decl);
    assert!(checked.error.is_none());
    let checks: Vec<bool> = checked.layers.iter().map(|l| l.check).collect();
    assert_eq!(checks, [false, false, false, true, false]);
}

/// The widths left to run time, as `(from, to)` layer indices, and the
/// layers' input and output widths as text (`-` for none, `dyn0` for the
/// first width left open).
fn runtime(source: &str) -> (Vec<(usize, Option<usize>)>, Vec<String>) {
    let decl: NetworkDecl = syn::parse_str(source).expect("parses");
    let checked = validate(&decl);
    assert!(checked.error.is_none(), "{source}");
    let width = |dims: &Option<Dims>| match dims {
        Some(Dims::Runtime(k)) => format!("dyn{k}"),
        Some(dims) => dims.describe(),
        None => "-".to_owned(),
    };
    let boundaries = checked.runtime.iter().map(|b| (b.from, b.to)).collect();
    let widths = checked
        .layers
        .iter()
        .map(|l| format!("{}→{}", width(&l.input), width(&l.output)))
        .collect();
    (boundaries, widths)
}

#[test]
fn each_open_width_is_one_boundary_through_the_layers_that_keep_it() {
    let (boundaries, widths) = runtime(
        "struct Net<Affine<784, dyn>, Relu, Dropout, Affine<dyn, dyn>, Tanh, Affine<dyn, 10>, SoftmaxWithLoss>",
    );
    assert_eq!(boundaries, [(0, Some(3)), (3, Some(5))]);
    assert_eq!(
        widths,
        [
            "784→dyn0",
            "dyn0→dyn0",
            "dyn0→dyn0",
            "dyn0→dyn1",
            "dyn1→dyn1",
            "dyn1→10",
            "10→-"
        ]
    );
}

#[test]
fn a_dyn_beside_a_compiled_in_width_takes_it() {
    let (boundaries, widths) = runtime(
        "struct Net<Affine<784, 50>, Relu, Affine<dyn, dyn>, Sigmoid, Affine<30, 10>, SoftmaxWithLoss>",
    );
    assert!(boundaries.is_empty());
    assert_eq!(
        widths,
        ["784→50", "50→50", "50→30", "30→30", "30→10", "10→-"]
    );
}

#[test]
fn widths_the_compiler_must_know_refuse_dyn() {
    assert_eq!(
        messages("struct Net<Affine<784, dyn>, Softmax, Affine<dyn, 10>, SoftmaxWithLoss>"),
        [
            "`Softmax` needs a width known at compile time, but `Affine<784, dyn>` leaves it to run time: write the width there"
        ]
    );
    assert_eq!(
        messages("struct Net<Input<784>, Affine<dyn, 10>, SoftmaxWithLoss>"),
        Vec::<String>::new(),
        "after `Input`, a `dyn` input is the input's width"
    );
}
