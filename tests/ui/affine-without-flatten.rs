use staticnet::prelude::*;

network! {
    pub struct Net<Input<1, 28, 28>, Conv2d<30, 5>, MaxPool2d<2, stride = 2>, Affine<4320, 10>, SoftmaxWithLoss>
}

fn main() {}
