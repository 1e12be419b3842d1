// The same mistake when the inner layer is a network, whose sizes only the
// compiler knows.
use staticnet::prelude::*;

network! {
    pub struct Block<Affine<50, 50>, Relu, Affine<50, 40>>
}

network! {
    pub struct Net<Affine<784, 50>, Residual<Block>, Affine<50, 10>, SoftmaxWithLoss>
}

fn main() {}
