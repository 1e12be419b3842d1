use staticnet::prelude::*;

network! {
    pub enum Net<Affine<784, 10>, SoftmaxWithLoss>
}

fn main() {}
