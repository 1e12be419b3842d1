use staticnet::prelude::*;

network! {
    pub struct Net<Affine<784, dyn>, BatchNorm, Relu, Affine<dyn, 10>, SoftmaxWithLoss>
}

fn main() {}
