use staticnet::prelude::*;

network! {
    pub struct Net<Input<1, 28, 28>, Conv2d<30, 5, strides = 2>, Flatten, Affine<17280, 10>, SoftmaxWithLoss>
}

fn main() {}
