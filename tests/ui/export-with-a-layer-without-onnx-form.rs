// Exporting a network that holds a layer of the user's own with no ONNX
// form (`onnx::Export`): the network trains, but `export_onnx` names the
// layer.
use staticnet::io::{OnnxOptions, export_onnx};
use staticnet::prelude::*;

#[path = "support/layers.rs"]
mod layers;

network! {
    pub struct Net<Affine<784, 50>, layers::Scale, Affine<50, 10>, SoftmaxWithLoss>
}

fn main() {
    let net = Net::new(&mut StdRng::seed_from_u64(1));
    let _ = export_onnx(&net, "net.onnx", OnnxOptions::new());
}
