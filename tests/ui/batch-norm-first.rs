use staticnet::prelude::*;

network! {
    pub struct Net<BatchNorm, Affine<784, 50>, Relu, Affine<50, 10>, SoftmaxWithLoss>
}

fn main() {}
