use staticnet::prelude::*;

network! {
    pub struct Net<Affine<784, 50>, Affine<60, 10>, SoftmaxWithLoss>
}

fn main() {}
