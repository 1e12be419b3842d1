use staticnet::prelude::*;

network! {
    pub struct Net<Affine<784, 7.5>, Relu, Affine<50, 10>, SoftmaxWithLoss>
}

fn main() {}
