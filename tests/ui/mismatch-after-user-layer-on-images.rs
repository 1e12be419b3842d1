// After a layer of the user's own on images, the macro cannot compute what
// `Flatten` outputs; the compiler does, and reports the `Affine` after it
// with both widths as numbers.
use staticnet::prelude::*;

#[path = "support/layers.rs"]
mod layers;

network! {
    pub struct Net<Input<1, 8, 8>, layers::Scale, Conv2d<2, 3>, Relu, Flatten, Affine<100, 10>, SoftmaxWithLoss>
}

fn main() {}
