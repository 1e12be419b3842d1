use staticnet::prelude::*;

network! {
    pub struct Net<Relu, Affine<784, 10>, SoftmaxWithLoss>
}

fn main() {}
