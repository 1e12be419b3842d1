use staticnet::prelude::*;

network! {
    pub struct Net<Affine<784, 50>, Relu, Affine, SoftmaxWithLoss>
}

fn main() {}
