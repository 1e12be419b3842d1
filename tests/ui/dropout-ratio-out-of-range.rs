use staticnet::prelude::*;

network! {
    pub struct Net<Affine<784, 50>, Relu, Dropout<1.5>, Affine<50, 10>, SoftmaxWithLoss>
}

fn main() {}
