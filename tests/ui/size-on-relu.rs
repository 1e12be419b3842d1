use staticnet::prelude::*;

network! {
    pub struct Net<Affine<784, 50>, Relu<50>, Affine<50, 10>, SoftmaxWithLoss>
}

fn main() {}
