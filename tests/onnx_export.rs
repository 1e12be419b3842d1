//! ONNX export from the declaration: the graph each layer writes, its
//! value shapes (the batch axis symbolic), the weights as initializers in
//! the book's layout, runtime widths at their sizes. (ONNX's checker and
//! ONNX Runtime run the exported models in CI: `.ci/onnx-check.py`.)

use staticnet::io::{OnnxOptions, onnx_to_bytes};
use staticnet::onnx::proto::{Message, ModelProto, ValueInfoProto, tensor_shape_proto::dimension};
use staticnet::prelude::*;

#[path = "../examples/convnets/nets.rs"]
mod convnets;

network! {
    struct Hidden<Affine<784, dyn>, Relu, Affine<dyn, 10>, SoftmaxWithLoss>
}

network! {
    struct Block<Affine<8, 8>, Tanh, Affine<8, 8>>
}

network! {
    struct Mixed<Affine<6, 8>, BatchNorm<1e-5>, LeakyRelu<0.1>, Dropout<0.25>, Residual<Block>, Sigmoid, Affine<8, 3>, SoftmaxWithLoss>
}

fn model<N: staticnet::onnx::ExportNetwork<f32>>(net: &N, options: OnnxOptions) -> ModelProto
where
    N::In: FixedShape,
{
    ModelProto::decode(onnx_to_bytes(net, options).as_slice()).expect("the bytes decode as a model")
}

/// A value's shape, the batch axis as `None`.
fn dims(value: &ValueInfoProto) -> Vec<Option<i64>> {
    let Some(staticnet::onnx::proto::type_proto::Value::TensorType(tensor)) =
        value.r#type.as_ref().and_then(|t| t.value.clone())
    else {
        panic!("{value:?} is not a tensor");
    };
    let shape = tensor.shape.expect("a shape");
    shape
        .dim
        .iter()
        .map(|d| match &d.value {
            Some(dimension::Value::DimValue(v)) => Some(*v),
            _ => None,
        })
        .collect()
}

fn ops(model: &ModelProto) -> Vec<String> {
    let graph = model.graph.as_ref().unwrap();
    graph
        .node
        .iter()
        .map(|n| n.op_type.clone().unwrap())
        .collect()
}

#[test]
fn a_simple_convnet_is_written_layer_by_layer_with_every_shape() {
    let net = convnets::SimpleConvNet::<f32>::init(&mut StdRng::seed_from_u64(1), Init::He);
    let model = model(&net, OnnxOptions::new());
    assert_eq!(model.opset_import[0].version, Some(21));
    assert_eq!(
        ops(&model),
        [
            "Conv", "Relu", "MaxPool", "Flatten", "Gemm", "Relu", "Gemm", "Identity"
        ]
    );
    let graph = model.graph.as_ref().unwrap();
    assert_eq!(graph.input[0].name.as_deref(), Some("input"));
    assert_eq!(dims(&graph.input[0]), [None, Some(1), Some(28), Some(28)]);
    assert_eq!(graph.output[0].name.as_deref(), Some("scores"));
    assert_eq!(dims(&graph.output[0]), [None, Some(10)]);
    let shapes: Vec<Vec<Option<i64>>> = graph.value_info.iter().map(dims).collect();
    let expected: Vec<Vec<Option<i64>>> = [
        vec![30, 24, 24],
        vec![30, 24, 24],
        vec![30, 12, 12],
        vec![4320],
        vec![100],
        vec![100],
        vec![10],
    ]
    .into_iter()
    .map(|d| {
        std::iter::once(None)
            .chain(d.into_iter().map(Some))
            .collect()
    })
    .collect();
    assert_eq!(shapes, expected);
    // The weights in the book's layout: W1 [30, 1, 5, 5] as stored, W2
    // [4320, 100] row-major.
    let init: Vec<(Vec<i64>, &[f32])> = graph
        .initializer
        .iter()
        .map(|t| (t.dims.clone(), t.float_data.as_slice()))
        .collect();
    let dims_of: Vec<&Vec<i64>> = init.iter().map(|(d, _)| d).collect();
    assert_eq!(
        dims_of,
        [
            &vec![30, 1, 5, 5],
            &vec![30],
            &vec![4320, 100],
            &vec![100],
            &vec![100, 10],
            &vec![10]
        ]
    );
    assert_eq!(init[0].1, &net.conv1.w[..]);
    let w2 = net.affine1.w.view();
    assert_eq!(init[2].1[7 * 100 + 3], w2[(7, 3)]);
    // Every node reads values written before it.
    let mut known: Vec<String> = vec!["input".into()];
    known.extend(graph.initializer.iter().map(|t| t.name.clone().unwrap()));
    for node in &graph.node {
        for input in &node.input {
            assert!(
                known.contains(input),
                "{input} is read before it is written"
            );
        }
        known.extend(node.output.iter().cloned());
    }
}

#[test]
fn runtime_widths_are_written_at_their_sizes() {
    let net = Hidden::<f32>::with_widths(&mut StdRng::seed_from_u64(2), Init::He, [37]).unwrap();
    let model = model(&net, OnnxOptions::new().probabilities(true));
    let graph = model.graph.as_ref().unwrap();
    assert_eq!(graph.initializer[0].dims, [784, 37]);
    assert_eq!(graph.initializer[2].dims, [37, 10]);
    assert_eq!(ops(&model).last().map(String::as_str), Some("Softmax"));
    assert_eq!(graph.output[0].name.as_deref(), Some("probabilities"));
}

#[test]
fn batch_norm_dropout_and_residuals_in_their_inference_form() {
    let net = Mixed::<f32>::init(&mut StdRng::seed_from_u64(3), Init::He);
    let model = model(&net, OnnxOptions::new());
    assert_eq!(
        ops(&model),
        [
            "Gemm",
            "BatchNormalization",
            "LeakyRelu",
            "Mul",
            "Gemm",
            "Tanh",
            "Gemm",
            "Add",
            "Sigmoid",
            "Gemm",
            "Identity"
        ]
    );
    let graph = model.graph.as_ref().unwrap();
    let node = |op: &str| {
        graph
            .node
            .iter()
            .find(|n| n.op_type.as_deref() == Some(op))
            .unwrap()
    };
    assert_eq!(node("BatchNormalization").attribute[0].f, Some(1e-5));
    assert_eq!(node("LeakyRelu").attribute[0].f, Some(0.1));
    // Dropout scales by 1 − 0.25, a scalar.
    let keep = graph
        .initializer
        .iter()
        .find(|t| t.name.as_deref().is_some_and(|n| n.contains("keep")))
        .unwrap();
    assert!(keep.dims.is_empty());
    assert_eq!(keep.float_data, [0.75]);
    // The skip adds the block's input (dropout's output) to its output.
    let add = node("Add");
    assert_eq!(add.input[1], node("Mul").output[0]);
    // Names say where each node comes from.
    assert!(add.output[0].starts_with("residual1/"), "{:?}", add.output);
    assert!(
        graph.node[4].output[0].starts_with("residual1/affine1/"),
        "{:?}",
        graph.node[4].output
    );
}
