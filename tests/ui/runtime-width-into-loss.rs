use staticnet::prelude::*;

network! {
    pub struct Net<Affine<784, 50>, Relu, Affine<50, dyn>, SoftmaxWithLoss>
}

fn main() {}
