use staticnet::prelude::*;

network! {
    pub struct Net<Affine<784, 50>, BatchNorm<50>, Relu, Affine<50, 10>, SoftmaxWithLoss>
}

fn main() {}
