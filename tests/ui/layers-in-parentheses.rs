use staticnet::prelude::*;

network! {
    pub struct Net(Affine<784, 10>, SoftmaxWithLoss)
}

fn main() {}
