// A built-in layer after a layer of the user's own whose output disagrees.
use staticnet::prelude::*;

#[path = "support/layers.rs"]
mod layers;

network! {
    pub struct Net<layers::Linear<784, 50>, layers::Scale, Affine<60, 10>, SoftmaxWithLoss>
}

fn main() {}
