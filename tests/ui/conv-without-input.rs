use staticnet::prelude::*;

network! {
    pub struct Net<Conv2d<30, 5>, Relu, Flatten, Affine<17280, 10>, SoftmaxWithLoss>
}

fn main() {}
