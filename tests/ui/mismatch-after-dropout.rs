use staticnet::prelude::*;

network! {
    pub struct Net<Affine<784, 50>, BatchNorm, Relu, Dropout, Affine<60, 10>, SoftmaxWithLoss>
}

fn main() {}
