//! ONNX export: a declared network written as an ONNX model, from the
//! declaration alone, without running it.
//!
//! Every layer writes its own nodes ([`Export`]); `network!` chains them
//! ([`ExportNetwork`]) and [`export_onnx`] wraps the chain in a model: the
//! input `input` of shape `[N, …]` (the batch `N` symbolic), the output
//! `scores` (or `probabilities`, the softmax of the scores), the weights as
//! initializers, and every intermediate value with its shape as the
//! declaration gives it. Batch normalization and dropout are written in
//! their inference form (dropout scales by `1 − ratio`, as the book's
//! does). The model is ONNX IR version 10, opset 21, read by ONNX Runtime,
//! `onnx.checker` and tract.

pub mod proto;

use std::path::Path;

use prost::Message;

use crate::files::{WriteError, write_atomically};
use crate::{FixedShape, Network, Scalar};
use proto::tensor_proto::DataType;
use proto::tensor_shape_proto::{Dimension, dimension};
use proto::type_proto;
use proto::{
    AttributeProto, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, TensorProto,
    TensorShapeProto, TypeProto, ValueInfoProto, attribute_proto::AttributeType,
};

/// The opset the exported models import.
pub const OPSET: i64 = 21;
/// The IR version of opset 21.
const IR_VERSION: i64 = 10;
/// The name of the batch axis in value shapes.
const BATCH: &str = "N";

/// A value of the graph: its name, and the shape of one sample (the batch
/// axis in front is implied).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Value {
    /// Its name in the graph.
    pub name: String,
    /// One sample's axes: `[50]`, `[30, 24, 24]`.
    pub dims: Vec<usize>,
}

/// An attribute of a node.
#[derive(Clone, Debug, PartialEq)]
pub enum Attribute {
    /// One integer, such as `axis`.
    Int(&'static str, i64),
    /// Integers, such as `kernel_shape` or `pads`.
    Ints(&'static str, Vec<i64>),
    /// One float, such as `epsilon` or `alpha`.
    Float(&'static str, f32),
}

impl Attribute {
    fn proto(&self) -> AttributeProto {
        let mut a = AttributeProto::default();
        match self {
            Attribute::Int(name, v) => {
                a.name = Some((*name).to_owned());
                a.i = Some(*v);
                a.set_type(AttributeType::Int);
            }
            Attribute::Ints(name, v) => {
                a.name = Some((*name).to_owned());
                a.ints = v.clone();
                a.set_type(AttributeType::Ints);
            }
            Attribute::Float(name, v) => {
                a.name = Some((*name).to_owned());
                a.f = Some(*v);
                a.set_type(AttributeType::Float);
            }
        }
        a
    }
}

/// An ONNX graph being written, its tensors of the network's scalar `T`.
/// Each layer adds its nodes and initializers through it, under a scope
/// named after the layer's field (`affine1/Gemm`, `affine1.W`).
#[derive(Debug)]
pub struct Graph<T> {
    graph: GraphProto,
    scope: Vec<String>,
    count: usize,
    scalar: std::marker::PhantomData<T>,
}

impl<T: Scalar> Graph<T> {
    fn new() -> Self {
        Graph {
            graph: GraphProto::default(),
            scope: Vec::new(),
            count: 0,
            scalar: std::marker::PhantomData,
        }
    }

    fn elem_type() -> i32 {
        if T::NAME == "f32" {
            DataType::Float as i32
        } else {
            DataType::Double as i32
        }
    }

    /// A name unique in the graph, under the current scope.
    fn fresh(&mut self, what: &str, sep: char) -> String {
        self.count += 1;
        match self.scope.is_empty() {
            true => format!("{what}_{}", self.count),
            false => format!("{}{sep}{what}_{}", self.scope.join("/"), self.count),
        }
    }

    /// Writes `layer`'s nodes under the scope `field`.
    pub fn scoped<R>(&mut self, field: &str, layer: impl FnOnce(&mut Self) -> R) -> R {
        self.scope.push(field.to_owned());
        let out = layer(self);
        self.scope.pop();
        out
    }

    /// Adds a tensor of weights, `values` in row-major order of `dims`,
    /// and returns its name.
    pub fn initializer(&mut self, what: &str, dims: &[usize], values: &[T]) -> String {
        let name = self.fresh(what, '.');
        let mut tensor = TensorProto {
            name: Some(name.clone()),
            dims: dims.iter().map(|&d| d as i64).collect(),
            data_type: Some(Self::elem_type()),
            ..TensorProto::default()
        };
        if T::NAME == "f32" {
            tensor.float_data = values.iter().map(|v| v.as_f64() as f32).collect();
        } else {
            tensor.double_data = values.iter().map(|v| v.as_f64()).collect();
        }
        self.graph.initializer.push(tensor);
        name
    }

    /// Adds a matrix of weights given column by column (a
    /// [`ParamMatrix`](crate::ParamMatrix)'s order), written row-major
    /// `[rows, cols]` as the book writes it, and returns its name.
    pub fn matrix(&mut self, what: &str, values: &[T], rows: usize, cols: usize) -> String {
        let mut row_major = Vec::with_capacity(values.len());
        for i in 0..rows {
            row_major.extend((0..cols).filter_map(|j| values.get(j * rows + i)));
        }
        self.initializer(what, &[rows, cols], &row_major)
    }

    /// Adds a node `op` on `inputs`, whose one output holds samples of
    /// shape `dims`, and returns that output.
    pub fn node(
        &mut self,
        op: &str,
        inputs: &[&str],
        attributes: &[Attribute],
        dims: Vec<usize>,
    ) -> Value {
        let output = self.fresh(op, '/');
        self.push_node(op, inputs, attributes, &output);
        self.graph.value_info.push(value_info::<T>(&output, &dims));
        Value { name: output, dims }
    }

    fn push_node(&mut self, op: &str, inputs: &[&str], attributes: &[Attribute], output: &str) {
        self.graph.node.push(NodeProto {
            name: Some(format!("{output}_node")),
            op_type: Some(op.to_owned()),
            input: inputs.iter().map(|&i| i.to_owned()).collect(),
            output: vec![output.to_owned()],
            attribute: attributes.iter().map(Attribute::proto).collect(),
            ..NodeProto::default()
        });
    }
}

/// The type of a value of `T` scalars whose samples have shape `dims`,
/// behind the symbolic batch axis.
fn value_info<T: Scalar>(name: &str, dims: &[usize]) -> ValueInfoProto {
    let batch = Dimension {
        value: Some(dimension::Value::DimParam(BATCH.to_owned())),
        ..Dimension::default()
    };
    let sample = dims.iter().map(|&d| Dimension {
        value: Some(dimension::Value::DimValue(d as i64)),
        ..Dimension::default()
    });
    let tensor = type_proto::Tensor {
        elem_type: Some(Graph::<T>::elem_type()),
        shape: Some(TensorShapeProto {
            dim: std::iter::once(batch).chain(sample).collect(),
        }),
    };
    ValueInfoProto {
        name: Some(name.to_owned()),
        r#type: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(tensor)),
            ..TypeProto::default()
        }),
        ..ValueInfoProto::default()
    }
}

/// A layer that writes itself into an ONNX graph: the one hook by which a
/// layer takes part in [`export_onnx`]. Every built-in layer has it; a
/// layer of one's own implements it to be exported, and a network holding
/// a layer without it has no [`ExportNetwork`] (the compiler names the
/// layer).
///
/// ```
/// use net_core::onnx::{Export, Graph, Value};
/// # use net_core::{Batch, Init, Layer, Scalar, Shape, rand::RngCore};
/// # #[derive(Clone, Debug)] pub struct Softsign<T: Scalar, S: Shape>(Batch<T, S>);
/// # impl<T: Scalar, S: Shape> Layer<T> for Softsign<T, S> {
/// #     type In = S; type Out = S;
/// #     fn init(_: &mut dyn RngCore, _: Init) -> Self { unimplemented!() }
/// #     fn forward(&mut self, _: &Batch<T, S>) -> &Batch<T, S> { &self.0 }
/// #     fn output(&self) -> &Batch<T, S> { &self.0 }
/// #     fn backward(&mut self, _: &Batch<T, S>, _: &Batch<T, S>) -> &Batch<T, S> { &self.0 }
/// # }
/// // Softsign, x / (1 + |x|), is an ONNX operator of its own.
/// impl<T: Scalar, S: Shape> Export<T> for Softsign<T, S> {
///     fn export(&self, graph: &mut Graph<T>, x: Value) -> Value {
///         graph.node("Softsign", &[&x.name], &[], x.dims.clone())
///     }
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no ONNX form, so a network holding it cannot be exported",
    label = "this layer does not implement `Export`",
    note = "a layer of one's own takes part in `export_onnx` by implementing `onnx::Export` (the nodes it writes); see the README's \"Models in and out\""
)]
pub trait Export<T: Scalar> {
    /// Adds the nodes that compute this layer, in inference mode, on `x`
    /// (a value of the graph), and returns their output.
    fn export(&self, graph: &mut Graph<T>, x: Value) -> Value;
}

/// The ONNX form of an elementwise function
/// ([`ElementwiseFn`](crate::layers::ElementwiseFn)): the nodes of
/// `y = f(x)`, by which an [`Elementwise`](crate::layers::Elementwise)
/// layer of that function has [`Export`].
pub trait ExportFn {
    /// Adds the nodes of `f` on `x` and returns their output.
    fn export<T: Scalar>(&self, graph: &mut Graph<T>, x: Value) -> Value;
}

/// The attributes of a window (a convolution's or a pooling's) of size
/// `window`, moved by `stride` over `x` (`[C, H, W]`) padded by `pad` on
/// every side, and the output's height and width.
pub(crate) fn window(
    x: &Value,
    window: [usize; 2],
    stride: usize,
    pad: usize,
) -> (Vec<Attribute>, [usize; 2]) {
    let out =
        |size: usize, window: usize| (size + 2 * pad).saturating_sub(window) / stride.max(1) + 1;
    let attributes = vec![
        Attribute::Ints("kernel_shape", window.iter().map(|&w| w as i64).collect()),
        Attribute::Ints("strides", vec![stride as i64; 2]),
        Attribute::Ints("pads", vec![pad as i64; 4]),
    ];
    (
        attributes,
        [out(x.dims[1], window[0]), out(x.dims[2], window[1])],
    )
}

/// A network with a loss layer whose layers all write themselves into an
/// ONNX graph: `network!` implements it when each layer has [`Export`].
pub trait ExportNetwork<T: Scalar>: Network<T> {
    /// Adds every layer's nodes, in order, on `x`, and returns the scores.
    fn export_layers(&self, graph: &mut Graph<T>, x: Value) -> Value;
}

/// What the exported model outputs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OnnxOptions {
    probabilities: bool,
}

impl OnnxOptions {
    /// The scores (the loss layer's input), named `scores`.
    pub fn new() -> Self {
        Self::default()
    }

    /// Their softmax instead, named `probabilities`, when `probabilities`.
    pub fn probabilities(mut self, probabilities: bool) -> Self {
        self.probabilities = probabilities;
        self
    }
}

/// The ONNX model of `net` (see the [module docs](self)) as bytes.
pub fn onnx_to_bytes<T, N>(net: &N, options: OnnxOptions) -> Vec<u8>
where
    T: Scalar,
    N: ExportNetwork<T>,
    N::In: FixedShape,
{
    model(net, options).encode_to_vec()
}

/// Writes the ONNX model of `net` (see the [module docs](self)) to `path`,
/// atomically.
///
/// # Errors
/// [`WriteError`] when the file cannot be written (`?` turns it into
/// [`IoError::Write`](crate::io::IoError::Write)).
pub fn export_onnx<T, N>(
    net: &N,
    path: impl AsRef<Path>,
    options: OnnxOptions,
) -> Result<(), WriteError>
where
    T: Scalar,
    N: ExportNetwork<T>,
    N::In: FixedShape,
{
    write_atomically(path.as_ref(), &onnx_to_bytes(net, options))
}

fn model<T, N>(net: &N, options: OnnxOptions) -> ModelProto
where
    T: Scalar,
    N: ExportNetwork<T>,
    N::In: FixedShape,
{
    let mut graph = Graph::<T>::new();
    let input = Value {
        name: "input".to_owned(),
        dims: N::In::dims(),
    };
    let scores = net.export_layers(&mut graph, input.clone());
    let (output, op) = if options.probabilities {
        ("probabilities", "Softmax")
    } else {
        ("scores", "Identity")
    };
    let attributes = if options.probabilities {
        vec![Attribute::Int("axis", 1)]
    } else {
        Vec::new()
    };
    graph.push_node(op, &[&scores.name], &attributes, output);
    let mut proto = graph.graph;
    proto.name = Some("staticnet".to_owned());
    proto.input.push(value_info::<T>(&input.name, &input.dims));
    proto.output.push(value_info::<T>(output, &scores.dims));
    ModelProto {
        ir_version: Some(IR_VERSION),
        producer_name: Some("staticnet".to_owned()),
        producer_version: Some(env!("CARGO_PKG_VERSION").to_owned()),
        opset_import: vec![OperatorSetIdProto {
            domain: Some(String::new()),
            version: Some(OPSET),
        }],
        graph: Some(proto),
        ..ModelProto::default()
    }
}
