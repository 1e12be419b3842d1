use staticnet::prelude::*;

network! {
    pub struct Net<Input<3, 4, 4>, MaxPool2d<5>, Flatten, Affine<3, 10>, SoftmaxWithLoss>
}

fn main() {}
