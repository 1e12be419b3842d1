use staticnet::prelude::*;

network! {
    pub struct Net<Input<1, 28, 28>, Conv2d<30, 5, stride = 2>, Relu, Flatten, Affine<3630, 10>, SoftmaxWithLoss>
}

fn main() {}
