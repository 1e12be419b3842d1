use staticnet::prelude::*;

network! {
    pub struct Net<Affine<784, 0>, Affine<0, 10>, SoftmaxWithLoss>
}

fn main() {}
