use staticnet::prelude::*;

network! {
    pub Net<Affine<784, 10>, SoftmaxWithLoss>
}

fn main() {}
