// A layer of the user's own whose input disagrees with the layer before:
// only the compiler knows its sizes, and it reports them at the layer.
use staticnet::prelude::*;

#[path = "support/layers.rs"]
mod layers;

network! {
    pub struct Net<Affine<784, 50>, Relu, layers::Linear<60, 10>, SoftmaxWithLoss>
}

fn main() {}
