// A layer of the user's own that takes the shape of the layer before it
// cannot come first: there is no layer before it, so the macro gives it no
// shape, and the compiler says, once, at the layer, that it needs one more
// argument. `Input<784>` first gives it one. (A network used as a layer
// can come first: it knows its input; see `network-as-first-layer.rs`.)
use staticnet::prelude::*;

#[path = "support/layers.rs"]
mod layers;

network! {
    pub struct Net<layers::Scale, Affine<784, 10>, SoftmaxWithLoss>
}

fn main() {}
