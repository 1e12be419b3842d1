use staticnet::prelude::*;

network! {
    pub struct Net<Affine<784, 50>, Relu, Dropout<50>, Affine<50, 10>, SoftmaxWithLoss>
}

fn main() {}
