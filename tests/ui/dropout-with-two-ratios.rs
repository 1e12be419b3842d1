use staticnet::prelude::*;

network! {
    pub struct Net<Affine<784, 50>, Relu, Dropout<0.5, 0.2>, Affine<50, 10>, SoftmaxWithLoss>
}

fn main() {}
