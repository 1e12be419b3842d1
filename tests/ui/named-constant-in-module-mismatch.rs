use staticnet::prelude::*;

mod sizes {
    pub const INPUT: usize = 784;
    pub const HIDDEN: usize = 100;
}

network! {
    pub struct Net<Affine<sizes::INPUT, 50>, Sigmoid, Affine<sizes::HIDDEN, 10>, SoftmaxWithLoss>
}

fn main() {}
