use staticnet::prelude::*;

network! {
    pub struct Net<Input<1, 28, 28>, Conv2d<30, 29>, Flatten, Affine<30, 10>, SoftmaxWithLoss>
}

fn main() {}
