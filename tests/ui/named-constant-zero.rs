use staticnet::prelude::*;

const HIDDEN: usize = 0;

network! {
    pub struct Net<Affine<784, HIDDEN>, Relu, Affine<HIDDEN, 10>, SoftmaxWithLoss>
}

fn main() {}
