// A name the macro does not know is the user's own layer; when no such type
// exists, the compiler says so once, at the name.
use staticnet::prelude::*;

#[path = "support/layers.rs"]
mod layers;

network! {
    pub struct Net<Affine<784, 50>, layers::Scael, Affine<50, 10>, SoftmaxWithLoss>
}

fn main() {}
