// A network used as the first layer knows its own input; with a mismatch
// after it, the one error is there.
use staticnet::prelude::*;

network! {
    pub struct Block<Affine<784, 50>, Relu>
}

network! {
    pub struct Net<Block, Affine<60, 10>, SoftmaxWithLoss>
}

fn main() {}
