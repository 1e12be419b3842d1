use staticnet::prelude::*;

const RATIO: f64 = 0.5;

network! {
    pub struct Net<Affine<784, 50>, Relu, Dropout<RATIO>, Affine<50, 10>, SoftmaxWithLoss>
}

fn main() {}
