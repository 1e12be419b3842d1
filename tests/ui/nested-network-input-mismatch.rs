// A network declared without a loss layer is a layer of others; its input
// must agree with the layer before it.
use staticnet::prelude::*;

network! {
    pub struct Block<Affine<50, 50>, Relu>
}

network! {
    pub struct Net<Affine<784, 60>, Block, Affine<50, 10>, SoftmaxWithLoss>
}

fn main() {}
