// Loading the inference form of a network that holds a layer of the user's
// own with no inference form (`Freeze`): `load_frozen` names the layer, as
// `freeze` does.
use staticnet::prelude::*;

#[path = "support/layers.rs"]
mod layers;

network! {
    pub struct Net<Affine<784, 50>, layers::Scale, Affine<50, 10>, SoftmaxWithLoss>
}

fn main() {
    let _model = Net::<f32>::load_frozen("net.safetensors");
}
