use staticnet::prelude::*;

network! {
    pub struct Net<Input<1, 28, 28>, Conv2d<30, 5>, Flatten, Conv2d<10, 3>, Flatten, Affine<4840, 10>, SoftmaxWithLoss>
}

fn main() {}
